"""One registry of small model configurations for the generic checks.

A new family or structure gets the twin identity, chain independence and seed checks by adding a
row here; each row builds a :class:`gibbs.spec.ModelSpec` on small simulated data.
"""

from __future__ import annotations

import numpy as np

from gibbs.datasets import simulate_factors, simulate_slopes
from gibbs.spec import specify


def _binary(data):
    """0/1 outcomes from a Gaussian design: above the median (informative, not separated)."""
    return data.replace(y=(data.y > np.median(data.y)).astype(float))


def _slopes_data():
    data, slopes, _ = simulate_slopes(10, 8, mean_slopes=(-0.5,), Sigma=np.diag([0.3, 0.2]), seed=3)
    return data, list(slopes)


def _factors_data(nested: bool):
    data, factors, _ = simulate_factors(12, 6, levels=4, nested=nested, seed=4)
    return data, factors


def _slopes_factors_data():
    data, slopes = _slopes_data()
    rng = np.random.default_rng(7)
    crossed = {"h": rng.choice(["a", "b", "c"], data.n)}
    return data, slopes, crossed


def slopes_spec(family: str):
    data, slopes = _slopes_data()
    data = data if family == "gaussian" else _binary(data)
    return specify(data, family=family, slopes=slopes)


def factors_spec(family: str, nested: bool):
    data, factors = _factors_data(nested)
    data = data if family == "gaussian" else _binary(data)
    return specify(data, family=family, factors=factors)


def slopes_factors_spec(family: str):
    data, slopes, factors = _slopes_factors_data()
    data = data if family == "gaussian" else _binary(data)
    return specify(data, family=family, slopes=slopes, factors=factors)


# The combinations served by the general kernel (gibbs.structures.IMPLEMENTATIONS).
GENERAL_CONFIGS = {
    "slopes-logistic": lambda: slopes_spec("logistic"),
    "slopes-probit": lambda: slopes_spec("probit"),
    "nested-factors-logistic": lambda: factors_spec("logistic", True),
    "crossed-factors-probit": lambda: factors_spec("probit", False),
    "slopes+factors-gaussian": lambda: slopes_factors_spec("gaussian"),
    "slopes+factors-logistic": lambda: slopes_factors_spec("logistic"),
}
