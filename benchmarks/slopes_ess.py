"""Varying slopes (Gelman & Hill's M3 on radon): effective samples per second against PyMC NUTS
and nutpie, and the cost of one Gibbs iteration against J.

Usage: python benchmarks/slopes_ess.py [--out benchmarks/results/slopes_ess.json]

M3: log radon on floor, with the intercept and the floor slope varying by county, default priors
(flat locations, uniform sigma_y, Huang-Wand half-t(2, 1e5) standard deviations and uniform
correlation). Gibbs, PyMC and nutpie sample the same model (the twin writes the Gibbs prior on
Sigma out in PyMC), 4 chains x 1000 draws after 1000 warm-up iterations, as ``pm.sample``'s
defaults (target_accept 0.8). The minimum is over every scalar: alpha (intercepts and slopes),
gamma, gamma_slope, sigma_y, both standard deviations and the correlation.
"""

import argparse
import json
import os
import platform
import time
import warnings

import arviz as az
import numpy as np
from radon_ess import iteration_ms, min_ess

import gibbs
from gibbs.datasets import load_radon, simulate_slopes
from gibbs.slopes import SLOPES_SCHEMES
from reference_models.slopes_twin import build_slopes_twin, fit_slopes_reference, slopes_var_names

warnings.filterwarnings("ignore")
SLOPES = ("floor",)


def gibbs_row(data, scheme, seed):
    start = time.perf_counter()
    idata = gibbs.sample(
        data, slopes=SLOPES, scheme=scheme, seed=seed, progressbar=False, log_likelihood=False
    )
    total = time.perf_counter() - start
    a = idata.posterior.attrs
    ess = min_ess(idata, slopes_var_names(data, SLOPES))
    loop = a["tuning_time"] + a["sampling_time"]
    return {
        "sampler": f"gibbs:{scheme}",
        "chains": 4,
        "tune_s": a["tuning_time"],
        "sample_s": a["sampling_time"],
        "sampling_only_s": loop,
        "end_to_end_s": total,
        "min_ess_bulk": ess,
        "ess_per_s_end_to_end": ess / total,
        "ess_per_s_sampling": ess / loop,
    }


def nuts_row(data, sampler, seed):
    start = time.perf_counter()
    if sampler == "pymc":
        build_slopes_twin(data, SLOPES)  # what a PyMC user pays before pm.sample
    idata = fit_slopes_reference(
        data, SLOPES, sampler=sampler, seed=seed, target_accept=0.8, log_likelihood=False
    )
    total = time.perf_counter() - start
    a = idata.posterior.attrs
    sampling = float(a["sampling_time"])  # pm.sample records it too (tuning + draws)
    ess = min_ess(idata, slopes_var_names(data, SLOPES))
    return {
        "sampler": "pymc:nuts" if sampler == "pymc" else "nutpie",
        "chains": 4,
        "sampling_only_s": sampling,
        "end_to_end_s": total,
        "min_ess_bulk": ess,
        "divergences": int(idata.sample_stats["diverging"].sum()),
        "ess_per_s_end_to_end": ess / total,
        "ess_per_s_sampling": ess / sampling,
    }


def iteration_cost(J, iterations=200):
    """Milliseconds per iteration of the default scheme, 4 chains, J groups of 10 rows."""
    data, slopes, _ = simulate_slopes(J, 10, seed=0)
    return {"J": J, "n": data.n, "iteration_ms": iteration_ms(data, iterations, slopes=slopes)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="benchmarks/results/slopes_ess.json")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3, help="Gibbs runs per scheme (median)")
    args = parser.parse_args()
    data = load_radon(uranium=False, floor=True)
    gibbs.sample(data, slopes=SLOPES, draws=10, tune=10, progressbar=False)  # warm caches
    rows = []
    for scheme in sorted(SLOPES_SCHEMES):
        runs = [gibbs_row(data, scheme, args.seed + r) for r in range(args.repeats)]
        rows.append(sorted(runs, key=lambda r: r["ess_per_s_end_to_end"])[len(runs) // 2])
        print(json.dumps(rows[-1]), flush=True)
    for sampler in ("pymc", "nutpie"):
        rows.append(nuts_row(data, sampler, args.seed))
        print(json.dumps(rows[-1]), flush=True)
    default = next(r for r in rows if r["sampler"] == "gibbs:collapsed")
    pymc = next(r for r in rows if r["sampler"] == "pymc:nuts")
    nutpie = next(r for r in rows if r["sampler"] == "nutpie")
    ratios = {
        r["sampler"]: {
            "end_to_end_vs_pymc": r["ess_per_s_end_to_end"] / pymc["ess_per_s_end_to_end"],
            "sampling_vs_nutpie": r["ess_per_s_sampling"] / nutpie["ess_per_s_sampling"],
        }
        for r in rows
        if r["sampler"].startswith("gibbs")
    }
    scaling = [iteration_cost(J) for J in (100, 1000, 10000)]
    for row in scaling:
        print(json.dumps(row), flush=True)
    result = {
        "command": "python benchmarks/slopes_ess.py",
        "machine": {
            "python": platform.python_version(),
            "processor": platform.processor(),
            "cores": os.cpu_count(),
        },
        "versions": {
            "gibbs-suite": gibbs.__version__,
            "pymc": __import__("pymc").__version__,
            "nutpie": __import__("nutpie").__version__,
            "arviz": az.__version__,
            "numpy": np.__version__,
        },
        "model": "radon M3: log_radon ~ floor + (1 + floor | county), default SlopesPriors",
        "rows": rows,
        "ratios": ratios,
        "default": default["sampler"],
        "iteration_cost": scaling,
    }
    with open(args.out, "w") as f:
        json.dump(result, f, indent=2)
    print(json.dumps(ratios, indent=2))


if __name__ == "__main__":
    main()
