# Two commands: `make run` (whole local stack) and `make test` (lint, types, suite).
# Both create .venv and install from the requirements files when needed.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

STAGE ?= dev
INFRA_STAMP := $(VENV)/.installed-infra

CHROMIUM := /usr/lib/chromium/chromium

.PHONY: venv run test lint unit e2e browser chromium infra bench deploy destroy clean

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip<26.3"  # chalice 1.34 requires pip<26.3
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

# CDK, cfn-lint and a pinned Node.js (PyPI wheel) for the offline infra checks.
$(INFRA_STAMP): $(STAMP) requirements-infra.txt
	$(BIN)/python -m pip install --quiet -r requirements-infra.txt
	@touch $(INFRA_STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(BIN)/python -m tools.localstack

lint: $(INFRA_STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy chalicelib tools app.py infra

test: lint chromium
	$(BIN)/python -m pytest tests

# The browser tests drive the distribution's Chromium with Playwright's Python
# package (`playwright install` downloads are not used).
chromium:
	@test -x $(CHROMIUM) || { command -v apt-get >/dev/null && \
	  (apt-get update -qq || true) && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; }
	@test -x $(CHROMIUM) || { echo "Chromium is missing at $(CHROMIUM)"; exit 1; }

browser: $(STAMP) chromium
	$(BIN)/python -m pytest tests/browser

unit: $(STAMP)
	$(BIN)/python -m pytest tests/unit

e2e: $(STAMP)
	$(BIN)/python -m pytest tests/e2e

infra: $(INFRA_STAMP)
	$(BIN)/python -m pytest tests/infra

# Deploy / tear down a stage with the CDK CLI (npm i -g aws-cdk); see README.
deploy: $(INFRA_STAMP)
	cd infra && PATH="$(abspath $(BIN)):$$PATH" cdk deploy -c stage=$(STAGE)

destroy: $(INFRA_STAMP)
	cd infra && PATH="$(abspath $(BIN)):$$PATH" cdk destroy -c stage=$(STAGE)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .hypothesis

bench: $(STAMP) chromium
	$(BIN)/python -m tools.bench
