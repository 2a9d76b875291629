"""Cost of one Gibbs iteration against n (fixed J) and against J (n = 10 J).

Usage: python benchmarks/scaling.py [--out benchmarks/results/scaling.json] [--max-n 10000000]

The one-off cost (building HierarchicalData: validation and sufficient statistics) is reported
apart from the per-iteration cost, which should be flat in n and linear in J.
"""

import argparse
import json
import time
import warnings

import numpy as np

import gibbs
from gibbs.data import HierarchicalData

warnings.filterwarnings("ignore")


def synthetic(n, J, seed=0):
    rng = np.random.default_rng(seed)
    group = rng.integers(0, J, n)
    X = rng.standard_normal((n, 1))
    U = np.column_stack([np.ones(J), rng.standard_normal(J)])
    alpha = U @ [1.0, 0.5] + 0.3 * rng.standard_normal(J)
    y = alpha[group] + 0.8 * X[:, 0] + rng.standard_normal(n)
    return y, X, group, U


def measure(n, J, iterations=300):
    y, X, group, U = synthetic(n, J)
    start = time.perf_counter()
    data = HierarchicalData(y=y, X=X, group=group, U=U)
    setup = time.perf_counter() - start
    idata = gibbs.sample(
        data,
        draws=iterations,
        tune=0,
        chains=4,
        seed=0,
        progressbar=False,
        store_alpha=False,
        log_likelihood=False,
    )
    per_iter = idata.posterior.attrs["sampling_time"] / iterations
    return {"n": n, "J": J, "setup_s": setup, "iteration_ms": 1e3 * per_iter}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="benchmarks/results/scaling.json")
    parser.add_argument("--max-n", type=int, default=10**7)
    args = parser.parse_args()
    by_n = [measure(n, 100) for n in (10**3, 10**4, 10**5, 10**6, 10**7) if n <= args.max_n]
    for r in by_n:
        print(json.dumps(r))
    by_J = [measure(10 * J, J) for J in (10**2, 10**3, 10**4, 10**5)]
    for r in by_J:
        print(json.dumps(r))
    with open(args.out, "w") as fh:
        json.dump(
            {
                "command": "python benchmarks/scaling.py",
                "scheme": gibbs.DEFAULT_SCHEME,
                "chains": 4,
                "by_n": by_n,
                "by_J": by_J,
            },
            fh,
            indent=2,
        )


if __name__ == "__main__":
    main()
