# Two commands do everything on a fresh machine (Python 3.11, Node 20, make, bash):
#   make demo   - a scripted supply chain (hubei_auto.yaml) with its report, then the lender API and a
#                 bank talking to it over HTTP, all on one embedded chain
#   make test   - lint, type-check, Slither (with its triage) and the test suite
# Each creates .venv and installs the pinned Python packages. The npm packages (solc-js, OpenZeppelin,
# hardhat: 229 of them) are installed only for what needs them: compiling, when the contracts' sources no
# longer match the committed artifacts, and `make test` (Slither, the rpc tests). A second run reinstalls and
# recompiles nothing.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY_STAMP := $(VENV)/.installed
NPM_STAMP := node_modules/.installed

.PHONY: demo test quick lint contracts gas clean browser slither soak geth

demo: contracts
	$(BIN)/python -m scripts.demo

# The suite runs on every core (pytest-xdist), a test file to a worker: each worker has its own embedded chain.
test: $(NPM_STAMP) contracts lint browser slither geth
	$(BIN)/pytest -n auto --dist loadfile

# The quick lane while iterating: no slow property runs, no hardhat node, no geth network; still in parallel.
quick: contracts
	$(BIN)/pytest -n auto --dist loadfile -m "not slow and not rpc and not network"

# geth v1.13.15, the last release that seals Clique blocks, for the `network` tests (four nodes on loopback):
# built once from the Go module proxy (about 2 minutes) into the user's cache, where chain_client.network finds
# it; a second run builds nothing. Go >= 1.23 refuses a go:linkname in one of its dependencies (fjl/memsize)
# unless the linker is told -checklinkname=0, which older linkers do not know: that flag first, then without.
# Without Go the network tests are skipped and say so.
GETH_DIR := $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/scf/geth-1.13.15
GETH := $(GETH_DIR)/geth
GETH_MODULE := github.com/ethereum/go-ethereum/cmd/geth@v1.13.15

geth:
	@test -x $(GETH) || { \
	  if command -v go >/dev/null 2>&1; then \
	    echo "geth: building $(GETH_MODULE) into $(GETH_DIR) (once) ..."; mkdir -p $(GETH_DIR) && \
	    { GOBIN=$(GETH_DIR) GOFLAGS=-ldflags=-checklinkname=0 go install $(GETH_MODULE) || \
	      GOBIN=$(GETH_DIR) go install $(GETH_MODULE); }; \
	  else echo "go not installed: the network tests (four geth nodes) will be skipped"; fi; }

# The browser tests (the scenario report, the portal's whole supply chain by clicking) drive Debian's headless
# Chromium, with a CJK font so the Chinese pages render as text. Installed when running as root with apt (CI, a
# fresh machine); otherwise those tests are skipped and say why.
browser:
	@{ command -v chromium >/dev/null 2>&1 && fc-list 2>/dev/null | grep -qi zenhei; } || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-zenhei >/dev/null; \
	  else echo "chromium or a CJK font not installed and not root: the browser tests will be skipped"; fi; }

# The whole-system state machine at length, on fresh random seeds (CI runs 2,000 steps on fixed ones).
SOAK_STEPS ?= 20000
soak: contracts
	SCF_SOAK_STEPS=$(SOAK_STEPS) $(BIN)/pytest -q -s tests/test_system_stateful.py

lint: $(PY_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The committed artifacts (chain_client/artifacts) need no compiler: npm is asked for solc-js and the libraries
# only when `chain_client.build --check` finds them out of date with the sources.
contracts: $(PY_STAMP)
	@$(BIN)/python -m chain_client.build --check || $(MAKE) --no-print-directory $(NPM_STAMP)
	$(BIN)/python -m chain_client.build

gas: contracts
	$(BIN)/python scripts/bench.py gas

# Slither over contracts/ (not contracts/bench or contracts/test), and slither-check-erc for the ERC-20 and
# ERC-721 faces. Slither lives in its own venv: its pins (web3 7, ...) clash with the project's. Hardhat 2
# compiles for it with npm's solc-js and the project's settings (hardhat.slither.config.js, own .slither/
# folders); the run is skipped while no source changed. scripts/slither_check.py then fails on any High or
# Medium result, or ERC conformance failure, not listed with a reason in contracts/slither-triage.json.
SLITHER_VENV := .venv-slither
SLITHER_STAMP := $(SLITHER_VENV)/.installed
SLITHER_OUT := .slither
SLITHER_RUN := $(SLITHER_OUT)/.analysed
SLITHER_SOURCES := $(shell find contracts -name '*.sol' -not -path 'contracts/bench/*' -not -path 'contracts/test/*')
SLITHER_ENV := HARDHAT_CONFIG=hardhat.slither.config.js PATH="$(CURDIR)/node_modules/.bin:$$PATH"
SLITHER_ARGS := --compile-force-framework hardhat --hardhat-ignore-compile --npx-disable \
	--hardhat-artifacts-directory $(SLITHER_OUT)/artifacts --hardhat-cache-directory $(SLITHER_OUT)/cache

slither: $(SLITHER_RUN)
	$(SLITHER_VENV)/bin/python scripts/slither_check.py

# Slither exits 255 when it reports anything; a run that worked says "success": true in its JSON.
$(SLITHER_RUN): $(SLITHER_STAMP) $(NPM_STAMP) hardhat.slither.config.js chain_client/artifacts/_source_hash.txt $(SLITHER_SOURCES)
	@# A fresh build each time: Hardhat keeps older build-info files, and Slither reading a stale one reports
	@# findings at the wrong lines (or twice) and can fail on source maps that no longer fit the file.
	@mkdir -p $(SLITHER_OUT) && touch $(SLITHER_OUT)/.started && rm -rf $(SLITHER_OUT)/*.json $(SLITHER_OUT)/artifacts $(SLITHER_OUT)/cache
	$(SLITHER_ENV) node_modules/.bin/hardhat compile --quiet
	@echo "slither: analysing contracts/ ..."
	@$(SLITHER_ENV) $(SLITHER_VENV)/bin/slither . $(SLITHER_ARGS) --filter-paths 'node_modules|contracts/bench/|contracts/test/' \
	  --json $(SLITHER_OUT)/slither.json >$(SLITHER_OUT)/slither.txt 2>&1; \
	  grep -q '"success": true' $(SLITHER_OUT)/slither.json 2>/dev/null || { cat $(SLITHER_OUT)/slither.txt; exit 1; }
	@for check in "SettlementToken ERC20" "ReceivableToken ERC721"; do set -- $$check; \
	  $(SLITHER_ENV) $(SLITHER_VENV)/bin/slither-check-erc . $$1 --erc $$2 $(SLITHER_ARGS) \
	    --json $(SLITHER_OUT)/erc-$$2.json >$(SLITHER_OUT)/erc-$$2.txt 2>&1; \
	  grep -q '"success": true' $(SLITHER_OUT)/erc-$$2.json 2>/dev/null || { cat $(SLITHER_OUT)/erc-$$2.txt; exit 1; }; \
	done
	@touch -r $(SLITHER_OUT)/.started $@

$(SLITHER_STAMP): requirements-slither.lock
	test -x $(SLITHER_VENV)/bin/python || $(PYTHON) -m venv $(SLITHER_VENV)
	$(SLITHER_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-slither.lock
	touch $@

$(PY_STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

clean:
	rm -rf $(VENV) node_modules $(SLITHER_VENV) $(SLITHER_OUT)
