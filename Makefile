# One command for all checks: `make check`.
PYTHON ?= python3
PG ?= postgres://postgres@127.0.0.1:5432/test

.PHONY: check lint types imports test test-postgres bench

check: lint types imports test

lint:
	$(PYTHON) -m ruff check heaters tests bench migrations

types:
	$(PYTHON) -m mypy

imports:
	lint-imports

test:
	$(PYTHON) -m pytest

test-postgres:
	HEATERS_TEST_DATABASE_URL=$(PG) $(PYTHON) -m pytest

bench:
	$(PYTHON) bench/cut_ops.py --postgres $(PG)
