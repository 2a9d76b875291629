"""Does the multilevel model out-predict complete and no pooling? PSIS-LOO and held-out checks.

Three Bayesian fits of the same data: complete pooling and no pooling (flat priors; drawn exactly
by Gibbs, :mod:`gibbs.regression`, or by NUTS on the PyMC models on request) and the multilevel
model (Gibbs, Gelman & Hill's priors). They are scored by

- PSIS-LOO (``arviz.loo`` / ``arviz.compare``) on all rows;
- held-out log predictive density and RMSE in two splits that matter for small groups:
  ``small-groups`` (one house held out from each county with 2 to 5 houses) and
  ``whole-groups`` (every house of a random fifth of the counties held out). No pooling cannot
  predict a county it never saw: those rows are counted as unpredictable, not scored.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import logsumexp

from gibbs.data import HierarchicalData

__all__ = ["heldout_table", "loo_table", "split"]


def split(
    data: HierarchicalData, scenario: str, seed: int = 0
) -> tuple[HierarchicalData, np.ndarray]:
    """Return the training data (all groups kept, some maybe empty) and the held-out row mask."""
    rng = np.random.default_rng(seed)
    n_j = data.stats.n_j
    test = np.zeros(data.n, dtype=bool)
    if scenario == "small-groups":
        for j in np.flatnonzero((n_j >= 2) & (n_j <= 5)):
            rows = np.flatnonzero(data.group == j)
            test[rng.choice(rows)] = True
    elif scenario == "whole-groups":
        observed = np.flatnonzero(n_j > 0)
        held = rng.choice(observed, size=max(1, observed.size // 5), replace=False)
        test = np.isin(data.group, held)
    else:
        raise ValueError(f"unknown scenario {scenario!r}")
    train = data.replace(rows=~test)
    return train, test


def _fits(
    train: HierarchicalData, sampler: str, seed: int, multilevel: Any = None
) -> dict[str, Any]:
    """Fit the three models; ``sampler`` draws the pooling baselines ("gibbs", "nutpie", "pymc").

    "gibbs" (the default) draws their posteriors exactly (:mod:`gibbs.regression`): the same
    models as the PyMC ones that "nutpie" and "pymc" sample, without NUTS's compilation.
    """
    import gibbs
    from reference_models.pooling import (
        complete_pooling_model,
        complete_pooling_posterior,
        no_pooling_model,
        no_pooling_posterior,
    )

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if sampler == "gibbs":
            pooled = {
                "complete pooling": complete_pooling_posterior(train, seed=seed),
                "no pooling": no_pooling_posterior(train, seed=seed),
            }
        else:
            from reference_models.fit import sample_model

            pooled = {
                "complete pooling": sample_model(
                    complete_pooling_model(train), sampler, seed=seed, observed=train.y
                ),
                "no pooling": sample_model(
                    no_pooling_model(train), sampler, seed=seed, observed=train.y
                ),
            }
        return {
            **pooled,
            "multilevel": multilevel
            if multilevel is not None
            else gibbs.sample(train, seed=seed, progressbar=False),
        }


def loo_table(
    data: HierarchicalData, sampler: str = "gibbs", seed: int = 0, multilevel: Any = None
) -> pd.DataFrame:
    """``arviz.compare`` of the three models by PSIS-LOO on all rows.

    ``multilevel`` reuses an existing Gibbs fit (with its log-likelihood) of the same data.
    """
    import arviz as az

    fits = _fits(data, sampler, seed, multilevel)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = az.compare(fits, ic="loo")
        ks = {
            name: int(np.sum(az.loo(i, pointwise=True).pareto_k > 0.7)) for name, i in fits.items()
        }
    table["pareto_k>0.7"] = pd.Series(ks)
    return table


def _predictive_draws(name: str, idata, data: HierarchicalData, rows: np.ndarray):
    """Means (draws x rows) and sds (draws,) of y at the given rows; None where impossible."""
    post = idata.posterior.stack(sample=("chain", "draw"))
    sigma = post["sigma_y"].values
    X = data.X[rows]
    groups = data.group[rows]
    mean = np.zeros((sigma.size, rows.size))
    if data.p:
        mean += (X @ post["beta"].values)[:, :].T
    ok = np.ones(rows.size, dtype=bool)
    if name == "complete pooling":
        mean += (data.U[groups] @ post["gamma"].values).T
    elif name == "no pooling":
        labels = list(post["alpha"].coords["group"].values)
        pos = {g: k for k, g in enumerate(labels)}
        idx = np.array([pos.get(data.group_names[j], -1) for j in groups])
        ok = idx >= 0
        alpha = post["alpha"].values  # (groups, samples)
        mean[:, ok] += alpha[idx[ok]].T
    else:
        mean += post["alpha"].values[groups].T
    return mean, sigma, ok


def heldout_table(
    data: HierarchicalData,
    sampler: str = "gibbs",
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """Held-out log predictive density and RMSE of each model in each scenario.

    ``progress(message)`` is called before each scenario's fits (they take seconds each).
    """
    rows = []
    for scenario in ("small-groups", "whole-groups"):
        if progress is not None:
            progress(
                f"held-out {scenario}: fitting multilevel, complete and no pooling ({sampler})"
            )
        train, test = split(data, scenario, seed)
        test_rows = np.flatnonzero(test)
        y = data.y[test_rows]
        for name, idata in _fits(train, sampler, seed).items():
            mean, sigma, ok = _predictive_draws(name, idata, data, test_rows)
            logp = (
                -0.5 * np.log(2 * np.pi * sigma[:, None] ** 2)
                - 0.5 * ((y - mean) / sigma[:, None]) ** 2
            )
            if ok.any():
                lpd = logsumexp(logp[:, ok], axis=0) - np.log(sigma.size)
                rmse = np.sqrt(np.mean((y[ok] - mean[:, ok].mean(axis=0)) ** 2))
            rows.append(
                {
                    "scenario": scenario,
                    "model": name,
                    "held_out_rows": int(test_rows.size),
                    "unpredictable_rows": int(np.sum(~ok)),
                    "lpd_per_row": float(lpd.mean()) if ok.any() else float("nan"),
                    "rmse": float(rmse) if ok.any() else float("nan"),
                }
            )
    columns = ["scenario", "model", "held_out_rows", "unpredictable_rows", "lpd_per_row", "rmse"]
    return pd.DataFrame(rows, columns=columns).set_index(["scenario", "model"])
