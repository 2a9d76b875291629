"""Validated data for the varying-intercept model, with its per-group sufficient statistics.

The model (notation of DESIGN.md section 2)::

    y_i     ~ N(alpha_j[i] + X_i beta, sigma_y^2)      i = 1..n
    alpha_j ~ N(U_j gamma, sigma_alpha^2)              j = 1..J

``HierarchicalData`` holds ``y`` (n), ``X`` (n x p, no intercept column), the group code ``j[i]``
of every row (0..J-1), ``U`` (J x q, first column ones) and the names used as ArviZ coords.
Groups may have no rows at all: their ``alpha_j`` is then predicted from ``U_j gamma`` alone,
which is how a county without measured houses gets an estimate.

Every check runs at construction, so a sampler never starts on data it cannot use.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

__all__ = ["GroupStats", "HierarchicalData"]

# Relative singular-value threshold below which a design is called rank deficient.
_RANK_RTOL = 1e-10


class GroupStats(NamedTuple):
    """Sufficient statistics of the Gaussian model, computed once per dataset.

    Attributes
    ----------
    n_j : ndarray, shape (J,)
        Rows per group.
    sum_y : ndarray, shape (J,)
        Sum of ``y`` within each group.
    sum_X : ndarray, shape (J, p)
        Column sums of ``X`` within each group.
    XtX : ndarray, shape (p, p)
        ``X.T @ X``.
    Xty : ndarray, shape (p,)
        ``X.T @ y``.
    yty : float
        ``y @ y``.
    """

    n_j: np.ndarray
    sum_y: np.ndarray
    sum_X: np.ndarray
    XtX: np.ndarray
    Xty: np.ndarray
    yty: float


def _as_2d(values: Any, n_rows: int, what: str) -> np.ndarray:
    """Return ``values`` as a float (n_rows, k) array; ``None`` gives k = 0."""
    if values is None:
        return np.zeros((n_rows, 0))
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{what} is not numeric: encode its columns as numbers") from None
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ValueError(f"{what} must be 1-D or 2-D, got an array with {arr.ndim} dimensions")
    return arr


def numeric_column(df: pd.DataFrame, column: str, role: str) -> np.ndarray:
    """Return ``df[column]`` as floats, or raise naming the column and its non-numeric values."""
    values = df[column]
    try:
        return values.to_numpy(dtype=float)
    except (TypeError, ValueError):
        bad = pd.to_numeric(values, errors="coerce").isna() & values.notna()
        examples = sorted({repr(v) for v in values[bad].unique()[:3]})
        hint = (
            "code the outcome as numbers (0/1 or successes for the binomial families)"
            if role == "outcome"
            else "encode it numerically (indicator columns; a formula does this for strings)"
        )
        raise ValueError(
            f"{role} column '{column}' is not numeric: {int(bad.sum())} row(s) hold values such "
            f"as {', '.join(examples)}; {hint}"
        ) from None


def _default_names(prefix: str, k: int) -> tuple[str, ...]:
    return tuple(f"{prefix}{i}" for i in range(k))


def _check_finite(what: str, arr: np.ndarray, names: Sequence[str]) -> None:
    """Raise naming each column of ``arr`` (1-D: one column) that holds NaN or infinite values."""
    bad = ~np.isfinite(arr.reshape(arr.shape[0], -1))
    problems = []
    for k, name in enumerate(names):
        rows = np.flatnonzero(bad[:, k])
        if rows.size:
            problems.append(
                f"{what} column '{name}' has {rows.size} row(s) with NaN or infinite values "
                f"(first at row {rows[0]})"
            )
    if problems:
        raise ValueError("; ".join(problems))


def _null_direction(M: np.ndarray) -> np.ndarray | None:
    """Return a unit vector v with ``M @ v`` ~ 0 if ``M`` is rank deficient, else ``None``."""
    if M.shape[1] == 0:
        return None
    # Scale columns so that the rank decision does not depend on the units of a predictor.
    norms = np.linalg.norm(M, axis=0)
    if np.any(norms == 0):
        v = np.zeros(M.shape[1])
        v[np.flatnonzero(norms == 0)[0]] = 1.0
        return v
    _, s, vt = np.linalg.svd(M / norms, full_matrices=False)
    if s.size < M.shape[1] or s[-1] <= _RANK_RTOL * s[0]:
        return vt[-1] / norms
    return None


def _check_full_rank(what: str, M: np.ndarray, names: Sequence[str]) -> None:
    v = _null_direction(M)
    if v is None:
        return
    rank = np.linalg.matrix_rank(M)
    involved = [names[k] for k in np.flatnonzero(np.abs(v) > 1e-8 * np.abs(v).max())]
    if len(involved) == 1:
        detail = f"column '{involved[0]}' is all zeros"
    else:
        detail = "columns " + ", ".join(f"'{c}'" for c in involved) + " are collinear"
    raise ValueError(
        f"{what} is rank deficient (rank {rank} of {M.shape[1]} columns): {detail}; "
        "drop one of them"
    )


# Below this ratio of singular values (columns scaled to unit norm) X'X has a condition number
# above 1e14 and the Cholesky factorisations of the sweeps lose all precision.
_CONDITION_RTOL = 1e-7


def check_conditioning(data: HierarchicalData) -> None:
    """Refuse an X (with the intercept) too ill-conditioned for the sweeps' linear algebra."""
    if data.p:
        _check_conditioning(
            np.column_stack([np.ones(data.n), data.X]), ("intercept", *data.x_names)
        )


