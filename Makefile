# EduPlatform serverless — local workflow. `make up` runs the stack, `make test` tests it.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# The functions' runtime is Python 3.12; MiniStack runs them in its own interpreter, so the
# project's virtual environment (which runs MiniStack and SAM) must be 3.12 too.
PYTHON312 ?= $(shell for candidate in python3.12 "$$(pyenv root 2>/dev/null)"/versions/3.12*/bin/python3.12; do \
	"$$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 12)' 2>/dev/null && { echo "$$candidate"; break; }; done)
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed

SCALE ?= 1
USERS ?= 100
SPAWN ?= 10
DURATION ?= 3m
WARM ?=
LOADTEST_DIR := .local/loadtest
# GET /openapi.json's document in the ops function: a copy of docs/openapi.json, not committed.
OPS_OPENAPI := functions/ops/ops/openapi.json

.PHONY: help install up down url web-url web-dev web-bench test-web sync watch invoke logs migrate seed rebuild-read-models vacuum loadtest cost template openapi lock test test-tools test-unit test-e2e fuzz lint lint-python lint-generated

help:
	@echo "make up      start the local stack (PostgreSQL databases, MiniStack, SAM deploy, warm instances) and print the API URL"
	@echo "make test    run every test (unit against PostgreSQL, end-to-end against the emulator)"
	@echo "make url     print the API base URL of the running stack"
	@echo "make web-url print the web app's address (its CloudFront distribution in the emulator)"
	@echo "make web-bench [RUNS=5]  the web app's first-page JavaScript/CSS (gzip) and its load times in headless Chromium"
	@echo "make web-dev the web app's dev server on http://localhost:5173 (hot reload) against the running stack"
	@echo "make down    stop what make up started"
	@echo "make sync    push the handlers/domain/layer code changed since the last deploy to the running stack (no sam deploy)"
	@echo "make watch   make sync on every save"
	@echo "make invoke ROUTE='GET /courses/{course_id}' [PATH_PARAMS='course_id=..'] [QUERY='limit=5'] [BODY='{..}'] [ROLE=admin|teacher|student] [TOKEN=..]"
	@echo "             run one route's handler in-process against the dev databases (no emulator) and print the response"
	@echo "make logs FN=<domain or function logical id> [SINCE=10m]   follow the function's log group in the emulator"
	@echo "make seed [SCALE=0.01]                       bulk data into the make up databases (replaces what is there)"
	@echo "make rebuild-read-models                     refill enrollment's and payment's read models from the running stack"
	@echo "make vacuum                                  VACUUM (ANALYZE) every domain database (for a PostgreSQL without autovacuum)"
	@echo "make loadtest USERS=100 SPAWN=10 DURATION=3m   headless Locust run; CSV and HTML under $(LOADTEST_DIR)/"
	@echo "                                              (first tops up the warm instances as make up does; WARM=n: n per function, WARM=0 skips)"
	@echo "make cost [USERS=100 SPAWN=10 DURATION=3m] [WRITE_PEAKS=1]  the AWS bill per million requests of a load run it starts"
	@echo "             (takes DURATION + ~30 s), per service, the fixed monthly lines, the containers it replaces, memory peaks"
	@echo "make cost IDLE_MINUTES=10                    the bill of the stack at rest for that many minutes, extrapolated to a month"
	@echo "make fuzz [FUZZ_EXAMPLES=2000] [FUZZ_SEED=n] schemathesis against every operation of the deployed e2e stack"
	@echo "make lock [UPGRADE=1]  resolve every transitive dependency, with hashes, into requirements.lock and the layer's requirements.txt"
	@echo "make lint    ruff (lint + format check), mypy (strict on layers/ and functions/), the generated files, the lock, sam validate"
	@echo "make migrate / template / openapi"

# The venv holds exactly requirements.lock (every transitive dependency, hash-checked), which
# `make lock` resolves from pyproject.toml; a pyproject.toml changed since then stops here.
$(INSTALLED): pyproject.toml requirements.lock
	@test -n "$(PYTHON312)" || { echo "Python 3.12 is required (python3.12 on PATH, or pyenv's 3.12)"; exit 1; }
	@$(PYTHON312) -m infra.lock --check
	@test -x $(PY) || $(PYTHON312) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --require-hashes --no-deps -r requirements.lock
	$(PY) -m pip check
	@touch $@

install: $(INSTALLED)

# `make up WARM_INSTANCES=n`: n warm instances of every function (0: none); unset, infra/local/warmup.py INSTANCES.
up: $(INSTALLED) $(OPS_OPENAPI)
	@$(PY) -m infra.local.stack up $(if $(WARM_INSTANCES),--warm $(WARM_INSTANCES))

down: $(INSTALLED)
	@$(PY) -m infra.local.stack down

url: $(INSTALLED)
	@$(PY) -m infra.local.stack url

web-url: $(INSTALLED)
	@$(PY) -m infra.local.stack web-url

# The web app's first-page size and its load times through the stack's CloudFront in headless Chromium.
web-bench: $(INSTALLED)
	@$(PY) -m loadtest.web_bench $(if $(RUNS),--runs $(RUNS))

# The front end's dev server on :5173 (hot reload) against the running stack's API.
web-dev: $(INSTALLED)
	@cd web && { test -d node_modules || npm ci --no-audit --no-fund; } && EDUPLATFORM_API_URL="$$(cd .. && $(PY) -m infra.local.stack url)" npm run dev

# `make sync [STACK=eduplatform-e2e]`: the code changed since the last deploy, straight into the emulator's functions.
sync: $(INSTALLED) $(OPS_OPENAPI)
	@$(PY) -m infra.local.sync $(if $(STACK),--stack $(STACK))

watch: $(INSTALLED)
	@$(PY) -m infra.local.sync --watch $(if $(STACK),--stack $(STACK))

# Command-line variables reach the recipe's environment: the shell quotes ROUTE and BODY, whatever they hold.
invoke: $(INSTALLED)
	@test -n "$(ROUTE)" || { echo "usage: make invoke ROUTE='GET /courses/{course_id}' PATH_PARAMS='course_id=<uuid>' [QUERY='name=value ..'] [BODY='{..}'] [ROLE=admin|teacher|student] [TOKEN=..]"; exit 2; }
	@$(PY) -m infra.local.invoke "$$ROUTE" $(foreach p,$(PATH_PARAMS),--path '$(p)') $(foreach q,$(QUERY),--query '$(q)') \
		$(if $(BODY),--body "$$BODY") $(if $(ROLE),--as $(ROLE)) $(if $(TOKEN),--token "$$TOKEN")

logs: $(INSTALLED)
	@test -n "$(FN)" || { echo "usage: make logs FN=<domain or function logical id> [SINCE=10m] [STACK=..]"; exit 2; }
	@$(PY) -m infra.local.logs "$(FN)" $(if $(SINCE),--since $(SINCE)) $(if $(STACK),--stack $(STACK))

migrate: $(INSTALLED)
	$(PY) -m infra.migrate

# The seed writes every domain's tables and, in the same pass, the read models their events would
# have built (the course domain's teachers, enrollments and enrollment counts; enrollment's and
# payment's course facts, enrollment's lessons and completed payments), then vacuums and analyzes
# each database: nothing to rebuild after it.
seed: $(INSTALLED)
	$(PY) -m seed.generate --reset --scale $(SCALE)

# VACUUM (ANALYZE) of every domain database, for a PostgreSQL that runs without autovacuum.
vacuum: $(INSTALLED)
	$(PY) -m infra.local.databases

rebuild-read-models: $(INSTALLED)
	$(PY) -m infra.local.read_models

loadtest: $(INSTALLED)
	@mkdir -p $(LOADTEST_DIR)
	@test "$(WARM)" = 0 || $(PY) -m infra.local.warmup $(if $(WARM),--width $(WARM))
	$(PY) -m loadtest.mix --users $(USERS) --spawn-rate $(SPAWN) --duration $(DURATION) \
		--csv $(LOADTEST_DIR)/run --html $(LOADTEST_DIR)/report.html

# What the stack would cost on AWS (loadtest/cost.py, prices in loadtest/aws_prices.toml): a load run of
# USERS/SPAWN/DURATION it starts itself, or with IDLE_MINUTES the stack at rest. WRITE_PEAKS=1 rewrites
# infra/template/memory.toml with the functions' measured memory peaks (then make template).
cost: $(INSTALLED)
	$(PY) -m loadtest.cost $(if $(IDLE_MINUTES),--idle --idle-minutes $(IDLE_MINUTES),--users $(USERS) --spawn-rate $(SPAWN) \
		--duration $(DURATION) $(if $(filter 0,$(WARM)),--no-warm)) $(if $(WRITE_PEAKS),--write-peaks)

template: openapi
	$(PY) -m infra.template.generate
	$(PY) -m infra.template.env_json

# The whole API's OpenAPI document, from the handlers: docs/openapi.json, and the copy GET /openapi.json serves (not committed).
openapi: $(INSTALLED)
	$(PY) -m infra.openapi

$(OPS_OPENAPI): docs/openapi.json $(INSTALLED)
	@$(PY) -c 'from infra.openapi import ship_copy; ship_copy()'
	@touch $@

# Resolve every transitive dependency again, with hashes: requirements.lock and the layer's
# requirements.txt (infra/lock.py). UPGRADE=1: the newest versions pyproject.toml allows.
lock:
	@test -x $(PY) || $(PYTHON312) -m venv $(VENV)
	@test -x $(VENV)/bin/uv || $(PY) -m pip install --quiet "$$($(PYTHON312) -m infra.lock --uv)"
	$(PY) -m infra.lock $(if $(UPGRADE),--upgrade)

# Python hygiene, configured in pyproject.toml ([tool.ruff], [tool.mypy]); .pre-commit-config.yaml runs the same.
lint-python: $(INSTALLED)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# What is derived from the sources (template, routes tables, env.json, OpenAPI document, lock files) is current;
# the template passes sam validate --lint.
lint-generated: $(INSTALLED)
	$(PY) -m infra.template.generate --check
	$(PY) -m infra.template.env_json --check
	$(PY) -m infra.openapi --check
	$(PY) -m infra.lock --check
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH $(VENV)/bin/sam validate --lint

lint: lint-python lint-generated

# Prometheus/promtool (metrics tests) and chromium (Swagger UI browser test): Debian packages, installed when missing and root.
test-tools:
	@infra/local/test_tools.sh

# make lint first: a lint failure stops here, before the ~12 minutes of tests.
test: lint test-tools test-web $(OPS_OPENAPI)
	$(PY) -m pytest

# The web app's dependencies (npm ci, from web/package-lock.json, when they changed) and its component tests (Vitest).
test-web: $(INSTALLED)
	@$(PY) -m infra.web install
	cd web && npm test

test-unit: $(INSTALLED) $(OPS_OPENAPI)
	$(PY) -m pytest tests/unit

test-e2e: $(INSTALLED) test-tools $(OPS_OPENAPI)
	$(PY) -m pytest tests/e2e

# Property-based fuzzing of every operation of the deployed e2e stack (make test runs it with 200 examples).
FUZZ_EXAMPLES ?= 200
fuzz: $(INSTALLED)
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PY) -m pytest tests/e2e/test_fuzz.py
