"""Stored NUTS references (goldens) of every configuration the tests compare against NUTS.

Usage: ``python -m validation.build_goldens [NAME ...] [--list]`` (``make goldens``).

A test that ran NUTS itself would hinge on the machine: NUTS trajectories diverge from the first
bit in which two CPUs' floating-point paths differ, so the same seed gives another chain, and a
reference that sits near its own ESS guard passes on one machine and is inconclusive on another.
The tests therefore compare the Gibbs sampler with these stored summaries, each made once by a
long nutpie run on the PyMC twin and accepted only under posteriordb's rules (R-hat < 1.01, bulk
and tail ESS >= 400, no divergences; :func:`validation.golden.save`). Each file records its
provenance (tool, versions, seed, settings, the command) and a summary of the data it was built
from, so that a changed simulator or loader is detected (:func:`validation.golden.check_data`).

Every entry of :data:`GOLDENS` names one configuration (:class:`Case`: data, family, varying
slopes, further factors) and the NUTS settings that reach the acceptance rules with a wide
margin; tests build their data from the same entry.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["GOLDENS", "MODELS", "Case", "GoldenSpec", "golden_path", "load_golden", "main"]

GOLDEN_DIR = Path(__file__).parent / "goldens"
SEED = 20261127
# Gelman & Hill's radon models M0-M2, by the arguments of load_radon.
MODELS = {"M0": {"uranium": False, "floor": False}, "M1": {"uranium": False}, "M2": {}}


@dataclass(frozen=True)
class Case:
    """One model configuration: the data and what the model makes of it."""

    data: Any
    family: str = "gaussian"
    slopes: tuple[str, ...] = ()
    factors: dict[str, np.ndarray] | None = None
    priors: Any = None
    reference_options: dict | None = None

    def spec(self):
        """Return the :class:`gibbs.spec.ModelSpec` of this configuration."""
        from gibbs.spec import specify

        return specify(
            self.data,
            family=self.family,
            priors=self.priors,
            slopes=self.slopes or None,
            factors=self.factors,
        )

    def sample_kwargs(self) -> dict[str, Any]:
        """Keywords of :func:`gibbs.sample` (beside the data) for this configuration."""
        out = {"family": self.family, "slopes": self.slopes or None, "factors": self.factors}
        return {**out, "priors": self.priors} if self.priors is not None else out

    def var_names(self) -> list[str]:
        """Return the variables shared by the Gibbs output and the twin."""
        from reference_models.reference import compared_vars

        return compared_vars(self.spec())

    def fit_reference(self, parameterization: str, **sampling: Any):
        """Sample the PyMC twin with nutpie (see :mod:`reference_models.reference`)."""
        from reference_models.reference import fit_spec

        options = {**(self.reference_options or {}), **sampling}
        return fit_spec(self.spec(), parameterization=parameterization, **options)


@dataclass(frozen=True)
class GoldenSpec:
    """How one golden reference is made: its configuration and the NUTS run."""

    name: str
    description: str
    case: Callable[..., Case]
    draws: int = 5000
    tune: int = 2000
    # Eight chains: the between-chain estimate of each MCSE (validation.golden.honest_mcse)
    # needs more than a handful.
    chains: int = 8
    target_accept: float = 0.95
    parameterization: str = "noncentered"
    needs_radon_dir: bool = False
    needs_election88_dir: bool = False
    notes: str = ""
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def path(self) -> Path:
        """The shipped file."""
        return GOLDEN_DIR / f"{self.name}.json"


def _radon(model: str) -> Callable[[], Case]:
    def case() -> Case:
        from gibbs.datasets import load_radon

        return Case(load_radon(**MODELS[model]))

    return case


def _synthetic() -> Case:
    """Eight unbalanced groups (1 to 20 rows)."""
    from gibbs.datasets import simulate_hierarchical

    sizes = np.array([3, 8, 1, 12, 5, 20, 2, 9])
    data, _ = simulate_hierarchical(
        8, sizes, beta=[0.8], gamma=[1.0, 0.5], sigma_y=0.5, sigma_alpha=0.7, seed=4
    )
    return Case(data)


def _binomial(dataset: str, family: str) -> Callable[[], Case]:
    def case() -> Case:
        from gibbs.datasets import load_radon_action_level, simulate_binomial

        if dataset == "radon_action_level":
            data = load_radon_action_level()
        elif dataset == "synthetic_trials":
            data = simulate_binomial(12, 8, trials=3, seed=5)[0]
        else:  # groups of 2-6 rows and sigma_alpha = 2: many groups all-0 or all-1
            data = simulate_binomial(
                30, 2 + np.arange(30) % 5, gamma=(0.0, 0.5), sigma_alpha=2.0, seed=0
            )[0]
        return Case(data, family=family)

    return case


def _radon_m3() -> Case:
    from gibbs.datasets import load_radon

    return Case(load_radon(uranium=False, floor=True), slopes=("floor",))


def _radon_all_levels(data_dir: str | Path | None = None) -> Case:
    from gibbs.datasets import load_radon_all

    data, factors = load_radon_all(data_dir).to_levels()
    return Case(data, factors=factors)


def _crossed_levels() -> Case:
    from gibbs.datasets import simulate_factors

    data, factors, _ = simulate_factors(25, 8, levels=6, nested=False, seed=4)
    return Case(data, factors=factors)


def _radon_m3_binomial(family: str) -> Callable[[], Case]:
    def case() -> Case:
        from gibbs.datasets import load_radon_action_level

        return Case(load_radon_action_level(uranium=False), family=family, slopes=("floor",))

    return case


def _election88(family: str) -> Callable[..., Case]:
    def case(data_dir: str | Path | None = None) -> Case:
        from gibbs.election88 import REFERENCE_OPTIONS, election88_priors, load_election88

        polls = load_election88(data_dir)
        return Case(
            polls.data,
            family=family,
            factors=polls.factors,
            priors=election88_priors(),
            reference_options={
                k: v for k, v in REFERENCE_OPTIONS.items() if k != "parameterization"
            },
        )

    return case


def _police_stops(family: str) -> Callable[..., Case]:
    def case(data_dir: str | Path | None = None) -> Case:
        from gibbs.police_stops import load_police_stops

        stops = load_police_stops(data_dir, quiet=True)
        return Case(stops.data, family=family, factors=stops.factors)

    return case


_SPECS = [
    *(
        GoldenSpec(
            f"radon_{m}",
            f"radon Minnesota, ARM preparation (ArviZ copy), model {m}",
            _radon(m),
            chains=4,  # the first goldens, made before the between-chain MCSE
        )
        for m in MODELS
    ),
    GoldenSpec(
        "synthetic_unbalanced",
        "synthetic varying intercepts: 8 groups of 1 to 20 rows (simulate_hierarchical, seed 4)",
        _synthetic,
        target_accept=0.99,  # 0.95 left 2 divergences in 20,000 draws
    ),
    *(
        GoldenSpec(
            f"{dataset}_{family}",
            f"{family} varying intercepts: {label}",
            _binomial(dataset, family),
            # Under separation the group scale mixes slowly for NUTS too.
            draws=10000 if dataset == "separation" else 5000,
        )
        for dataset, label in (
            ("radon_action_level", "radon Minnesota, house above 4 pCi/L (M2 design)"),
            ("synthetic_trials", "12 groups of 8 rows, 3 trials per row (seed 5)"),
            ("separation", "30 groups of 2-6 rows, sigma_alpha = 2, many all-0/all-1 groups"),
        )
        for family in ("logistic", "probit")
    ),
    GoldenSpec(
        "radon_M3",
        "radon Minnesota M3: the floor slope varies by county (Huang-Wand prior on Sigma)",
        _radon_m3,
        # The slope's standard deviation has mass near zero, where NUTS mixes slowly (bulk ESS
        # between 0.006 and 0.1 per draw on different machines): a long run.
        draws=15000,
        notes="bulk ESS of sigma_alpha[floor] is the binding constraint",
    ),
    GoldenSpec(
        "radon_all_levels",
        "all-states radon: house < county < state (srrs2.dat, cty.dat), centered twin",
        _radon_all_levels,
        draws=10000,
        # 8 x 4000 draws left R-hat at 1.011. Non-centered, NUTS mixes slowly between the
        # intercept and the 9 state effects.
        parameterization="centered",
        needs_radon_dir=True,
    ),
    GoldenSpec(
        "crossed_levels",
        "synthetic crossed factors: 25 groups of 8 rows, a 6-level factor (seed 4)",
        _crossed_levels,
        draws=5000,
        tune=3000,
        # Divergences in 8 x 5000 draws: 498 with the centered twin, 51 with the non-centered
        # one at target_accept 0.95, 2 at 0.99 (and 2 in 4 x 10,000): smaller steps still.
        target_accept=0.999,
    ),
    GoldenSpec(
        "radon_M3_logistic",
        "radon Minnesota, house above 4 pCi/L; the floor slope varies by county (logistic)",
        _radon_m3_binomial("logistic"),
    ),
    GoldenSpec(
        "election88_logistic",
        "Gelman & Hill's 1988 polls (section 14.1): state within region, age, education, "
        "age x education; 1,458 binomial cells",
        _election88("logistic"),
        # 8 x 10,000 draws at target_accept 0.99 left 6 divergent transitions (the small
        # factors' scales near zero): smaller steps.
        target_accept=0.999,
        needs_election88_dir=True,
    ),
    *(
        GoldenSpec(
            f"police_stops_{family}",
            f"Gelman & Hill's police stops (section 15.1): 75 precincts crossed with 3 ethnic "
            f"groups, log previous-year arrests as offset, {label}",
            _police_stops(family),
            draws=5000,
            # Non-centered or centered, NUTS diverges on the ridge of the intercept and the
            # three ethnic effects' mean, which the data cannot see; the mean-split twin moves
            # that mean apart from the intercept (reference_models.spec_twin).
            parameterization="mean-split",
            # negative binomial at 0.95: 18 divergent transitions in 8 x 5000 draws.
            target_accept=0.99 if family == "negative_binomial" else 0.95,
            notes="the mean-split twin: the same posterior, the ridge of intercept and ethnic "
            "mean rotated out",
        )
        for family, label in (
            ("poisson", "row-level lognormal overdispersion"),
            ("negative_binomial", "negative-binomial overdispersion"),
        )
    ),
]
GOLDENS: dict[str, GoldenSpec] = {s.name: s for s in _SPECS}


def golden_path(name: str) -> Path:
    """Path of a shipped golden reference (``"M2"`` is short for ``"radon_M2"``)."""
    spec = GOLDENS.get(name) or GOLDENS.get(f"radon_{name}")
    if spec is None:
        raise KeyError(f"no golden reference {name!r}; shipped: {sorted(GOLDENS)}")
    return spec.path


def load_golden(name: str, case: Case | None = None):
    """Load a shipped golden, checking that ``case``'s data are the data it was built from.

    Raises
    ------
    FileNotFoundError
        The golden was never built: the message says how to build it.
    ValueError
        It was built from other data (see :func:`validation.golden.check_data`).
    """
    from validation.golden import check_data, load

    path = golden_path(name)
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: build it with `make goldens GOLDENS={name}`")
    golden = load(path)
    if case is not None:
        check_data(golden, case.data, name=path.stem)
    return golden


def build(spec: GoldenSpec, seed: int = SEED, draws: int | None = None) -> Path:
    """Run the long NUTS fit of ``spec`` and write its golden file (acceptance rules enforced)."""
    import arviz
    import nutpie
    import pymc

    from validation.golden import data_summary, save

    case = spec.case()
    draws = draws or spec.draws
    settings = {
        "draws": draws,
        "tune": spec.tune,
        "chains": spec.chains,
        "target_accept": spec.target_accept,
        "parameterization": spec.parameterization,
    }
    idata = case.fit_reference(
        spec.parameterization,
        sampler="nutpie",
        draws=draws,
        tune=spec.tune,
        chains=spec.chains,
        seed=seed,
        target_accept=spec.target_accept,
        log_likelihood=False,
    )
    provenance = {
        "tool": f"nutpie NUTS on the PyMC twin ({spec.parameterization})",
        "seed": seed,
        "settings": settings,
        "data": spec.description,
        "family": case.family,
        "slopes": list(case.slopes),
        "factors": list(case.factors or {}),
        "priors": str(idata.posterior.attrs.get("priors", "")),
        "versions": {
            "nutpie": nutpie.__version__,
            "pymc": pymc.__version__,
            "arviz": arviz.__version__,
        },
        "command": f"python -m validation.build_goldens {spec.name}",
        "data_summary": data_summary(case.data),
        **({"notes": spec.notes} if spec.notes else {}),
    }
    return save(idata, spec.path, provenance, var_names=case.var_names())


def main(argv: list[str] | None = None) -> None:
    """Rebuild the named golden files (default: every one)."""
    import os
    import warnings

    warnings.filterwarnings("ignore")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "names", nargs="*", help=f"goldens to rebuild (default all): {list(GOLDENS)}"
    )
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--draws", type=int, help="draws per chain (default: each golden's own)")
    parser.add_argument("--list", action="store_true", help="list the goldens and stop")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in GOLDENS]
    if unknown:
        parser.error(f"unknown golden(s) {unknown}; known: {list(GOLDENS)}")
    specs = [GOLDENS[n] for n in args.names] or list(GOLDENS.values())
    if args.list:
        for s in specs:
            print(f"{s.name:28s} {s.chains} x {s.draws} draws  {s.description}")
        return
    shared = Path(__file__).resolve().parents[2] / "shared" / "data" / "radon"
    if not os.environ.get("GIBBS_SUITE_RADON_DIR") and shared.is_dir():
        os.environ["GIBBS_SUITE_RADON_DIR"] = str(shared)  # a checkout beside the shared data
    polls = shared.parent / "election88"
    if not os.environ.get("GIBBS_SUITE_ELECTION88_DIR") and polls.is_dir():
        os.environ["GIBBS_SUITE_ELECTION88_DIR"] = str(polls)
    failed = []
    for i, spec in enumerate(specs, 1):
        print(
            f"[{i}/{len(specs)}] {spec.name}: nutpie, {spec.chains} x {spec.draws} ...", flush=True
        )
        try:
            print(f"    wrote {build(spec, args.seed, args.draws)}", flush=True)
        except ValueError as exc:  # a run that misses the acceptance rules: keep the old file
            failed.append(spec.name)
            print(f"    {spec.name} not written: {exc}", flush=True)
    if failed:
        raise SystemExit(f"not rebuilt (acceptance rules not met): {', '.join(failed)}")


if __name__ == "__main__":
    main()
