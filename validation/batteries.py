"""Geweke's test and SBC over the design library and the stress settings, one verdict each.

A battery at one design sees only the mistakes that design exposes (:mod:`validation.designs`),
and a correction step's mistakes show only where its proposal is poor
(:mod:`gibbs.kernels.tuning`). :func:`geweke_designs` and :func:`sbc_designs` therefore run a
configuration's sweep on several designs and, on the ``unbalanced`` design, under every stress
setting that changes the sweep's draws. The family-wise level is split over the runs
(Bonferroni), so that a correct sampler fails the whole battery with probability at most
``level``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from gibbs.kernels.tuning import STRESS, tuned
from gibbs.spec import ModelSpec
from validation.designs import GEWEKE_DESIGNS, SBC_DESIGNS, Design, design_spec, designs_for

__all__ = [
    "BatteryResult",
    "changes_draws",
    "geweke_designs",
    "plan",
    "sbc_designs",
    "sbc_spec",
]

# The design on which the stress settings run (unequal groups: every term is visible).
STRESS_DESIGN = "unbalanced"


@dataclass
class BatteryResult:
    """Verdicts of one battery over designs and settings.

    Attributes
    ----------
    battery : str
        ``"geweke"`` or ``"sbc"``.
    table : DataFrame
        One row per run: design, setting, passed, the smallest p-value (or largest |z|), the
        level it was tested at, seconds.
    level : float
        Family-wise level over all runs.
    results : dict
        The full result of every run (:class:`validation.geweke.GewekeResult` or
        :class:`validation.sbc.SBCResult`), by (design, setting).
    """

    battery: str
    table: pd.DataFrame
    level: float
    results: dict = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        """Whether every run passed."""
        return bool(self.table["passed"].all())

    def __str__(self) -> str:
        failed = self.table[~self.table["passed"]]
        verdict = "PASS" if self.passed else "FAIL"
        head = (
            f"{self.battery}: {verdict} ({len(self.table)} runs over designs and stress "
            f"settings, family-wise level {self.level:g} split over them)"
        )
        if len(failed):
            head += "; failed: " + ", ".join(f"{d}/{s}" for d, s in failed.index)
        return head


def changes_draws(spec: ModelSpec, sweep: Sequence[Callable], setting: str) -> bool:
    """Whether the stress ``setting`` changes a few sweeps' draws (it touches a correction)."""
    from gibbs.sampling import sample_spec

    def draws(tuning: str | None) -> list[np.ndarray]:
        with tuned(tuning), np.errstate(all="ignore"):
            idata = sample_spec(
                spec,
                sweep,
                "probe",
                draws=3,
                tune=2,
                chains=2,
                seed=5,
                progressbar=False,
                log_likelihood=False,
                compute_convergence_checks=False,
            )
        return [v.values for v in idata.posterior.data_vars.values()]

    return any(
        not np.array_equal(a, b, equal_nan=True)
        for a, b in zip(draws(None), draws(setting), strict=True)
    )


def plan(
    spec: ModelSpec,
    sweep: Sequence[Callable],
    designs: Sequence[str | Design],
    stress: bool = True,
    seed: int = 0,
) -> list[tuple[str, str, ModelSpec]]:
    """Return the runs (design, setting, spec): every design, then the stress settings."""
    chosen = [d if isinstance(d, Design) else None for d in designs]
    named = designs_for(spec, [d for d in designs if isinstance(d, str)])
    library = [d for d in chosen if d is not None] + named
    runs = [(d.name, "default", design_spec(spec, d, seed)) for d in library]
    if stress:
        base = next((r for r in runs if r[0] == STRESS_DESIGN), None)
        if base is None:
            from validation.designs import DESIGNS

            base = (STRESS_DESIGN, "default", design_spec(spec, DESIGNS[STRESS_DESIGN], seed))
        for setting in STRESS:
            if changes_draws(base[2], sweep, setting):
                runs.append((base[0], setting, base[2]))
    return runs