def _check_conditioning(M: np.ndarray, names: Sequence[str]) -> None:
    """Refuse predictors so nearly collinear that the sweeps' linear algebra breaks down.

    Collinear with each other or with the intercept (a large mean next to a small spread);
    the message names the columns and the remedy.
    """
    if M.shape[1] < 2:
        return
    norms = np.linalg.norm(M, axis=0)
    _, s, vt = np.linalg.svd(M / norms, full_matrices=False)
    if s[-1] > _CONDITION_RTOL * s[0]:
        return
    v = np.abs(vt[-1])
    involved = [names[k] for k in np.flatnonzero(v > 1e-3 * v.max())]
    if "intercept" in involved and len(involved) == 2:
        col = next(c for c in involved if c != "intercept")
        k = list(names).index(col)
        mean, sd = M[:, k].mean(), M[:, k].std()
        detail = (
            f"column '{col}' has mean {mean:.3g} and sd {sd:.3g}: it is nearly constant next "
            "to its mean; centre it (subtract its mean) or rescale it"
        )
    else:
        detail = (
            "columns " + ", ".join(f"'{c}'" for c in involved) + " are nearly collinear "
            f"(condition number {s[0] / s[-1]:.2g}); drop one of them or combine them"
        )
    raise ValueError(f"X is numerically ill-conditioned: {detail}")


def _factorize_groups(groups: Any, levels: Sequence[Any] | None) -> tuple[np.ndarray, list]:
    """Map group labels (strings, ints, categoricals) to codes 0..J-1 and return the levels."""
    series = pd.Series(groups)
    if series.isna().any():
        rows = np.flatnonzero(series.isna().to_numpy())
        raise ValueError(f"group labels have {rows.size} missing value(s) (first at row {rows[0]})")
    if levels is None:
        if isinstance(series.dtype, pd.CategoricalDtype):
            # Unused categories are kept: they are groups with no rows.
            levels = list(series.cat.categories)
        else:
            levels = list(pd.unique(series))
            try:
                levels = sorted(levels)
            except TypeError:
                pass
    levels = list(levels)
    if len(set(levels)) != len(levels):
        raise ValueError("group levels contain duplicates")
    index = pd.Index(levels)
    codes = index.get_indexer(series.astype(object) if index.dtype == object else series)
    unknown = np.flatnonzero(codes < 0)
    if unknown.size:
        shown = ", ".join(repr(v) for v in pd.unique(series.iloc[unknown])[:5])
        raise ValueError(
            f"{unknown.size} row(s) have group labels that are not among the {len(levels)} "
            f"group levels (first at row {unknown[0]}; unknown labels: {shown})"
        )
    return codes.astype(np.intp), levels


