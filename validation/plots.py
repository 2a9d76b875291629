"""Figures of the harness: forest, rank and shrinkage plots, each titled, labelled and captioned."""

from __future__ import annotations

from typing import Any

import numpy as np

from gibbs.data import HierarchicalData

__all__ = ["forest_plot", "rank_plot", "shrinkage_plot", "worst_traces", "z_qq_plot"]


def _figure(width: float = 7.0, height: float = 4.5):
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(width, height))


def forest_plot(idatas: dict[str, Any], var_names: list[str]) -> tuple[Any, str]:
    """94% intervals of several samplers side by side; returns (figure, caption)."""
    import arviz as az

    fig, ax = _figure(
        7.0,
        1.2
        + 0.45
        * sum(int(np.prod(next(iter(idatas.values())).posterior[v].shape[2:])) for v in var_names)
        * len(idatas)
        / 2,
    )
    az.plot_forest(
        list(idatas.values()),
        model_names=list(idatas),
        var_names=var_names,
        combined=True,
        hdi_prob=0.94,
        ax=ax,
    )
    ax.set_title("Posterior intervals (94% HDI) of each sampler, side by side")
    ax.set_xlabel("parameter value")
    return fig, "Overlapping intervals and points mean the samplers see the same posterior."


def rank_plot(idata: Any, var_name: str, label: str) -> tuple[Any, str]:
    """Rank histograms per chain for one scalar variable; returns (figure, caption)."""
    import arviz as az

    fig, ax = _figure(6.0, 3.5)
    az.plot_rank(idata, var_names=[var_name], ax=ax)
    ax.set_title(f"Rank plot of {var_name} ({label})")
    ax.set_xlabel("rank of draw among all chains")
    ax.set_ylabel("chain")
    return fig, "Flat, similar bars in every chain mean the chains mix over the same distribution."


def shrinkage_plot(
    data: HierarchicalData, multilevel: Any, no_pooling_estimates: Any
) -> tuple[Any, str]:
    """No-pooling versus multilevel group intercepts against group size (Gelman & Hill fig. 12.1).

    Parameters
    ----------
    data : HierarchicalData
    multilevel : InferenceData
        Posterior with ``alpha``.
    no_pooling_estimates : Series
        No-pooling intercepts indexed by group label.
    """
    fig, ax = _figure(7.0, 4.5)
    n_j = data.stats.n_j
    alpha = multilevel.posterior["alpha"].mean(("chain", "draw")).to_series()
    labels = list(no_pooling_estimates.index)
    idx = [data.group_names.index(g) for g in labels]
    jitter = np.exp(np.random.default_rng(0).uniform(-0.08, 0.08, len(idx)))
    x = n_j[idx] * jitter
    ax.scatter(x, no_pooling_estimates.to_numpy(), s=14, color="tab:orange", label="no pooling")
    ax.scatter(x, alpha.loc[labels].to_numpy(), s=14, color="tab:blue", label="multilevel (Gibbs)")
    for xi, a, b in zip(
        x, no_pooling_estimates.to_numpy(), alpha.loc[labels].to_numpy(), strict=True
    ):
        ax.plot([xi, xi], [a, b], color="0.7", lw=0.6, zorder=0)
    ax.set_xscale("log")
    ax.set_xlabel(f"rows in the {data.group_dim} (log scale)")
    ax.set_ylabel(f"{data.group_dim} intercept")
    ax.set_title(f"Shrinkage: {data.group_dim} intercepts, no pooling vs multilevel")
    ax.legend(frameon=False)
    return fig, (
        "Small groups are pulled strongly towards the group-level regression; "
        "large ones barely move."
    )


