"""Do the comparison's MCSEs and degrees of freedom give z-scores with the stated error rates?

Usage: python benchmarks/mcse_calibration.py [--reps 4000]
       [--out benchmarks/results/mcse_calibration.json]

For AR(1) chains (4 x 1000, rho in {-0.3, 0, 0.6, 0.8}) with a normal marginal and a skewed one
(exp(0.6 x), as heavy as a group-level scale), each statistic of ``validation.compare`` (mean,
sd, 5% and 95% quantiles) is set against its exact value, z = (estimate - truth) / MCSE, over
``--reps`` independent runs. Reported per statistic: the MCSE's bias against the estimates' own
spread, its coefficient of variation, the median degrees of freedom, and the rejection rates at
0.01 and 0.001 of the t with those degrees of freedom (``validation.batch_mcse``) against those
of the normal on the same z-scores, and of ArviZ's MCSEs with the normal (the rule before).
"""

import argparse
import json
import warnings
from pathlib import Path

import arviz as az
import numpy as np
import xarray as xr
from scipy import stats

from validation.batch_mcse import batch_mcse
from validation.compare import _summaries_numpy, without_numba

warnings.filterwarnings("ignore")
CHAINS, DRAWS = 4, 1000


def _ar1(rng, rho, reps):
    e = rng.standard_normal((CHAINS, DRAWS, reps))
    x = np.empty_like(e)
    x[:, 0] = e[:, 0]
    for t in range(1, DRAWS):
        x[:, t] = rho * x[:, t - 1] + np.sqrt(1 - rho**2) * e[:, t]
    return x


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=4000)
    parser.add_argument("--out", default="benchmarks/results/mcse_calibration.json")
    args = parser.parse_args()
    rng = np.random.default_rng(2)
    q = stats.norm.ppf([0.05, 0.95])
    shapes = {
        "normal": (lambda v: v, {"mean": 0.0, "sd": 1.0, "q05": q[0], "q95": q[1]}),
        "skewed": (
            lambda v: np.exp(0.6 * v),
            {
                "mean": np.exp(0.18),
                "sd": np.sqrt((np.exp(0.36) - 1) * np.exp(0.36)),
                "q05": np.exp(0.6 * q[0]),
                "q95": np.exp(0.6 * q[1]),
            },
        ),
    }
    rows = []
    for rho in (-0.3, 0.0, 0.6, 0.8):
        x = _ar1(rng, rho, args.reps)
        for shape, (f, truth) in shapes.items():
            ds = xr.Dataset({"v": (("chain", "draw", "k"), f(x))})
            with without_numba():
                arviz = _summaries_numpy(ds, az)
            ess = arviz[["ess_bulk", "ess_tail"]].min(axis=1)
            bm = batch_mcse(ds, ess)
            for stat, true in truth.items():
                est = arviz[stat].to_numpy()
                mcse = bm[f"mcse_{stat}"].to_numpy()
                nu = bm[f"nu_{stat}"].to_numpy()
                z = np.abs(est - true) / mcse
                z_arviz = np.abs(est - true) / arviz[f"mcse_{stat}"].to_numpy()
                row = {
                    "rho": rho,
                    "marginal": shape,
                    "stat": stat,
                    "ess": float(np.median(ess)),
                    "mcse_bias": float(mcse.mean() / est.std() - 1),
                    "mcse_cv": float(mcse.std() / mcse.mean()),
                    "nu_median": float(np.median(nu)),
                }
                for a in (0.01, 0.001):
                    row[f"t_{a}"] = float(np.mean(2 * stats.t.sf(z, nu) < a))
                    row[f"normal_{a}"] = float(np.mean(2 * stats.norm.sf(z) < a))
                    row[f"arviz_normal_{a}"] = float(np.mean(2 * stats.norm.sf(z_arviz) < a))
                rows.append(row)
                print(json.dumps(row), flush=True)
    command = f"python benchmarks/mcse_calibration.py --reps {args.reps}"
    Path(args.out).write_text(json.dumps({"command": command, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
