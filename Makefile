# Two entry points, each working from a fresh clone on Debian bookworm as root:
#   make demo   install, build a sample firmware image, scan it, write reports to out/
#   make test   install, then lint, type-check and run the whole test suite
# Installing is idempotent: present packages, venv and editable install are kept.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
OUT := out
SAMPLE := $(OUT)/sample-router.sqsh
VULNDB := $(OUT)/vulns.sqlite
# Playwright drives Debian's /usr/bin/chromium; it must never fetch a browser of its own.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

.PHONY: demo test install system lint typecheck pytest sample vulndb clean
.DEFAULT_GOAL := demo

system:
	bash scripts/install-system.sh

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "make: $(PYTHON) must be Python >= 3.11" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)

# Re-run pip only when the project's dependencies change.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -e '.[dev]'
	touch $@

# The hot binary-analysis module compiled by mypyc; plain Python when it cannot be built.
$(VENV)/.native: src/assay/analysis/binary.py scripts/build_native.py | $(VENV)/.installed
	$(BIN)/python scripts/build_native.py
	touch $@

install: system $(VENV)/.installed $(VENV)/.native

sample: install
	bash scripts/build-sample.sh $(SAMPLE)

# The offline vulnerability database from whatever local data there is (KEV, kernel fixes under
# ../shared/data); without any, the scan runs without vulnerability matching.
$(VULNDB): scripts/build-vulndb.sh | install
	ASSAY=$(BIN)/assay bash scripts/build-vulndb.sh --db $@

vulndb: $(VULNDB)

demo: sample vulndb
	@formats=$$($(BIN)/python -c 'import importlib.util as u, assay.reports as r; \
		print(" ".join("-f " + f for f, m in r.FORMATS.items() if u.find_spec(m)))'); \
	db=""; [ -s $(VULNDB) ] && db="--db $(VULNDB) --vex $(OUT)/$(notdir $(SAMPLE)).vex.json"; \
	echo "+ assay scan $(SAMPLE) $$formats --profile ts33117 $$db -o $(OUT)/"; \
	$(BIN)/assay scan $(SAMPLE) $$formats --profile ts33117 $$db -o $(OUT)/
	@echo "reports: $$(ls $(OUT)/$(notdir $(SAMPLE)).* | tr '\n' ' ')"

lint: install
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests

typecheck: install
	$(BIN)/mypy

pytest: install
	$(BIN)/pytest -n 2 -q

# Every stage runs even if an earlier one fails, so one run shows all problems; any failure fails.
test: install
	@rc=0; \
	echo "+ ruff check src tests"; $(BIN)/ruff check src tests || rc=1; \
	echo "+ ruff format --check src tests"; $(BIN)/ruff format --check src tests || rc=1; \
	echo "+ mypy"; $(BIN)/mypy || rc=1; \
	echo "+ pytest -n 2"; $(BIN)/pytest -n 2 -q || rc=1; \
	if [ $$rc -ne 0 ]; then echo "make test: FAILED (see above)" >&2; fi; \
	exit $$rc

clean:
	rm -rf $(OUT) .pytest_cache .mypy_cache .ruff_cache
