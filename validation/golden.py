"""Golden references: compact posterior summaries with their provenance, for regression tests.

A golden file is JSON (never pickle) holding, per scalar parameter, the mean, sd, 5%/95% quantiles,
their Monte Carlo standard errors, bulk/tail ESS and R-hat, plus the provenance of the run that
made it: tool, versions, seed, settings, date. :func:`save` refuses a run that misses posteriordb's
acceptance rules (R-hat < 1.01, bulk and tail ESS >= ``min_ess``, no divergences), because a
reference with a large or unknown error would make every later comparison meaningless.

:func:`assert_agrees` compares a new posterior with a golden file by the same z-scores and Holm
procedure as :func:`validation.compare.compare_posteriors` and raises an ``AssertionError`` that
lists each failing parameter with its z-score.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from validation.compare import Comparison, decide, summarize

__all__ = ["Golden", "assert_agrees", "compare_to_golden", "load", "save"]

FORMAT = "gibbs-suite-golden/1"


@dataclass(frozen=True)
class Golden:
    """A loaded golden reference."""

    summary: pd.DataFrame
    provenance: dict[str, Any]
    var_names: list[str]


def save(
    idata: Any,
    path: str | Path,
    provenance: dict[str, Any],
    *,
    var_names: list[str] | None = None,
    max_rhat: float = 1.01,
    min_ess: float = 400.0,
) -> Path:
    """Write a golden reference of ``idata`` to ``path`` (JSON).

    Parameters
    ----------
    idata : InferenceData
        A long, converged run (posteriordb's rules are enforced).
    path : path
        Output file.
    provenance : dict
        At least ``tool`` and ``seed``; anything else that identifies the run (settings, data).
    var_names : list of str, optional
        Variables to keep (default: all of the posterior's).
    max_rhat, min_ess : float
        Acceptance rules.

    Returns
    -------
    Path
    """
    missing = {"tool", "seed"} - set(provenance)
    if missing:
        raise ValueError(f"provenance needs {sorted(missing)}")
    post = idata.posterior
    names = list(var_names) if var_names is not None else list(post.data_vars)
    summary = summarize(post[names])
    problems = []
    if (summary["r_hat"] > max_rhat).any():
        problems.append(f"R-hat up to {summary['r_hat'].max():.3f} (> {max_rhat})")
    ess = summary[["ess_bulk", "ess_tail"]].min(axis=1)
    if (ess < min_ess).any():
        problems.append(f"ESS down to {ess.min():.0f} (< {min_ess:g})")
    if "sample_stats" in idata.groups() and "diverging" in idata.sample_stats:
        n_div = int(idata.sample_stats["diverging"].sum())
        if n_div:
            problems.append(f"{n_div} divergent transitions")
    if problems:
        raise ValueError("not a valid golden reference: " + "; ".join(problems))
    record = {
        "format": FORMAT,
        "provenance": {
            **provenance,
            "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "chains": int(post.sizes["chain"]),
            "draws": int(post.sizes["draw"]),
        },
        "var_names": names,
        "parameters": summary.to_dict(orient="index"),
    }
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=1, default=float))
    return out


def load(path: str | Path) -> Golden:
    """Read a golden reference written by :func:`save`."""
    record = json.loads(Path(path).read_text())
    if record.get("format") != FORMAT:
        raise ValueError(f"{path} is not a gibbs-suite golden file (format {record.get('format')})")
    summary = pd.DataFrame.from_dict(record["parameters"], orient="index")
    return Golden(summary=summary, provenance=record["provenance"], var_names=record["var_names"])


def compare_to_golden(
    idata: Any,
    golden: Golden | str | Path,
    *,
    level: float = 0.01,
    max_rhat: float = 1.01,
    min_ess: float = 400.0,
) -> Comparison:
    """Compare a posterior with a golden reference (see :func:`assert_agrees`)."""
    if not isinstance(golden, Golden):
        golden = load(golden)
    post = idata.posterior if hasattr(idata, "posterior") else idata
    missing = [v for v in golden.var_names if v not in post.data_vars]
    if missing:
        return Comparison(
            "inconclusive",
            [f"{v} missing from the posterior" for v in missing],
            pd.DataFrame(),
            level,
            ("new", "golden"),
        )
    summary = summarize(post[golden.var_names])
    if not summary.index.equals(golden.summary.index):
        return Comparison(
            "inconclusive",
            ["parameters differ from the golden file's"],
            pd.DataFrame(),
            level,
            ("new", "golden"),
        )
    return decide(
        summary,
        golden.summary[summary.columns],
        labels=("new", "golden"),
        level=level,
        max_rhat=max_rhat,
        min_ess=min_ess,
        check_diagnostics=(True, False),
    )


def assert_agrees(
    idata: Any,
    golden: Golden | str | Path,
    *,
    level: float = 0.01,
    max_rhat: float = 1.01,
    min_ess: float = 400.0,
) -> Comparison:
    """Raise ``AssertionError`` unless ``idata`` agrees with the golden reference.

    The message lists each failing parameter with its largest z-score (in Monte Carlo standard
    errors), or why the comparison is inconclusive. Returns the comparison when it passes.
    """
    c = compare_to_golden(idata, golden, level=level, max_rhat=max_rhat, min_ess=min_ess)
    if c.verdict == "agree":
        return c
    lines = [f"posterior does not agree with the golden reference: {c.verdict}"]
    lines += [f"  {r}" for r in c.reasons]
    if len(c.table):
        bad = c.failing()
        z = bad[[f"z_{s}" for s in ("mean", "sd", "q05", "q95")]]
        for name, row in z.iterrows():
            stat = row.abs().idxmax()
            lines.append(f"  {name}: {stat} = {row[stat]:+.2f} ({bad.loc[name, 'verdict']})")
    raise AssertionError("\n".join(lines))
