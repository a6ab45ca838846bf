FROM python:3.11-slim
WORKDIR /app
COPY . /app
RUN pip install --no-cache-dir -e . && useradd --system survey && mkdir -p /app/var && chown survey /app/var
USER survey
EXPOSE 8000
CMD ["survey-app", "serve", "--host", "0.0.0.0", "--port", "8000"]
