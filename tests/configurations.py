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


def _counts(data, offset: bool):
    """Counts from a Gaussian design, Poisson(exp(y)), with an exposure offset if asked."""
    rng = np.random.default_rng(11)
    exposure = rng.uniform(0.5, 3.0, data.n) if offset else np.ones(data.n)
    counts = rng.poisson(np.exp(0.5 * data.y) * exposure).astype(float)
    return data.replace(y=counts, offset=np.log(exposure) if offset else None)


def _outcome(data, family: str, offset: bool = False):
    if family in ("poisson", "negative_binomial"):
        return _counts(data, offset)
    data = data if family == "gaussian" else _binary(data)
    if offset:
        data = data.replace(offset=np.random.default_rng(12).normal(0.0, 0.5, data.n))
    return data


def slopes_spec(family: str):
    data, slopes = _slopes_data()
    return specify(_outcome(data, family), family=family, slopes=slopes)


def factors_spec(family: str, nested: bool, offset: bool = False):
    data, factors = _factors_data(nested)
    return specify(_outcome(data, family, offset), family=family, factors=factors)


def intercepts_offset_spec(family: str):
    data, _ = _factors_data(False)
    return specify(_outcome(data, family, offset=True), family=family)


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
    # An offset sends any structure to the general kernel.
    "intercepts-offset-gaussian": lambda: intercepts_offset_spec("gaussian"),
    "intercepts-offset-probit": lambda: intercepts_offset_spec("probit"),
    "crossed-factors-offset-poisson": lambda: factors_spec("poisson", False, offset=True),
    "nested-factors-negative_binomial": lambda: factors_spec("negative_binomial", True),
    "slopes-poisson": lambda: slopes_spec("poisson"),
    "intercepts-offset-negative_binomial": lambda: intercepts_offset_spec("negative_binomial"),
}
