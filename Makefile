# Two entry points on a fresh machine: `make demo` and `make test`.
# Each creates the virtual environment it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint typecheck pytest bench clean sysdeps sysdeps-test

# Debian packages (a CJK font; Chromium for the browser tests), installed when missing
sysdeps:
	bash scripts/system-deps.sh

sysdeps-test:
	bash scripts/system-deps.sh --browser

$(BIN)/campus-geo: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

demo: sysdeps $(BIN)/campus-geo
	$(BIN)/campus-geo demo --out maps/demo

lint: $(BIN)/campus-geo
	$(BIN)/ruff check .
	$(BIN)/ruff format --check campus_geo tests benchmarks

typecheck: $(BIN)/campus-geo
	$(BIN)/mypy

pytest: sysdeps-test $(BIN)/campus-geo
	$(BIN)/python -m pytest

test: lint typecheck pytest

bench: $(BIN)/campus-geo
	$(BIN)/python benchmarks/screen_bench.py --schools 10000 --venues 1000000 --repeat 2

clean:
	rm -rf $(VENV) maps/demo .pytest_cache .mypy_cache .ruff_cache
