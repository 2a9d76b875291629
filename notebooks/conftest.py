"""Notebook tiers: a notebook listed here runs (whole, under nbval) in make test-all only."""

import pytest

# Four minutes on 2 cores: its negative-binomial fit draws Polya-Gamma variables of shapes in the
# hundreds (docs/benchmarks.md). Every other notebook runs in make test.
SLOW_NOTEBOOKS = {"06_counts_police_stops.ipynb"}


def pytest_collection_modifyitems(config, items):
    """Mark every cell of a slow notebook ``slow`` (the default run deselects them)."""
    for item in items:
        if item.path.name in SLOW_NOTEBOOKS:
            item.add_marker(pytest.mark.slow)
