# The two commands a new user needs: `make demo` (the main job) and `make test` (what CI runs).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Re-install only when the project metadata or the pinned versions change.
STAMP := $(VENV)/.gibbs-suite-installed
# The exact versions the tests and notebooks were last run with (refresh: make constraints).
CONSTRAINTS := constraints.txt
NBVAL := --nbval --nbval-sanitize-with notebooks/sanitize.cfg
# One worker per core; each test file (each notebook) runs whole, in order, on one worker, so
# module fixtures and notebook cells keep their order and every outcome is the serial one.
PARALLEL := -n auto --dist loadfile

.PHONY: demo test test-all bench goldens constraints lint format clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml $(CONSTRAINTS) | $(BIN)/python
	$(BIN)/python -m pip install --quiet -c $(CONSTRAINTS) -e ".[test,dask]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/gibbs-suite compare

# ruff, the default tier of the test suite, and the notebooks executed and compared by nbval
# (strict, sanitised). Tests marked slow are left to test-all.
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest $(PARALLEL) tests notebooks $(NBVAL)

# Every tier: the default one and the full-size batteries marked slow.
test-all: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest $(PARALLEL) tests notebooks $(NBVAL) -m "slow or not slow"

# Rebuild the stored NUTS references the tests compare against (long nutpie runs; GOLDENS="a b"
# rebuilds only those). See docs/harness.md.
goldens: $(STAMP)
	$(BIN)/python -m validation.build_goldens $(GOLDENS)

# Re-resolve the newest versions that pyproject.toml allows in a scratch environment and pin
# them in constraints.txt; then run make test-all and re-execute the notebooks.
constraints:
	rm -rf .venv-constraints
	$(PYTHON) -m venv .venv-constraints
	.venv-constraints/bin/python -m pip install --quiet --upgrade pip
	.venv-constraints/bin/python -m pip install --quiet -e ".[test,dask]"
	{ sed -n '1,2p' $(CONSTRAINTS); .venv-constraints/bin/python -m pip freeze --exclude-editable; } > $(CONSTRAINTS).new
	mv $(CONSTRAINTS).new $(CONSTRAINTS)
	rm -rf .venv-constraints

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
