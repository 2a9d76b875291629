"""Effective samples per second on radon M2: every Gibbs scheme, PyMC NUTS and nutpie, one run.

Usage: python benchmarks/radon_ess.py [--out benchmarks/results/radon_ess.json]

For each sampler: build/compile, tune and sample wall times, minimum bulk ESS over every scalar
parameter (alpha, beta, gamma, sigma_y, sigma_alpha), and that minimum ESS per second end to end
(everything from the data in memory to the InferenceData) and sampling-only (tune + draws).
"""

import argparse
import json
import platform
import time
import warnings

import arviz as az
import numpy as np

import gibbs
from gibbs.datasets import load_radon
from gibbs.kernels import SCHEMES
from reference_models.fit import fit_reference, twin_model
from reference_models.twins import model_var_names

warnings.filterwarnings("ignore")


def min_ess(idata, names):
    ess = az.ess(idata, var_names=names, method="bulk")
    return float(min(ess[v].min() for v in ess.data_vars))


def ess_row(sampler, ess, sampling_s, total_s, **extra):
    """One benchmark row: min bulk ESS per second sampling-only and end to end."""
    return {
        "sampler": sampler,
        "sampling_only_s": sampling_s,
        "end_to_end_s": total_s,
        "min_ess_bulk": ess,
        **extra,
        "ess_per_s_end_to_end": ess / total_s,
        "ess_per_s_sampling": ess / sampling_s,
    }


def iteration_ms(data, iterations, **kwargs):
    """Milliseconds per iteration of the default scheme, 4 chains, no warm-up or stored alphas."""
    idata = gibbs.sample(
        data,
        draws=iterations,
        tune=0,
        seed=0,
        progressbar=False,
        store_alpha=False,
        log_likelihood=False,
        **kwargs,
    )
    return 1e3 * idata.posterior.attrs["sampling_time"] / iterations


def gibbs_row(data, scheme, chains, seed, family="gaussian"):
    start = time.perf_counter()
    # No pointwise log-likelihood: pm.sample and nutpie do not compute it by default either.
    idata = gibbs.sample(
        data,
        scheme=scheme,
        chains=chains,
        seed=seed,
        progressbar=False,
        log_likelihood=False,
        family=family,
    )
    total = time.perf_counter() - start
    a = idata.posterior.attrs
    ess = min_ess(idata, model_var_names(data, family))
    loop = a["tuning_time"] + a["sampling_time"]
    return {
        "sampler": f"gibbs:{scheme}",
        "chains": chains,
        "build_s": 0.0,
        "tune_s": a["tuning_time"],
        "sample_s": a["sampling_time"],
        "sampling_only_s": loop,
        "end_to_end_s": total,
        "min_ess_bulk": ess,
        "ess_per_s_end_to_end": ess / total,
        "ess_per_s_sampling": ess / loop,
    }


def pymc_row(data, seed, family="gaussian"):
    start = time.perf_counter()
    twin_model(data, family=family)
    build = time.perf_counter() - start
    # pm.sample's defaults (target_accept 0.8), as a PyMC user would run it.
    idata = fit_reference(
        data,
        sampler="pymc",
        seed=seed,
        target_accept=0.8,
        log_likelihood=False,
        family=family,
    )
    total = time.perf_counter() - start
    ess = min_ess(idata, model_var_names(data, family))
    sampling = idata.posterior.attrs["sampling_time"]
    return {
        "sampler": "pymc:nuts",
        "chains": 4,
        "build_s": build,
        "compile_s": total - build - sampling,
        "tune_plus_sample_s": sampling,
        "sampling_only_s": sampling,
        "end_to_end_s": total,
        "min_ess_bulk": ess,
        "divergences": int(idata.sample_stats["diverging"].sum()),
        "ess_per_s_end_to_end": ess / total,
        "ess_per_s_sampling": ess / sampling,
    }


def nutpie_row(data, seed, family="gaussian"):
    from reference_models.fit import clear_cache

    clear_cache()
    start = time.perf_counter()
    idata = fit_reference(
        data,
        sampler="nutpie",
        seed=seed,
        target_accept=0.8,
        log_likelihood=False,
        family=family,
    )
    total = time.perf_counter() - start
    ess = min_ess(idata, model_var_names(data, family))
    a = idata.posterior.attrs
    return {
        "sampler": "nutpie",
        "chains": 4,
        "compile_s": a["compile_time"],
        "tune_plus_sample_s": a["sampling_time"],
        "sampling_only_s": a["sampling_time"],
        "end_to_end_s": total,
        "min_ess_bulk": ess,
        "divergences": int(idata.sample_stats["diverging"].sum()),
        "ess_per_s_end_to_end": ess / total,
        "ess_per_s_sampling": ess / a["sampling_time"],
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="benchmarks/results/radon_ess.json")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3, help="Gibbs runs per scheme (median)")
    args = parser.parse_args()
    data = load_radon()
    gibbs.sample(data, draws=10, tune=10, progressbar=False)  # warm imports and caches
    rows = []
    for scheme in SCHEMES:
        for chains in (4, 16) if scheme == gibbs.DEFAULT_SCHEME else (4,):
            runs = [gibbs_row(data, scheme, chains, args.seed + r) for r in range(args.repeats)]
            median = sorted(runs, key=lambda r: r["ess_per_s_end_to_end"])[len(runs) // 2]
            rows.append(median)
            print(json.dumps(median))
    rows.append(pymc_row(data, args.seed))
    print(json.dumps(rows[-1]))
    rows.append(nutpie_row(data, args.seed))
    print(json.dumps(rows[-1]))
    default = next(
        r for r in rows if r["sampler"] == f"gibbs:{gibbs.DEFAULT_SCHEME}" and r["chains"] == 4
    )
    pymc = next(r for r in rows if r["sampler"] == "pymc:nuts")
    nutpie = next(r for r in rows if r["sampler"] == "nutpie")
    ratios = {
        f"{r['sampler']}x{r['chains']}": {
            "end_to_end_vs_pymc": r["ess_per_s_end_to_end"] / pymc["ess_per_s_end_to_end"],
            "sampling_vs_nutpie": r["ess_per_s_sampling"] / nutpie["ess_per_s_sampling"],
        }
        for r in rows
        if r["sampler"].startswith("gibbs")
    }
    result = {
        "command": "python benchmarks/radon_ess.py",
        "machine": {
            "python": platform.python_version(),
            "processor": platform.processor(),
            "cores": __import__("os").cpu_count(),
        },
        "versions": {
            "gibbs-suite": gibbs.__version__,
            "pymc": __import__("pymc").__version__,
            "nutpie": __import__("nutpie").__version__,
            "arviz": az.__version__,
            "numpy": np.__version__,
        },
        "rows": rows,
        "ratios": ratios,
        "default": f"gibbs:{gibbs.DEFAULT_SCHEME}x4",
    }
    with open(args.out, "w") as fh:
        json.dump(result, fh, indent=2)
    print(json.dumps(ratios, indent=2))
    print("default scheme:", default["sampler"])


if __name__ == "__main__":
    main()
