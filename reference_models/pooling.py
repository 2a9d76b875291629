"""The classical pooling baselines of the source article, as least-squares fits.

On the same :class:`~gibbs.data.HierarchicalData` as the multilevel model:

- **complete pooling**: y_i = X_i beta + U_j[i] gamma + e_i; the group structure is ignored (the
  group-level predictors enter as if they were individual-level);
- **no pooling**: y_i = a_j[i] + X_i beta + e_i with a free intercept per group (Gelman & Hill's
  "no pooling", ``lm(y ~ x + factor(county) - 1)``); a group without rows has no estimate and is
  listed in ``unestimable_groups`` instead of getting a NaN;
- **indicator variables**: the article's one-hot coding, y_i = c + d_j[i] + X_i beta + e_i with the
  first group as reference (d_1 = 0). It spans the same column space as no pooling, so its fitted
  values and beta are identical; only the intercepts are parameterized as contrasts.

Each returns estimates with standard errors and the residual standard deviation
(``sqrt(RSS / (n - k))``), as ``lm`` prints them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from gibbs.data import HierarchicalData

__all__ = ["ClassicalFit", "complete_pooling", "indicator_variables", "no_pooling"]


@dataclass
class ClassicalFit:
    """A least-squares fit.

    Attributes
    ----------
    name : str
        Which baseline.
    coef : DataFrame
        ``estimate`` and ``se`` indexed by coefficient name.
    sigma : float
        Residual standard deviation, sqrt(RSS / (n - k)).
    dof : int
        Residual degrees of freedom n - k.
    fitted : ndarray
        Fitted values.
    unestimable_groups : list
        Groups with no rows (no estimate exists for them).
    group_intercepts : Series
        Per-group intercept estimates (where the baseline has them).
    group_se : Series
        Their standard errors.
    """

    name: str
    coef: pd.DataFrame
    sigma: float
    dof: int
    fitted: np.ndarray
    unestimable_groups: list = field(default_factory=list)
    group_intercepts: pd.Series | None = None
    group_se: pd.Series | None = None


def _lstsq(
    D: np.ndarray, y: np.ndarray, names: list[str]
) -> tuple[pd.DataFrame, float, int, np.ndarray]:
    n, k = D.shape
    if np.linalg.matrix_rank(D) < k:
        raise ValueError("design is rank deficient")
    coef, *_ = np.linalg.lstsq(D, y, rcond=None)
    fitted = D @ coef
    dof = n - k
    if dof <= 0:
        raise ValueError(f"no residual degrees of freedom (n = {n}, {k} coefficients)")
    sigma = float(np.sqrt(np.sum((y - fitted) ** 2) / dof))
    cov = sigma**2 * np.linalg.inv(D.T @ D)
    table = pd.DataFrame({"estimate": coef, "se": np.sqrt(np.diag(cov))}, index=names)
    return table, sigma, dof, fitted


def complete_pooling(data: HierarchicalData) -> ClassicalFit:
    """Regress y on X and the group-level predictors of each row's group."""
    D = np.column_stack([data.U[data.group], data.X])
    names = [*data.u_names, *data.x_names]
    table, sigma, dof, fitted = _lstsq(D, data.y, names)
    return ClassicalFit("complete pooling", table, sigma, dof, fitted)


def _observed(data: HierarchicalData) -> tuple[np.ndarray, list]:
    observed = np.flatnonzero(data.stats.n_j > 0)
    missing = [data.group_names[j] for j in np.flatnonzero(data.stats.n_j == 0)]
    return observed, missing


def no_pooling(data: HierarchicalData) -> ClassicalFit:
    """One free intercept per group with rows, shared X coefficients."""
    observed, missing = _observed(data)
    code = np.full(data.n_groups, -1)
    code[observed] = np.arange(observed.size)
    Z = np.zeros((data.n, observed.size))
    Z[np.arange(data.n), code[data.group]] = 1.0
    names = [f"alpha[{data.group_names[j]}]" for j in observed] + list(data.x_names)
    table, sigma, dof, fitted = _lstsq(np.column_stack([Z, data.X]), data.y, names)
    labels = [data.group_names[j] for j in observed]
    return ClassicalFit(
        "no pooling",
        table,
        sigma,
        dof,
        fitted,
        unestimable_groups=missing,
        group_intercepts=pd.Series(table["estimate"].to_numpy()[: observed.size], index=labels),
        group_se=pd.Series(table["se"].to_numpy()[: observed.size], index=labels),
    )


