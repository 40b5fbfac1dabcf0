# Two commands do everything on a fresh machine (Python 3.11, Node 20, make, bash):
#   make demo   - a scripted supply chain (hubei_auto.yaml) with its report, then the lender API and a
#                 bank talking to it over HTTP, all on one embedded chain
#   make test   - lint, type-check and the test suite
# Each creates .venv, installs the pinned Python and npm packages, and compiles the contracts when the
# sources changed; a second run reinstalls and recompiles nothing.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY_STAMP := $(VENV)/.installed
NPM_STAMP := node_modules/.installed

.PHONY: demo test lint contracts gas clean browser

demo: contracts
	$(BIN)/python -m scripts.demo

test: contracts lint browser
	$(BIN)/pytest

# The scenario report test renders HTML in headless Chromium (Debian's package). Installed when running as
# root with apt (CI, a fresh machine); otherwise that one test is skipped and says why.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium not installed and not root: the report screenshot test will be skipped"; fi; }

lint: $(PY_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

contracts: $(PY_STAMP) $(NPM_STAMP)
	$(BIN)/python -m chain_client.build

gas: contracts
	$(BIN)/python scripts/gas_report.py

$(PY_STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

clean:
	rm -rf $(VENV) node_modules
