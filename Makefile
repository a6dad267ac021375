# Everything a fresh machine needs: `make demo` and `make test` create .venv when it is missing.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.ketenx-installed

.PHONY: install lint test test-fast demo bench clean tools

# The version and the metadata come from pyproject.toml and ketenx/_version.py: reinstall when
# either changes, so that importlib.metadata.version("ketenx") stays the version written there.
$(STAMP): pyproject.toml ketenx/_version.py
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# Independent tools for the interop tests (the `age` CLI from Debian; openssl is usually there).
# Installed with apt when missing and possible; otherwise those tests skip with the reason.
tools:
	@command -v age >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq age) >/dev/null 2>&1 \
	      || echo "warning: could not install age; its interop tests will be skipped"; \
	  else echo "warning: age is not installed (apt-get install age); its interop tests will be skipped"; fi; }

test: lint tools
	$(PY) -m pytest -q

# The inner loop (well under a minute): lint and the fast unit tests, first failure first (no mypy, no
# slow, interop or property test; the Hypothesis `dev` profile). `make test` is the gate.
FAST_TESTS ?= tests/unit --ignore=tests/unit/test_bundle_hostile.py --ignore=tests/unit/test_workers.py \
              --ignore=tests/unit/test_key_material.py --ignore=tests/unit/test_generate.py
test-fast: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m pytest -q -x --ff -m "not slow and not interop and not property" $(FAST_TESTS)

demo: install
	@PATH="$(CURDIR)/$(VENV)/bin:$$PATH" bash examples/demo.sh

# The corpus benchmark runs every corpus contract; at 1M rows that takes hours while most
# contracts fall back to record-by-record validation, so `make bench` uses CORPUS_ROWS rows
# (`make bench CORPUS_ROWS=1000000` for the issue's figures).
CORPUS_ROWS ?= 200000

bench: install
	$(PY) -m pip install --quiet -e '.[bench]'
	cd benchmarks && ../$(PY) check.py && ../$(PY) pseudonymise.py && ../$(PY) pack.py && ../$(PY) risk.py && ../$(PY) gates.py
	cd benchmarks && ../$(PY) corpus_bench.py --rows $(CORPUS_ROWS)

clean:
	rm -rf $(VENV) build dist .mypy_cache .pytest_cache .ruff_cache demo-out