def _run(
    battery: str,
    runs: list[tuple[str, str, ModelSpec]],
    one: Callable[[ModelSpec, float], Any],
    statistic: Callable[[Any], float],
    level: float,
    progress: Callable[[str], None] | None,
    fail_fast: bool = False,
) -> BatteryResult:
    rows, results = [], {}
    each = level / max(len(runs), 1)
    for k, (design, setting, spec) in enumerate(runs):
        if fail_fast and rows and not all(r["passed"] for r in rows):
            break  # the battery has failed: the remaining runs cannot change its verdict
        if progress is not None:
            progress(f"{battery} {k + 1}/{len(runs)}: design {design}, setting {setting}")
        start = time.perf_counter()
        with tuned(setting):
            result = one(spec, each)
        results[(design, setting)] = result
        rows.append(
            {
                "design": design,
                "setting": setting,
                "passed": bool(result.passed),
                "statistic": statistic(result),
                "level": each,
                "rows": spec.data.n,
                "groups": spec.data.n_groups,
                "seconds": time.perf_counter() - start,
            }
        )
    table = pd.DataFrame(rows).set_index(["design", "setting"])
    return BatteryResult(battery, table, level, results)


def geweke_designs(
    spec: ModelSpec,
    sweep: Sequence[Callable],
    *,
    designs: Sequence[str | Design] = GEWEKE_DESIGNS,
    stress: bool = True,
    level: float = 0.01,
    seed: int = 1,
    progress: Callable[[str], None] | None = None,
    fail_fast: bool = False,
    **settings: Any,
) -> BatteryResult:
    """Run Geweke's test of ``sweep`` on every design (and stress setting) of ``spec``.

    ``settings`` go to :func:`validation.calibration.geweke` (chains, iterations, burn).
    The statistic column is the largest |z| of the run. ``fail_fast`` stops at the first
    failed run (the levels stay those of the full plan).
    """
    from validation.calibration import geweke

    runs = plan(spec, sweep, designs, stress, seed)
    return _run(
        "geweke",
        runs,
        lambda s, lvl: geweke(s, sweep, level=lvl, seed=seed, **settings),
        lambda r: float(r.table["z"].abs().max()),
        level,
        progress,
        fail_fast,
    )


def sbc_spec(
    spec: ModelSpec,
    sweep: Sequence[Callable],
    *,
    replications: int,
    seed: int,
    n_ranks: int = 99,
    chains: int = 2,
    draws: int = 500,
    tune: int = 200,
    level: float = 0.01,
):
    """Run the batched Gibbs SBC of ``sweep`` on ``spec`` (any kernel), in this process."""
    from gibbs.kernels.tuning import current
    from validation.calibration import CALIBRATIONS, resumable_sbc, sbc_batch
    from validation.sbc import GibbsEngine

    # Under a stress setting that mixes slowly the fits start from an arbitrary point: longer
    # warm-up, so that SBC measures calibration and not burn-in.
    common = {"chains": chains, "draws": draws, "tune": tune * current().warmup_factor}
    if CALIBRATIONS[spec.implementation.name].sbc_batch is not None:
        return sbc_batch(
            spec,
            sweep,
            replications=replications,
            seed=seed,
            n_ranks=n_ranks,
            level=level,
            **common,
        )
    engine = GibbsEngine(sweep=tuple(sweep), family=spec.family.name, **common)
    battery = resumable_sbc(
        spec, engine, replications=replications, seed=seed, n_ranks=n_ranks, chunk=250
    )
    return battery.run(progressbar=False, level=level)


def sbc_designs(
    spec: ModelSpec,
    sweep: Sequence[Callable],
    *,
    designs: Sequence[str | Design] = SBC_DESIGNS,
    stress: bool = True,
    level: float = 0.01,
    seed: int = 1,
    replications: int = 1000,
    progress: Callable[[str], None] | None = None,
    fail_fast: bool = False,
    **settings: Any,
) -> BatteryResult:
    """Run SBC of ``sweep`` on every design (and stress setting) of ``spec``.

    ``settings`` go to :func:`sbc_spec` (n_ranks, chains, draws, tune). The statistic column is
    the smallest p-value of the run; ``fail_fast`` as in :func:`geweke_designs`.
    """
    runs = plan(spec, sweep, designs, stress, seed)
    return _run(
        "sbc",
        runs,
        lambda s, lvl: sbc_spec(
            s, sweep, replications=replications, seed=seed, level=lvl, **settings
        ),
        lambda r: float(r.tests[["p_chi2", "p_ecdf"]].min().min()),
        level,
        progress,
        fail_fast,
    )
