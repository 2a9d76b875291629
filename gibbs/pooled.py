"""Complete pooling from a formula: ``gibbs.sample("log_radon ~ floor", data=df)``.

A formula without a group term is a Bayesian linear regression (the source article's complete
pooling, posteriordb's ``radon_pooled``), sampled exactly by :mod:`gibbs.regression`: every
coefficient of the formula's design (the intercept included) in ``beta`` over ``x_coef``, with
the prior ``priors.beta``, and ``sigma_y`` with ``priors.sigma_y``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from gibbs.formula import describe, formula_offset
from gibbs.inference_data import name_outcome
from gibbs.priors import Priors, named_priors
from gibbs.regression import RegressionDesign, sample_design

__all__ = ["has_group_term", "pooled_design", "sample_pooled"]

# gibbs.sample's arguments that a regression without groups has no use for, with their defaults.
_NOT_FOR_POOLING = {
    "scheme": None,
    "init": None,
    "store_alpha": True,
    "posterior_predictive": False,
    "family": "gaussian",
    "trials": None,
    "slopes": None,
    "factors": None,
    "var_names": None,
}


def has_group_term(formula: str) -> bool:
    """Whether the formula's right-hand side has a group term such as ``(1 | county)``."""
    return "|" in formula.split("~", 1)[-1]


def pooled_design(formula: str, data: pd.DataFrame) -> tuple[RegressionDesign, np.ndarray | None]:
    """Return the regression design of a formula without group terms, and its offset (or None).

    Raises
    ------
    ValueError
        For a formula that does not parse, a missing column or a missing value in one.
    """
    import formulae

    if not isinstance(data, pd.DataFrame):
        raise ValueError("a formula needs data=, a pandas DataFrame with one row per individual")
    description, plain = describe(formula)
    missing = sorted(set(description.var_names) - set(data.columns))
    if missing:
        raise ValueError(f"formula {formula!r}: columns not in the DataFrame: {missing}")
    for col in sorted(description.var_names):
        bad = data[col].isna().to_numpy()
        if bad.any():
            raise ValueError(
                f"column '{col}' has {int(bad.sum())} missing value(s) (first at row "
                f"{int(np.flatnonzero(bad)[0])}); drop or impute them before sampling"
            )
    design = formulae.design_matrices(plain, data, na_action="error")
    y = np.asarray(design.response.design_matrix, dtype=float)
    if y.ndim == 2 and y.shape[1] != 1:
        raise ValueError(f"formula {formula!r}: the response evaluates to {y.shape[1]} columns")
    D = np.asarray(design.common.design_matrix, dtype=float)
    names = [label for t in design.common.terms.values() for label in t.labels]
    groups = {"beta": ("x_coef", names, slice(None))}
    return RegressionDesign(D, y.ravel(), names, groups), formula_offset(formula, data)


def sample_pooled(
    formula: str,
    data: pd.DataFrame,
    *,
    priors: Any = None,
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 4,
    thin: int = 1,
    seed: Any = None,
    progressbar: bool = True,
    log_likelihood: bool = True,
    **given: Any,
):
    """:func:`gibbs.sample` of a formula without a group term: complete pooling, sampled exactly.

    ``given`` holds the other arguments of ``gibbs.sample``: any that a regression without groups
    cannot use (a scheme, varying slopes, initial values...) is refused by name.
    """
    used = sorted(k for k, default in _NOT_FOR_POOLING.items() if given.get(k, default) != default)
    if used:
        raise ValueError(
            f"formula {formula!r} has no group term (complete pooling, a Bayesian regression): "
            f"{', '.join(used)} cannot be given for it"
        )
    if thin != 1:
        raise ValueError("thin: the regression's draws are nearly independent; keep thin=1")
    priors = named_priors(priors) if priors is not None else Priors()
    if not isinstance(priors, Priors):
        raise ValueError(f"priors: a Priors (beta, sigma_y) for complete pooling, got {priors!r}")
    design, offset = pooled_design(formula, data)
    idata = sample_design(
        design,
        theta_prior=priors.beta,
        sigma_prior=priors.sigma_y,
        offset=offset,
        draws=draws,
        tune=tune,
        chains=chains,
        random_seed=seed,
        log_likelihood=log_likelihood,
        progressbar=progressbar,
    )
    idata.posterior.attrs["formula"] = formula
    # As gibbs.sample: the outcome named after its column (``y`` when it is an expression).
    return name_outcome(idata, formula.split("~", 1)[0].strip())
