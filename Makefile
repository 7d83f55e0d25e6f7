# jangteo: `make run` serves the shop, `make test` runs the whole suite. Both install what is missing.
SHELL := /bin/bash
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: run test lint bench pg-test demo migrate migration format clean install

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP): pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/pip install -q -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

migrate: $(STAMP)
	$(BIN)/jangteo migrate

run: $(STAMP)
	$(BIN)/jangteo migrate
	$(BIN)/jangteo seed-demo --if-empty
	$(BIN)/jangteo run --host 127.0.0.1 --port 8000

demo: $(STAMP)
	rm -f var/jangteo.db var/jangteo.db-wal var/jangteo.db-shm
	$(BIN)/jangteo migrate
	$(BIN)/jangteo seed-demo

test: $(STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

pg-test: $(STAMP)
	JANGTEO_TEST_BACKENDS=pg $(BIN)/pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench migrations
	$(BIN)/ruff format --check src tests bench migrations
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff check --fix src tests bench migrations
	$(BIN)/ruff format src tests bench migrations

# regenerate the initial schema migration from the models (before the first release only)
migration: $(STAMP)
	rm -f migrations/versions/0001_initial.py /tmp/jangteo-autogen.db
	JANGTEO_DATABASE_URL=sqlite+aiosqlite:////tmp/jangteo-autogen.db \
	  $(BIN)/alembic revision --autogenerate -m initial --rev-id 0001 --head base
	rm -f /tmp/jangteo-autogen.db

bench: $(STAMP)
	$(BIN)/python -m bench.run_all

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
