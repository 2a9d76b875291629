"""Police stops, both count families: effective samples per second against PyMC NUTS and nutpie in
the same run, and the cost of one Gibbs iteration against n.

Usage: python benchmarks/counts_ess.py [--out benchmarks/results/counts_ess.json] [--repeats 3]

The model: Gelman & Hill's stops ~ 1 + offset(log_arrests) + (1 | eth) + (1 | precinct), 899
rows, under the count-default priors, as ``family="poisson"`` (a per-row lognormal term) and
``family="negative_binomial"``. Gibbs runs its default scheme; PyMC's NUTS and nutpie sample the
mean-split twin (the parameterization of the goldens: the plain twins diverge on this model),
4 chains x 1000 draws after 1000 warm-up iterations, ``target_accept`` 0.8 (pm.sample's
default). Min bulk ESS over every compared variable (reference_models.reference.compared_vars).
PyMC is timed from building the model to the InferenceData, nutpie by its own sampling time.
"""

import argparse
import json
import platform
import time
import warnings

import numpy as np
from radon_ess import ess_row, iteration_ms, min_ess

import gibbs
from gibbs.data import HierarchicalData
from gibbs.police_stops import load_police_stops
from reference_models.reference import compared_vars
from reference_models.spec_twin import build_spec_twin, fit_spec_reference

warnings.filterwarnings("ignore")
FAMILIES = ("poisson", "negative_binomial")


def gibbs_row(spec, seed):
    start = time.perf_counter()
    idata = gibbs.sample(spec, seed=seed, progressbar=False, log_likelihood=False)
    total = time.perf_counter() - start
    a = idata.posterior.attrs
    loop = a["tuning_time"] + a["sampling_time"]
    return ess_row(f"gibbs:{spec.default_scheme}", min_ess(idata, compared_vars(spec)), loop, total)


def nuts_row(spec, sampler, seed):
    start = time.perf_counter()
    if sampler == "pymc":
        build_spec_twin(spec, "mean-split")  # model building is part of PyMC's end to end
    idata = fit_spec_reference(
        spec,
        sampler,
        parameterization="mean-split",
        seed=seed,
        target_accept=0.8,
        log_likelihood=False,
        progressbar=False,
    )
    total = time.perf_counter() - start
    sampling = float(idata.posterior.attrs["sampling_time"])
    return ess_row(
        f"{'pymc:nuts' if sampler == 'pymc' else 'nutpie'} (mean-split)",
        min_ess(idata, compared_vars(spec)),
        sampling,
        total,
        divergences=int(idata.sample_stats["diverging"].sum()),
    )


def iteration_cost(family, n, J=100, iterations=100):
    """Milliseconds per iteration of the default scheme, 4 chains, n rows in J groups."""
    rng = np.random.default_rng(0)
    group = rng.integers(0, J, n)
    eta = 1.0 + rng.normal(0.0, 0.5, J)[group] + rng.normal(0.0, 0.5, n)
    data = HierarchicalData(
        y=rng.poisson(np.exp(eta)).astype(float),
        X=np.empty((n, 0)),
        group=group,
        U=np.ones((J, 1)),
        offset=np.zeros(n),
    )
    ms = iteration_ms(data, iterations, family=family)
    return {"family": family, "n": n, "J": J, "iteration_ms": ms}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="benchmarks/results/counts_ess.json")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3, help="Gibbs runs per family (median)")
    parser.add_argument("--sizes", default="1000,10000,100000", help="n for the cost per iteration")
    args = parser.parse_args()
    stops = load_police_stops(quiet=True)
    tables, ratios = {}, {}
    for family in FAMILIES:
        spec = gibbs.specify(stops.data, family=family, factors=stops.factors)
        gibbs.sample(spec, draws=10, tune=10, progressbar=False)  # warm caches
        runs = [gibbs_row(spec, args.seed + r) for r in range(args.repeats)]
        rows = [sorted(runs, key=lambda r: r["ess_per_s_end_to_end"])[len(runs) // 2]]
        print(family, json.dumps(rows[-1]), flush=True)
        for sampler in ("nutpie", "pymc"):
            rows.append(nuts_row(spec, sampler, args.seed))
            print(family, json.dumps(rows[-1]), flush=True)
        g, nutpie, pymc = rows
        ratios[family] = {
            "sampling_vs_nutpie": g["ess_per_s_sampling"] / nutpie["ess_per_s_sampling"],
            "end_to_end_vs_pymc": g["ess_per_s_end_to_end"] / pymc["ess_per_s_end_to_end"],
        }
        tables[family] = rows
        print(family, json.dumps(ratios[family]), flush=True)
    scaling = [iteration_cost(family, int(n)) for family in FAMILIES for n in args.sizes.split(",")]
    for row in scaling:
        print(json.dumps(row), flush=True)
    result = {
        "command": "python benchmarks/counts_ess.py",
        "machine": {"python": platform.python_version(), "processor": platform.processor()},
        "draws": "4 chains x 1000 after 1000",
        "rows": tables,
        "ratios": ratios,
        "iteration_cost": scaling,
    }
    with open(args.out, "w") as f:
        json.dump(result, f, indent=2)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
