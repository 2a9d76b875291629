"""Golden references: save/load, the shipped radon goldens, the pytest fixture, and its power."""

import json

import numpy as np
import pytest

import gibbs
from gibbs.datasets import load_radon
from validation.build_goldens import MODELS, golden_path
from validation.golden import assert_agrees, load, save
from validation.mutants import MUTANTS


@pytest.fixture(scope="module")
def m2():
    return load_radon()


def test_shipped_goldens_record_provenance_and_meet_acceptance_rules():
    for model in MODELS:
        g = load(golden_path(model))
        assert g.provenance["tool"].startswith("nutpie") and g.provenance["seed"] == 20261127
        assert g.summary["r_hat"].max() < 1.01
        assert g.summary[["ess_bulk", "ess_tail"]].min().min() >= 400
        assert "versions" in g.provenance and "command" in g.provenance


@pytest.mark.parametrize("model", sorted(MODELS))
def test_gibbs_agrees_with_shipped_golden(assert_posterior_agrees, model):
    data = load_radon(**MODELS[model])
    idata = gibbs.sample(data, draws=2000, seed=11, progressbar=False, log_likelihood=False)
    assert_posterior_agrees(idata, golden_path(model))


def test_golden_assertion_names_failing_parameters(m2):
    """Negative control: a broken sampler fails with the parameters and z-scores listed."""
    broken = MUTANTS["gamma_from_group_means"].sample(m2, draws=2000, seed=3, log_likelihood=False)
    with pytest.raises(AssertionError, match=r"gamma\[intercept\]: z_\w+ = [+-]\d+"):
        assert_agrees(broken, golden_path("M2"))


def test_save_refuses_unconverged_runs(tmp_path, m2):
    short = gibbs.sample(m2, draws=100, tune=0, seed=1, progressbar=False, scheme="componentwise")
    with pytest.raises(ValueError, match="not a valid golden reference"):
        save(short, tmp_path / "g.json", {"tool": "gibbs", "seed": 1})
    with pytest.raises(ValueError, match="provenance needs"):
        save(short, tmp_path / "g.json", {})


def test_save_load_round_trip(tmp_path, m2):
    idata = gibbs.sample(m2, draws=2000, seed=2, progressbar=False, log_likelihood=False)
    path = save(
        idata,
        tmp_path / "g.json",
        {"tool": "gibbs-suite", "seed": 2},
        var_names=["gamma", "sigma_y", "sigma_alpha"],
    )
    record = json.loads(path.read_text())
    assert record["format"] == "gibbs-suite-golden/1" and record["provenance"]["chains"] == 4
    g = load(path)
    np.testing.assert_allclose(
        g.summary.loc["sigma_y", "mean"], float(idata.posterior["sigma_y"].mean())
    )
    assert_agrees(gibbs.sample(m2, draws=2000, seed=3, progressbar=False), g)
