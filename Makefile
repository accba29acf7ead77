# Two commands: `make run` (whole local stack) and `make test` (lint, types, suite).
# Both create .venv and install from the requirements files when needed.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv run test lint unit e2e bench clean

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(BIN)/python -m tools.localstack

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy chalicelib tools app.py

test: lint
	$(BIN)/python -m pytest tests

unit: $(STAMP)
	$(BIN)/python -m pytest tests/unit

e2e: $(STAMP)
	$(BIN)/python -m pytest tests/e2e

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .hypothesis

bench: $(STAMP)
	$(BIN)/python -m tools.bench
