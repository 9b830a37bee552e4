# dpledger: `make demo` to try it, `make test` to check it. `make help` lists the rest.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
SCALE  ?= small

.DEFAULT_GOAL := help
NPM_STAMP := node_modules/.installed
FRONTEND  := portal/static/govuk/application.css

.PHONY: help install frontend demo test lint bench screenshots clean

help: ## List the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP) $(FRONTEND) ## Create .venv and install dpledger with its tools

# GOV.UK Frontend from npm (package-lock.json pins it), compiled with the council's
# branding and copied into portal/static/govuk/, which the app serves (no CDN).
$(NPM_STAMP): package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund
	@touch $@

$(FRONTEND): $(NPM_STAMP) portal/assets/application.scss
	@mkdir -p portal/static/govuk
	cp node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js portal/static/govuk/
	node_modules/.bin/sass --no-source-map --style=compressed --quiet-deps \
		--silence-deprecation=import --load-path=node_modules \
		portal/assets/application.scss portal/static/govuk/application.css

frontend: $(FRONTEND) ## Install GOV.UK Frontend from npm and build the portal's CSS and JS

demo: $(STAMP) $(FRONTEND) ## Migrate the SQLite demo database, load demo data, serve http://127.0.0.1:5000 with the scheduler
	DATABASE_URL= $(BIN)/dpledger db upgrade
	@# It ends with the sign-ins (portal/demo/sign_ins.py), also when it leaves the database as it is.
	DATABASE_URL= $(BIN)/dpledger demo load --if-empty
	@echo
	@echo "  Open http://127.0.0.1:5000/ and sign in as one of the demo's sign-ins above."
	@echo "  The officers' queue holds John's late-night cash and the generated people's flags;"
	@echo "  the scheduler runs in the same process (monitors hourly, loads, notifications)."
	@echo "  Check the books: .venv/bin/dpledger ledger verify && .venv/bin/dpledger ledger check"
	@echo
	DATABASE_URL= $(BIN)/dpledger serve --with-scheduler

lint: $(STAMP) ## ruff and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint $(FRONTEND) ## Lint, type-check, every test on SQLite and PostgreSQL (when reachable), then the browser journeys
	$(BIN)/python scripts/test_all_databases.py -m "not browser"
	@echo; echo "=== browser journeys (tests/browser: chromium), once, on SQLite ==="
	DATABASE_URL= $(BIN)/python -m pytest -m browser tests/browser

bench: $(STAMP) ## Benchmarks (SCALE=small takes about a minute); figures in instance/bench.json
	$(BIN)/python -m benchmarks --scale $(SCALE)

# The journeys write docs/screenshots/*.png only with DPLEDGER_SCREENSHOTS=1; here a
# missing chromium is an error, not a skip.
screenshots: $(STAMP) $(FRONTEND) ## Regenerate docs/screenshots/*.png from the browser journeys (needs chromium)
	DPLEDGER_SCREENSHOTS=1 DPLEDGER_REQUIRE_BROWSER=1 DATABASE_URL= $(BIN)/python -m pytest -q -m browser tests/browser

clean: ## Remove the virtual environment and local databases
	rm -rf $(VENV) instance .pytest_cache .mypy_cache .ruff_cache node_modules portal/static/govuk
