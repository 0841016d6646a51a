# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PORT   ?= 4200
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1

.PHONY: install run test test-fast lint bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

## Start everything on the embedded default (SQLite + local Prefect server + all deployments served).
run: install
	$(BIN)/campaign up --port $(PORT)

## The whole suite, on SQLite and PostgreSQL (127.0.0.1:5432, database test).
test: install
	$(BIN)/python -m pytest

## Only the quick tests (no Prefect server, no processes).
test-fast: install
	$(BIN)/python -m pytest -m "not prefect and not slow"

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

bench: install
	@for f in benchmarks/*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

clean:
	rm -rf var/campaign.db* var/prefect .pytest_cache .mypy_cache .ruff_cache
