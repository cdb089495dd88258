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
# When this `make` started: `make run` reports the time from here to "ready".
export QIAOWU_MAKE_STARTED := $(shell date +%s)
# The installer is stdlib-only: any of the interpreters runs it (scripts/install.py).
INSTALL = $(or $(PYTHON311),$(PYTHON310),python3) -m scripts.install --rasa-python "$(PYTHON310)" --app-python "$(PYTHON311)"

.PHONY: help install kb train run run-prod test test-fast test-rasa typecheck lint fmt bench fuzz soak browser-deps screenshots eval ablation report

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

# One venv each (a stamp holding the hash of its inputs); `make install` does both at once.
$(RASA_VENV)/.installed: requirements/rasa.txt requirements/rasa-constraints.txt
	@$(INSTALL) rasa

$(APP_VENV)/.installed: requirements/app.txt requirements/app-constraints.txt pyproject.toml
	@$(INSTALL) app

install: ## Both venvs in parallel, from wheels, locked (logs: var/log/install-{rasa,app}.log)
	@$(INSTALL)

kb: $(APP_VENV)/.installed ## Validate kb/ and precompute its embeddings into var/cache (no retraining)
	@$(PY) -m core.kb validate kb
	@$(PY) -m scripts.kb_cache

train: install ## Train the model unless models/ has one for the current hash (log: var/log/train.log)
	@$(PY) -m scripts.train

run: install kb train ## Install, precompute, train if needed; start Rasa, actions, api (and bots) with progress
	$(PY) -m scripts.run

run-prod: install kb train ## `make run` on PostgreSQL + Redis (needs DATABASE_URL=postgresql://… and REDIS_URL=redis://…)
	@case "$$DATABASE_URL" in postgresql*) ;; *) echo "run-prod: set DATABASE_URL=postgresql://user@host/db and REDIS_URL=redis://host:6379/1"; exit 1;; esac
	@test -n "$$REDIS_URL" || { echo "run-prod: set REDIS_URL=redis://host:6379/1"; exit 1; }
	$(PY) -m scripts.run

# Only what is missing: a machine whose Node.js comes from NodeSource (npm bundled) cannot also
# take Debian's npm package (apt: "nodejs : Conflicts: npm").
browser-deps: ## Debian's chromium, CJK fonts and nodejs/npm (needs root); axe-core from npm into var/node
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium chromium-driver"; \
	dpkg -s fonts-noto-cjk >/dev/null 2>&1 || missing="$$missing fonts-noto-cjk"; \
	dpkg -s fonts-noto-color-emoji >/dev/null 2>&1 || missing="$$missing fonts-noto-color-emoji"; \
	command -v npm >/dev/null 2>&1 || missing="$$missing nodejs npm"; \
	if [ -n "$$missing" ]; then echo "installing:$$missing"; apt-get update -qq && apt-get install -y -qq $$missing; fi
	@test -f var/node/node_modules/axe-core/axe.min.js || { mkdir -p var/node && \
	  npm install --silent --no-audit --no-fund --prefix var/node axe-core@4.14.1; }

test: install kb train browser-deps ## Everything: KB checks, rasa data validate, rasa test, pytest (unit, integration, e2e)
	$(PY) -m core.kb validate kb
	$(RASA) data validate --data data --quiet
	$(MAKE) test-rasa
	$(MAKE) typecheck
	@$(PY) -m pytest -q -ra; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing"; exit 1; fi; exit $$rc

screenshots: install train browser-deps ## Browser tests writing docs/screenshots/ (make test writes var/screenshots/)
	UPDATE_SCREENSHOTS=1 $(PY) -m pytest -q tests/browser

# Everyday work: no Rasa, no model, no browser (tests/e2e, tests/browser and tests/rasa_addons,
# which runs inside .venv-rasa, are left out); two workers, one test file each at a time.
FAST_TESTS := -m "not e2e" --ignore=tests/e2e --ignore=tests/browser --ignore=tests/rasa_addons
test-fast: kb typecheck ## Unit + integration tests without Rasa, a model or a browser (2 workers; see README)
	@OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 $(PY) -m pytest -q -n 2 --dist loadfile $(FAST_TESTS) $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing"; exit 1; fi; exit $$rc

test-rasa: ## Conversation tests (rasa test) on the current model
	@model=models/qiaowu-$$(python3 scripts/model_hash.py).tar.gz; \
	$(RASA) test core --stories tests/conversations --model "$$model" \
	  --fail-on-prediction-errors --out var/rasa-results --quiet

eval: install train ## Answer quality on tests/eval/dev_set.yml vs baselines (writes docs/eval.md)
	$(PY) scripts/eval.py

ablation: install ## NLU variants (features, rules, epochs, selector) on the blind tune split (writes docs/ablation.md)
	$(PY) -m scripts.ablation $(ABLATION_ARGS)

report: $(APP_VENV)/.installed ## Top unanswered questions and most 👎 answers from the app database
	$(PY) scripts/report.py

typecheck: $(APP_VENV)/.installed ## mypy (strict) on core, api, bot and actions (config: pyproject.toml)
	@$(APP_VENV)/bin/mypy

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
