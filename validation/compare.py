"""Posterior agreement of two samplers of the same model, scalar by scalar.

For every scalar element of every compared variable (each ``alpha_j`` separately) the comparison
reports both samplers' mean, sd and 5%/95% quantiles, the differences in Monte Carlo standard
errors::

    z = (stat_a - stat_b) / sqrt(mcse_a^2 + mcse_b^2)       stat in {mean, sd, q05, q95}

each sampler's own rank-normalized split R-hat and bulk/tail ESS, and the R-hat of the pooled chains
of both samplers (near 1 when they sample the same target). ESS and R-hat come from ArviZ.

Each MCSE is the largest of ArviZ's, the between-split-chain one (:func:`honest_mcse`) and batch
means of the statistic's influence function, and it carries the batch means' degrees of freedom
(:mod:`validation.batch_mcse`): an estimated MCSE is itself noisy, so a z-score follows Student's
t, with the Welch-Satterthwaite degrees of freedom of the two squared MCSEs,
rather than the normal. Decision rule: each z gives a two-sided p-value from that t; Holm's
step-down procedure over *all* compared quantities controls the family-wise error rate at
``level`` (default 0.01), so the overall verdict of a correct pair of samplers is "disagree" with
probability at most ``level`` (up to the t approximation, measured in docs/harness.md). A
sampler that fails its own diagnostics (R-hat above ``max_rhat``, ESS below ``min_ess``), too
few draws, or variables that do not line up give "inconclusive" with the reason, never a pass.

The reference may also be a stored summary instead of draws (a golden file,
:class:`validation.golden.Golden`): the same z-scores and Holm procedure then use its recorded
statistics and MCSEs, and the pooled-chain R-hat is not available.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from scipy import stats

__all__ = [
    "Comparison",
    "compare_posteriors",
    "decide",
    "between_chain_mcse",
    "split_chains",
    "flatten_scalars",
    "holm_reject",
    "honest_mcse",
    "satterthwaite",
    "summarize",
    "without_numba",
]

AGREE, DISAGREE, INCONCLUSIVE = "agree", "disagree", "inconclusive"
_STATS = ("mean", "sd", "q05", "q95")


def holm_reject(p_values: np.ndarray, level: float) -> np.ndarray:
    """Holm's step-down rejections at family-wise level ``level`` (any dependence)."""
    p = np.asarray(p_values, dtype=float)
    order = np.argsort(p)
    m = p.size
    thresholds = level / (m - np.arange(m))
    below = p[order] <= thresholds
    # Reject the smallest p-values up to the first that fails its threshold.
    n_reject = m if below.all() else int(np.argmin(below))
    reject = np.zeros(m, dtype=bool)
    reject[order[:n_reject]] = True
    return reject


def flatten_scalars(ds: xr.Dataset) -> pd.Series:
    """One entry per scalar element, labelled ``var[coord, ...]`` as ArviZ does."""
    out = {}
    for name, da in ds.data_vars.items():
        if da.ndim == 0:
            out[name] = float(da)
            continue
        stacked = da.stack(__elem=list(da.dims))
        for idx, value in zip(stacked["__elem"].values, stacked.values, strict=True):
            idx = idx if isinstance(idx, tuple) else (idx,)
            out[f"{name}[{', '.join(str(i) for i in idx)}]"] = float(value)
    return pd.Series(out)


@contextmanager
def without_numba():
    """Run ArviZ's numpy code paths: its numba path of ``mcse(method="sd")`` fails on numpy 2.4."""
    import arviz as az

    previous = az.Numba.numba_flag
    az.Numba.numba_flag = False
    try:
        yield
    finally:
        az.Numba.numba_flag = previous


def summarize(posterior: Any) -> pd.DataFrame:
    """Per-scalar mean, sd, 5%/95% quantiles, their MCSEs, bulk/tail ESS and R-hat (ArviZ).

    Accepts an InferenceData or a posterior Dataset shaped (chain, draw, ...).
    """
    return _summaries(_posterior(posterior))


def _summaries(posterior: xr.Dataset) -> pd.DataFrame:
    import arviz as az

    from validation.batch_mcse import batch_mcse

    with without_numba():
        summary = _summaries_numpy(posterior, az)
    # Each MCSE is the largest of ArviZ's, the between-split-chain one and the batch-means one,
    # with the batch means' degrees of freedom (validation.batch_mcse). Batch means alone were
    # calibrated on AR(1) chains but gave 4 false alarms in 100 fresh pairs on eight groups, all
    # on sds (docs/harness.md): the maximum keeps every z at or below the previous rule's, and
    # the t makes every p-value at or above the normal's, so no correct pair can disagree that
    # did not before.
    ess = summary[["ess_bulk", "ess_tail"]].min(axis=1)
    batched = batch_mcse(posterior, ess).loc[summary.index]
    out = honest_mcse(summary, posterior)
    for col in batched.columns:
        out[col] = np.maximum(out[col], batched[col]) if col.startswith("mcse_") else batched[col]
    return out


# Fewest chains for the between-chain MCSE to be a usable check on ArviZ's.
_MIN_CHAINS_BETWEEN = 4


def split_chains(posterior: xr.Dataset) -> xr.Dataset:
    """Each chain cut into its two halves, as split R-hat does: twice the chains, half as long."""
    half = posterior.sizes["draw"] // 2
    first = posterior.isel(draw=slice(0, half))
    second = posterior.isel(draw=slice(half, 2 * half)).assign_coords(draw=first["draw"])
    out = xr.concat([first, second], dim="chain")
    return out.assign_coords(chain=np.arange(out.sizes["chain"]))


def between_chain_mcse(posterior: xr.Dataset, split: bool = False) -> pd.DataFrame:
    """MCSE of mean, sd and 5%/95% quantiles from the spread of the per-chain statistics.

    With C independent chains, each statistic's per-chain values scatter around the pooled one
    with standard deviation about sqrt(C) times its MCSE, whatever the shape of the posterior.
    ``split`` uses the chains' halves (:func:`split_chains`): twice as many batches, so the
    spread itself is estimated better, at the cost of assuming each half is long against the
    chain's autocorrelation.
    """
    if split:
        posterior = split_chains(posterior)
    chains = posterior.sizes["chain"]
    per_chain = {
        "mcse_mean": posterior.mean("draw"),
        "mcse_sd": posterior.std("draw", ddof=1),
        "mcse_q05": posterior.quantile(0.05, dim="draw").drop_vars("quantile"),
        "mcse_q95": posterior.quantile(0.95, dim="draw").drop_vars("quantile"),
    }
    return pd.DataFrame(
        {k: flatten_scalars(v.std("chain", ddof=1) / np.sqrt(chains)) for k, v in per_chain.items()}
    )


def honest_mcse(summary: pd.DataFrame, posterior: xr.Dataset) -> pd.DataFrame:
    """Each MCSE as the larger of ArviZ's estimate and the between-chain one (4+ chains).

    ArviZ's MCSE of the sd and of the tail quantiles comes from a normal-theory formula that
    understates the error of heavy-tailed marginals (sigma_alpha, a separated group's
    intercept): over fresh pairs of runs on radon M2 the sd and quantile z-scores had heavy
    tails. The between-chain spread of the per-chain statistics makes no assumption on the shape;
    taking the larger estimate costs a little power and never adds a false alarm.
    """
    if posterior.sizes["chain"] < _MIN_CHAINS_BETWEEN:
        return summary
    # Split halves: with 4 chains, 3 degrees of freedom let the check miss too often (over 47
    # fresh pairs on an 8-group design, 4 false alarms with whole chains, 2 with halves).
    between = between_chain_mcse(posterior, split=True).loc[summary.index]
    out = summary.copy()
    for col in between.columns:
        out[col] = np.maximum(summary[col], between[col])
    return out


