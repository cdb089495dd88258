# 侨务助手 — `make help` lists the targets. Two commands matter: `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# First interpreter that really is 3.10 / 3.11 (pyenv shims exist but may refuse to run).
find_python = $(shell for p in $(HOME)/.pyenv/versions/$(1).*/bin/python$(1) /usr/local/bin/python$(1) /usr/bin/python$(1) python$(1); do \
  "$$p" -c 'import sys; sys.exit(sys.version_info[:2] != tuple(map(int, "$(1)".split("."))))' 2>/dev/null && { echo "$$p"; break; }; done)
PYTHON310 ?= $(call find_python,3.10)
PYTHON311 ?= $(call find_python,3.11)
RASA_VENV := .venv-rasa
APP_VENV := .venv
PY := $(APP_VENV)/bin/python
RASA := PYTHONWARNINGS=ignore $(RASA_VENV)/bin/rasa
# Rasa's venv imports rasa_addons and core.text from the tree (the app venv has the package).
export PYTHONPATH := $(CURDIR)
export RASA_TELEMETRY_ENABLED := false
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help install kb train run run-prod test test-unit test-rasa lint fmt bench fuzz soak browser-deps screenshots eval report

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(RASA_VENV)/.installed: requirements/rasa.txt requirements/rasa-constraints.txt
	@test -n "$(PYTHON310)" || { echo "Python 3.10 not found: set PYTHON310=/path/to/python3.10"; exit 1; }
	$(PYTHON310) -m venv $(RASA_VENV)
	$(RASA_VENV)/bin/pip install -q pip==24.0
	$(RASA_VENV)/bin/pip install -q -r requirements/rasa.txt -c requirements/rasa-constraints.txt
	touch $@

$(APP_VENV)/.installed: requirements/app.txt requirements/app-constraints.txt pyproject.toml
	@test -n "$(PYTHON311)" || { echo "Python 3.11 not found: set PYTHON311=/path/to/python3.11"; exit 1; }
	$(PYTHON311) -m venv $(APP_VENV)
	$(APP_VENV)/bin/pip install -q pip==24.0
	$(APP_VENV)/bin/pip install -q -r requirements/app.txt -c requirements/app-constraints.txt
	$(APP_VENV)/bin/pip install -q --no-deps --no-build-isolation -e . -c requirements/app-constraints.txt
	touch $@

install: $(RASA_VENV)/.installed $(APP_VENV)/.installed ## Create both virtual environments (pinned)

kb: $(APP_VENV)/.installed ## Validate kb/ and regenerate the FAQ training data from it
	$(PY) -m core.kb generate kb data

train: install ## Train the model unless one exists for the current data/kb/config hash
	@model=models/qiaowu-$$(python3 scripts/model_hash.py).tar.gz; \
	if [ -f "$$model" ]; then echo "model up to date: $$model"; \
	else echo "training $$model (3-5 min)"; \
	  $(RASA) train --fixed-model-name "$$(basename $$model .tar.gz)" --out models --quiet || exit 1; fi

run: install kb train ## Migrate, seed demo cases, start Rasa, actions, api (and bot), print URLs
	$(PY) -m scripts.run

run-prod: install kb train ## `make run` on PostgreSQL + Redis (needs DATABASE_URL=postgresql://… and REDIS_URL=redis://…)
	@case "$$DATABASE_URL" in postgresql*) ;; *) echo "run-prod: set DATABASE_URL=postgresql://user@host/db and REDIS_URL=redis://host:6379/1"; exit 1;; esac
	@test -n "$$REDIS_URL" || { echo "run-prod: set REDIS_URL=redis://host:6379/1"; exit 1; }
	$(PY) -m scripts.run

browser-deps: ## Debian's chromium, CJK fonts and nodejs/npm (needs root); axe-core from npm into var/node
	@{ command -v chromium && command -v npm && dpkg -s fonts-noto-cjk; } >/dev/null 2>&1 || { apt-get update -qq && \
	  apt-get install -y -qq chromium chromium-driver fonts-noto-cjk fonts-noto-color-emoji nodejs npm; }
	@test -f var/node/node_modules/axe-core/axe.min.js || { mkdir -p var/node && \
	  npm install --silent --no-audit --no-fund --prefix var/node axe-core@4.14.1; }

test: install train browser-deps ## Everything: KB checks, rasa data validate, rasa test, pytest (unit, integration, e2e)
	$(PY) -m core.kb validate kb
	$(RASA) data validate --data data --quiet
	$(MAKE) test-rasa
	@$(PY) -m pytest -q -ra; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing"; exit 1; fi; exit $$rc

screenshots: install train browser-deps ## Browser tests writing docs/screenshots/ (make test writes var/screenshots/)
	UPDATE_SCREENSHOTS=1 $(PY) -m pytest -q tests/browser

test-rasa: ## Conversation tests (rasa test) on the current model
	@model=models/qiaowu-$$(python3 scripts/model_hash.py).tar.gz; \
	$(RASA) test core --stories tests/conversations --model "$$model" \
	  --fail-on-prediction-errors --out var/rasa-results --quiet

eval: install train ## Answer quality on tests/eval/dev_set.yml vs baselines (writes docs/eval.md)
	$(PY) scripts/eval.py

report: $(APP_VENV)/.installed ## Top unanswered questions and most 👎 answers from the app database
	$(PY) scripts/report.py

lint: $(APP_VENV)/.installed ## ruff check
	$(APP_VENV)/bin/ruff check core actions api bot scripts tests rasa_addons

fmt: $(APP_VENV)/.installed ## ruff format + autofix
	$(APP_VENV)/bin/ruff format core actions api bot scripts tests rasa_addons
	$(APP_VENV)/bin/ruff check --fix core actions api bot scripts tests rasa_addons

bench: install train ## Benchmarks: latency under load, start-up, memory (writes docs/benchmarks.md)
	$(PY) -m scripts.bench $(BENCH_ARGS)

fuzz: install train ## schemathesis on the api + 10,000 random/malformed messages (writes docs/reliability.md)
	$(PY) -m scripts.fuzz $(FUZZ_ARGS)

soak: install train ## 10-minute soak: 50 widget users, errors, lost messages, memory (writes docs/reliability.md)
	$(PY) -m scripts.soak $(SOAK_ARGS)
