"""Rebuild the shipped golden references for radon M0, M1 and M2 from long NUTS runs.

Usage: python -m validation.build_goldens [--draws 5000]

Each comes from nutpie on the non-centered PyMC twin with Gelman & Hill's priors, and must meet
posteriordb's acceptance rules (R-hat < 1.01, bulk and tail ESS >= 400, no divergences).
"""

from __future__ import annotations

import argparse
from pathlib import Path

GOLDEN_DIR = Path(__file__).parent / "goldens"
MODELS = {"M0": {"uranium": False, "floor": False}, "M1": {"uranium": False}, "M2": {}}


def golden_path(model: str) -> Path:
    """Path of the shipped golden reference of radon ``model``."""
    return GOLDEN_DIR / f"radon_{model}.json"


def main() -> None:
    """Rebuild every shipped golden file."""
    import warnings

    import arviz
    import nutpie
    import pymc

    from gibbs.datasets import load_radon
    from reference_models.fit import fit_reference
    from reference_models.twins import model_var_names
    from validation.golden import save

    warnings.filterwarnings("ignore")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=5000)
    parser.add_argument("--tune", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=20261127)
    args = parser.parse_args()
    for model, kwargs in MODELS.items():
        data = load_radon(**kwargs)
        idata = fit_reference(
            data,
            sampler="nutpie",
            draws=args.draws,
            tune=args.tune,
            chains=4,
            seed=args.seed,
            target_accept=0.95,
            log_likelihood=False,
        )
        provenance = {
            "tool": "nutpie NUTS on the PyMC twin (non-centered)",
            "seed": args.seed,
            "settings": {
                "draws": args.draws,
                "tune": args.tune,
                "chains": 4,
                "target_accept": 0.95,
            },
            "data": f"radon Minnesota, ARM preparation (ArviZ copy), model {model}",
            "priors": "gelman-hill: Flat beta and gamma, HalfFlat sigma_y and sigma_alpha",
            "versions": {
                "nutpie": nutpie.__version__,
                "pymc": pymc.__version__,
                "arviz": arviz.__version__,
            },
            "command": "python -m validation.build_goldens",
        }
        path = save(idata, golden_path(model), provenance, var_names=model_var_names(data))
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