def _summaries_numpy(posterior: xr.Dataset, az: Any) -> pd.DataFrame:
    sample_dims = ("chain", "draw")
    columns = {
        "mean": posterior.mean(sample_dims),
        "sd": posterior.std(sample_dims, ddof=1),
        "q05": posterior.quantile(0.05, dim=sample_dims).drop_vars("quantile"),
        "q95": posterior.quantile(0.95, dim=sample_dims).drop_vars("quantile"),
        "mcse_mean": az.mcse(posterior, method="mean"),
        "mcse_sd": az.mcse(posterior, method="sd"),
        "mcse_q05": az.mcse(posterior, method="quantile", prob=0.05),
        "mcse_q95": az.mcse(posterior, method="quantile", prob=0.95),
        "ess_bulk": az.ess(posterior, method="bulk"),
        "ess_tail": az.ess(posterior, method="tail"),
        "r_hat": az.rhat(posterior),
    }
    return pd.DataFrame({k: flatten_scalars(v) for k, v in columns.items()})


def _copied_chains(posterior: xr.Dataset, label: str) -> list[str]:
    """Reasons when two chains are bit-identical: their MCSEs would count one chain twice."""
    import hashlib

    seen: dict[str, int] = {}
    for c in range(posterior.sizes["chain"]):
        digest = hashlib.sha1()
        for name in posterior.data_vars:
            digest.update(np.ascontiguousarray(posterior[name].isel(chain=c).values).tobytes())
        key = digest.hexdigest()
        if key in seen:
            return [
                f"{label}: chains {seen[key]} and {c} are identical (a shared random stream?): "
                "its Monte Carlo errors would be understated"
            ]
        seen[key] = c
    return []


def _posterior(idata: Any) -> xr.Dataset:
    return idata.posterior if hasattr(idata, "posterior") else idata


