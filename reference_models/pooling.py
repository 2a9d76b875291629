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

For the binomial families (logistic, probit) :func:`complete_pooling_glm` and
:func:`no_pooling_glm` are the maximum-likelihood versions (``glm(..., family = binomial)``), fit by
Fisher scoring. A group whose outcomes are all failures or all successes has no finite
no-pooling intercept (its likelihood keeps growing as the intercept goes to -inf or +inf): such
groups are listed in ``unestimable_groups`` with the reason, and left out of the fit, instead of
returning a huge or infinite estimate.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gibbs.data import HierarchicalData
from reference_models.classical import ClassicalFit, group_indicators
from reference_models.count_pooling import complete_pooling_poisson, no_pooling_poisson

__all__ = [
    "BASELINES",
    "ClassicalFit",
    "complete_pooling",
    "complete_pooling_glm",
    "complete_pooling_posterior",
    "indicator_variables",
    "no_pooling",
    "no_pooling_glm",
    "no_pooling_posterior",
    "pooling_baselines",
]


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


# --------------------------------------------------------------------------- binomial ML fits
def _fisher_scoring(
    D: np.ndarray, y: np.ndarray, trials: np.ndarray, family: str, names: list[str]
) -> tuple[pd.DataFrame, np.ndarray]:
    """Maximum-likelihood binomial regression by Fisher scoring (IRLS); returns (table, eta).

    Raises ``ValueError`` when the estimates diverge (separation by a predictor).
    """
    from gibbs.families import success_probability

    if np.linalg.matrix_rank(D) < D.shape[1]:
        raise ValueError("design is rank deficient")
    coef = np.zeros(D.shape[1])
    for _ in range(100):
        eta = D @ coef
        prob = np.clip(success_probability(family, eta), 1e-12, 1 - 1e-12)
        if family == "logistic":
            dens = prob * (1 - prob)
        else:
            dens = np.exp(-0.5 * eta**2) / np.sqrt(2 * np.pi)
        dmu = trials * np.maximum(dens, 1e-300)
        weight = dmu**2 / (trials * prob * (1 - prob))
        work = eta + (y - trials * prob) / dmu
        info = (D * weight[:, None]).T @ D
        new = np.linalg.solve(info, (D * weight[:, None]).T @ work)
        if np.max(np.abs(new - coef)) < 1e-10 * (1 + np.max(np.abs(coef))):
            coef = new
            break
        coef = new
    else:
        raise ValueError(
            f"{family} maximum likelihood did not converge (estimates {np.round(coef, 1)}): "
            "a predictor separates successes from failures"
        )
    if np.max(np.abs(coef)) > 30:
        raise ValueError(
            f"{family} maximum likelihood diverges (|estimate| > 30): a predictor separates "
            "successes from failures"
        )
    cov = np.linalg.inv(info)
    table = pd.DataFrame({"estimate": coef, "se": np.sqrt(np.diag(cov))}, index=names)
    return table, D @ coef


def complete_pooling_glm(data: HierarchicalData, family: str = "logistic") -> ClassicalFit:
    """Binomial ML regression on X and the group-level predictors of each row's group."""
    D = np.column_stack([data.U[data.group], data.X])
    names = [*data.u_names, *data.x_names]
    table, eta = _fisher_scoring(D, data.y, data.binomial_trials, family, names)
    return ClassicalFit(
        f"complete pooling ({family} ML)", table, float("nan"), data.n - D.shape[1], eta
    )


