"""SBC throughput against workers, and SBC / Geweke detection of the whole mutant catalogue.

Usage: python benchmarks/sbc_power.py [--out benchmarks/results/sbc_power.json]

Design: synthetic, 6 groups of 1-4 rows, one X and one U column; priors: normal locations,
inverse-gamma scales. SBC: 200 replications, 2 chains x 500 draws per fit (200 warm-up), the
default scheme; Geweke: 200 chains x 500 iterations. Both at family-wise level 0.01.
"""

import argparse
import json
import time
import warnings

import numpy as np

from gibbs.datasets import simulate_hierarchical
from gibbs.priors import InverseGamma, Normal, Priors
from validation.geweke import geweke_test
from validation.mutants import MUTANTS
from validation.sbc import SBC, DaskExecutor, GibbsEngine, LocalExecutor

warnings.filterwarnings("ignore")
PRIORS = Priors(
    beta=Normal(0, 1),
    gamma=Normal(0, 1),
    sigma_y=InverseGamma(3, 2),
    sigma_alpha=InverseGamma(3, 1),
)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="benchmarks/results/sbc_power.json")
    parser.add_argument("--replications", type=int, default=200)
    args = parser.parse_args()
    design, _ = simulate_hierarchical(
        6, np.array([2, 3, 1, 4, 2, 3]), beta=[0.5], gamma=[1.0, 0.5], seed=1
    )
    # Warm the ECDF null distribution cache (one simulation per number of replications) so that
    # the timings compare backends, not that one-off cost. Dask timings include the cluster start.
    SBC(design, PRIORS, GibbsEngine(draws=50, tune=10), replications=args.replications, seed=0).run(
        progressbar=False
    )
    throughput = []
    for label, executor, chunk in [
        ("1 local process", LocalExecutor(1), 25),
        ("2 local processes", LocalExecutor(2), 25),
        ("Dask LocalCluster, 2 workers", DaskExecutor(workers=2), 25),
        ("1 local process, chunk 1 (no batching)", LocalExecutor(1), 1),
    ]:
        start = time.perf_counter()
        SBC(design, PRIORS, GibbsEngine(), replications=args.replications, seed=1, chunk=chunk).run(
            executor, progressbar=False
        )
        elapsed = time.perf_counter() - start
        throughput.append(
            {
                "backend": label,
                "chunk": chunk,
                "seconds": elapsed,
                "replications_per_s": args.replications / elapsed,
            }
        )
        print(json.dumps(throughput[-1]), flush=True)
    detection = []
    for name, mutant in MUTANTS.items():
        with np.errstate(all="ignore"):
            sbc = SBC(
                design,
                PRIORS,
                GibbsEngine(sweep=mutant.sweep),
                replications=args.replications,
                seed=1,
            ).run(progressbar=False)
            gw = geweke_test(design, PRIORS, mutant.sweep, seed=1)
        detection.append(
            {
                "mutant": name,
                "bug": mutant.bug,
                "sbc_caught": not sbc.passed,
                "geweke_caught": not gw.passed,
                "geweke_max_abs_z": float(np.nanmax(np.abs(gw.table["z"])))
                if np.isfinite(gw.table["z"]).any()
                else None,
            }
        )
        print(json.dumps(detection[-1]), flush=True)
    with open(args.out, "w") as fh:
        json.dump(
            {
                "command": "python benchmarks/sbc_power.py",
                "throughput": throughput,
                "detection": detection,
            },
            fh,
            indent=2,
        )


if __name__ == "__main__":
    main()
