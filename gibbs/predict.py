"""Prediction for new rows, in the fitted groups and in new ones, from a Gibbs posterior.

At every posterior draw, a row's linear predictor is

    eta = offset + X_fixed beta + Z_i a_j[i] + sum_{f crossed} b_f[f(i)],

with Z_i = (1, the varying slopes' columns). A fitted group keeps its draw of a_j. A new group
draws a_j from the group-level distribution at that draw, N(U_j gamma + nested effects,
sigma_alpha^2) (varying slopes: N((U_j gamma, gamma_slope), Sigma)); a new level of a further
factor draws b ~ N(0, sigma_f^2). The outcome is then drawn from the family given eta (with
its dispersion: sigma_y, the Poisson's row term sigma_epsilon, the negative binomial's phi).

Everything is read from the InferenceData that :func:`gibbs.sample` returns (names, coords and
the fitted data's factor codes), so a prediction needs the fit and the new rows only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from gibbs.data import HierarchicalData
from gibbs.families import get_family
from gibbs.inference_data import OBS_DIM
from gibbs.streams import chain_seed_sequences

__all__ = ["predict"]

KINDS = ("response", "linear")


def _draws(post, name: str) -> np.ndarray:
    """Return a posterior variable as an array (chain, draw, ...)."""
    return np.asarray(post[name].values, float)


@dataclass(frozen=True)
class _Rows:
    """The new rows as predict reads them: labels per row and a lookup of predictors by name."""

    n: int
    groups: np.ndarray
    column: Callable[[str], np.ndarray]
    offset: np.ndarray | None
    trials: np.ndarray | None
    factors: dict[str, np.ndarray]


def _rows_of_data(data: HierarchicalData, factors: Mapping[str, Any] | None) -> _Rows:
    """Read new rows given as HierarchicalData: X and U columns by name, per row."""

    def column(name: str) -> np.ndarray:
        name = str(name)
        if name in data.x_names:
            return data.X[:, list(data.x_names).index(name)]
        if name in data.u_names:
            return data.U[data.group, list(data.u_names).index(name)]
        raise ValueError(
            f"new data lack the predictor {name!r} of the fit (they have "
            f"{[*data.x_names, *data.u_names]})"
        )

    trials = data.binomial_trials if data.trials is not None else None
    return _Rows(
        data.n,
        np.asarray(data.group_names, dtype=object)[data.group],
        column,
        data.offset,
        trials,
        {k: np.asarray(v, dtype=object) for k, v in (factors or {}).items()},
    )


def _rows_of_frame(idata, frame: pd.DataFrame, group_dim: str) -> _Rows:
    """Read new rows given as a DataFrame: the fit's formula, or columns named as the fit's.

    A fit given a formula reads predictors as its formula did (columns or expressions such as
    ``np.log(x)``) and its ``offset()`` terms; a fit given arrays reads columns named as its
    predictors, an ``offset`` column and a ``trials`` column.
    """
    from gibbs.formula import evaluate_term, formula_offset

    attrs = idata.posterior.attrs
    formula = attrs.get("formula")
    factor_names = list(attrs.get("factors", []))
    missing = [c for c in [group_dim, *factor_names] if c not in frame.columns]
    if missing:
        raise ValueError(f"new data lack the grouping column(s) {missing} of the fit")

    def column(name: str) -> np.ndarray:
        name = str(name)
        if name == "intercept":
            return np.ones(len(frame))
        if name not in frame.columns and (formula is None or name.isidentifier()):
            raise ValueError(f"new data lack the predictor {name!r} of the fit")
        return evaluate_term(name, frame, f"predictor {name}")

    if formula is not None:
        offset = formula_offset(formula, frame)
    else:
        offset = evaluate_term("offset", frame, "offset") if "offset" in frame else None
    if offset is None and "offset" in idata.constant_data:
        raise ValueError("the fit has an offset: give the new rows theirs (an offset column)")
    trials_col = attrs.get("trials_column") or ("trials" if "trials" in frame else None)
    return _Rows(
        len(frame),
        frame[group_dim].to_numpy(dtype=object),
        column,
        offset,
        evaluate_term(trials_col, frame, "trials") if trials_col else None,
        {f: frame[f].to_numpy(dtype=object) for f in factor_names},
    )


def _levels(known: list, labels: np.ndarray, what: str, allow_new: bool):
    """Code of each label: its index among ``known``, or ``len(known) + k`` for the k-th new one.

    Labels are matched as strings: a fit's coords hold them as the data had them (numbers or
    strings), new rows may hold them either way.
    """
    index = {str(lab): k for k, lab in enumerate(known)}
    keys = [str(lab) for lab in labels]
    new = list(dict.fromkeys(k for k in keys if k not in index))
    if new and not allow_new:
        shown = ", ".join(map(str, new[:5]))
        raise ValueError(
            f"{len(new)} {what} level(s) not in the fit ({shown}); pass sample_new_groups=True "
            "to draw them from the group-level distribution"
        )
    index.update({lab: len(known) + k for k, lab in enumerate(new)})
    return np.array([index[k] for k in keys], dtype=np.int64), new


def _covariance(post, K: int) -> np.ndarray:
    """Sigma (chain, draw, K, K) from the stored standard deviations and correlations."""
    sd = _draws(post, "sigma_alpha")
    if K == 1:
        return (sd**2)[..., None, None]
    R = np.broadcast_to(np.eye(K), (*sd.shape[:-1], K, K)).copy()
    rows, cols = np.tril_indices(K, -1)
    rho = _draws(post, "rho_alpha")
    R[..., rows, cols] = rho
    R[..., cols, rows] = rho
    return sd[..., :, None] * R * sd[..., None, :]


def predict(
    idata,
    data: HierarchicalData | pd.DataFrame,
    *,
    factors: Mapping[str, Any] | None = None,
    kind: str = "response",
    sample_new_groups: bool = True,
    random_seed: int | np.random.SeedSequence | np.random.Generator | None = None,
):
    """Draw predictions for new rows from a :func:`gibbs.sample` posterior.

    Parameters
    ----------
    idata : arviz.InferenceData
        The fit, with every group's ``alpha`` stored (``store_alpha=True``, the default), or a
        complete-pooling fit of a formula without a group term (new rows as a DataFrame).
    data : DataFrame or HierarchicalData
        The new rows (the outcome may be absent). A fit given a formula reads them with its
        formula; a fit given arrays reads the columns named as its predictors (``x_coef``,
        ``u_coef``), its group dim, its factors, ``offset`` and ``trials``. Group (and factor)
        labels decide which groups are fitted ones.
    factors : mapping, optional
        With ``HierarchicalData``: the further factors' labels of the new rows.
    kind : {"response", "linear"}
        ``"response"``: draws of the outcome and of the linear predictor ``eta``; ``"linear"``:
        ``eta`` only (with the offset; the family's link scale).
    sample_new_groups : bool
        Draw groups (and factor levels) the fit has not seen from the group-level
        distribution; ``False`` refuses them, naming them.
    random_seed : int, SeedSequence or Generator, optional
        Seed of the draws of new groups and of the outcome (one stream per chain).

    Returns
    -------
    arviz.InferenceData
        ``predictions`` (``eta`` and, for ``kind="response"``, the outcome named as in the fit,
        dims chain, draw, obs_id) and ``predictions_constant_data`` (the new rows' group labels).
    """
    import arviz as az
    import xarray as xr

    from gibbs.arguments import as_seed

    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    post = idata.posterior
    if "alpha" not in post:
        return _predict_pooled(idata, data, kind, random_seed)
    family = get_family(post.attrs.get("family", "gaussian"))
    group_dim = next(d for d in post["alpha"].dims if d not in ("chain", "draw", "effect"))
    if isinstance(data, HierarchicalData):
        new = _rows_of_data(data, factors)
    elif isinstance(data, pd.DataFrame):
        new = _rows_of_frame(idata, data, group_dim)
    else:
        raise ValueError(
            f"new data must be a HierarchicalData or a DataFrame, got {type(data).__name__}"
        )
    new_factors = new.factors
    known_groups = list(post.coords[group_dim].values)
    constant = idata.constant_data
    fitted_groups = int(constant["group"].max()) + 1 if "group" in constant else len(known_groups)
    if len(known_groups) != fitted_groups:
        raise ValueError(
            "predict needs every group's alpha: refit with store_alpha=True (the default)"
        )
    labels = new.groups
    g_codes, g_new = _levels(known_groups, labels, "group", sample_new_groups)
    chains, draws = post.sizes["chain"], post.sizes["draw"]
    seed = as_seed(random_seed, chains)
    _, seqs = chain_seed_sequences(seed, chains)
    rngs = [np.random.default_rng(s) for s in seqs]

    effects = list(post.coords["effect"].values) if "effect" in post["alpha"].dims else []
    K = max(len(effects), 1)
    slopes = effects[1:]
    alpha = _draws(post, "alpha").reshape(chains, draws, -1, K)
    gamma = _draws(post, "gamma")
    J = len(known_groups)
    # first[k]: a row of the k-th new group (its group-level predictors are read there).
    first = np.array([np.flatnonzero(g_codes == J + k)[0] for k in range(len(g_new))], int)
    U = np.column_stack(
        [_per_group(new.column(u), g_codes, J, first, u) for u in post.coords["u_coef"].values]
    )

    # Factors: their fitted levels, nested or crossed as in the fit.
    factor_names = list(post.attrs.get("factors", []))
    unknown = sorted(set(new_factors) - set(factor_names))
    absent = [f for f in factor_names if f not in new_factors]
    if unknown or absent:
        raise ValueError(
            f"factors of the new rows {sorted(new_factors)} differ from the fit's {factor_names}"
        )
    eta = np.zeros((chains, draws, new.n))
    group_mean_extra = np.zeros((chains, draws, len(g_new)))
    for f in factor_names:
        eff = _draws(post, f"{f}_effect")
        levels = list(post.coords[f].values)
        codes, lev_new = _levels(
            levels, np.asarray(new_factors[f], dtype=object), f, sample_new_groups
        )
        sd = _draws(post, f"sigma_{f}")
        extra = np.stack([g.standard_normal((draws, len(lev_new))) for g in rngs]) * sd[..., None]
        full = np.concatenate([eff, extra], axis=-1)
        row_codes = codes
        fitted_codes = np.asarray(constant[f"{f}_code"].values)
        nested = _is_nested(fitted_codes, np.asarray(constant["group"].values))
        if nested:
            # A nested effect is in alpha already for fitted groups; a new group adds it to
            # its group-level mean.
            group_mean_extra = group_mean_extra + full[..., row_codes[first]]
        else:
            eta = eta + full[..., row_codes]

    fitted = g_codes < J
    a_rows = np.empty((chains, draws, new.n, K))
    a_rows[:, :, fitted] = alpha[:, :, g_codes[fitted]]
    if g_new:
        L = np.linalg.cholesky(_covariance(post, K))
        # Group-level means of the new groups: U gamma (+ nested effects) for the intercept,
        # the mean slopes for the slopes.
        mean = np.zeros((chains, draws, len(g_new), K))
        mean[..., 0] = gamma @ U.T + group_mean_extra
        if slopes:
            mean[..., 1:] = _draws(post, "gamma_slope")[:, :, None, :]
        z = np.stack([g.standard_normal((draws, len(g_new), K)) for g in rngs])
        a_new = mean + np.einsum("cdkl,cdjl->cdjk", L, z)
        a_rows[:, :, ~fitted] = a_new[:, :, g_codes[~fitted] - J]
    Z = np.ones((new.n, K))
    for k, s in enumerate(slopes, start=1):
        Z[:, k] = new.column(s)
    eta = eta + np.einsum("ik,cdik->cdi", Z, a_rows)
    if "beta" in post:
        x_coef = list(post.coords["x_coef"].values)
        X = np.column_stack([new.column(x) for x in x_coef] or [np.empty((new.n, 0))])
        eta = eta + _draws(post, "beta") @ X.T
    if new.offset is not None:
        eta = eta + new.offset
    out = {"eta": (("chain", "draw", OBS_DIM), eta)}
    if kind == "response":
        disp = list(family.dispersion)
        scale = _draws(post, disp[0])[..., None] if disp else None
        trials = new.trials if new.trials is not None else np.ones(new.n)
        y = family.simulate(rngs, eta, trials, scale)
        name = _outcome_name(idata)
        out[name] = (("chain", "draw", OBS_DIM), y)
    coords = {"chain": post.coords["chain"].values, "draw": post.coords["draw"].values}
    predictions = xr.Dataset(out, coords={**coords, OBS_DIM: np.arange(new.n)})
    constant_new = xr.Dataset(
        {group_dim: ((OBS_DIM,), labels.astype(str))}, coords={OBS_DIM: np.arange(new.n)}
    )
    return az.InferenceData(predictions=predictions, predictions_constant_data=constant_new)


def _predict_pooled(idata, frame, kind: str, random_seed):
    """Predictions of a complete-pooling fit (a formula without a group term): y = x beta + e.

    The new rows are read with the fit's formula: each predictor as a column or an expression,
    ``Intercept`` as ones, the ``offset()`` terms added.
    """
    import arviz as az
    import xarray as xr

    from gibbs.arguments import as_seed
    from gibbs.formula import evaluate_term, formula_offset

    post = idata.posterior
    formula = post.attrs.get("formula")
    if formula is None or "beta" not in post or "sigma_y" not in post:
        raise ValueError(
            "predict needs a fit of gibbs.sample: group effects (alpha), or a complete-pooling "
            "fit of a formula (beta and sigma_y)"
        )
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(
            f"a complete-pooling fit reads new rows with its formula: give a DataFrame, got "
            f"{type(frame).__name__}"
        )
    n = len(frame)

    def column(name: str) -> np.ndarray:
        if name == "Intercept":
            return np.ones(n)
        if name not in frame.columns and name.isidentifier():
            raise ValueError(f"new data lack the predictor {name!r} of the fit")
        return evaluate_term(name, frame, f"predictor {name}")

    X = np.column_stack([column(str(x)) for x in post.coords["x_coef"].values])
    eta = _draws(post, "beta") @ X.T
    offset = formula_offset(formula, frame)
    if offset is not None:
        eta = eta + offset
    out = {"eta": (("chain", "draw", OBS_DIM), eta)}
    if kind == "response":
        chains = post.sizes["chain"]
        _, seqs = chain_seed_sequences(as_seed(random_seed, chains), chains)
        rngs = [np.random.default_rng(s) for s in seqs]
        sigma = _draws(post, "sigma_y")[..., None]
        y = get_family("gaussian").simulate(rngs, eta, np.ones(n), sigma)
        out[_outcome_name(idata)] = (("chain", "draw", OBS_DIM), y)
    coords = {"chain": post.coords["chain"].values, "draw": post.coords["draw"].values}
    predictions = xr.Dataset(out, coords={**coords, OBS_DIM: np.arange(n)})
    return az.InferenceData(predictions=predictions)


def _per_group(values: np.ndarray, codes: np.ndarray, J: int, first: np.ndarray, name: str):
    """Return a group-level predictor per new group; raise if it varies within one."""
    out = values[first]
    new_rows = codes >= J
    if not np.allclose(values[new_rows], out[codes[new_rows] - J]):
        raise ValueError(f"group-level predictor {name!r} varies within a new group")
    return out


def _is_nested(codes: np.ndarray, group: np.ndarray) -> bool:
    """Whether a factor is constant within every fitted group."""
    frame = pd.DataFrame({"g": group, "f": codes})
    return bool((frame.groupby("g")["f"].nunique() <= 1).all())


def _outcome_name(idata) -> str:
    """Return the outcome's name in the fit (its column's; ``y`` for arrays)."""
    if "observed_data" in idata.groups():
        names = list(idata.observed_data.data_vars)
        if len(names) == 1:
            return names[0]
    return "y"
