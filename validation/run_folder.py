"""The fingerprint of a resumable run, so that ``--resume`` never mixes two runs' results.

A run folder records, in ``run.json``, every setting that changes what a replication computes:
the design (a hash of X, U, the groups and the trials), the family and priors, the engine and
its sweep (block by block), the number of ranks, the seed, the ranked quantities and the package
version, plus whatever the caller adds (the CLI's scheme, mutant and design names). Resuming
with any of them changed is refused with the differences named.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["RunMismatch", "check_or_write", "describe_callable", "design_hash", "fingerprint"]

FILE = "run.json"


class RunMismatch(ValueError):
    """A run folder that belongs to another configuration."""


def design_hash(data) -> str:
    """Return a short hash of everything of ``data`` but its outcomes (X, U, groups, trials)."""
    h = hashlib.sha256()
    for arr in (data.X, data.U, data.group, data.binomial_trials):
        a = np.ascontiguousarray(arr)
        h.update(str(a.shape).encode())
        h.update(a.tobytes())
    return h.hexdigest()[:16]


def describe_callable(f: Any) -> str:
    """Name a block (or a sampler) stably across processes: module.qualname, with partials."""
    if isinstance(f, functools.partial):
        bound = hashlib.sha256(repr((f.args, sorted(f.keywords.items()))).encode()).hexdigest()
        return f"partial({describe_callable(f.func)}, {bound[:8]})"
    name, inner = getattr(f, "name", None), getattr(f, "update", None)  # a named Block
    if isinstance(name, str) and callable(inner) and inner is not f:
        return f"{name}:{describe_callable(inner)}"
    module = getattr(f, "__module__", None) or type(f).__module__
    qual = getattr(f, "__qualname__", None) or type(f).__qualname__
    return f"{module}.{qual}"


def _describe_engine(engine: Any) -> str:
    if not dataclasses.is_dataclass(engine):
        return describe_callable(engine)
    parts = []
    for field in dataclasses.fields(engine):
        value = getattr(engine, field.name)
        if field.name == "sweep":
            value = "[" + ", ".join(describe_callable(b) for b in value) + "]"
        elif callable(value):
            value = describe_callable(value)
        parts.append(f"{field.name}={value}")
    return f"{type(engine).__name__}({', '.join(parts)})"


def fingerprint(*, data, priors, family, engine, n_ranks, seed, names, extra=None) -> dict:
    """Return the settings that define a run's replications, as strings."""
    from gibbs.version import __version__

    fp = {
        "design": design_hash(data),
        "family": str(family),
        "priors": repr(priors),
        "engine": _describe_engine(engine),
        "n_ranks": str(n_ranks),
        "seed": str(seed),
        "quantities": ", ".join(map(str, names)),
        "version": __version__,
    }
    fp.update({k: str(v) for k, v in (extra or {}).items()})
    return fp


def check_or_write(folder: Path, fp: dict, resume: bool) -> None:
    """On resume, refuse a folder whose recorded fingerprint differs; else record ``fp``."""
    path = Path(folder) / FILE
    if resume and path.exists():
        try:
            recorded = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise RunMismatch(f"{path} is unreadable ({exc}); start a new folder") from None
        keys = sorted(set(recorded) | set(fp))
        differ = [k for k in keys if recorded.get(k) != fp.get(k)]
        if differ:
            lines = "; ".join(
                f"{k}: recorded {recorded.get(k, '(none)')!r}, now {fp.get(k, '(none)')!r}"
                for k in differ
            )
            raise RunMismatch(
                f"--resume: {folder} holds another run's replications ({lines}); rerun with the "
                "recorded settings or use a new --out folder"
            )
        return
    if resume and any(Path(folder).glob("replication_*.nc")):
        raise RunMismatch(
            f"--resume: {folder} has replications but no {FILE} (an older version's run): its "
            "settings cannot be checked; use a new --out folder"
        )
    path.write_text(json.dumps(fp, indent=2))
