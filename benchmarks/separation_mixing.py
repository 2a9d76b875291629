"""Mixing of the logistic and probit samplers with and without separation.

Usage: python benchmarks/separation_mixing.py [--out benchmarks/results/separation_mixing.json]
[--schemes collapsed integrated]

Minimum bulk ESS per draw and per second (4 chains x 5000 draws, default scheme and priors) on
radon's action-level model and on 30 simulated groups of 2-6 rows with sigma_alpha = 2, where half
of the groups have all-0 or all-1 outcomes (the data of ``gibbs-suite compare --dataset
separation``).
"""

import argparse
import json
import time
import warnings

import arviz as az
import numpy as np

import gibbs
from gibbs.datasets import load_radon_action_level, simulate_binomial
from reference_models.twins import model_var_names

warnings.filterwarnings("ignore")


def _measure(name, data, family, scheme, draws) -> dict:
    start = time.perf_counter()
    idata = gibbs.sample(
        data,
        family=family,
        scheme=scheme,
        draws=draws,
        seed=1,
        progressbar=False,
        log_likelihood=False,
    )
    seconds = time.perf_counter() - start
    ess = az.ess(idata, var_names=model_var_names(data, family), method="bulk")
    worst = min(ess.data_vars, key=lambda v: float(ess[v].min()))
    min_ess = float(ess[worst].min())
    return {
        "data": name,
        "family": family,
        "scheme": idata.attrs.get("scheme", scheme),
        "seconds": seconds,
        "worst": worst,
        "min_ess_bulk": min_ess,
        "ess_per_draw": min_ess / (4 * draws),
        "ess_per_s": min_ess / seconds,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="benchmarks/results/separation_mixing.json")
    parser.add_argument("--draws", type=int, default=5000)
    parser.add_argument("--schemes", nargs="+", default=[None], help="default: the family's")
    args = parser.parse_args()
    separation, _ = simulate_binomial(
        30, 2 + np.arange(30) % 5, gamma=(0.0, 0.5), sigma_alpha=2.0, seed=0
    )
    successes = np.bincount(separation.group, separation.y, separation.n_groups)
    separated = int(np.sum((successes == 0) | (successes == separation.stats.n_j)))
    rows = []
    for name, data in (
        ("radon action level", load_radon_action_level()),
        ("separation", separation),
    ):
        for family in ("logistic", "probit"):
            for scheme in args.schemes:
                rows.append(_measure(name, data, family, scheme, args.draws))
                print(json.dumps(rows[-1]))
    with open(args.out, "w") as fh:
        json.dump(
            {
                "command": "python benchmarks/separation_mixing.py"
                + (f" --schemes {' '.join(args.schemes)}" if args.schemes != [None] else ""),
                "separated_groups": separated,
                "rows": rows,
            },
            fh,
            indent=2,
        )


if __name__ == "__main__":
    main()
