"""Which parameters of a battery run in the default tier (``make test``).

Each check lives in exactly one tier: the default one keeps at least one NUTS comparison, one
Geweke test and one SBC run per model family, every closed-form test and one negative control per
battery; the rest of each grid is marked ``slow`` and runs in ``make test-all``.
"""

import pytest


def tiered(values, default, ids=None):
    """``values`` as pytest parameters, those not in ``default`` marked slow."""
    out = []
    for k, value in enumerate(values):
        marks = () if value in default else (pytest.mark.slow,)
        out.append(pytest.param(*_args(value), marks=marks, id=None if ids is None else ids[k]))
    return out


def _args(value):
    return value if isinstance(value, tuple) else (value,)
