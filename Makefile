# Small Models Atlas. Two commands do the whole set-up on a fresh machine:
#   make serve      build the site and serve it at http://127.0.0.1:8000 (it redirects to the site's
#                   path, /small-models-atlas/, the path of site_url in pyproject.toml)
#   make test       every test, browser tests included
# and one re-runs every reference implementation in full (about an hour on 2 cores):
#   make reproduce  verdicts and seed bands against the committed results
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
export NO_MKDOCS_2_WARNING := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: serve build validate test lint bench reproduce chromium clean

$(BIN)/python:
	@$(PY) -m venv $(VENV) || { echo "make: creating $(VENV) with '$(PY) -m venv' failed (is python3-venv installed?)"; exit 1; }

# What a reader of the site needs: no torch.
$(VENV)/.site-installed: pyproject.toml | $(BIN)/python
	@echo "installing the atlas (site dependencies) into $(VENV)"
	@$(BIN)/pip install -q -e . || { echo "make: 'pip install -e .' failed: see pip's message above"; exit 1; }
	@touch $@

# The reference implementations and tests: a CPU build of torch first, then plain transformers.
$(VENV)/.test-installed: pyproject.toml $(VENV)/.site-installed
	@echo "installing the CPU build of torch 2.13.0"
	@$(BIN)/pip install -q torch==2.13.0 || { echo "make: 'pip install torch==2.13.0' failed: see pip's message above"; exit 1; }
	@echo "installing the reference-implementation, suggest (MiniLM) and test extras"
	@$(BIN)/pip install -q -e '.[impl,suggest,test]' || { echo "make: 'pip install -e .[impl,suggest,test]' failed: see pip's message above"; exit 1; }
	@touch $@

# Browser tests drive Debian's chromium (never 'playwright install').
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian's chromium for the browser tests"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	      || { echo "make: 'apt-get install chromium' failed: see apt's message above"; exit 1; }; \
	  else \
	    echo "make: the browser tests need Debian's chromium; install it with 'sudo apt-get install chromium'"; exit 1; \
	  fi; }

validate: $(VENV)/.site-installed
	@$(BIN)/smatlas validate

build: validate
	@$(BIN)/smatlas build

serve: validate
	@$(BIN)/smatlas serve --host $(HOST) --port $(PORT)

lint: $(VENV)/.test-installed
	@$(BIN)/ruff check .
	@$(BIN)/ruff format --check .

test: $(VENV)/.test-installed chromium lint
	@$(BIN)/pytest

# Full runs of every reference implementation at the committed seeds, compared with the committed
# results (verdicts side by side, metrics against their seed bands); rewrites nothing unless
# REPRODUCE_ARGS=--write. The table goes to reproduce-report.txt and reproduce-report.json.
reproduce: $(VENV)/.test-installed
	@set -o pipefail; $(BIN)/smatlas reproduce --report reproduce-report.json $(REPRODUCE_ARGS) | tee reproduce-report.txt

bench: $(VENV)/.test-installed chromium
	@$(BIN)/python scripts/bench.py

clean:
	rm -rf site/build test-output .pytest_cache .ruff_cache reproduce-report.txt reproduce-report.json
