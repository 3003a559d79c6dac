# 安居 Anju — `make help` lists the targets.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PWA_SOURCES := $(shell find pwa/src pwa/public -type f 2>/dev/null) pwa/index.html pwa/package.json pwa/package-lock.json pwa/vite.config.ts
PYTEST_ARGS ?=
# Test processes: one per core by default; they share the engines, each with its own database.
TEST_WORKERS ?= auto
BENCH ?= full

.PHONY: help demo test e2e lint typecheck openapi bench bench-smoke install pwa clean

help: ## list the targets
	@grep -hE '^[a-z][a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

pwa/node_modules/.installed: pwa/package.json pwa/package-lock.json
	cd pwa && npm ci --no-audit --no-fund
	touch $@

pwa/dist/index.html: pwa/node_modules/.installed $(PWA_SOURCES)
	cd pwa && npm run build

install: $(BIN)/.installed pwa/dist/index.html ## install Python and npm dependencies, build the PWA

pwa: pwa/dist/index.html ## build the PWA into pwa/dist

demo: install ## run the whole platform with a demo community (embedded engines unless ANJU_* URLs are set)
	$(BIN)/anju demo

test: install ## unit, integration and browser tests (services from ANJU_* URLs, else embedded)
	cd pwa && npm test
	$(BIN)/pytest -q -p no:logging -n $(TEST_WORKERS) --maxprocesses 4 --dist worksteal --ignore=tests/perf $(PYTEST_ARGS)
	$(BIN)/python -m tests.requirements

e2e: install ## browser tests only (Chromium at /usr/bin/chromium)
	$(BIN)/pytest -q -p no:logging e2e

lint: install ## ruff, the import layers and eslint
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	cd pwa && npm run lint

typecheck: install ## mypy and vue-tsc
	$(BIN)/mypy
	cd pwa && npm run typecheck

openapi: install ## write openapi/openapi.json and the PWA's typed client
	$(BIN)/anju openapi
	cd pwa && npm run gen:api

bench: install ## benchmarks: figures and ratios against a baseline measured in the same run
	BENCH=$(BENCH) $(BIN)/pytest -q -p no:logging -s tests/perf

bench-smoke: ## every benchmark at a small size, a few seconds each (CI runs it)
	$(MAKE) bench BENCH=smoke

clean: ## remove build output and local data
	rm -rf pwa/dist var