def indicator_variables(data: HierarchicalData) -> ClassicalFit:
    """Fit an intercept plus one-hot dummies (first group with rows as reference) plus X."""
    observed, missing = _observed(data)
    reference = observed[0]
    others = observed[1:]
    dummies = (data.group[:, None] == others[None, :]).astype(float)
    names = ["intercept"] + [f"d[{data.group_names[j]}]" for j in others] + list(data.x_names)
    D = np.column_stack([np.ones(data.n), dummies, data.X])
    table, sigma, dof, fitted = _lstsq(D, data.y, names)
    fit = ClassicalFit("indicator variables", table, sigma, dof, fitted, unestimable_groups=missing)
    fit.coef.attrs["reference_group"] = data.group_names[reference]
    return fit


# --------------------------------------------------------------------------- Bayesian versions
def _observed_coords(data: HierarchicalData) -> tuple[np.ndarray, list]:
    observed, _ = _observed(data)
    return observed, [data.group_names[j] for j in observed]


def complete_pooling_model(data: HierarchicalData):
    """PyMC complete pooling: y ~ N(U_j[i] gamma + X_i beta, sigma), flat priors, HalfFlat sigma.

    The Bayesian twin of :func:`complete_pooling` (its posterior mean is the least-squares fit).
    """
    import pymc as pm

    coords = {
        "u_coef": list(data.u_names),
        "x_coef": list(data.x_names),
        "obs_id": np.arange(data.n),
    }
    with pm.Model(coords=coords) as model:
        gamma = pm.Flat("gamma", dims="u_coef")
        mu = pm.math.dot(data.U[data.group], gamma)
        if data.p:
            mu = mu + pm.math.dot(data.X, pm.Flat("beta", dims="x_coef"))
        sigma = pm.HalfFlat("sigma_y")
        pm.Normal("y", mu=mu, sigma=sigma, observed=data.y, dims="obs_id")
    return model


def no_pooling_model(data: HierarchicalData):
    """PyMC no pooling: one flat intercept per group with rows, shared beta, HalfFlat sigma.

    The Bayesian twin of :func:`no_pooling`; groups without rows have no parameter.
    """
    import pymc as pm

    observed, labels = _observed_coords(data)
    code = np.full(data.n_groups, -1)
    code[observed] = np.arange(observed.size)
    coords = {"group": labels, "x_coef": list(data.x_names), "obs_id": np.arange(data.n)}
    with pm.Model(coords=coords) as model:
        alpha = pm.Flat("alpha", dims="group")
        mu = alpha[code[data.group]]
        if data.p:
            mu = mu + pm.math.dot(data.X, pm.Flat("beta", dims="x_coef"))
        sigma = pm.HalfFlat("sigma_y")
        pm.Normal("y", mu=mu, sigma=sigma, observed=data.y, dims="obs_id")
    return model


def indicator_variables_model(data: HierarchicalData):
    """PyMC indicator variables: intercept + one-hot contrasts (first group with rows as reference).

    The Bayesian twin of :func:`indicator_variables`, flat priors and HalfFlat sigma.
    """
    import pymc as pm

    observed, labels = _observed_coords(data)
    others = observed[1:]
    dummies = (data.group[:, None] == others[None, :]).astype(float)
    coords = {"contrast": labels[1:], "x_coef": list(data.x_names), "obs_id": np.arange(data.n)}
    with pm.Model(coords=coords) as model:
        intercept = pm.Flat("intercept")
        mu = intercept + pm.math.dot(dummies, pm.Flat("d", dims="contrast"))
        if data.p:
            mu = mu + pm.math.dot(data.X, pm.Flat("beta", dims="x_coef"))
        sigma = pm.HalfFlat("sigma_y")
        pm.Normal("y", mu=mu, sigma=sigma, observed=data.y, dims="obs_id")
    return model
