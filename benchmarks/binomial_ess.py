"""Logistic and probit multilevel models: effective samples per second against PyMC NUTS and
nutpie on the radon action-level model, and the cost of one Gibbs iteration against n.

Usage: python benchmarks/binomial_ess.py [--out benchmarks/results/binomial_ess.json]

The model is Gelman & Hill's M2 with the binary outcome "house above 4 pCi/L": floor (X),
county log-uranium (U), default binomial priors (N(0, 2.5^2) on beta and gamma, uniform
sigma_alpha). Unlike the Gaussian model, a sweep draws one latent variable per row (Polya-Gamma
or truncated normal), so its cost grows linearly with n; the second part measures that.
"""

import argparse
import json
import os
import platform
import warnings

import arviz as az
import numpy as np
from radon_ess import gibbs_row, nutpie_row, pymc_row

import gibbs
from gibbs.datasets import load_radon_action_level, simulate_binomial
from gibbs.kernels import FAMILY_SCHEMES

warnings.filterwarnings("ignore")


def iteration_cost(family, n, J=100, iterations=200):
    """Milliseconds per iteration of the default scheme, 4 chains, n rows in J groups."""
    data, _ = simulate_binomial(J, n // J, family=family, sigma_alpha=0.5, seed=0)
    idata = gibbs.sample(
        data,
        family=family,
        draws=iterations,
        tune=0,
        chains=4,
        seed=0,
        progressbar=False,
        store_alpha=False,
        log_likelihood=False,
    )
    return {
        "family": family,
        "n": data.n,
        "J": J,
        "iteration_ms": 1e3 * idata.posterior.attrs["sampling_time"] / iterations,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="benchmarks/results/binomial_ess.json")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3, help="Gibbs runs per scheme (median)")
    parser.add_argument("--max-n", type=int, default=10**6)
    args = parser.parse_args()
    data = load_radon_action_level()
    result = {
        "command": "python benchmarks/binomial_ess.py",
        "machine": {
            "python": platform.python_version(),
            "processor": platform.processor(),
            "cores": os.cpu_count(),
        },
        "versions": {
            "gibbs-suite": gibbs.__version__,
            "pymc": __import__("pymc").__version__,
            "nutpie": __import__("nutpie").__version__,
            "polyagamma": __import__("polyagamma").__version__,
            "arviz": az.__version__,
            "numpy": np.__version__,
        },
        "families": {},
    }
    for family in ("logistic", "probit"):
        gibbs.sample(data, family=family, draws=10, tune=10, progressbar=False)  # warm caches
        rows = []
        for scheme in sorted(FAMILY_SCHEMES[family]):
            runs = [gibbs_row(data, scheme, 4, args.seed + r, family) for r in range(args.repeats)]
            rows.append(sorted(runs, key=lambda r: r["ess_per_s_end_to_end"])[len(runs) // 2])
            print(family, json.dumps(rows[-1]))
        rows.append(pymc_row(data, args.seed, family))
        print(family, json.dumps(rows[-1]))
        rows.append(nutpie_row(data, args.seed, family))
        print(family, json.dumps(rows[-1]))
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
        sizes = [n for n in (10**3, 10**4, 10**5, 10**6) if n <= args.max_n]
        scaling = [iteration_cost(family, n) for n in sizes]
        for r in scaling:
            print(family, json.dumps(r))
        result["families"][family] = {"rows": rows, "ratios": ratios, "by_n": scaling}
    with open(args.out, "w") as fh:
        json.dump(result, fh, indent=2)
    print(json.dumps({f: v["ratios"] for f, v in result["families"].items()}, indent=2))


if __name__ == "__main__":
    main()
