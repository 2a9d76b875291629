"""Classical pooling baselines of the count families: Poisson regression by IRLS.

Gelman & Hill fit the police stops first this way (section 6.2, ``glm(stops ~ ...,
family = poisson, offset = log(arrests))``) before the multilevel model:

- **complete pooling**: log mu_i = o_i + U_j[i] gamma + X_i beta, the groups ignored;
- **no pooling**: log mu_i = o_i + a_j[i] + X_i beta, a free intercept per group.

Both are maximum-likelihood Poisson fits by iteratively reweighted least squares (the canonical
log link: weights mu, working response eta + (y - mu) / mu). A Poisson model has no dispersion
parameter, so ``sigma`` is NaN; the Pearson statistic sum((y - mu)^2 / mu) / (n - k), which is 1
for Poisson data, is reported in ``notes`` as the overdispersion the multilevel model explains
with sigma_epsilon or phi. A group whose counts are all zero has no finite no-pooling intercept
(its likelihood grows as the intercept goes to -inf): it is listed, with the reason, and left out.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from gibbs.data import HierarchicalData
from reference_models.classical import ClassicalFit, group_indicators

__all__ = ["complete_pooling_poisson", "no_pooling_poisson", "poisson_irls"]

# exp(eta) beyond this is an overflow, not a rate.
_MAX_LOG_RATE = 700.0


def poisson_irls(
    D: np.ndarray, y: np.ndarray, offset: np.ndarray, names: list[str]
) -> tuple[pd.DataFrame, np.ndarray, float]:
    """Poisson maximum likelihood with a log link and an offset.

    Returns
    -------
    table : DataFrame
        ``estimate`` and ``se`` (from the inverse Fisher information) by name.
    eta : ndarray
        The fitted log means, offset included.
    pearson : float
        sum((y - mu)^2 / mu) / (n - k): 1 for Poisson data, above 1 under overdispersion.

    Raises
    ------
    ValueError
        A rank-deficient design, or estimates that diverge or do not converge in 100 steps.
    """
    n, k = D.shape
    if np.linalg.matrix_rank(D) < k:
        raise ValueError("design is rank deficient")
    # Start from the least-squares fit of log(y + 0.5): a few IRLS steps from there.
    coef, *_ = np.linalg.lstsq(D, np.log(y + 0.5) - offset, rcond=None)
    for _ in range(100):
        eta = np.minimum(D @ coef + offset, _MAX_LOG_RATE)
        mu = np.exp(eta)
        work = eta - offset + (y - mu) / mu
        info = (D * mu[:, None]).T @ D
        new = np.linalg.solve(info, (D * mu[:, None]).T @ work)
        done = np.max(np.abs(new - coef)) < 1e-10 * (1 + np.max(np.abs(coef)))
        coef = new
        if done:
            break
    else:
        raise ValueError(
            f"Poisson maximum likelihood did not converge (estimates {np.round(coef, 1)})"
        )
    if np.max(np.abs(coef)) > 50:
        raise ValueError("Poisson maximum likelihood diverges (|estimate| > 50)")
    eta = D @ coef + offset
    mu = np.exp(eta)
    cov = np.linalg.inv((D * mu[:, None]).T @ D)
    table = pd.DataFrame({"estimate": coef, "se": np.sqrt(np.diag(cov))}, index=names)
    pearson = float(np.sum((y - mu) ** 2 / mu) / max(n - k, 1))
    return table, eta, pearson


def _offset(data: HierarchicalData) -> np.ndarray:
    return np.zeros(data.n) if data.offset is None else np.asarray(data.offset, float)


def _note(label: str, pearson: float) -> str:
    return f"{label}: Pearson chi^2 / df = {pearson:.1f} (1 for Poisson data: overdispersion)"


def complete_pooling_poisson(data: HierarchicalData, family=None) -> ClassicalFit:
    """Poisson regression on X and the group-level predictors of each row's group."""
    D = np.column_stack([data.U[data.group], data.X])
    names = [*data.u_names, *data.x_names]
    table, eta, pearson = poisson_irls(D, data.y, _offset(data), names)
    fit = ClassicalFit(
        "complete pooling (Poisson ML)", table, float("nan"), data.n - D.shape[1], eta
    )
    fit.notes.append(_note("complete pooling", pearson))
    return fit


def no_pooling_poisson(data: HierarchicalData, family=None) -> ClassicalFit:
    """One free intercept per group, shared X coefficients, Poisson maximum likelihood.

    Groups with no rows or only zero counts get no estimate (listed, with a warning for the
    zeros) and their rows are left out: the limit of the likelihood as their intercepts go to
    -inf, where those rows carry no information on beta.
    """
    totals = np.bincount(data.group, data.y, data.n_groups)
    sizes = np.bincount(data.group, minlength=data.n_groups)
    missing = [data.group_names[j] for j in np.flatnonzero(sizes == 0)]
    zeros = [j for j in np.flatnonzero(sizes > 0) if totals[j] == 0]
    keep = np.array([j for j in np.flatnonzero(sizes > 0) if totals[j] > 0], dtype=int)
    notes = [f"{len(missing)} group(s) have no rows"] if missing else []
    if zeros:
        labels = ", ".join(str(data.group_names[j]) for j in zeros[:10])
        notes.append(f"{len(zeros)} group(s) have only zero counts (intercept -> -inf): {labels}")
        warnings.warn(f"no pooling (Poisson): {notes[-1]}", RuntimeWarning, stacklevel=2)
    if keep.size == 0:
        raise ValueError("no pooling: every group has only zero counts")
    rows, Z, labels = group_indicators(data, keep)
    names = [f"alpha[{g}]" for g in labels] + list(data.x_names)
    table, eta_kept, pearson = poisson_irls(
        np.column_stack([Z, data.X[rows]]), data.y[rows], _offset(data)[rows], names
    )
    notes.append(_note("no pooling", pearson))
    fitted = np.full(data.n, np.nan)
    fitted[rows] = eta_kept
    return ClassicalFit(
        "no pooling (Poisson ML)",
        table,
        float("nan"),
        int(rows.sum()) - len(names),
        fitted,
        unestimable_groups=missing + [data.group_names[j] for j in zeros],
        group_intercepts=pd.Series(table["estimate"].to_numpy()[: keep.size], index=labels),
        group_se=pd.Series(table["se"].to_numpy()[: keep.size], index=labels),
        notes=notes,
    )
