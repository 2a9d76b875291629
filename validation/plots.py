"""Figures of the harness: forest, rank and shrinkage plots, each titled, labelled and captioned."""

from __future__ import annotations

from typing import Any

import numpy as np

from gibbs.data import HierarchicalData

__all__ = ["forest_plot", "rank_plot", "shrinkage_plot"]


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
