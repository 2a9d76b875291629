"""The election88 loader: checksum, cells, factors; refusals that name the problem."""

import shutil
from pathlib import Path

import numpy as np
import pytest

from gibbs.election88 import ELECTION88_DIR_ENV, ELECTION88_FILE, load_election88

_POLLS = Path(__file__).resolve().parents[2] / "shared" / "data" / "election88"


@pytest.fixture(scope="module")
def polls_dir():
    import os

    folder = os.environ.get(ELECTION88_DIR_ENV) or (_POLLS if _POLLS.is_dir() else None)
    if folder is None:
        pytest.skip("election88 data not available (set GIBBS_SUITE_ELECTION88_DIR)")
    return Path(folder)


def test_cells_keep_every_respondent(polls_dir):
    polls = load_election88(polls_dir)
    d = polls.data
    assert d.n == 1458 and d.n_groups == 49  # Alaska and Hawaii have no respondents
    assert d.binomial_trials.sum() == len(polls.respondents) == 11566
    assert d.y.sum() == polls.respondents["y"].sum() == 6495
    assert list(d.x_names) == ["female", "black", "female_black"]
    assert list(d.u_names) == ["intercept", "v_prev"]
    assert abs(np.average(d.U[d.group, 1], weights=d.binomial_trials)) < 1e-12  # centred
    sizes = {name: len(set(labels)) for name, labels in polls.factors.items()}
    assert sizes == {"age": 4, "edu": 4, "age_edu": 16, "region": 5}


def test_region_is_nested_and_the_others_crossed(polls_dir):
    import gibbs

    polls = load_election88(polls_dir)
    spec = gibbs.specify(polls.data, family="logistic", factors=polls.factors)
    nested = {f.name: f.nested for f in spec.factors}
    assert nested == {"age": False, "edu": False, "age_edu": False, "region": True}
    assert spec.implementation.name == "general"


def test_a_changed_file_is_refused(polls_dir, tmp_path):
    shutil.copy(polls_dir / ELECTION88_FILE, tmp_path / ELECTION88_FILE)
    with open(tmp_path / ELECTION88_FILE, "a") as f:
        f.write(" ")
    with pytest.raises(ValueError, match="SHA-256"):
        load_election88(tmp_path)


def test_a_missing_file_names_the_folder_and_the_variable(tmp_path):
    with pytest.raises(FileNotFoundError, match=ELECTION88_DIR_ENV):
        load_election88(tmp_path)
