# The one test command (README, .ci/run): lint, format, import contracts, types, tests.
PYTHON ?= python3

.PHONY: check lint imports types test bench

check: lint imports types test

lint:
	$(PYTHON) -m ruff check src tests benchmarks
	$(PYTHON) -m ruff format --check src tests benchmarks

# The package graph (pyproject's [tool.importlinter] contracts).
imports:
	lint-imports

types:
	$(PYTHON) -m mypy

test:
	$(PYTHON) -m pytest

# Benchmarks: minutes, not seconds; figures go to docs/benchmarks.md.
bench:
	$(PYTHON) -m pytest -m bench benchmarks -s
