"""Gelman & Hill's New York City police stops (ARM sections 6.2 and 15.1): multilevel counts.

900 rows, one per precinct x ethnic group x crime type (the file does not say which row is which
crime type): stops over 15 months in 1998-99, and as the exposure the previous year's arrests of
that group in that precinct for that crime (times 15/12). The book's model::

    stops_i ~ Poisson(exp(log_arrests_i + mu + b_eth[i] + b_precinct[i] + epsilon_i))

with crossed ethnicity (3 levels) and precinct (75) effects and a row-level overdispersion term.
Read from a data directory (argument, then ``GIBBS_SUITE_POLICE_STOPS_DIR``, then the shared data
beside a checkout), else downloaded once with pooch from the Stan example models; checksum
verified either way.

One row (ethnic group 3, precinct 48) has no arrests in the previous year, an offset of -inf,
yet 3 stops: under any model with that exposure as offset it has probability zero. The loader
drops it and says so (:attr:`PoliceStops.dropped`), never silently.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from gibbs.data import HierarchicalData
from gibbs.data_files import locate_file

__all__ = [
    "ETHNICITIES",
    "POLICE_STOPS_DIR_ENV",
    "POLICE_STOPS_FILE",
    "POLICE_STOPS_FORMULA",
    "POLICE_STOPS_SHA256",
    "PoliceStops",
    "load_police_stops",
]

POLICE_STOPS_DIR_ENV = "GIBBS_SUITE_POLICE_STOPS_DIR"
POLICE_STOPS_FILE = "police_stops.json"
POLICE_STOPS_SHA256 = "32a4f7c7ba82fadfc0f1471468329f2d17182dabb839029747238a28860c3406"
_URL = (
    "https://raw.githubusercontent.com/stan-dev/example-models/3cb8659/ARM/Ch.17/"
    "multilevel_poisson_17.5.data.json"
)
ETHNICITIES = ("black", "hispanic", "white")
# The book's model as a formula: the precincts are the groups, ethnicity a crossed factor.
POLICE_STOPS_FORMULA = "stops ~ 1 + offset(log_arrests) + (1 | eth) + (1 | precinct)"


@dataclass(frozen=True)
class PoliceStops:
    """The stops as a model's data.

    Attributes
    ----------
    frame : DataFrame
        One row per kept row: ``stops``, ``eth`` (black, hispanic, white),
        ``precinct`` ("01" to "75", the labels of the data's groups) and ``log_arrests``
        (the offset).
    data : HierarchicalData
        Groups the 75 precincts, no predictors, the offset set.
    factors : dict
        ``eth``, one label per row (crossed with the precincts).
    dropped : DataFrame
        The rows dropped for a zero exposure (one in the shipped file).
    """

    frame: pd.DataFrame
    data: HierarchicalData
    factors: dict[str, np.ndarray]
    dropped: pd.DataFrame


def _locate(data_dir: str | os.PathLike | None) -> Path:
    return locate_file(
        POLICE_STOPS_FILE,
        sha256=POLICE_STOPS_SHA256,
        url=_URL,
        env=POLICE_STOPS_DIR_ENV,
        data_dir=data_dir,
        cache="police_stops",
        default_dir=Path(__file__).resolve().parents[2] / "shared" / "data" / "police_stops",
    )


def _offsets(values: list) -> np.ndarray:
    """Return the file's offsets as floats (JSON has no infinity: the file writes "-Inf")."""
    out = np.empty(len(values))
    for i, v in enumerate(values):
        if isinstance(v, str):
            if v.strip().lower() not in ("-inf", "-infinity"):
                raise ValueError(f"offset of row {i + 1} is the string {v!r}, not a number")
            out[i] = -np.inf
        else:
            out[i] = float(v)
    return out


def load_police_stops(
    data_dir: str | os.PathLike | None = None, quiet: bool = False
) -> PoliceStops:
    """Load the stops, verify the checksum and drop the rows with zero exposure (with a message).

    The file's ``n_eth`` and ``n_precint`` (both 900) are wrong; the levels are counted from the
    data instead (3 and 75).

    Raises
    ------
    FileNotFoundError
        When the file is neither in the data directory nor downloadable.
    ValueError
        When the file's checksum differs from the pinned one, or its columns disagree in length.
    """
    path = _locate(data_dir)
    raw = path.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    if digest != POLICE_STOPS_SHA256:
        raise ValueError(f"{path}: SHA-256 {digest} differs from the pinned {POLICE_STOPS_SHA256}")
    d = json.loads(raw)
    lengths = {k: len(d[k]) for k in ("stops", "eth", "precint", "offeset")}
    if len(set(lengths.values())) != 1:
        raise ValueError(f"{path}: columns of different lengths {lengths}")
    eth = np.asarray(d["eth"], int)
    frame = pd.DataFrame(
        {
            "stops": np.asarray(d["stops"], float),
            "eth": pd.Categorical(np.asarray(ETHNICITIES, dtype=object)[eth - 1], ETHNICITIES),
            # Zero-padded labels sort as numbers do: the formula and the data paths (and the
            # goldens) then name the precincts alike.
            "precinct": pd.Series(np.asarray(d["precint"], int)).astype(str).str.zfill(2),
            "log_arrests": _offsets(d["offeset"]),
        }
    )
    zero = ~np.isfinite(frame["log_arrests"].to_numpy())
    dropped = frame[zero].copy()
    if zero.any() and not quiet:
        rows = ", ".join(
            f"row {i + 1} ({r.eth}, precinct {r.precinct}, {int(r.stops)} stops)"
            for i, r in zip(np.flatnonzero(zero), dropped.itertuples(), strict=True)
        )
        print(
            f"police stops: dropped {int(zero.sum())} row(s) with no arrests in the previous year "
            f"(offset -inf, so probability zero under the model): {rows}",
            file=sys.stderr,
        )
    frame = frame[~zero].reset_index(drop=True)
    data = HierarchicalData.from_dataframe(
        frame,
        y="stops",
        group="precinct",
        offset="log_arrests",
    )
    factors = {"eth": frame["eth"].astype(str).to_numpy()}
    return PoliceStops(frame=frame, data=data, factors=factors, dropped=dropped)