@dataclass
class Comparison:
    """Result of :func:`compare_posteriors`.

    Attributes
    ----------
    verdict : {"agree", "disagree", "inconclusive"}
        Overall verdict.
    reasons : list of str
        Why the verdict is not "agree".
    table : DataFrame
        One row per scalar parameter: both samplers' statistics, z-scores, Holm rejections,
        diagnostics and a per-parameter verdict.
    level : float
        Family-wise error level of the Holm procedure.
    labels : tuple of str
        Names of the two samplers.
    """

    verdict: str
    reasons: list[str]
    table: pd.DataFrame
    level: float
    labels: tuple[str, str] = ("a", "b")
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def agrees(self) -> bool:
        """Whether the overall verdict is "agree"."""
        return self.verdict == AGREE

    def failing(self) -> pd.DataFrame:
        """Rows whose verdict is not "agree"."""
        return self.table[self.table["verdict"] != AGREE]

    def max_abs_z(self) -> float:
        """Largest |z| over all compared quantities."""
        cols = [f"z_{s}" for s in _STATS]
        z = np.abs(self.table[cols].to_numpy()) if len(self.table) else np.zeros(0)
        z = z[np.isfinite(z)]
        return float(z.max()) if z.size else float("nan")

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form of the result."""
        return {
            "verdict": self.verdict,
            "reasons": self.reasons,
            "level": self.level,
            "labels": list(self.labels),
            "settings": self.settings,
            "max_abs_z": self.max_abs_z(),
            "parameters": self.table.reset_index(names="parameter").to_dict(orient="records"),
        }

    def __str__(self) -> str:
        a, b = self.labels
        lines = [
            f"verdict: {self.verdict.upper()} ({len(self.table)} parameters, family-wise level "
            f"{self.level:g}, Holm over {4 * len(self.table)} quantities; max |z| = "
            f"{self.max_abs_z():.2f})"
        ]
        lines += [f"  - {r}" for r in self.reasons]
        return "\n".join(lines)

    def summary_table(self, max_rows: int | None = 20) -> pd.DataFrame:
        """Compact table for printing: the worst rows first."""
        a, b = self.labels
        t = self.table
        worst = t[[f"z_{s}" for s in _STATS]].abs().max(axis=1)
        view = pd.DataFrame(
            {
                f"mean_{a}": t[f"mean_{a}"],
                f"mean_{b}": t[f"mean_{b}"],
                f"sd_{a}": t[f"sd_{a}"],
                f"sd_{b}": t[f"sd_{b}"],
                "z_mean": t["z_mean"],
                "z_sd": t["z_sd"],
                "max|z|": worst,
                "rhat_cross": t["rhat_cross"],
                f"ess_{a}": t[f"ess_bulk_{a}"],
                f"ess_{b}": t[f"ess_bulk_{b}"],
                "verdict": t["verdict"],
            }
        ).loc[worst.sort_values(ascending=False).index]
        return view if max_rows is None else view.head(max_rows)


def compare_posteriors(
    a: Any,
    b: Any,
    var_names: list[str] | None = None,
    *,
    level: float = 0.01,
    max_rhat: float = 1.01,
    min_ess: float = 400.0,
    min_draws: int = 100,
    labels: tuple[str, str] = ("a", "b"),
    summaries: tuple[pd.DataFrame | None, pd.DataFrame | None] = (None, None),
) -> Comparison:
    """Compare the posteriors of two samplers of the same model.

    Parameters
    ----------
    a : InferenceData or Dataset
        Posterior draws shaped (chain, draw, ...).
    b : InferenceData, Dataset or Golden
        Draws as ``a``, or a stored reference summary (anything with ``var_names`` and
        ``summary_for(var_names)``, such as :class:`validation.golden.Golden`), whose own
        diagnostics were checked when it was stored.
    var_names : list of str, optional
        Variables to compare; defaults to all of ``a``'s (a golden's: all of its variables),
        which ``b`` must also have. Variables of ``b`` alone are left out of the default: a
        reference's auxiliary variables (a non-centered twin's ``alpha_z``, per-row effects)
        have no counterpart in the sampler under test.
    level : float
        Family-wise error level of the Holm procedure over all compared quantities.
    max_rhat : float
        Largest own R-hat for a sampler to count as converged (posteriordb's 1.01).
    min_ess : float
        Smallest own bulk and tail ESS per scalar for the MCSEs to be trusted.
    min_draws : int
        Fewest draws per chain.
    labels : (str, str)
        Names of the two samplers, used in the table's columns.
    summaries : (DataFrame or None, DataFrame or None)
        :func:`summarize` of ``a`` and of ``b`` over ``var_names``, when the caller has them
        already (they are the costly part on long runs); ``None`` computes them.

    Returns
    -------
    Comparison
    """
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be strictly between 0 and 1, got {level}")
    if hasattr(b, "summary_for"):
        return _compare_with_summary(
            a,
            b,
            var_names,
            level=level,
            max_rhat=max_rhat,
            min_ess=min_ess,
            min_draws=min_draws,
            labels=labels,
            summary=summaries[0],
        )
    la, lb = labels
    post_a, post_b = _posterior(a), _posterior(b)
    reasons: list[str] = []
    names = list(var_names) if var_names is not None else list(post_a.data_vars)
    missing = [
        f"{v} missing from {lbl}"
        for v in names
        for lbl, post in ((la, post_a), (lb, post_b))
        if v not in post.data_vars
    ]
    shapes = [
        f"{v} has shape {post_a[v].shape[2:]} in {la} but {post_b[v].shape[2:]} in {lb}"
        for v in names
        if v in post_a.data_vars
        and v in post_b.data_vars
        and post_a[v].shape[2:] != post_b[v].shape[2:]
    ]
    if missing or shapes:
        return Comparison(INCONCLUSIVE, missing + shapes, pd.DataFrame(), level, labels)
    post_a, post_b = post_a[names], post_b[names]
    for lbl, post in ((la, post_a), (lb, post_b)):
        if post.sizes["draw"] < min_draws:
            reasons.append(f"{lbl} has {post.sizes['draw']} draws per chain (< {min_draws})")
    if reasons:
        return Comparison(INCONCLUSIVE, reasons, pd.DataFrame(), level, labels)

    copies = _copied_chains(post_a, la) + _copied_chains(post_b, lb)
    if copies:
        return Comparison(INCONCLUSIVE, copies, pd.DataFrame(), level, labels)
    sa, sb = (
        _summaries(post) if given is None else given
        for given, post in zip(summaries, (post_a, post_b), strict=True)
    )
    if not sa.index.equals(sb.index):
        return Comparison(
            INCONCLUSIVE,
            ["coordinates of the two posteriors differ"],
            pd.DataFrame(),
            level,
            labels,
        )
    # R-hat of the pooled chains: equal numbers of draws, chains renumbered.
    n_draws = min(post_a.sizes["draw"], post_b.sizes["draw"])
    pooled = xr.concat(
        [
            post_a.isel(draw=slice(0, n_draws)).assign_coords(draw=np.arange(n_draws)),
            post_b.isel(draw=slice(0, n_draws)).assign_coords(draw=np.arange(n_draws)),
        ],
        dim="chain",
    ).assign_coords(chain=np.arange(post_a.sizes["chain"] + post_b.sizes["chain"]))
    import arviz as az

    with without_numba():
        rhat_cross = flatten_scalars(az.rhat(pooled))
    return decide(
        sa,
        sb,
        labels=labels,
        level=level,
        max_rhat=max_rhat,
        min_ess=min_ess,
        rhat_cross=rhat_cross,
        settings={"max_rhat": max_rhat, "min_ess": min_ess, "min_draws": min_draws},
    )


def _compare_with_summary(
    a: Any,
    reference: Any,
    var_names: list[str] | None,
    *,
    level: float,
    max_rhat: float,
    min_ess: float,
    min_draws: int,
    labels: tuple[str, str],
    summary: pd.DataFrame | None = None,
) -> Comparison:
    """:func:`compare_posteriors` against a stored summary (a golden) instead of draws."""
    la, lb = labels
    post = _posterior(a)
    names = list(var_names) if var_names is not None else list(reference.var_names)
    missing = [f"{v} missing from {la}" for v in names if v not in post.data_vars]
    missing += [f"{v} missing from {lb}" for v in names if v not in reference.var_names]
    if missing:
        return Comparison(INCONCLUSIVE, missing, pd.DataFrame(), level, labels)
    if post.sizes["draw"] < min_draws:
        reason = f"{la} has {post.sizes['draw']} draws per chain (< {min_draws})"
        return Comparison(INCONCLUSIVE, [reason], pd.DataFrame(), level, labels)
    copies = _copied_chains(post[names], la)
    if copies:
        return Comparison(INCONCLUSIVE, copies, pd.DataFrame(), level, labels)
    sa = _summaries(post[names]) if summary is None else summary
    sb = reference.summary_for(names)
    if set(sa.index) != set(sb.index):
        return Comparison(
            INCONCLUSIVE,
            [f"coordinates of the posterior and of the {lb} reference differ"],
            pd.DataFrame(),
            level,
            labels,
        )
    return decide(
        sa,
        sb.loc[sa.index].reindex(columns=sa.columns),
        labels=labels,
        level=level,
        max_rhat=max_rhat,
        min_ess=min_ess,
        settings={"max_rhat": max_rhat, "min_ess": min_ess, "min_draws": min_draws},
        check_diagnostics=(True, False),
    )


def _nu(summary: pd.DataFrame, stat: str) -> pd.Series:
    """Degrees of freedom of a summary's MCSEs; infinite where not recorded (an older golden)."""
    col = f"nu_{stat}"
    if col not in summary:
        return pd.Series(np.inf, index=summary.index)
    return summary[col].fillna(np.inf)


def satterthwaite(va: Any, nu_a: Any, vb: Any, nu_b: Any) -> Any:
    """Welch-Satterthwaite degrees of freedom of ``va + vb`` (each a squared MCSE with its df)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return (va + vb) ** 2 / (va**2 / nu_a + vb**2 / nu_b)


def decide(
    sa: pd.DataFrame,
    sb: pd.DataFrame,
    *,
    labels: tuple[str, str],
    level: float,
    max_rhat: float,
    min_ess: float,
    rhat_cross: pd.Series | None = None,
    settings: dict[str, Any] | None = None,
    check_diagnostics: tuple[bool, bool] = (True, True),
) -> Comparison:
    """Turn two summary tables (as from :func:`summarize`) into z-scores, Holm tests and verdicts.

    ``check_diagnostics`` says whose own R-hat and ESS can make the verdict inconclusive.
    """
    la, lb = labels
    reasons: list[str] = []
    table = pd.concat([sa.add_suffix(f"_{la}"), sb.add_suffix(f"_{lb}")], axis=1)
    for s in _STATS:
        va, vb = sa[f"mcse_{s}"] ** 2, sb[f"mcse_{s}"] ** 2
        table[f"z_{s}"] = (sa[s] - sb[s]) / np.sqrt(va + vb)
        table[f"nu_{s}"] = satterthwaite(va, _nu(sa, s), vb, _nu(sb, s))
        table[f"p_{s}"] = 2.0 * stats.t.sf(np.abs(table[f"z_{s}"]), table[f"nu_{s}"])
    table["rhat_cross"] = rhat_cross if rhat_cross is not None else np.nan

    p_cols = [f"p_{s}" for s in _STATS]
    p_all = table[p_cols].to_numpy().ravel()
    finite = np.isfinite(p_all)
    rejected = np.zeros(p_all.size, dtype=bool)
    rejected[finite] = holm_reject(p_all[finite], level)
    rejected = rejected.reshape(len(table), len(_STATS))
    for k, s in enumerate(_STATS):
        table[f"reject_{s}"] = rejected[:, k]

    diag_fail = np.zeros(len(table), dtype=bool)
    for lbl, check in zip(labels, check_diagnostics, strict=True):
        if not check:
            continue
        bad_rhat = table[f"r_hat_{lbl}"] > max_rhat
        bad_ess = (table[f"ess_bulk_{lbl}"] < min_ess) | (table[f"ess_tail_{lbl}"] < min_ess)
        diag_fail |= (bad_rhat | bad_ess).to_numpy()
        if bad_rhat.any():
            reasons.append(
                f"{lbl}: R-hat > {max_rhat} for {int(bad_rhat.sum())} parameter(s) "
                f"(worst {table[f'r_hat_{lbl}'].idxmax()}: {table[f'r_hat_{lbl}'].max():.3f})"
            )
        if bad_ess.any():
            ess_min = table[[f"ess_bulk_{lbl}", f"ess_tail_{lbl}"]].min(axis=1)
            reasons.append(
                f"{lbl}: ESS < {min_ess:g} for {int(bad_ess.sum())} parameter(s) "
                f"(worst {ess_min.idxmin()}: {ess_min.min():.0f})"
            )
    nan_z = ~np.isfinite(table[[f"z_{s}" for s in _STATS]].to_numpy()).all(axis=1)
    if nan_z.any():
        reasons.append(f"{int(nan_z.sum())} parameter(s) have undefined z-scores (zero MCSE)")
    any_reject = rejected.any(axis=1)
    table["verdict"] = np.where(
        diag_fail | nan_z, INCONCLUSIVE, np.where(any_reject, DISAGREE, AGREE)
    )
    if any_reject.any():
        worst = table.loc[any_reject, [f"z_{s}" for s in _STATS]].abs().max(axis=1)
        reasons.insert(
            0,
            f"{int(any_reject.sum())} parameter(s) differ beyond the family-wise level "
            f"(worst {worst.idxmax()}: |z| = {worst.max():.1f})",
        )
    if (diag_fail | nan_z).any():
        verdict = INCONCLUSIVE
    elif any_reject.any():
        verdict = DISAGREE
    else:
        verdict = AGREE
    return Comparison(verdict, reasons, table, level, labels, settings or {})
