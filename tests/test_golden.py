"""Golden references: save/load, the shipped radon goldens, the pytest fixture, and its power."""

import json

import numpy as np
import pytest

import gibbs
from gibbs.datasets import load_radon
from validation.build_goldens import GOLDENS, MODELS, golden_path, load_golden
from validation.golden import assert_agrees, check_data, load, save
from validation.mutants import MUTANTS


@pytest.fixture(scope="module")
def m2():
    return load_radon()


@pytest.mark.parametrize("name", sorted(GOLDENS))
def test_shipped_goldens_record_provenance_and_meet_acceptance_rules(name):
    g = load(golden_path(name))
    assert g.provenance["tool"].startswith("nutpie") and g.provenance["seed"] == 20261127
    assert g.summary["r_hat"].max() < 1.01
    assert g.summary[["ess_bulk", "ess_tail"]].min().min() >= 400
    assert "versions" in g.provenance and "command" in g.provenance
    assert g.provenance["draws"] == GOLDENS[name].draws
    assert "data_summary" in g.provenance


def test_golden_built_from_other_data_is_refused(m2):
    """Negative control of the data check: one changed outcome is named, with the fix."""
    g = load_golden("radon_M2")
    check_data(g, m2)
    y = m2.y.copy()
    y[0] += 0.01
    with pytest.raises(ValueError, match=r"y_sum, y_sumsq differ.*make goldens GOLDENS=radon_M2"):
        check_data(g, m2.replace(y=y), name="radon_M2")
    with pytest.raises(ValueError, match="n, group_sizes"):
        check_data(g, m2.replace(rows=np.arange(900)), name="radon_M2")


def test_missing_golden_says_how_to_build_it(tmp_path, monkeypatch):
    import validation.build_goldens as registry

    monkeypatch.setattr(registry, "GOLDEN_DIR", tmp_path)
    with pytest.raises(FileNotFoundError, match="make goldens GOLDENS=radon_M2"):
        load_golden("radon_M2")


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


def test_between_chain_mcse_is_calibrated_and_honest_mcse_never_smaller():
    """Between-chain MCSEs of iid N(0, 1) draws: 1/sqrt(N) for the mean and 1/sqrt(2N) for the
    sd, each within 4 sd of the estimator's own error (relative sd 1/sqrt(2 (C - 1)) with C
    chains; a formula off by sqrt(C) fails by a factor of 8). The honest MCSE is the larger of
    ArviZ's and the between-split-chain one, elementwise."""
    import arviz as az
    import xarray as xr

    from validation.compare import _summaries_numpy, without_numba
    from validation.golden import between_chain_mcse, honest_mcse

    chains, draws = 64, 500
    rng = np.random.default_rng(0)
    post = xr.Dataset({"x": (("chain", "draw"), rng.standard_normal((chains, draws)))})
    between = between_chain_mcse(post)
    rel_sd = 1 / np.sqrt(2 * (chains - 1))
    n = chains * draws
    assert abs(between.loc["x", "mcse_mean"] * np.sqrt(n) - 1) < 4 * rel_sd
    assert abs(between.loc["x", "mcse_sd"] * np.sqrt(2 * n) - 1) < 4 * rel_sd
    split = between_chain_mcse(post, split=True)
    assert abs(split.loc["x", "mcse_mean"] * np.sqrt(n) - 1) < 4 / np.sqrt(2 * (2 * chains - 1))
    with without_numba():
        summary = _summaries_numpy(post, az)  # ArviZ's estimates alone
    honest = honest_mcse(summary, post)
    for col in ("mcse_mean", "mcse_sd", "mcse_q05", "mcse_q95"):
        assert honest.loc["x", col] == max(summary.loc["x", col], split.loc["x", col])


def test_save_refuses_a_run_with_a_divergent_transition(tmp_path, m2):
    """The rule that replaced the binomial test's own `diverging == 0` check on its reference:
    no golden can be written from a run with a divergence (and without one it can)."""
    idata = gibbs.sample(m2, draws=2000, seed=2, progressbar=False, log_likelihood=False)
    lp = idata.sample_stats["lp"]
    idata.sample_stats["diverging"] = lp.copy(data=np.zeros(lp.shape, dtype=bool))
    save(idata, tmp_path / "ok.json", {"tool": "gibbs-suite", "seed": 2}, var_names=["gamma"])
    flags = np.zeros(lp.shape, dtype=bool)
    flags[1, 7] = True
    idata.sample_stats["diverging"] = lp.copy(data=flags)
    with pytest.raises(ValueError, match="1 divergent transitions"):
        save(idata, tmp_path / "bad.json", {"tool": "gibbs-suite", "seed": 2}, var_names=["gamma"])
