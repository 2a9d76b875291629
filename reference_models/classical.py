"""The result of a classical (non-Bayesian) pooling fit."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = ["ClassicalFit", "group_indicators"]


@dataclass
class ClassicalFit:
    """A classical fit (least squares or maximum likelihood).

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
    notes : list of str
        Why groups could not be estimated, and other caveats (binomial fits).
    """

    name: str
    coef: pd.DataFrame
    sigma: float
    dof: int
    fitted: np.ndarray
    unestimable_groups: list = field(default_factory=list)
    group_intercepts: pd.Series | None = None
    group_se: pd.Series | None = None
    notes: list = field(default_factory=list)


def group_indicators(data, keep: np.ndarray) -> tuple[np.ndarray, np.ndarray, list]:
    """Rows of the groups ``keep``, their one-hot group matrix and the groups' labels."""
    rows = np.isin(data.group, keep)
    code = np.full(data.n_groups, -1)
    code[keep] = np.arange(keep.size)
    Z = np.zeros((int(rows.sum()), keep.size))
    Z[np.arange(Z.shape[0]), code[data.group[rows]]] = 1.0
    return rows, Z, [data.group_names[j] for j in keep]