def no_pooling_glm(data: HierarchicalData, family: str = "logistic") -> ClassicalFit:
    """One free intercept per group, shared X coefficients, by binomial maximum likelihood.

    Groups with all failures or all successes have no finite intercept: they are reported in
    ``unestimable_groups`` and ``notes`` (with a warning) and their rows left out, which is the
    limit of the likelihood as their intercepts diverge (those rows then carry no information on
    beta).
    """
    import warnings

    trials = data.binomial_trials
    successes = np.bincount(data.group, data.y, data.n_groups)
    totals = np.bincount(data.group, trials, data.n_groups)
    observed, missing = _observed(data)
    all_fail = [j for j in observed if successes[j] == 0]
    all_succeed = [j for j in observed if successes[j] == totals[j]]
    separated = set(all_fail) | set(all_succeed)
    keep_groups = np.array([j for j in observed if j not in separated], dtype=int)
    notes = []
    if missing:
        notes.append(f"{len(missing)} group(s) have no rows")
    if all_fail or all_succeed:
        notes.append(
            f"{len(all_fail)} group(s) have only failures (intercept -> -inf) and "
            f"{len(all_succeed)} only successes (intercept -> +inf): no finite estimate"
        )
        warnings.warn(
            f"no pooling ({family}): no finite intercept for "
            f"{len(separated)} group(s) with all-0 or all-1 outcomes: "
            + ", ".join(str(data.group_names[j]) for j in sorted(separated)[:10])
            + (" ..." if len(separated) > 10 else ""),
            RuntimeWarning,
            stacklevel=2,
        )
    if keep_groups.size == 0:
        raise ValueError("no pooling: every group has all-0 or all-1 outcomes")
    rows, Z, labels = group_indicators(data, keep_groups)
    names = [f"alpha[{g}]" for g in labels] + list(data.x_names)
    table, eta = _fisher_scoring(
        np.column_stack([Z, data.X[rows]]), data.y[rows], trials[rows], family, names
    )
    fitted = np.full(data.n, np.nan)
    fitted[rows] = eta
    return ClassicalFit(
        f"no pooling ({family} ML)",
        table,
        float("nan"),
        int(rows.sum()) - len(names),
        fitted,
        unestimable_groups=missing + [data.group_names[j] for j in sorted(separated)],
        group_intercepts=pd.Series(table["estimate"].to_numpy()[: keep_groups.size], index=labels),
        group_se=pd.Series(table["se"].to_numpy()[: keep_groups.size], index=labels),
        notes=notes,
    )


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


def complete_pooling_posterior(data: HierarchicalData, seed=None, draws: int = 1000):
    """Draw the posterior of :func:`complete_pooling_model` exactly, by Gibbs (no NUTS).

    Same model and priors (flat coefficients, uniform sigma_y), same variable names
    (``gamma``, ``beta``, ``sigma_y``) and the pointwise log-likelihood
    (:func:`gibbs.regression.sample_regression`).
    """
    from gibbs.regression import sample_regression

    q = data.q
    D = np.column_stack([data.U[data.group], data.X])
    groups = {"gamma": ("u_coef", list(data.u_names), slice(0, q))}
    if data.p:
        groups["beta"] = ("x_coef", list(data.x_names), slice(q, None))
    return sample_regression(
        D,
        data.y,
        coef_names=[*data.u_names, *data.x_names],
        groups=groups,
        draws=draws,
        random_seed=seed,
        offset=data.offset,
    )


def no_pooling_posterior(data: HierarchicalData, seed=None, draws: int = 1000):
    """Draw the posterior of :func:`no_pooling_model` exactly, by Gibbs (no NUTS).

    One flat intercept per group with rows (``alpha`` over ``group``), flat ``beta``, uniform
    sigma_y, with the pointwise log-likelihood.
    """
    from gibbs.regression import sample_regression

    observed, labels = _observed_coords(data)
    dummies = (data.group[:, None] == observed[None, :]).astype(float)
    J = observed.size
    groups = {"alpha": ("group", labels, slice(0, J))}
    if data.p:
        groups["beta"] = ("x_coef", list(data.x_names), slice(J, None))
    return sample_regression(
        np.column_stack([dummies, data.X]),
        data.y,
        coef_names=[*map(str, labels), *data.x_names],
        groups=groups,
        draws=draws,
        random_seed=seed,
        offset=data.offset,
    )


# The classical baselines of each family, by how they are fitted (gibbs.families.Family.baseline).
BASELINES = {
    "least squares": lambda data, family: (complete_pooling(data), no_pooling(data)),
    "maximum likelihood": lambda data, family: (
        complete_pooling_glm(data, family.name),
        no_pooling_glm(data, family.name),
    ),
    # The count families: Poisson regression, the book's first fit of the police stops.
    "maximum likelihood (IRLS)": lambda data, family: (
        complete_pooling_poisson(data),
        no_pooling_poisson(data),
    ),
}


def pooling_baselines(data: HierarchicalData, family) -> tuple[ClassicalFit, ClassicalFit]:
    """Return the complete-pooling and no-pooling fits of ``family`` (a family object)."""
    return BASELINES[family.baseline](data, family)
