"""The capability table: which battery runs for which structure x family, and why not.

Every refusal of a combination in the API, the harness and the command line comes from here
(``check``); the README prints the table and ``gibbs-suite data --capabilities`` shows it.
"""

from __future__ import annotations

import pandas as pd

from gibbs.families import FAMILY
from gibbs.structures import IMPLEMENTATIONS, STRUCTURES

__all__ = ["BATTERIES", "CAPABILITIES", "capability_table", "check", "refusal"]

# The batteries, in the order of the table's columns.
BATTERIES = (
    "sample",
    "twin",
    "compare",
    "mutants",
    "geweke",
    "sbc",
    "sbc-resumable",
    "pooling-baselines",
    "cli",
)
_DESCRIPTIONS = {
    "sample": "gibbs.sample / gibbs.specify",
    "twin": "PyMC twin, log-density identity tested",
    "compare": "compare against the twin's NUTS fit (API and gibbs-suite compare)",
    "mutants": "mutant catalogue (compare --mutants, geweke/sbc --mutant)",
    "geweke": "Geweke joint-distribution test (API and gibbs-suite geweke)",
    "sbc": "SBC, every replication's chains in one batch (API and gibbs-suite sbc)",
    "sbc-resumable": "SBC with --resume, --engine nutpie/pymc and Dask",
    "pooling-baselines": "compare's PSIS-LOO against Bayesian complete/no pooling, shrinkage plot",
    "cli": "gibbs-suite data / compare / geweke / sbc / bench",
}


_POOLING_GAUSSIAN_INTERCEPTS = (
    "Gaussian varying-intercept model only; for a binomial or count family a Bayesian "
    "no-pooling fit needs proper priors on every group intercept (a group of all-0 or all-1 "
    "outcomes, or of zero counts, has none otherwise): the maximum likelihood baselines stand in"
)


def _row(kernel: str, family: str) -> dict[str, str | None]:
    row: dict[str, str | None] = dict.fromkeys(BATTERIES)
    if (kernel, family) != ("intercepts", "gaussian"):
        row["pooling-baselines"] = _POOLING_GAUSSIAN_INTERCEPTS
    return row


# (structure, family) -> battery -> None when it runs, else the reason it is refused.
CAPABILITIES: dict[tuple[str, str], dict[str, str | None]] = {
    (s, f): (
        _row(IMPLEMENTATIONS[(s, f)].name, f)
        if (s, f) in IMPLEMENTATIONS
        else dict.fromkeys(BATTERIES, "no kernel for this combination")
    )
    for s in STRUCTURES
    for f in FAMILY
}


def refusal(structure: str, family: str, battery: str) -> str | None:
    """Return why ``battery`` does not run for ``structure`` x ``family``, or None if it does."""
    return CAPABILITIES[(structure, family)][battery]


def check(spec, battery: str) -> None:
    """Raise ``ValueError`` with the table's reason if ``battery`` does not run for ``spec``."""
    reason = refusal(spec.structure, spec.family.name, battery)
    if reason is not None:
        raise ValueError(
            f"{battery} for {spec.structure} x {spec.family.name}: {reason} "
            "(gibbs-suite data --capabilities)"
        )


def capability_table() -> pd.DataFrame:
    """Return the table: a row per structure x family, a column per battery ("yes" or "no")."""
    rows = []
    for (s, f), cells in CAPABILITIES.items():
        kernel = IMPLEMENTATIONS[(s, f)].name if (s, f) in IMPLEMENTATIONS else "-"
        row = {"structure": s, "family": f, "kernel": kernel}
        row.update({b: "yes" if r is None else "no" for b, r in cells.items()})
        rows.append(row)
    return pd.DataFrame(rows).set_index(["structure", "family"])


def describe() -> str:
    """Return the table as text, with what each battery is and every refusal's reason."""
    lines = [capability_table().to_string(), "", "batteries:"]
    lines += [f"  {b:14s} {d}" for b, d in _DESCRIPTIONS.items()]
    reasons = sorted({r for cells in CAPABILITIES.values() for r in cells.values() if r})
    if reasons:
        lines += ["", "refusals:"] + [f"  no = {r}" for r in reasons]
    return "\n".join(lines)
