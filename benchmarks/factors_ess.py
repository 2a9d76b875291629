"""House < county < state on all-states radon: effective samples per second against PyMC NUTS
and nutpie, and the cost of one Gibbs iteration against n and J.

Usage: python benchmarks/factors_ess.py [--out benchmarks/results/factors_ess.json]

The model: log radon on floor (X) and county log-uranium (U), county intercepts centred on the
uranium prediction plus their state's effect, 9 state effects with their own scale; default
priors (flat locations, uniform scales). 12,124 houses, 463 counties. Gibbs (both schemes), PyMC
and nutpie sample the same model, 4 chains x 1000 draws after 1000 warm-up iterations;
``pm.sample``'s default target_accept (0.8), on the centered and the non-centered twin.
Needs the survey files (GIBBS_SUITE_RADON_DIR).
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
from gibbs.datasets import load_radon_all, simulate_factors
from gibbs.factors import FACTORS_SCHEMES
from reference_models.factors_twin import (
    build_factors_twin,
    factors_var_names,
    fit_factors_reference,
)

warnings.filterwarnings("ignore")


def gibbs_row(data, factors, scheme, seed):
    start = time.perf_counter()
    idata = gibbs.sample(
        data, factors=factors, scheme=scheme, seed=seed, progressbar=False, log_likelihood=False
    )
    total = time.perf_counter() - start
    a = idata.posterior.attrs
    ess = min_ess(idata, factors_var_names(data, list(factors)))
    loop = a["tuning_time"] + a["sampling_time"]
    return {
        "sampler": f"gibbs:{scheme}",
        "sampling_only_s": loop,
        "end_to_end_s": total,
        "min_ess_bulk": ess,
        "ess_per_s_end_to_end": ess / total,
        "ess_per_s_sampling": ess / loop,
    }


def nuts_row(data, factors, sampler, parameterization, seed):
    start = time.perf_counter()
    if sampler == "pymc":
        build_factors_twin(data, factors, None, parameterization)
    idata = fit_factors_reference(
        data,
        factors,
        sampler=sampler,
        parameterization=parameterization,
        seed=seed,
        target_accept=0.8,
        log_likelihood=False,
    )
    total = time.perf_counter() - start
    sampling = float(idata.posterior.attrs["sampling_time"])
    ess = min_ess(idata, factors_var_names(data, list(factors)))
    return {
        "sampler": f"{'pymc:nuts' if sampler == 'pymc' else 'nutpie'} ({parameterization})",
        "sampling_only_s": sampling,
        "end_to_end_s": total,
        "min_ess_bulk": ess,
        "divergences": int(idata.sample_stats["diverging"].sum()),
        "ess_per_s_end_to_end": ess / total,
        "ess_per_s_sampling": ess / sampling,
    }


def iteration_cost(J, size, iterations=200):
    """Milliseconds per iteration of the default scheme, 4 chains, J groups in 10 states."""
    data, factors, _ = simulate_factors(J, size, levels=10, nested=True, seed=0)
    return {"J": J, "n": data.n, "iteration_ms": iteration_ms(data, iterations, factors=factors)}


def _survey_dir():
    """GIBBS_SUITE_RADON_DIR, else the shared data folder beside the clone (as CI places it)."""
    from pathlib import Path

    shared = Path(__file__).resolve().parents[2] / "shared" / "data" / "radon"
    return os.environ.get("GIBBS_SUITE_RADON_DIR") or (shared if shared.is_dir() else None)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="benchmarks/results/factors_ess.json")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3, help="Gibbs runs per scheme (median)")
    args = parser.parse_args()
    data, factors = load_radon_all(_survey_dir()).to_levels()
    gibbs.sample(data, factors=factors, draws=10, tune=10, progressbar=False)  # warm caches
    rows = []
    for scheme in sorted(FACTORS_SCHEMES):
        runs = [gibbs_row(data, factors, scheme, args.seed + r) for r in range(args.repeats)]
        rows.append(sorted(runs, key=lambda r: r["ess_per_s_end_to_end"])[len(runs) // 2])
        print(json.dumps(rows[-1]), flush=True)
    for sampler in ("pymc", "nutpie"):
        for parameterization in ("centered", "noncentered"):
            rows.append(nuts_row(data, factors, sampler, parameterization, args.seed))
            print(json.dumps(rows[-1]), flush=True)
    best_pymc = max(
        (r for r in rows if r["sampler"].startswith("pymc")),
        key=lambda r: r["ess_per_s_end_to_end"],
    )
    best_nutpie = max(
        (r for r in rows if r["sampler"].startswith("nutpie")),
        key=lambda r: r["ess_per_s_sampling"],
    )
    ratios = {
        r["sampler"]: {
            "end_to_end_vs_best_pymc": r["ess_per_s_end_to_end"]
            / best_pymc["ess_per_s_end_to_end"],
            "sampling_vs_best_nutpie": r["ess_per_s_sampling"] / best_nutpie["ess_per_s_sampling"],
        }
        for r in rows
        if r["sampler"].startswith("gibbs")
    }
    scaling = [
        iteration_cost(J, size) for J, size in ((100, 10), (1000, 10), (1000, 100), (10000, 10))
    ]
    for row in scaling:
        print(json.dumps(row), flush=True)
    result = {
        "command": "python benchmarks/factors_ess.py",
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
        "model": "all-states radon: log_radon ~ floor + log_uranium + (1 | state) + (1 | county)",
        "rows": rows,
        "ratios": ratios,
        "iteration_cost": scaling,
    }
    with open(args.out, "w") as f:
        json.dump(result, f, indent=2)
    print(json.dumps(ratios, indent=2))


if __name__ == "__main__":
    main()
