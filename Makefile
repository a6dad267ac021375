# Everything a fresh machine needs: `make demo` and `make test` create .venv when it is missing.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.ketenx-installed

.PHONY: install lint test demo bench clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

test: lint
	$(PY) -m pytest -q

demo: install
	@PATH="$(CURDIR)/$(VENV)/bin:$$PATH" bash examples/demo.sh

bench: install
	$(PY) -m pip install --quiet -e '.[bench]'
	$(PY) benchmarks/check.py

clean:
	rm -rf $(VENV) build dist .mypy_cache .pytest_cache .ruff_cache demo-out
