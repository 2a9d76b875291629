"""Stress table of the default sampler: does it converge, and to the right answer, everywhere?

Usage: python benchmarks/stress.py [--quick] [--out benchmarks/results/stress.json]

Cells (synthetic varying-intercept data, 4 chains x 1000 draws after 1000 warm-up, the default
scheme ``marginal``, Gelman & Hill's default priors): J = 100 to 10^5 groups (5 rows each; 100 rows
each at J = 100), sigma_alpha / sigma_y in {0, 1e-3, 1, 1e3}; the predictor offset by 1e8 or scaled
by 1e-8 (J = 1000); every group of size 1 (J = 2000, with a proper half-normal prior on sigma_y,
since with one row per group a uniform prior on both scales leaves the posterior improper). Per
cell: the worst rank-normalised R-hat and the smallest bulk and tail ESS per draw over every
parameter but the J intercepts (the convergence report of :mod:`gibbs.convergence` covers them
too; they are left out here for memory at J = 10^5), and the right answer: every compared
posterior mean within 4 combined MCSEs of an independent run of the ``collapsed`` scheme
(for the offset and scaled cells: of the untransformed data's posterior, mapped exactly).
A cell passes when R-hat <= 1.01, ESS per draw >= 0.05 (200 of 4000) and the answer is right.
Results are appended as JSON lines, so an interrupted run resumes.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
import warnings
from pathlib import Path

import arviz as az
import numpy as np

import gibbs
from gibbs.datasets import simulate_hierarchical
from gibbs.priors import HalfNormal, Priors

warnings.filterwarnings("ignore")
RHAT_MAX, ESS_PER_DRAW_MIN, Z_MAX = 1.01, 0.05, 4.0
NAMES = ["beta", "gamma", "sigma_y", "sigma_alpha"]


def _cells(quick: bool):
    sizes = [(100, 100), (1000, 5), (10_000, 5)] + ([] if quick else [(100_000, 5)])
    for J, n_j in sizes:
        for ratio in (0.0, 1e-3, 1.0, 1e3):
            yield (
                f"J={J}, n_j={n_j}, sigma_alpha/sigma_y={ratio:g}",
                dict(J=J, n_j=n_j, ratio=ratio),
            )
    yield "predictor offset by 1e8 (J=1000)", dict(J=1000, n_j=5, ratio=1.0, offset=1e8)
    yield "predictor scaled by 1e-8 (J=1000)", dict(J=1000, n_j=5, ratio=1.0, scale=1e-8)
    yield "every group of size 1 (J=2000)", dict(J=2000, n_j=1, ratio=1.0, single=True)


def _data(J, n_j, ratio, offset=0.0, scale=1.0, single=False):
    sigma_y = 1.0
    data, _ = simulate_hierarchical(
        J, n_j, sigma_y=sigma_y, sigma_alpha=ratio * sigma_y, seed=J + n_j
    )
    base = data
    if offset or scale != 1.0:
        data = dataclasses.replace(data, X=data.X * scale + offset)
    priors = Priors(sigma_y=HalfNormal(2.0)) if single else Priors()
    return data, base, priors


def _run(data, priors, scheme, seed):
    start = time.perf_counter()
    idata = gibbs.sample(
        data,
        priors=priors,
        scheme=scheme,
        seed=seed,
        progressbar=False,
        log_likelihood=False,
        store_alpha=False,
        compute_convergence_checks=False,
    )
    return idata, time.perf_counter() - start


def _z(a, b, names):
    sa, sb = (az.summary(v, var_names=names, round_to="none") for v in (a, b))
    z = (sa["mean"] - sb["mean"]) / np.hypot(sa["mcse_mean"], sb["mcse_mean"])
    return float(np.max(np.abs(z))), str(z.abs().idxmax())


def cell(params):
    data, base, priors = _data(**params)
    run, seconds = _run(data, priors, "marginal", seed=1)
    post = run.posterior[NAMES]
    summary = az.summary(post, kind="diagnostics", round_to="none")
    draws = post.sizes["chain"] * post.sizes["draw"]
    # The right answer: an independent scheme on the same data, or (offset, scaled) the
    # untransformed data's posterior, mapped exactly into the transformed data's parameters.
    other, _ = _run(base if base is not data else data, priors, "collapsed", seed=2)
    mine = run
    if base is not data:
        offset, scale = params.get("offset", 0.0), params.get("scale", 1.0)
        mapped = mine.posterior.copy(deep=True)
        beta_data = mapped["beta"].values[..., 0].copy()  # the transformed data's beta
        mapped["gamma"].values[..., 0] += offset * beta_data
        mapped["beta"] = mapped["beta"] * scale
        mine = az.InferenceData(posterior=mapped)
    max_z, worst = _z(mine, other, NAMES)
    row = {
        "max_rhat": float(summary["r_hat"].max()),
        "min_ess_per_draw": float(summary[["ess_bulk", "ess_tail"]].min().min() / draws),
        "max_abs_z_vs_independent": max_z,
        "worst_z": worst,
        "seconds": seconds,
    }
    row["passed"] = bool(
        row["max_rhat"] <= RHAT_MAX
        and row["min_ess_per_draw"] >= ESS_PER_DRAW_MIN
        and max_z < Z_MAX
    )
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip J = 10^5")
    parser.add_argument("--out", default="benchmarks/results/stress.json")
    args = parser.parse_args()
    out = Path(args.out)
    lines = out.with_suffix(".jsonl")
    done = {}
    if lines.exists():
        done = {d["cell"]: d for d in map(json.loads, lines.read_text().splitlines())}
    for label, params in _cells(args.quick):
        if label in done:
            continue
        row = {"cell": label, **cell(params)}
        done[label] = row
        with lines.open("a") as f:
            f.write(json.dumps(row) + "\n")
        print(json.dumps(row), flush=True)
    summary = {
        "command": "python benchmarks/stress.py" + " --quick" * args.quick,
        "rules": {"r_hat_max": RHAT_MAX, "ess_per_draw_min": ESS_PER_DRAW_MIN, "z_max": Z_MAX},
        "cells": list(done.values()),
    }
    out.write_text(json.dumps(summary, indent=2))
    print(f"{sum(c['passed'] for c in done.values())} of {len(done)} cells pass")


if __name__ == "__main__":
    main()
