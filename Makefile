# Two commands for a newcomer: `make run` (serve a demo portal; `make run PORT=8131` elsewhere, with
# the links in mails and feeds following) and `make test` (the whole suite).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint format migrations screenshots clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

run: $(VENV)/.installed
	$(BIN)/hearken migrate
	$(BIN)/hearken demo
	HEARKEN_BASE_URL="$${HEARKEN_BASE_URL:-http://$(HOST):$(PORT)}" $(BIN)/hearken serve --host $(HOST) --port $(PORT)

test: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(BIN)/ruff check .

format: $(VENV)/.installed
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Refreshes the README's screenshots (the test suite takes them into a scratch folder).
# Browser journeys run on PostgreSQL: set HEARKEN_TEST_POSTGRES_URL as for `.ci/run`.
screenshots: $(VENV)/.installed
	@test -n "$$HEARKEN_TEST_POSTGRES_URL" || { echo "set HEARKEN_TEST_POSTGRES_URL (see .ci/run)"; exit 1; }
	HEARKEN_SCREENSHOTS_DIR=docs/screenshots HEARKEN_E2E_REQUIRED=1 $(BIN)/python -m pytest tests/e2e/test_screenshots.py -q

# Writes a migration for model changes (review it, then commit it with the change).
migrations: $(VENV)/.installed
	$(BIN)/tortoise -c portal.tortoise_config.CONFIG makemigrations

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
