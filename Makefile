# The two README commands: `make demo` and `make test`. Everything installs into .venv.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck pytest install bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/survey-app demo

lint: $(STAMP)
	$(BIN)/ruff check survey_app analysis tests benchmarks migrations

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	bash .ci/ensure-system-packages
	$(BIN)/python -m pytest -n 2 --dist loadfile

test: lint typecheck pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/estimate.py
	$(BIN)/python benchmarks/submit.py

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache
