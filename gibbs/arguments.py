"""Checks of the sampler's arguments, each raising before any sampling with the argument named.

A bad argument should fail at the call, in words that name it, and never after the work is
done: these checks run first in :func:`gibbs.sample` and :func:`gibbs.sampling.sample_spec`.
"""

from __future__ import annotations

import numbers
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

__all__ = [
    "IDATA_KWARGS",
    "alias",
    "as_seed",
    "check_idata_kwargs",
    "check_var_names",
    "check_count",
    "check_dtype",
    "check_init",
    "check_memory",
    "available_memory",
]


def check_count(name: str, value: Any, low: int) -> int:
    """Return ``value`` as an ``int`` if it is an integer >= ``low``; raise naming it otherwise.

    ``True``, ``"100"`` and ``2.0`` are refused: a count given as something else is a slip
    that numpy would otherwise turn into an unrelated error (or silently accept).
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(
            f"{name} must be an integer >= {low}, got {value!r} ({type(value).__name__})"
        )
    if value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


def as_seed(seed: Any, chains: int) -> Any:
    """Return ``seed`` in the forms :func:`gibbs.streams.chain_seed_sequences` takes.

    Accepts ``None``, a non-negative integer, a ``SeedSequence``, a ``numpy.random.Generator``
    (as PyMC's ``random_seed`` does: one integer is drawn from it, so the generator advances)
    or a list of ``chains`` of them.
    """
    if isinstance(seed, list | tuple):
        if len(seed) != chains:
            raise ValueError(f"seed: {len(seed)} seeds given for {chains} chains")
        return [_one_seed(s, f"seed[{k}]") for k, s in enumerate(seed)]
    return _one_seed(seed, "seed")


def _one_seed(seed: Any, name: str) -> Any:
    if seed is None or isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(2**63))
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise ValueError(
            f"{name} must be None, a non-negative integer, a numpy SeedSequence or Generator, "
            f"or a list of them (one per chain); got {seed!r}"
        )
    if seed < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {seed}")
    return int(seed)


def alias(name: str, value: Any, pymc_name: str, pymc_value: Any) -> Any:
    """Return whichever of an argument and its PyMC-named alias was given; refuse both.

    ``seed`` / ``random_seed`` and ``init`` / ``initvals`` are the same argument under this
    library's and PyMC's names; two values would leave one silently unused.
    """
    if value is not None and pymc_value is not None:
        raise ValueError(f"{name} and {pymc_name} are the same argument: give one of them")
    return pymc_value if value is None else value


# What ``idata_kwargs`` may hold: the keys of PyMC's that mean something for a Gibbs run.
IDATA_KWARGS = ("log_likelihood",)


def check_idata_kwargs(idata_kwargs: Mapping[str, Any] | None) -> dict[str, Any]:
    """Return ``idata_kwargs`` as a dict after refusing keys the output does not take."""
    if idata_kwargs is None:
        return {}
    if not isinstance(idata_kwargs, Mapping):
        raise ValueError(f"idata_kwargs must be a mapping, got {idata_kwargs!r}")
    unknown = sorted(set(idata_kwargs) - set(IDATA_KWARGS))
    if unknown:
        raise ValueError(
            f"idata_kwargs: {unknown} not understood; the Gibbs output takes {list(IDATA_KWARGS)}"
        )
    if "log_likelihood" in idata_kwargs and not isinstance(idata_kwargs["log_likelihood"], bool):
        raise ValueError(
            f"idata_kwargs['log_likelihood'] must be True or False, got "
            f"{idata_kwargs['log_likelihood']!r}"
        )
    return dict(idata_kwargs)


def check_var_names(var_names: Any, available: Sequence[str]) -> list[str] | None:
    """Return ``var_names`` as a list if every name is a posterior variable; raise otherwise.

    ``None`` keeps every variable (PyMC's default). A single string is refused rather than
    read as a list of its letters.
    """
    if var_names is None:
        return None
    if isinstance(var_names, str) or not isinstance(var_names, Sequence):
        raise ValueError(f"var_names must be a list of names, got {var_names!r}")
    unknown = [v for v in var_names if v not in available]
    if unknown:
        raise ValueError(
            f"var_names: {unknown} not among this model's posterior variables {list(available)}"
        )
    if not var_names:
        raise ValueError("var_names is empty: give at least one posterior variable")
    return list(var_names)


def check_dtype(dtype: Any) -> np.dtype:
    """Return the storage dtype if it is a floating type (float32 or float64)."""
    try:
        dt = np.dtype(dtype)
    except TypeError as exc:
        raise ValueError(f"dtype: not a numpy dtype: {dtype!r}") from exc
    if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError(
            f"dtype must be np.float64 or np.float32 (the draws are real numbers), got {dt}"
        )
    return dt


def check_init(init: Mapping[str, Any] | None) -> None:
    """Refuse initial values that are not finite numbers (each structure checks names/shapes)."""
    if init is None:
        return
    if not isinstance(init, Mapping):
        raise ValueError(f"init must be a mapping of parameter names to values, got {init!r}")
    for name, value in init.items():
        try:
            arr = np.asarray(value, dtype=float)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"init: {name} must be numeric, got {value!r}") from exc
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"init: {name} holds NaN or infinite values: {value!r}")


def available_memory() -> int | None:
    """Bytes this process may allocate: the cgroup limit if one is set, else physical memory."""
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            with open(path) as f:
                text = f.read().strip()
        except OSError:
            continue
        if text.isdigit() and int(text) < 1 << 60:
            return int(text)
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def _gib(n: float) -> str:
    return f"{n / 2**30:.1f} GiB"


def check_memory(parts: Sequence[tuple[str, float, str]], fraction: float = 0.8) -> None:
    """Refuse, before sampling, an output larger than ``fraction`` of the memory available.

    Parameters
    ----------
    parts : sequence of (name, bytes, remedy)
        Each array of the output, its size, and the argument that shrinks it.
    """
    limit = available_memory()
    total = sum(b for _, b, _ in parts)
    if limit is None or total <= fraction * limit:
        return
    detail = ", ".join(f"{name} {_gib(b)}" for name, b, _ in sorted(parts, key=lambda p: -p[1]))
    remedies = "; ".join(dict.fromkeys(r for _, b, r in parts if b > 0.1 * total and r))
    raise MemoryError(
        f"the output would need {_gib(total)} ({detail}) of {_gib(limit)} available: {remedies}"
    )
