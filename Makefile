# The two commands a newcomer needs: `make run` (demo on SQLite) and `make test` (whole suite).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test check lint fmt bench clean install peers vendor schemathesis screenshots

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# Pinned, locked install; the package itself goes in editable with no further resolution.
$(STAMP): $(BIN)/python requirements-dev.lock pyproject.toml
	$(BIN)/pip install -q -r requirements-dev.lock
	$(BIN)/pip install -q --no-deps -e .
	touch $(STAMP)

# Browser libraries (Swagger UI for /docs) from npm, pinned by package-lock.json, installed inside
# the Python package (git-ignored) so koban serves them itself. No install scripts: nothing phones home.
VENDOR       := src/koban/web/vendor
VENDOR_STAMP := $(VENDOR)/node_modules/.installed

$(VENDOR_STAMP): $(VENDOR)/package.json $(VENDOR)/package-lock.json
	npm ci --prefix $(VENDOR) --ignore-scripts --no-audit --no-fund
	touch $(VENDOR_STAMP)

vendor: $(VENDOR_STAMP)

# axe-core for the Chromium tests' accessibility checks: a test tool, so it lives beside the tests
# (pinned by its own package-lock.json) and is never shipped in the Python package.
AXE       := tests/web/axe
AXE_STAMP := $(AXE)/node_modules/.installed

$(AXE_STAMP): $(AXE)/package.json $(AXE)/package-lock.json
	npm ci --prefix $(AXE) --ignore-scripts --no-audit --no-fund
	touch $(AXE_STAMP)

install: $(STAMP) $(VENDOR_STAMP)

# `make run PORT=8081` listens elsewhere; each run starts on fresh data, `make run KEEP=1` reuses it.
PORT ?= 8080
run: $(STAMP) $(VENDOR_STAMP)
	$(BIN)/koban demo --port $(PORT) $(if $(KEEP),--keep)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

fmt: $(STAMP)
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

# Real peers (Alertmanager, Prometheus, blackbox, nginx) come from Debian when we are root;
# tests that need them skip with a reason otherwise. KOBAN_REQUIRE_PEERS=1 turns skips into failures.
peers:
	@bash scripts/install-peers.sh

# The static gates, in the order `make test` (and so CI, through .ci/run) runs them: lint, format,
# the architecture's import contracts ([tool.importlinter] in pyproject.toml), types ([tool.mypy]).
check: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/lint-imports
	$(BIN)/mypy

test: check vendor $(AXE_STAMP) peers
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The API against its own OpenAPI document with every schemathesis check and a large budget
# (`make test` runs the same checks in process with a small one). EXAMPLES=200 for more.
schemathesis: $(STAMP)
	$(BIN)/python scripts/schemathesis_run.py

# PNGs of the main pages in English and Japanese from a seeded demo (docs/screenshots/), through
# Debian's Chromium; the demo listens on PORT (8080, which its own monitor probes).
screenshots: $(STAMP) $(VENDOR_STAMP) peers
	$(BIN)/python scripts/screenshots.py

bench: $(STAMP) peers
	$(BIN)/python -m bench.run_all

clean:
	rm -rf $(VENV) .pytest_cache data $(VENDOR)/node_modules $(AXE)/node_modules
