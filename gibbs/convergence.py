"""The convergence report made after every run: R-hat and ESS of every parameter, as PyMC does.

A run whose worst rank-normalised split R-hat exceeds 1.01, or whose bulk or tail ESS falls below
100 per chain, gets one :class:`ConvergenceWarning` naming the worst parameters and what to do;
the report is stored (as JSON) in ``posterior.attrs["convergence"]`` whatever it says, so that
``compare``, the report and a reader of a saved file can show it.
"""

from __future__ import annotations

import json
import warnings
from typing import Any

import numpy as np

import gibbs.diagnostics as diag

__all__ = ["ConvergenceWarning", "RHAT_MAX", "ESS_PER_CHAIN_MIN", "check", "report"]

RHAT_MAX = 1.01
ESS_PER_CHAIN_MIN = 100


class ConvergenceWarning(UserWarning):
    """A run whose R-hat or effective sample size says it has not converged."""


def _stacked(post, names: list[str]) -> tuple[np.ndarray, list[str]]:
    """Return the draws as one (chain, draw, P) array and a label per scalar parameter."""
    blocks, labels = [], []
    C, N = post.sizes["chain"], post.sizes["draw"]
    for name in names:
        da = post[name]
        other = [d for d in da.dims if d not in ("chain", "draw")]
        values = np.asarray(da.transpose("chain", "draw", *other).values, dtype=float)
        blocks.append(values.reshape(C, N, -1))
        if not other:
            labels.append(name)
            continue
        coords = [list(map(str, da[d].values)) for d in other]
        for idx in np.ndindex(*values.shape[2:]):
            labels.append(f"{name}[{','.join(c[i] for c, i in zip(coords, idx, strict=True))}]")
    return np.concatenate(blocks, axis=2), labels


def report(idata, var_names: list[str] | None = None, worst: int = 3) -> dict[str, Any]:
    """Return the convergence report of ``idata.posterior``.

    Keys: ``converged`` (bool), ``max_rhat``, ``min_ess_bulk``, ``min_ess_tail``, the thresholds,
    ``worst`` (up to ``worst`` parameters by R-hat and by ESS) and ``message`` (empty when
    converged). R-hat needs at least two chains; with one it is not computed.
    """
    post = idata.posterior
    names = var_names or [
        v for v in post.data_vars if post[v].size and np.issubdtype(post[v].dtype, np.floating)
    ]
    chains, draws = post.sizes["chain"], post.sizes["draw"]
    out: dict[str, Any] = {
        "chains": chains,
        "draws": draws,
        "rhat_max_allowed": RHAT_MAX,
        "ess_min_allowed": ESS_PER_CHAIN_MIN * chains,
    }
    if draws < 4 or not names:
        return {**out, "converged": None, "message": "too few draws to assess convergence"}
    x, labels = _stacked(post, names)
    z = diag.bulk_z(x)  # shared by bulk ESS and R-hat
    ess_bulk = dict(zip(labels, diag.ess_bulk(x, z).tolist(), strict=True))
    ess_tail = dict(zip(labels, diag.ess_tail(x).tolist(), strict=True))
    rhat = dict(zip(labels, diag.rhat(x, z).tolist(), strict=True)) if chains > 1 else {}
    # A parameter that never moves has NaN statistics: that is a failure, not a pass.
    still = np.ptp(x.reshape(-1, x.shape[2]), axis=0) == 0
    stuck = sorted(
        k
        for k, v, s in zip(labels, ess_bulk.values(), still, strict=True)
        if s or not np.isfinite(v)
    )
    for k in stuck:
        ess_bulk[k] = ess_tail[k] = float("nan")
        rhat.pop(k, None)
    ess = {k: min(ess_bulk[k], ess_tail[k]) for k in ess_bulk if np.isfinite(ess_bulk[k])}
    finite_rhat = {k: v for k, v in rhat.items() if np.isfinite(v)}
    out["max_rhat"] = max(finite_rhat.values()) if finite_rhat else None
    out["min_ess_bulk"] = min((v for v in ess_bulk.values() if np.isfinite(v)), default=None)
    out["min_ess_tail"] = min((v for v in ess_tail.values() if np.isfinite(v)), default=None)
    bad_rhat = sorted(
        ((k, v) for k, v in finite_rhat.items() if v > RHAT_MAX), key=lambda kv: -kv[1]
    )
    bad_ess = sorted(
        ((k, v) for k, v in ess.items() if v < ESS_PER_CHAIN_MIN * chains), key=lambda kv: kv[1]
    )
    out["worst"] = {
        "r_hat": [[k, round(v, 4)] for k, v in bad_rhat[:worst]],
        "ess": [[k, round(v, 1)] for k, v in bad_ess[:worst]],
        "stuck": stuck[:worst],
    }
    problems = []
    if bad_rhat:
        shown = ", ".join(f"{k} ({v:.3f})" for k, v in bad_rhat[:worst])
        problems.append(f"R-hat above {RHAT_MAX} for {len(bad_rhat)} parameter(s): {shown}")
    if bad_ess:
        shown = ", ".join(f"{k} ({v:.0f})" for k, v in bad_ess[:worst])
        problems.append(
            f"bulk or tail ESS below {ESS_PER_CHAIN_MIN} per chain "
            f"({ESS_PER_CHAIN_MIN * chains}) for {len(bad_ess)} parameter(s): {shown}"
        )
    if stuck:
        problems.append(f"draws that never move: {', '.join(stuck[:worst])}")
    out["converged"] = not problems
    out["message"] = (
        "; ".join(problems)
        + ". Run longer (draws=, tune=, or thin=), or try another scheme (scheme=)"
        if problems
        else ""
    )
    return out


def check(idata, *, warn: bool = True, var_names: list[str] | None = None) -> dict[str, Any]:
    """Compute the report, store it in ``idata.posterior.attrs["convergence"]`` and warn."""
    result = report(idata, var_names)
    idata.posterior.attrs["convergence"] = json.dumps(result)
    if warn and result["converged"] is False:
        warnings.warn(
            f"the Gibbs run has not converged: {result['message']}",
            ConvergenceWarning,
            stacklevel=4,
        )
    return result


def stored(idata) -> dict[str, Any] | None:
    """Return the report stored by :func:`check` in ``idata``, if any."""
    text = idata.posterior.attrs.get("convergence") if hasattr(idata, "posterior") else None
    return json.loads(text) if text else None
