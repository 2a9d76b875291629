"""Build the shipped exact reference posteriors (quadrature, :mod:`reference_models.exact`).

Usage: python -m validation.build_exact [NAME ...]   (default: all of :data:`SHIPPED`)

Each file in ``validation/goldens/exact/`` has the golden format (``validation.golden.load``
reads it; ``compare_posteriors`` takes it in place of NUTS draws): per scalar the exact mean,
sd, 5% and 95% quantiles, as "MCSE" the change between the two quadrature grids, no ESS (the
reference is not a sample), and provenance: method, grids, convergence, data summary, priors.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
from collections.abc import Callable
from pathlib import Path

from validation.golden import FORMAT, Golden, data_summary, load

__all__ = ["EXACT", "EXACT_REGRESSIONS", "SHIPPED", "exact_path", "load_exact", "main"]

EXACT_DIR = Path(__file__).resolve().parent / "goldens" / "exact"


def _radon(model: str) -> Callable:
    def data(data_dir=None):  # the ArviZ copy: no files needed
        from gibbs.datasets import load_radon
        from validation.build_goldens import MODELS

        return load_radon(**MODELS[model])

    return data


def _posteriordb(model: str) -> Callable:
    def data(data_dir=None):  # the survey files (GIBBS_SUITE_RADON_DIR by default)
        from gibbs.posteriordb import load_radon_mn

        return load_radon_mn(model, data_dir)

    return data


def _no_priors():
    return None  # the data's default: Gelman & Hill's


def _posteriordb_priors():
    from gibbs.posteriordb import posteriordb_priors

    return posteriordb_priors()


_POSTERIORDB = (
    "radon_partially_pooled",
    "radon_variable_intercept",
    "radon_hierarchical_intercept",
)
# name -> (data(data_dir=None), priors(), description).
EXACT: dict[str, tuple[Callable, Callable, str]] = {
    **{
        f"radon_{m}": (
            _radon(m),
            _no_priors,
            f"radon Minnesota, ARM preparation (ArviZ copy), model {m}, Gelman & Hill's priors",
        )
        for m in ("M0", "M1", "M2")
    },
    **{
        f"radon_mn-{m}": (
            _posteriordb(m),
            _posteriordb_priors,
            f"posteriordb radon_mn-{m} (its preparation of the survey files; half-normal(0, 1) "
            "scales, normal(0, 10) locations)",
        )
        for m in _POSTERIORDB
    },
}


def _radon_mn_rows(data_dir=None):
    from gibbs.posteriordb import load_radon_mn

    return load_radon_mn("radon_variable_intercept", data_dir)


def _regression_priors():
    from gibbs.posteriordb import regression_priors

    return regression_priors()


# posteriordb's radon regressions with one scale (1-D quadrature,
# reference_models.exact.exact_regression): name -> (rows(data_dir), model, priors(), description).
EXACT_REGRESSIONS: dict[str, tuple[Callable, str, Callable, str]] = {
    f"radon_mn-{m}": (
        _radon_mn_rows,
        m,
        _regression_priors,
        f"posteriordb radon_mn-{m} (its preparation of the survey files; normal(0, 10) "
        "coefficients, half-normal(0, 1) sigma_y)",
    )
    for m in ("radon_pooled", "radon_county_intercept")
}
SHIPPED = sorted({*EXACT, *EXACT_REGRESSIONS})


def _hierarchical(name: str):
    from reference_models.exact import exact_posterior

    make, priors, description = EXACT[name]
    data = make()
    return data, exact_posterior(data, priors(), description=description)


def _regression(name: str):
    from gibbs.posteriordb import regression_design
    from reference_models.exact import exact_regression

    rows, model, priors, description = EXACT_REGRESSIONS[name]
    data = rows()
    return data, exact_regression(
        regression_design(model, data), *priors(), description=description
    )


_COMPUTE = {**dict.fromkeys(EXACT, _hierarchical), **dict.fromkeys(EXACT_REGRESSIONS, _regression)}


def exact_path(name: str) -> Path:
    """Path of a shipped exact reference."""
    if name not in _COMPUTE:
        raise KeyError(f"no exact reference {name!r}; shipped: {SHIPPED}")
    return EXACT_DIR / f"{name}.json"


def load_exact(name: str) -> Golden:
    """Load a shipped exact reference (a :class:`validation.golden.Golden`)."""
    return load(exact_path(name))


def _number(x: float) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def build(name: str) -> Path:
    """Compute one exact reference and write it."""
    import numpy as np

    data, exact = _COMPUTE[name](name)
    provenance = {
        **exact.provenance,
        "seed": None,  # nothing random: the quadrature is deterministic
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "numpy": np.__version__,
        "data_summary": data_summary(data),
    }
    params = {
        idx: {k: _number(v) for k, v in row.items()}
        for idx, row in exact.summary.to_dict(orient="index").items()
    }
    path = exact_path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "format": FORMAT,
        "provenance": provenance,
        "var_names": exact.var_names,
        "parameters": params,
    }
    path.write_text(json.dumps(record, indent=1) + "\n")
    return path


def main(argv: list[str] | None = None) -> int:
    """Build the named exact references (all by default)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", default=SHIPPED)
    args = parser.parse_args(argv)
    for name in args.names:
        path = build(name)
        conv = json.loads(path.read_text())["provenance"]["convergence"]
        print(f"{name}: {path} (largest change between grids {conv['max_change_over_sd']:.1e} sd)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
