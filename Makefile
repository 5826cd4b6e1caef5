# make demo   - a real session on embedded defaults (relay, agent, operator on one machine)
# make test   - set up everything, then lint, type-check and run the tests
# make dist   - dist/madoguchi-agent (one file, removes itself) and dist/madoguchi-console (one folder);
#               make dist RELAY_URL=https://relay.example.com CA_FILE=relay-ca.pem bakes both in
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.setup-stamp
PYTEST_ARGS ?=
BUILD_STAMP := $(VENV)/.build-stamp
RELAY_URL ?=
CA_FILE ?=

WEB_STAMP := web/node_modules/.setup-stamp

.PHONY: setup test lint typecheck pytest webtest demo relay bench bench-relay clean dist

setup: $(STAMP) $(BUILD_STAMP) $(WEB_STAMP)

$(STAMP): pyproject.toml scripts/setup.sh scripts/apt-packages.txt
	bash scripts/setup.sh $(VENV)
	touch $(STAMP)

# The customer's pages (web/): TypeScript, ESLint and playwright-core, exactly as locked.
$(WEB_STAMP): web/package.json web/package-lock.json $(STAMP)
	bash scripts/setup_web.sh
	touch $(WEB_STAMP)

# PyInstaller (the `build` extra): `make dist` and the packaged-program tests need it.
$(BUILD_STAMP): $(STAMP) pyproject.toml
	$(PY) -m pip install -q -e ".[build]"
	touch $(BUILD_STAMP)

dist: setup
	$(PY) -m installer.build $(if $(RELAY_URL),--relay-url "$(RELAY_URL)") $(if $(CA_FILE),--ca-file "$(CA_FILE)")

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache
	cd web && npm run --silent lint

typecheck: setup
	$(VENV)/bin/mypy
	$(VENV)/bin/mypy --platform win32
	cd web && npm run --silent typecheck

webtest: setup
	cd web && npm test

pytest: setup
	$(VENV)/bin/pytest $(PYTEST_ARGS)

test: lint typecheck webtest pytest

demo: setup
	$(PY) -m madoguchi demo

relay: setup
	$(PY) -m madoguchi relay

bench: setup
	$(PY) -m madoguchi bench

bench-relay: setup
	$(PY) -m madoguchi bench-relay

clean:
	rm -rf $(VENV) web/node_modules build dist .mypy_cache .pytest_cache .ruff_cache .import_linter_cache
