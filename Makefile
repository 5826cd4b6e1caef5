# make demo   - a real session on embedded defaults (relay, agent, operator on one machine)
# make test   - set up everything, then lint, type-check and run the tests
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.setup-stamp
PYTEST_ARGS ?=

.PHONY: setup test lint typecheck pytest demo relay bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml scripts/setup.sh scripts/apt-packages.txt
	bash scripts/setup.sh $(VENV)
	touch $(STAMP)

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: setup
	$(VENV)/bin/mypy
	$(VENV)/bin/mypy --platform win32

pytest: setup
	$(VENV)/bin/pytest $(PYTEST_ARGS)

test: lint typecheck pytest

demo: setup
	$(PY) -m madoguchi demo

relay: setup
	$(PY) -m madoguchi relay

bench: setup
	$(PY) -m madoguchi bench

clean:
	rm -rf $(VENV) build dist .mypy_cache .pytest_cache .ruff_cache
