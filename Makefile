# Two commands do everything on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
AS_OF ?= 2026-11-25

.PHONY: run test lint system bench clean-venv

$(STAMP): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]"
	@touch $(STAMP)

## run: screen the example patients against the built-in trial NCT06125652
run: $(STAMP)
	$(VENV)/bin/trialscreen screen --trial NCT06125652 --as-of $(AS_OF) examples/patients

## system: install the system packages the tests need (PostgreSQL, Chromium, Java) if missing
system:
	bash scripts/ensure_system.sh

## test: the whole suite (lint, types, tests)
test: $(STAMP) system
	$(VENV)/bin/ruff check src tests bench examples
	$(VENV)/bin/mypy src
	$(VENV)/bin/pytest -n 2 --dist loadfile

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests bench examples
	$(VENV)/bin/mypy src

bench: $(STAMP)
	$(PY) bench/bench_screen.py --patients 100000

clean-venv:
	rm -rf $(VENV)
