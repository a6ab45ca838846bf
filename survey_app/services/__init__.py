"""Domain services: plain keyword-only functions taking a Session. They never import FastAPI and
never commit; the caller (route or CLI) commits."""
