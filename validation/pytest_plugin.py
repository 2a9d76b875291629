"""pytest plugin: posterior-agreement regression tests against golden references.

Installed with gibbs-suite (entry point ``pytest11``), it offers the fixture
``assert_posterior_agrees``::

    def test_my_sampler(assert_posterior_agrees):
        idata = my_sampler(...)
        assert_posterior_agrees(idata, "tests/goldens/my_model.json")

Run ``pytest --update-goldens`` once to write the golden files from the current runs (they must
meet the acceptance rules of :func:`validation.golden.save`), then commit them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

_WRITTEN = pytest.StashKey[dict]()


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add ``--update-goldens``."""
    parser.addoption(
        "--update-goldens",
        action="store_true",
        default=False,
        help="gibbs-suite: write golden posterior references instead of checking them",
    )


@pytest.fixture
def assert_posterior_agrees(request: pytest.FixtureRequest):
    """Return ``check(idata, golden_path, provenance=None, **kwargs)``.

    Checks ``idata`` against the golden file with :func:`validation.golden.assert_agrees`
    (keywords: ``level``, ``max_rhat``, ``min_ess``), or writes it with ``--update-goldens``.
    """
    from validation.golden import assert_agrees, save

    update = request.config.getoption("--update-goldens")

    written = request.config.stash.setdefault(_WRITTEN, {})

    def check(idata: Any, golden_path: str | Path, provenance: dict | None = None, **kwargs):
        if update:
            key = str(Path(golden_path).resolve())
            first = written.setdefault(key, request.node.nodeid)
            if first != request.node.nodeid:
                # Two tests writing one file: the last would silently win.
                raise pytest.UsageError(
                    f"--update-goldens: {golden_path} is written by both {first} and "
                    f"{request.node.nodeid}; give each test its own golden file"
                )
            prov = {
                "tool": "pytest",
                "seed": None,
                "test": request.node.nodeid,
                **(provenance or {}),
            }
            save(idata, golden_path, prov)
            return None
        if not Path(golden_path).exists():
            pytest.fail(
                f"golden file {golden_path} does not exist: create it from this test's run with "
                "'pytest --update-goldens' (then check and commit it)",
                pytrace=False,
            )
        return assert_agrees(idata, golden_path, **kwargs)

    return check
