"""Gelman & Hill's 1988 pre-election polls (ARM section 14.1): a multilevel logistic regression.

11,566 respondents of the CBS News polls; support for Bush by female, black, female x black, the
state's previous Republican vote share (a state-level predictor) and group effects for age,
education, age x education and state within region. Read from a data directory (argument, then
``GIBBS_SUITE_ELECTION88_DIR``), else downloaded once with pooch from the Stan example models,
checksum verified either way.

The respondents are aggregated into cells (state x female x black x age x education: 1,458
cells with respondents): the sum of a cell's Bernoulli outcomes is binomial, so the posterior is
the same, and the latent blocks need one draw per cell instead of one per respondent.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from gibbs.data import HierarchicalData
from gibbs.data_files import locate_file
from gibbs.priors import HalfNormal, Normal, Priors, UniformSigma

__all__ = [
    "ELECTION88_DIR_ENV",
    "ELECTION88_FILE",
    "ELECTION88_SHA256",
    "REFERENCE_OPTIONS",
    "Election88",
    "election88_priors",
    "load_election88",
]

ELECTION88_DIR_ENV = "GIBBS_SUITE_ELECTION88_DIR"
ELECTION88_FILE = "election88_full.json"
ELECTION88_SHA256 = "e218dab21ddbafaf0063a0cd1f600a5332c60b1307f4e22a38188314ff4a7138"
_URL = (
    "https://raw.githubusercontent.com/stan-dev/example-models/3cb8659/ARM/Ch.14/"
    "election88_full.data.json"
)
# States 1..51, alphabetical by name with DC (the file's coding).
STATES = (
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH "
    "NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY"
).split()
AGES = ("18-29", "30-44", "45-64", "65+")
EDUCATION = ("no high school", "high school", "some college", "college")
REGIONS = ("Northeast", "Midwest", "South", "West", "DC")


# NUTS settings of the twin: the non-centered effects at a high target acceptance (the many
# small factors and the intercept they share make a funnel and a ridge; docs/harness.md).
REFERENCE_OPTIONS = {"parameterization": "noncentered", "target_accept": 0.999}


def election88_priors() -> Priors:
    """Return the priors: N(0, 2.5^2) coefficients, uniform state scale, half-normal(1) others.

    The scales of age (4 levels), education (4), their interaction (16) and region (5) are barely
    identified by the data; a half-normal(1) prior on the logit scale (Gelman 2006, section 5,
    recommends a weakly informative scale prior for few groups) keeps their posteriors off the
    long tails a uniform prior leaves, where NUTS diverges.
    """
    return Priors(
        beta=Normal(0.0, 2.5),
        gamma=Normal(0.0, 2.5),
        sigma_alpha=UniformSigma(),
        factor_scales={name: HalfNormal(1.0) for name in ("age", "edu", "age_edu", "region")},
    )


@dataclass(frozen=True)
class Election88:
    """The polls as a model's data.

    Attributes
    ----------
    data : HierarchicalData
        Cells: y supporters of Bush out of ``trials`` respondents; X = (female, black,
        female_black); groups the 49 states with respondents; U = (intercept, v_prev), v_prev the
        state's previous Republican share minus its mean over respondents (0.544).
    factors : dict
        One label per cell: ``age``, ``edu``, ``age_edu`` (crossed with the states) and
        ``region`` (nested: every state lies in one region).
    respondents : DataFrame
        One row per respondent, as in the file (labels instead of codes).
    """

    data: HierarchicalData
    factors: dict[str, np.ndarray]
    respondents: pd.DataFrame


def _locate(data_dir: str | os.PathLike | None) -> Path:
    return locate_file(
        ELECTION88_FILE,
        sha256=ELECTION88_SHA256,
        url=_URL,
        env=ELECTION88_DIR_ENV,
        data_dir=data_dir,
        cache="election88",
    )


def load_election88(data_dir: str | os.PathLike | None = None) -> Election88:
    """Load the polls, verify their checksum and aggregate them into binomial cells.

    Raises
    ------
    FileNotFoundError
        When the file is neither in the data directory nor downloadable.
    ValueError
        When the file's checksum differs from the pinned one.
    """
    path = _locate(data_dir)
    raw = path.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    if digest != ELECTION88_SHA256:
        raise ValueError(f"{path}: SHA-256 {digest} differs from the pinned {ELECTION88_SHA256}")
    d = json.loads(raw)
    people = pd.DataFrame(
        {
            "y": np.asarray(d["y"], float),
            "female": np.asarray(d["female"], float),
            "black": np.asarray(d["black"], float),
            "age": np.asarray(AGES, dtype=object)[np.asarray(d["age"]) - 1],
            "edu": np.asarray(EDUCATION, dtype=object)[np.asarray(d["edu"]) - 1],
            "state": np.asarray(STATES, dtype=object)[np.asarray(d["state"]) - 1],
            "region": np.asarray(REGIONS, dtype=object)[np.asarray(d["region_full"]) - 1],
            "v_prev": np.asarray(d["v_prev_full"], float),
        }
    )
    people["age_edu"] = people["age"] + ":" + people["edu"]
    keys = ["state", "female", "black", "age", "edu"]
    cells = (
        people.groupby(keys, sort=True)
        .agg(
            y=("y", "sum"),
            trials=("y", "size"),
            region=("region", "first"),
            v_prev=("v_prev", "first"),
            age_edu=("age_edu", "first"),
        )
        .reset_index()
    )
    cells["female_black"] = cells["female"] * cells["black"]
    cells["v_prev"] = cells["v_prev"] - people["v_prev"].mean()
    data = HierarchicalData.from_dataframe(
        cells,
        y="y",
        group="state",
        x=["female", "black", "female_black"],
        u=["v_prev"],
        trials="trials",
    )
    factors = {name: cells[name].to_numpy() for name in ("age", "edu", "age_edu", "region")}
    return Election88(data=data, factors=factors, respondents=people)