@dataclass(frozen=True, eq=False)
class HierarchicalData:
    """Validated data of the varying-intercept model.

    Parameters
    ----------
    y : array_like, shape (n,)
        Outcome of each individual.
    X : array_like, shape (n, p)
        Individual-level predictors, without an intercept column (the intercept lives in ``U``).
        ``p`` may be 0.
    group : array_like of int, shape (n,)
        Group code ``j[i]`` in ``0..J-1`` of each row.
    U : array_like, shape (J, q)
        Group-level predictors; the first column must be ones.
    group_names : sequence, length J
        Labels of the groups (ArviZ coords of ``alpha``).
    x_names, u_names : sequence of str
        Names of the columns of ``X`` and ``U`` (coords of ``beta`` and ``gamma``).
    group_dim : str
        Name of the grouping dimension, e.g. ``"county"``.
    y_name : str
        Name of the outcome.
    trials : array_like of int, shape (n,), optional
        Binomial trials of each row, for the logistic and probit families (``None``: one trial
        per row, i.e. 0/1 outcomes). Ignored by the Gaussian model.
    offset : array_like of float, shape (n,), optional
        A known term added to every row's linear predictor (an exposure offset: log exposure for
        the count families). ``None``: no offset. Every family takes one.

    Raises
    ------
    ValueError
        For non-finite values (naming the column and row count), length mismatches, rank-deficient
        ``X`` or ``U`` (naming the collinear columns), an ``X`` whose columns span the intercept,
        fewer than two groups, or group codes outside ``0..J-1``.

    Notes
    -----
    Groups listed in ``U`` with no rows are allowed: their intercepts are predicted from ``U``.
    Use :meth:`from_arrays` or :meth:`from_dataframe` to build one from labels.
    """

    y: np.ndarray
    X: np.ndarray
    group: np.ndarray
    U: np.ndarray
    group_names: tuple = ()
    x_names: tuple[str, ...] = ()
    u_names: tuple[str, ...] = ()
    group_dim: str = "group"
    y_name: str = "y"
    trials: Any = None
    offset: Any = None
    stats: GroupStats = field(init=False, repr=False)

    def __post_init__(self) -> None:
        try:
            y = np.asarray(self.y, dtype=float)
        except (TypeError, ValueError):
            raise ValueError(
                f"y ('{self.y_name}') is not numeric: code the outcome as numbers"
            ) from None
        if y.ndim != 1:
            raise ValueError(f"y must be 1-D, got shape {y.shape}")
        n = y.shape[0]
        X = _as_2d(self.X, n, "X")
        U = _as_2d(self.U, 0, "U") if self.U is not None else None
        if U is None or U.shape[0] == 0:
            raise ValueError("U must have one row per group (J x q, first column ones)")
        J, q = U.shape
        p = X.shape[1]
        if X.shape[0] != n:
            raise ValueError(f"X has {X.shape[0]} rows but y has {n}")
        group = np.asarray(self.group)
        if group.shape != (n,):
            raise ValueError(f"group has {group.size} entries but y has {n} rows")
        if not np.issubdtype(group.dtype, np.integer):
            raise ValueError(
                "group must hold integer codes 0..J-1; use HierarchicalData.from_arrays for labels"
            )
        x_names = tuple(self.x_names) or _default_names("x", p)
        u_names = tuple(self.u_names) or ("intercept", *_default_names("u", q - 1))
        group_names = tuple(self.group_names) or tuple(range(J))
        if len(x_names) != p:
            raise ValueError(f"x_names has {len(x_names)} names but X has {p} columns")
        if len(u_names) != q:
            raise ValueError(f"u_names has {len(u_names)} names but U has {q} columns")
        if len(group_names) != J:
            raise ValueError(f"group_names has {len(group_names)} names but U has {J} rows")
        if len(set(x_names) | set(u_names)) != p + q:
            raise ValueError("predictor names in x_names and u_names must be unique")
        if J < 2:
            raise ValueError(f"a multilevel model needs at least 2 groups, got {J}")
        if n == 0:
            raise ValueError("y is empty")
        _check_finite("y", y, [self.y_name])
        _check_finite("X", X, x_names)
        _check_finite("U", U, u_names)
        bad = np.flatnonzero((group < 0) | (group >= J))
        if bad.size:
            raise ValueError(
                f"{bad.size} row(s) have group codes outside 0..{J - 1} (first at row {bad[0]}, "
                f"code {group[bad[0]]})"
            )
        if not np.all(U[:, 0] == 1.0):
            raise ValueError(
                f"U's first column ('{u_names[0]}') must be all ones: the intercept lives in U"
            )
        _check_full_rank("U", U, u_names)
        _check_full_rank("X", X, x_names)
        if p and _null_direction(np.column_stack([np.ones(n), X])) is not None:
            v = _null_direction(np.column_stack([np.ones(n), X]))[1:]
            cols = [x_names[k] for k in np.flatnonzero(np.abs(v) > 1e-8 * np.abs(v).max())]
            raise ValueError(
                "X duplicates the intercept: "
                + (
                    f"column '{cols[0]}' is constant"
                    if len(cols) == 1
                    else "columns " + ", ".join(f"'{c}'" for c in cols) + " add up to a constant"
                )
                + "; the intercept lives in U, so drop it from X"
            )

        trials = None
        if self.trials is not None:
            trials = np.asarray(self.trials, dtype=float)
            if trials.ndim == 0:
                trials = np.full(n, float(trials))
            if trials.shape != (n,):
                raise ValueError(f"trials has {trials.size} entries but y has {n} rows")
            bad = np.flatnonzero(~np.isfinite(trials) | (trials < 1) | (trials != np.round(trials)))
            if bad.size:
                raise ValueError(
                    f"trials must be integers >= 1: {bad.size} row(s) are not "
                    f"(first at row {bad[0]}, value {trials[bad[0]]})"
                )
        offset = None
        if self.offset is not None:
            offset = np.asarray(self.offset, dtype=float)
            if offset.ndim == 0:
                offset = np.full(n, float(offset))
            if offset.shape != (n,):
                raise ValueError(f"offset has {offset.size} entries but y has {n} rows")
            zero = np.flatnonzero(offset == -np.inf)
            if zero.size:
                raise ValueError(
                    f"offset is -inf in {zero.size} row(s) (first at row {zero[0]}): a zero "
                    "exposure, so the expected outcome of those rows is exactly 0 and any "
                    "positive count there has probability zero; drop those rows (or model the "
                    "zero exposure explicitly)"
                )
            _check_finite("offset", offset[:, None], ["offset"])
        for name, value in [
            ("trials", trials),
            ("offset", offset),
            ("y", y),
            ("X", X),
            ("group", group.astype(np.intp)),
            ("U", U),
            ("x_names", x_names),
            ("u_names", u_names),
            ("group_names", group_names),
        ]:
            if isinstance(value, np.ndarray):
                value = np.ascontiguousarray(value)
                value.setflags(write=False)
            object.__setattr__(self, name, value)
        object.__setattr__(self, "stats", self._sufficient_statistics())

    def _sufficient_statistics(self) -> GroupStats:
        J = self.n_groups
        n_j = np.bincount(self.group, minlength=J).astype(float)
        sum_y = np.bincount(self.group, weights=self.y, minlength=J)
        sum_X = np.zeros((J, self.p))
        np.add.at(sum_X, self.group, self.X)
        stats = GroupStats(
            n_j=n_j,
            sum_y=sum_y,
            sum_X=sum_X,
            XtX=self.X.T @ self.X,
            Xty=self.X.T @ self.y,
            yty=float(self.y @ self.y),
        )
        for arr in stats[:-1]:
            arr.setflags(write=False)
        return stats

    # ------------------------------------------------------------------ sizes
    @property
    def n(self) -> int:
        """Number of individuals (rows)."""
        return self.y.shape[0]

    @property
    def n_groups(self) -> int:
        """Number of groups ``J``, including groups without rows."""
        return self.U.shape[0]

    @property
    def p(self) -> int:
        """Number of individual-level predictors."""
        return self.X.shape[1]

    @property
    def q(self) -> int:
        """Number of group-level predictors, intercept included."""
        return self.U.shape[1]

    @property
    def n_observed_groups(self) -> int:
        """Number of groups with at least one row."""
        return int(np.count_nonzero(self.stats.n_j))

    @property
    def coords(self) -> dict[str, list]:
        """ArviZ coords: groups, ``X`` columns and ``U`` columns."""
        return {
            self.group_dim: list(self.group_names),
            "x_coef": list(self.x_names),
            "u_coef": list(self.u_names),
        }

    def summary(self) -> dict[str, Any]:
        """Sizes and group-size distribution, as a plain dict."""
        n_j = self.stats.n_j
        q = np.percentile(n_j, [0, 25, 50, 75, 100])
        return {
            "rows": self.n,
            "groups": self.n_groups,
            "groups_with_data": self.n_observed_groups,
            "empty_groups": int(np.sum(n_j == 0)),
            "single_member_groups": int(np.sum(n_j == 1)),
            "group_size_quantiles": dict(
                zip(["min", "q25", "median", "q75", "max"], q.tolist(), strict=True)
            ),
            "outcome": self.y_name,
            "individual_predictors": list(self.x_names),
            "group_predictors": list(self.u_names),
            "group_dim": self.group_dim,
        }

    def replace(
        self, y: Any = None, rows: Any = None, trials: Any = None, offset: Any = None
    ) -> HierarchicalData:
        """Return the same design with another outcome and/or a subset of rows.

        Parameters
        ----------
        y : array_like, shape (n,), optional
            New outcome for every row (before any subsetting).
        trials : array_like, shape (n,), optional
            New binomial trials for every row (before any subsetting).
        offset : array_like, shape (n,), optional
            New offset for every row (before any subsetting).
        rows : array_like of bool or int, optional
            Rows to keep. Every group stays (groups left without rows are predicted from U).

        Returns
        -------
        HierarchicalData
            Validated anew.
        """
        y = self.y if y is None else np.asarray(y, dtype=float)
        trials = self.trials if trials is None else np.asarray(trials, dtype=float)
        offset = self.offset if offset is None else np.asarray(offset, dtype=float)
        keep = slice(None) if rows is None else np.asarray(rows)
        return HierarchicalData(
            y=y[keep],
            X=self.X[keep],
            group=self.group[keep],
            U=self.U,
            group_names=self.group_names,
            x_names=self.x_names,
            u_names=self.u_names,
            group_dim=self.group_dim,
            y_name=self.y_name,
            trials=None if trials is None else trials[keep],
            offset=None if offset is None else offset[keep],
        )

    @property
    def binomial_trials(self) -> np.ndarray:
        """Trials of every row for the binomial families (ones when ``trials`` is ``None``)."""
        return np.ones(self.n) if self.trials is None else self.trials

    @property
    def linear_offset(self) -> np.ndarray:
        """The offset of every row (zeros when ``offset`` is ``None``)."""
        return np.zeros(self.n) if self.offset is None else self.offset

    # ------------------------------------------------------------ constructors
    @classmethod
    def from_arrays(
        cls,
        y: Any,
        X: Any = None,
        groups: Any = None,
        U: Any = None,
        *,
        group_levels: Sequence[Any] | None = None,
        x_names: Sequence[str] | None = None,
        u_names: Sequence[str] | None = None,
        add_intercept: bool = True,
        group_dim: str = "group",
        y_name: str = "y",
        trials: Any = None,
        offset: Any = None,
    ) -> HierarchicalData:
        """Build from arrays, with group labels of any kind.

        Parameters
        ----------
        y : array_like, shape (n,)
            Outcome.
        X : array_like, shape (n, p), optional
            Individual-level predictors (no intercept column).
        groups : array_like, shape (n,)
            Group label of each row: strings, integers or a pandas Categorical (whose unused
            categories become groups without rows).
        U : array_like, shape (J, q0), optional
            Group-level predictors in the order of ``group_levels``; an intercept column is
            prepended when ``add_intercept`` is true.
        group_levels : sequence, optional
            All groups, in order, including any without rows. Defaults to the categories of a
            Categorical, else the sorted distinct labels.
        x_names, u_names : sequence of str, optional
            Column names (``u_names`` without the intercept when it is added).
        add_intercept : bool
            Prepend a column of ones named ``"intercept"`` to ``U``.
        group_dim : str
            Name of the grouping dimension.
        y_name : str
            Name of the outcome.
        trials : array_like of int or int, optional
            Binomial trials per row (binomial families only).
        offset : array_like of float, optional
            A known term of every row's linear predictor (e.g. log exposure).

        Returns
        -------
        HierarchicalData
        """
        if groups is None:
            raise ValueError("groups is required: the group label of every row")
        y = np.asarray(y, dtype=float)
        if np.size(groups) != y.shape[0]:
            raise ValueError(f"groups has {np.size(groups)} entries but y has {y.shape[0]} rows")
        codes, levels = _factorize_groups(groups, group_levels)
        J = len(levels)
        U0 = _as_2d(U, J, "U")
        if U0.shape[0] != J:
            raise ValueError(f"U has {U0.shape[0]} rows but there are {J} groups")
        u_names = list(u_names) if u_names is not None else None
        if add_intercept:
            U0 = np.column_stack([np.ones(J), U0])
            if u_names is not None:
                u_names = ["intercept", *u_names]
        return cls(
            y=y,
            X=_as_2d(X, y.shape[0], "X"),
            group=codes,
            U=U0,
            group_names=tuple(levels),
            x_names=tuple(x_names) if x_names is not None else (),
            u_names=tuple(u_names) if u_names is not None else (),
            group_dim=group_dim,
            y_name=y_name,
            trials=trials,
            offset=offset,
        )

    @classmethod
    def from_dataframe(
        cls,
        df: pd.DataFrame,
        y: str,
        group: str,
        x: Sequence[str] = (),
        u: Sequence[str] = (),
        *,
        group_data: pd.DataFrame | None = None,
        trials: str | int | None = None,
        offset: str | None = None,
    ) -> HierarchicalData:
        """Build from a DataFrame and column names.

        Parameters
        ----------
        df : DataFrame
            One row per individual.
        y : str
            Outcome column.
        group : str
            Grouping column; becomes the name of the group dimension.
        x : sequence of str
            Individual-level predictor columns.
        u : sequence of str
            Group-level predictor columns. Taken from ``group_data`` when given (indexed by group
            label, possibly with groups that have no rows), else from ``df``, where each must be
            constant within every group.
        group_data : DataFrame, optional
            One row per group, indexed by the group labels.
        trials : str or int, optional
            Column of binomial trials, or one number of trials for every row (binomial families).
        offset : str, optional
            Column of a known term of the linear predictor (e.g. log exposure).

        Returns
        -------
        HierarchicalData
        """
        columns = [y, group, *x] + ([] if group_data is not None else list(u))
        if isinstance(trials, str):
            columns.append(trials)
        if offset is not None:
            columns.append(offset)
        missing = [c for c in columns if c not in df.columns]
        if missing:
            raise ValueError(f"columns not in the DataFrame: {missing}")
        labels = df[group]
        if group_data is not None:
            missing = [c for c in u if c not in group_data.columns]
            if missing:
                raise ValueError(f"columns not in group_data: {missing}")
            levels = list(group_data.index)
            absent = ~labels.isin(group_data.index)
            if absent.any():
                shown = ", ".join(repr(v) for v in pd.unique(labels[absent])[:3])
                index = ", ".join(repr(v) for v in levels[:3])
                hint = (
                    f"; it has a column '{group}': use group_data.set_index('{group}')"
                    if group in group_data.columns
                    else ""
                )
                raise ValueError(
                    f"group_data must be indexed by the labels of column '{group}': "
                    f"{int(absent.sum())} row(s) have labels not in its index (such as {shown}; "
                    f"the index starts {index}){hint}"
                )
            U = (
                np.column_stack([numeric_column(group_data, c, "group-level predictor") for c in u])
                if u
                else np.zeros((len(levels), 0))
            )
        else:
            codes, levels = _factorize_groups(labels, None)
            U = np.zeros((len(levels), len(u)))
            for k, col in enumerate(u):
                values = numeric_column(df, col, "group-level predictor")
                _check_finite("U", values[:, None], [col])
                lo = np.full(len(levels), np.inf)
                hi = np.full(len(levels), -np.inf)
                np.minimum.at(lo, codes, values)
                np.maximum.at(hi, codes, values)
                varying = np.flatnonzero(hi > lo)
                if varying.size:
                    raise ValueError(
                        f"group-level column '{col}' is not constant within group "
                        f"{levels[varying[0]]!r} (values from {lo[varying[0]]} to "
                        f"{hi[varying[0]]}); {varying.size} group(s) differ"
                    )
                if np.any(np.isinf(lo)):
                    raise ValueError(
                        f"group-level column '{col}' has no value for groups without rows; "
                        "pass group_data (one row per group) to give them one"
                    )
                U[:, k] = lo
        return cls.from_arrays(
            numeric_column(df, y, "outcome"),
            np.column_stack([numeric_column(df, c, "predictor") for c in x]) if x else None,
            labels,
            U,
            group_levels=levels,
            x_names=list(x),
            u_names=list(u),
            group_dim=group,
            y_name=y,
            trials=numeric_column(df, trials, "trials") if isinstance(trials, str) else trials,
            offset=None if offset is None else numeric_column(df, offset, "offset"),
        )
