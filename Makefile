# dpledger: `make demo` to try it, `make test` to check it. `make help` lists the rest.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
SCALE  ?= small

.DEFAULT_GOAL := help
.PHONY: help install demo test lint bench clean

help: ## List the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP) ## Create .venv and install dpledger with its tools

demo: $(STAMP) ## Migrate the SQLite demo database, load demo data, serve http://127.0.0.1:5000
	DATABASE_URL= $(BIN)/dpledger db upgrade
	DATABASE_URL= $(BIN)/dpledger demo load --if-empty
	@echo
	@echo "  Open http://127.0.0.1:5000/ to see every demo card's balances."
	@echo "  Check the books: .venv/bin/dpledger ledger verify && .venv/bin/dpledger ledger check"
	@echo
	DATABASE_URL= $(BIN)/dpledger serve

lint: $(STAMP) ## ruff and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint ## Lint, type-check, and run every test on SQLite and PostgreSQL (when reachable)
	$(BIN)/python scripts/test_all_databases.py

bench: $(STAMP) ## Benchmarks (SCALE=small takes about a minute); figures in instance/bench.json
	$(BIN)/python -m benchmarks --scale $(SCALE)

clean: ## Remove the virtual environment and local databases
	rm -rf $(VENV) instance .pytest_cache .mypy_cache .ruff_cache
