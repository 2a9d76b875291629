"""The ESS margins of the command-line comparisons that the tests run with a fresh NUTS run.

Usage: python scripts/nuts_margins.py [main mutants probit_radon logistic_separation m3]

For each command it prints the verdict, the largest |z|, and the smallest bulk/tail ESS of both
samplers, which the comparison's guard needs at 400 or more: a test that runs NUTS itself must
clear the guard with a wide margin (or, for the M3 test that expects INCONCLUSIVE, miss it by one),
because another CPU gives another NUTS run.
"""

from __future__ import annotations

import contextlib
import io
import sys
import warnings

import validation.compare as compare
from validation.cli import main as cli

RUNS = {
    "main": ["compare", "--reference", "nutpie", "--seed", "2", "--no-report"],
    "mutants": [
        "compare", "--dataset", "synthetic", "--groups", "12", "--group-size", "6",
        "--reference", "nutpie", "--no-report", "--quiet", "--mutants", "--draws", "2000",
    ],
    "probit_radon": [
        "compare", "--family", "probit", "--dataset", "radon", "--reference", "nutpie",
        "--draws", "2000", "--no-report",
    ],
    "logistic_separation": [
        "compare", "--family", "logistic", "--dataset", "separation", "--reference", "nutpie",
        "--draws", "5000", "--no-report",
    ],
    "m3": [
        "compare", "--formula", "log_radon ~ floor + (1 + floor | county)", "--reference",
        "nutpie", "--draws", "100", "--tune", "200", "--no-report",
    ],
}  # fmt: skip


def main() -> None:
    """Run the named commands (default: all) and print their margins."""
    warnings.filterwarnings("ignore")
    seen = []
    original = compare.compare_posteriors

    def spy(*args, **kwargs):
        result = original(*args, **kwargs)
        seen.append(result)
        return result

    compare.compare_posteriors = spy  # the first comparison of a command is Gibbs against NUTS
    for name in sys.argv[1:] or list(RUNS):
        seen.clear()
        with contextlib.redirect_stdout(io.StringIO()):
            code = cli(RUNS[name])
        c = seen[0]
        t, (la, lb) = c.table, c.labels
        ess = {lbl: t[[f"ess_bulk_{lbl}", f"ess_tail_{lbl}"]].min(axis=1) for lbl in (la, lb)}
        print(
            f"{name}: exit {code}, {c.verdict}, max |z| {c.max_abs_z():.2f}; min ESS "
            + ", ".join(f"{lbl} {e.min():.0f} ({e.idxmin()})" for lbl, e in ess.items()),
            flush=True,
        )


if __name__ == "__main__":
    main()
