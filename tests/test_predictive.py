import numpy as np
import pytest

from gibbs.datasets import load_radon
from validation.predictive import heldout_table, split


def test_splits_hold_out_what_they_say():
    d = load_radon()
    train, test = split(d, "small-groups", seed=0)
    n_j = d.stats.n_j
    small = np.flatnonzero((n_j >= 2) & (n_j <= 5))
    assert test.sum() == small.size
    assert np.all(np.bincount(d.group[test], minlength=d.n_groups)[small] == 1)
    assert train.n_groups == d.n_groups and train.n == d.n - small.size
    train, test = split(d, "whole-groups", seed=0)
    held = np.unique(d.group[test])
    assert held.size == 85 // 5
    assert np.all(train.stats.n_j[held] == 0)  # those counties are now empty groups
    with pytest.raises(ValueError, match="unknown scenario"):
        split(d, "random")


@pytest.mark.slow
@pytest.mark.pymc
def test_heldout_table_scores_multilevel_and_reports_unpredictable_rows():
    table = heldout_table(load_radon(), sampler="nutpie", seed=1)
    whole = table.loc["whole-groups"]
    # No pooling cannot predict a county it never saw; the multilevel model predicts from U.
    assert whole.loc["no pooling", "unpredictable_rows"] == whole.loc["no pooling", "held_out_rows"]
    assert np.isnan(whole.loc["no pooling", "lpd_per_row"])
    assert whole.loc["multilevel", "unpredictable_rows"] == 0
    small = table.loc["small-groups"]
    assert small.loc["multilevel", "lpd_per_row"] > small.loc["no pooling", "lpd_per_row"]


def test_heldout_table_says_what_it_fits_before_each_scenario(monkeypatch):
    import validation.predictive as predictive

    # No fits: only the progress and the table's frame are exercised.
    monkeypatch.setattr(predictive, "_fits", lambda train, sampler, seed: {})
    said = []
    table = heldout_table(load_radon(), sampler="nutpie", seed=0, progress=said.append)
    assert [m.split(":")[0] for m in said] == ["held-out small-groups", "held-out whole-groups"]
    assert table.empty and list(table.columns)[-1] == "rmse"