def sbc_plots(result, max_quantities: int = 12) -> list[tuple[Any, str]]:
    """Rank histograms and ECDF-difference plots with simultaneous 99% bands."""
    from validation.sbc import ecdf_null

    ranks = result.ranks
    names = list(ranks.columns)[:max_quantities]
    L, R = result.n_ranks, len(ranks)
    cols = 4
    rows = int(np.ceil(len(names) / cols))
    fig_h, axes_h = _figure(3.0 * cols, 2.2 * rows)
    fig_h.clf()
    axes = fig_h.subplots(rows, cols, squeeze=False)
    bins = max(2, min(20, R // 10))
    for ax, name in zip(axes.flat, names, strict=False):
        ax.hist(ranks[name], bins=bins, range=(0, L + 1), color="tab:blue", alpha=0.8)
        expected = R / bins
        lo, hi = stats_binom_interval(R, 1 / bins)
        ax.axhspan(lo, hi, color="0.85", zorder=0)
        ax.axhline(expected, color="0.4", lw=0.8)
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("rank")
        ax.set_ylabel("count")
    for ax in list(axes.flat)[len(names) :]:
        ax.axis("off")
    fig_h.suptitle("SBC rank histograms (grey: 99% range of a bin count under uniformity)")
    fig_h.tight_layout()

    fig_e, axes_h2 = _figure(3.0 * cols, 2.2 * rows)
    fig_e.clf()
    axes = fig_e.subplots(rows, cols, squeeze=False)
    z = np.linspace(0, 1, 101)
    # Simultaneous band: the adjusted pointwise level is the 1% quantile of the null statistic.
    gamma = float(np.quantile(ecdf_null(R, 20_000, 100, 0), 0.01))
    from scipy import stats as sps

    lower = sps.binom.ppf(gamma / 2, R, z) / R - z
    upper = sps.binom.ppf(1 - gamma / 2, R, z) / R - z
    for ax, name in zip(axes.flat, names, strict=False):
        u = (ranks[name].to_numpy() + 0.5) / (L + 1)
        ecdf = np.searchsorted(np.sort(u), z, side="right") / R
        ax.fill_between(z, lower, upper, color="0.85")
        ax.plot(z, ecdf - z, color="tab:blue")
        ax.axhline(0, color="0.4", lw=0.8)
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("fractional rank")
        ax.set_ylabel("ECDF - uniform")
    for ax in list(axes.flat)[len(names) :]:
        ax.axis("off")
    fig_e.suptitle("SBC ECDF differences (grey: simultaneous 99% band)")
    fig_e.tight_layout()
    return [
        (fig_h, "Bars inside the grey range everywhere: ranks consistent with uniform."),
        (fig_e, "A curve leaving the grey band: the sampler is miscalibrated for that quantity."),
    ]


def stats_binom_interval(n: int, p: float) -> tuple[float, float]:
    """Central 99% range of a Binomial(n, p) count."""
    from scipy import stats as sps

    return float(sps.binom.ppf(0.005, n, p)), float(sps.binom.ppf(0.995, n, p))


def z_qq_plot(table) -> tuple[Any, str]:
    """Every z-score of a comparison against the standard normal's quantiles.

    Two samplers of one posterior give points on the diagonal; a bug bends the tail away from
    it. The grey band is the pointwise 99% range of the order statistics under agreement.
    """
    from scipy import stats as sps

    z = np.sort(
        np.concatenate([table[c].to_numpy(float) for c in table.columns if c.startswith("z_")])
    )
    z = z[np.isfinite(z)]
    m = z.size
    p = (np.arange(1, m + 1) - 0.5) / m
    q = sps.norm.ppf(p)
    # Order statistic k of m uniforms is Beta(k, m + 1 - k): its 99% range, mapped to z.
    k = np.arange(1, m + 1)
    lo = sps.norm.ppf(sps.beta.ppf(0.005, k, m + 1 - k))
    hi = sps.norm.ppf(sps.beta.ppf(0.995, k, m + 1 - k))
    fig, ax = _figure(5.0, 5.0)
    ax.fill_between(q, lo, hi, color="0.85", label="99% range under agreement")
    ax.plot(q, z, ".", ms=3, color="tab:blue", label=f"{m} z-scores")
    ax.axline((0, 0), slope=1, color="0.4", lw=0.8)
    ax.set_xlabel("standard normal quantile")
    ax.set_ylabel("z-score (Monte Carlo standard errors)")
    ax.set_title("z-scores of every compared quantity")
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    caption = (
        "QQ plot of the z-scores of all means, sds and quantiles against the normal: near the "
        "diagonal when the two posteriors agree. The z-scores of parameters that share a "
        "coefficient (every alpha moves with gamma) are correlated, so the whole curve can sit "
        "a little off the diagonal; the band, for independent z-scores, is a guide, not the test "
        "(the verdict is Holm's)."
    )
    return fig, caption


def worst_traces(idata: Any, scalars: list[str], label: str = "Gibbs") -> tuple[Any, str]:
    """Trace and rank plots, chain by chain, of the named scalars (``alpha[KOOCHICHING]``)."""
    post = idata.posterior
    rows = len(scalars)
    fig, _ = _figure(9.0, 1.9 * rows + 0.6)
    fig.clf()
    axes = fig.subplots(rows, 2, squeeze=False)
    for (ax_t, ax_r), name in zip(axes, scalars, strict=True):
        var, _, coord = name.partition("[")
        da = post[var]
        if coord:
            # Labels as flatten_scalars writes them ("a, b"), matched as strings by position.
            labels = [s.strip() for s in coord[:-1].split(", ")]
            dims = [d for d in da.dims if d not in ("chain", "draw")]
            where = {
                d: [str(v) for v in da.coords[d].values].index(lab)
                for d, lab in zip(dims, labels, strict=True)
            }
            da = da.isel(where)
        x = np.asarray(da.transpose("chain", "draw").values, float)
        ranks = x.ravel().argsort().argsort().reshape(x.shape)
        edges = np.linspace(0, x.size, 21)
        for c in range(x.shape[0]):
            ax_t.plot(x[c], lw=0.4, alpha=0.8)
            # Outlines without the drops to 0 at both ends that a step histogram draws.
            ax_r.stairs(np.histogram(ranks[c], bins=edges)[0], edges, baseline=None)
        ax_t.set_title(f"{label}: {name}", fontsize=9)
        ax_t.set_xlabel("draw")
        ax_r.set_title("ranks by chain (flat when chains agree)", fontsize=9)
    fig.tight_layout()
    return fig, f"{label}: traces and rank histograms of the parameters with the largest |z|."
