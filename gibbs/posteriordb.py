"""posteriordb's radon posteriors: its own preparation of the Minnesota data and its priors.

posteriordb (the reference-posterior database used to test samplers) prepares the survey files
differently from Gelman & Hill (``data-raw/radon/radon.R`` there): houses joined to ``cty.dat``
on the county's FIPS code (houses without a match dropped), duplicate house ids dropped,
``log_radon = log(activity + 0.1)``, a per-house ``log_uppm = log(Uppm + 0.1)``, the survey's
``state == "MN"`` (so not the regional R5 sample), counties numbered by sorted name. Its radon
models put half-normal(0, 1) priors on the scales and normal(0, 10) on the locations.

Of its radon models, three are this suite's Gaussian varying-intercept model exactly
(:data:`MODELS`); the others are listed in ``docs/exact.md`` with the reason they are not.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from gibbs.data import HierarchicalData
from gibbs.priors import HalfNormal, Normal, Priors

__all__ = [
    "MODELS",
    "REGRESSION_MODELS",
    "load_radon_mn",
    "posteriordb_priors",
    "radon_mn_regression",
    "regression_design",
    "regression_priors",
]

# posteriordb model -> (row-level predictors, group-level predictors besides the intercept).
# hierarchical_intercept writes log_uppm per house; it is constant within a county, so it is
# the group-level predictor here: alpha_j + log_uppm_j beta_1 with alpha_j ~ N(mu, s^2) is
# alpha'_j ~ N(mu + log_uppm_j beta_1, s^2), the same posterior for every other parameter.
MODELS = {
    "radon_partially_pooled": ((), ()),
    "radon_variable_intercept": (("floor_measure",), ()),
    "radon_hierarchical_intercept": (("floor_measure",), ("log_uppm",)),
}


def posteriordb_priors() -> Priors:
    """Normal(0, 10) on every location, half-normal(0, 1) on sigma_y and sigma_alpha."""
    return Priors(
        beta=Normal(0.0, 10.0),
        gamma=Normal(0.0, 10.0),
        sigma_y=HalfNormal(1.0),
        sigma_alpha=HalfNormal(1.0),
    )


def radon_mn_frame(data_dir: str | os.PathLike | None = None) -> pd.DataFrame:
    """Return posteriordb's ``radon_mn`` rows: log_radon, floor_measure, log_uppm, county."""
    from gibbs.datasets import load_radon_all

    survey = load_radon_all(data_dir)
    houses = survey.houses
    houses = houses[houses["survey"] == "MN"].drop_duplicates("idnum")
    log_u = survey.counties["log_uranium"].reindex(houses["county_key"]).to_numpy()
    if np.isnan(log_u).any():
        raise ValueError("a Minnesota county has no soil uranium: not posteriordb's radon_mn")
    return pd.DataFrame(
        {
            "log_radon": np.log(houses["activity"].to_numpy() + 0.1),
            "floor_measure": houses["floor"].to_numpy(float),
            # log(Uppm + 0.1): the survey loader keeps log Uppm (Uppm > 0 for every MN county).
            "log_uppm": np.log(np.exp(log_u) + 0.1),
            "county": houses["county"].str.strip().to_numpy(),
        }
    )


def load_radon_mn(model: str, data_dir: str | os.PathLike | None = None) -> HierarchicalData:
    """Return posteriordb's ``radon_mn`` data for one of :data:`MODELS` (919 rows, 85 groups)."""
    if model not in MODELS:
        raise ValueError(f"unknown posteriordb radon model {model!r}; choose one of {list(MODELS)}")
    x, u = MODELS[model]
    frame = radon_mn_frame(data_dir)
    return HierarchicalData.from_dataframe(
        frame, y="log_radon", group="county", x=list(x), u=list(u)
    )


# posteriordb's radon_mn regressions without a group-level scale: complete pooling, and one
# normal(0, 10) intercept per county (a fixed group-level mean and scale).
REGRESSION_MODELS = ("radon_pooled", "radon_county_intercept")


def radon_mn_regression(model: str, data_dir: str | os.PathLike | None = None):
    """Return posteriordb's ``radon_mn`` design of ``radon_pooled`` or ``radon_county_intercept``.

    A :class:`gibbs.regression.RegressionDesign` (:func:`regression_design` of the radon_mn rows)
    with posteriordb's parameter names; their priors are :func:`regression_priors`.
    """
    if model not in REGRESSION_MODELS:
        raise ValueError(
            f"unknown posteriordb radon regression {model!r}; choose one of {REGRESSION_MODELS}"
        )
    return regression_design(model, load_radon_mn("radon_variable_intercept", data_dir))


def regression_design(model: str, data: HierarchicalData):
    """Build the regression ``model`` on the rows of ``load_radon_mn("radon_variable_intercept")``.

    ``alpha`` (a scalar, or one per county in sorted name order) and ``beta`` (floor) as in
    posteriordb; the sampler adds ``sigma_y``.
    """
    from gibbs.regression import RegressionDesign

    floor = data.X[:, list(data.x_names).index("floor_measure")]
    if model == "radon_pooled":
        D = np.column_stack([np.ones(data.n), floor])
        groups = {"alpha": (None, None, 0), "beta": (None, None, 1)}
        return RegressionDesign(D, data.y, ["alpha", "beta"], groups)
    J = data.n_groups
    counties = [str(g) for g in data.group_names]
    D = np.column_stack([(data.group[:, None] == np.arange(J)[None, :]).astype(float), floor])
    groups = {"alpha": ("county", counties, slice(0, J)), "beta": (None, None, J)}
    return RegressionDesign(D, data.y, [*counties, "beta"], groups)


def regression_priors() -> tuple:
    """Return posteriordb's priors of its radon regressions: (coefficients, sigma_y).

    normal(0, 10) on every coefficient, half-normal(0, 1) on sigma_y.
    """
    return Normal(0.0, 10.0), HalfNormal(1.0)
