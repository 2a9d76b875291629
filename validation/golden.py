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

import numpy as np
import pandas as pd

from validation.compare import (
    Comparison,
    between_chain_mcse,
    compare_posteriors,
    honest_mcse,
    summarize,
)

__all__ = [
    "Golden",
    "assert_agrees",
    "between_chain_mcse",
    "honest_mcse",
    "check_data",
    "compare_to_golden",
    "data_summary",
    "load",
    "save",
]

FORMAT = "gibbs-suite-golden/1"


@dataclass(frozen=True)
class Golden:
    """A loaded golden reference."""

    summary: pd.DataFrame
    provenance: dict[str, Any]
    var_names: list[str]

    def summary_for(self, var_names: list[str]) -> pd.DataFrame:
        """Rows of the scalars of ``var_names`` (``alpha`` gives every ``alpha[...]``).

        This method makes a golden usable wherever a posterior is compared with a reference:
        :func:`validation.compare.compare_posteriors` takes its summary in place of draws.
        """
        missing = [v for v in var_names if v not in self.var_names]
        if missing:
            raise KeyError(f"{missing} not in the golden reference (it has {self.var_names})")
        base = self.summary.index.str.split("[").str[0]
        return self.summary[base.isin(list(var_names))]


def data_summary(data: Any) -> dict[str, Any]:
    """Summarize the data a reference was built from, robustly to the floating-point path.

    Shapes, names and column means and sums of squares: a golden built from other data (a
    changed simulator or loader) is then detected by :func:`check_data` with a relative
    tolerance, not by a hash that the last bit of a BLAS kernel would change.
    """
    trials = getattr(data, "trials", None)
    return {
        "n": int(data.n),
        "n_groups": int(data.n_groups),
        "group_dim": str(data.group_dim),
        "x_names": list(data.x_names),
        "u_names": list(data.u_names),
        "group_sizes": np.bincount(data.group, minlength=data.n_groups).tolist(),
        "y_sum": float(np.sum(data.y)),
        "y_sumsq": float(np.sum(np.square(data.y))),
        "X_sum": np.sum(data.X, axis=0).tolist(),
        "U_sum": np.sum(data.U, axis=0).tolist(),
        "trials_sum": None if trials is None else int(np.sum(trials)),
    }


def _same(new: Any, old: Any, rtol: float) -> bool:
    """Equal names and counts; floating-point sums equal to a relative tolerance."""
    if isinstance(old, float) or (isinstance(old, list) and any(isinstance(v, float) for v in old)):
        new_arr, old_arr = np.asarray(new, dtype=float), np.asarray(old, dtype=float)
        return new_arr.shape == old_arr.shape and bool(
            np.allclose(new_arr, old_arr, rtol=rtol, atol=0.0)
        )
    return new == old


def check_data(golden: Golden, data: Any, *, name: str = "golden", rtol: float = 1e-9) -> None:
    """Raise ``ValueError`` unless ``data`` is the data ``golden`` was built from.

    Goldens without a recorded data summary pass (nothing to check against).
    """
    recorded = golden.provenance.get("data_summary")
    if recorded is None:
        return
    now = data_summary(data)
    differ = [key for key, value in recorded.items() if not _same(now.get(key), value, rtol)]
    if differ:
        raise ValueError(
            f"the {name} reference was built from other data ({', '.join(differ)} differ): "
            f"rebuild it with `make goldens GOLDENS={name}`"
        )


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
    summary = honest_mcse(summarize(post[names]), post[names])
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
    return compare_posteriors(
        idata,
        golden,
        golden.var_names,
        level=level,
        max_rhat=max_rhat,
        min_ess=min_ess,
        labels=("new", "golden"),
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
