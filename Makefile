# theralab: two commands do all the set-up on a fresh machine.
#   make run   install, migrate, load the demo data, serve http://127.0.0.1:8000
#   make test  install, lint, then the whole test suite (browser tests need Debian's chromium)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install run test lint bench-help clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	# torch first: the CPU build of 2.13.0 lies on disk; anything else would pull gigabytes
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e ".[test]"
	touch $@

run: install
	$(BIN)/theralab db upgrade
	$(BIN)/theralab demo load
	@echo "Serving theralab at http://127.0.0.1:8000 (API docs at /docs). Ctrl-C stops it."
	$(BIN)/theralab serve

lint: install
	$(BIN)/ruff check src tests benchmarks

test: install lint
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
