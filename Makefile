# jangteo: `make run` serves the shop, `make test` runs the whole suite. Both install what is missing.
SHELL := /bin/bash
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: run test lint bench pg-test demo migrate migration format clean install static

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP): pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/pip install -q -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# front-end packages from the npm registry, served from our own static files
VENDOR := src/jangteo/web/static/vendor
$(VENDOR)/.built: frontend/package.json frontend/package-lock.json
	command -v npm >/dev/null || (apt-get update -qq && apt-get install -y -qq nodejs npm)
	cd frontend && npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(VENDOR)
	cp frontend/node_modules/htmx.org/dist/htmx.min.js $(VENDOR)/htmx.min.js
	cp frontend/node_modules/@alpinejs/csp/dist/cdn.min.js $(VENDOR)/alpine-csp.min.js
	cp frontend/node_modules/chart.js/dist/chart.umd.min.js $(VENDOR)/chart.umd.min.js
	touch $@

static: $(VENDOR)/.built

# the browser of the end-to-end tests (Debian's chromium; fonts-nanum so Korean is not boxes)
CHROMIUM := /usr/bin/chromium
$(CHROMIUM):
	apt-get update -qq && apt-get install -y -qq chromium fonts-nanum

migrate: $(STAMP)
	$(BIN)/jangteo migrate

run: $(STAMP) static
	$(BIN)/jangteo migrate
	$(BIN)/jangteo seed-demo --if-empty
	$(BIN)/jangteo run --host 127.0.0.1 --port 8000

demo: $(STAMP)
	rm -f var/jangteo.db var/jangteo.db-wal var/jangteo.db-shm
	$(BIN)/jangteo migrate
	$(BIN)/jangteo seed-demo

test: $(STAMP) static $(CHROMIUM)
	$(BIN)/pytest $(PYTEST_ARGS)

pg-test: $(STAMP) static $(CHROMIUM)
	JANGTEO_TEST_BACKENDS=pg $(BIN)/pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench migrations
	$(BIN)/ruff format --check src tests bench migrations
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff check --fix src tests bench migrations
	$(BIN)/ruff format src tests bench migrations

# regenerate the initial schema migration from the models (before the first release only);
# the hand-written migrations after it are set aside meanwhile and put back
migration: $(STAMP)  # make migration id=0004 m="what changed": a new revision from the models
	@test -n "$(id)" -a -n "$(m)" || { echo 'usage: make migration id=0004 m="what changed"'; exit 2; }
	set -e; rm -f /tmp/jangteo-autogen.db; \
	trap 'rm -f /tmp/jangteo-autogen.db' EXIT; \
	export JANGTEO_DATABASE_URL=sqlite+aiosqlite:////tmp/jangteo-autogen.db; \
	$(BIN)/jangteo migrate; \
	$(BIN)/alembic revision --autogenerate -m "$(m)" --rev-id $(id)

bench: $(STAMP)
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(BIN)/python -m bench.run_all $(BENCH_ARGS)
	$(BIN)/python -m bench.listing_render
	$(BIN)/python -m bench.home_feed
	$(BIN)/python -m bench.share_visits

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
