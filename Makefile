# Agora task runner. `make run` and `make test` are the two commands that matter.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3
UV_VERSION := 0.13.8
UV := .tools/bin/uv
PY := .venv/bin/python
PORT ?= 8000
PYTEST_ARGS ?=
export UV_PROJECT_ENVIRONMENT := .venv

.PHONY: help run test lint bench deps assets migrate demo clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install -q "uv==$(UV_VERSION)"

.venv/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --quiet
	@touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

deps: .venv/.synced node_modules/.installed  ## install Python and npm dependencies

assets: node_modules/.installed  ## build front-end libraries from npm into var/assets
	node config/bin/build_assets.mjs

run:  ## set up everything and serve the portal at http://127.0.0.1:$(PORT) with the worker
	@config/bin/system_deps.sh run
	@$(MAKE) --no-print-directory deps assets
	@DEBUG=1 $(PY) config/bin/run.py --port $(PORT)

test:  ## the whole suite against throwaway PostgreSQL, Redis, Directus and dockerd
	@config/bin/system_deps.sh test
	@$(MAKE) --no-print-directory deps assets
	$(PY) config/bin/with_services.py --directus --dockerd -- \
		env AGORA_TESTING=1 $(PY) -m pytest $(PYTEST_ARGS)

lint:  ## ruff (lint + format check) and mypy
	@$(MAKE) --no-print-directory deps
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	DEBUG=1 .venv/bin/mypy .

bench:  ## benchmarks under tests/benchmarks/ (prints figures; not part of `make test`); PYTEST_ARGS="tests/benchmarks/test_bench_api.py" or "-k api" picks some
	@config/bin/system_deps.sh bench
	@$(MAKE) --no-print-directory deps assets
	$(PY) config/bin/with_services.py --directus --dockerd -- \
		env AGORA_TESTING=1 $(PY) -m pytest $(if $(findstring tests/,$(PYTEST_ARGS)),,tests/benchmarks) -p no:cacheprovider -s \
		-o addopts="" --timeout=1800 $(PYTEST_ARGS)

clean:  ## remove the virtualenv, node_modules and var/
	rm -rf .venv .tools node_modules var
