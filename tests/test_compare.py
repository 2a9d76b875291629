"""compare_posteriors on constructed posteriors: it agrees, disagrees and refuses as it should."""

import numpy as np
import pytest
import xarray as xr

from validation.compare import compare_posteriors, holm_reject


def _ar1(rng, chains, draws, rho=0.5, shape=()):
    x = np.empty((chains, draws, *shape))
    x[:, 0] = rng.standard_normal((chains, *shape))
    for t in range(1, draws):
        x[:, t] = rho * x[:, t - 1] + np.sqrt(1 - rho**2) * rng.standard_normal((chains, *shape))
    return x


def _posterior(seed, shift=0.0, scale=1.0, draws=2000, chains=4, rho=0.5):
    rng = np.random.default_rng(seed)
    return xr.Dataset(
        {
            "mu": (("chain", "draw"), shift + scale * _ar1(rng, chains, draws, rho)),
            "theta": (("chain", "draw", "k"), _ar1(rng, chains, draws, rho, (3,))),
        },
        coords={"chain": np.arange(chains), "draw": np.arange(draws), "k": ["a", "b", "c"]},
    )


def test_same_target_agrees():
    c = compare_posteriors(_posterior(1), _posterior(2))
    assert c.verdict == "agree", str(c)
    assert len(c.table) == 4 and "theta[b]" in c.table.index
    assert c.table["rhat_cross"].max() < 1.01


def test_shifted_mean_disagrees_and_names_parameter():
    c = compare_posteriors(_posterior(1), _posterior(2, shift=0.15))
    assert c.verdict == "disagree"
    assert c.failing().index.tolist() == ["mu"]
    assert "mu" in c.reasons[0]


def test_wrong_scale_disagrees_through_sd():
    c = compare_posteriors(_posterior(1), _posterior(2, scale=1.15))
    assert c.verdict == "disagree"
    assert c.table.loc["mu", "reject_sd"]


def test_mismatched_inputs_are_inconclusive():
    a, b = _posterior(1), _posterior(2)
    c = compare_posteriors(a, b.drop_vars("mu"))
    assert c.verdict == "inconclusive" and "mu missing from b" in c.reasons[0]
    c = compare_posteriors(a, b.isel(k=slice(0, 2)))
    assert c.verdict == "inconclusive" and "shape" in c.reasons[0]
    c = compare_posteriors(a, b.isel(draw=slice(0, 50)))
    assert c.verdict == "inconclusive" and "draws per chain" in c.reasons[0]


def test_poorly_mixing_sampler_is_inconclusive_not_pass():
    c = compare_posteriors(_posterior(1), _posterior(2, rho=0.995))
    assert c.verdict == "inconclusive"
    assert any("ESS" in r for r in c.reasons)


def test_holm_against_hand_computed_example():
    p = np.array([0.01, 0.04, 0.03, 0.005])
    # sorted: 0.005 <= 0.05/4, 0.01 <= 0.05/3, 0.03 > 0.05/2 -> stop
    np.testing.assert_array_equal(holm_reject(p, 0.05), [True, False, False, True])
    assert not holm_reject(np.array([0.2, 0.3]), 0.05).any()


@pytest.mark.parametrize("seed", range(3))
def test_false_alarm_is_rare_for_identical_targets(seed):
    c = compare_posteriors(_posterior(10 + seed), _posterior(20 + seed))
    assert c.verdict == "agree"


def test_copied_chains_are_reported_not_compared():
    # Chains that are copies of each other make every MCSE too small by sqrt(copies).
    import gibbs
    from gibbs.datasets import load_radon
    from validation.compare import compare_posteriors

    data = load_radon()
    kw = {"draws": 200, "tune": 200, "progressbar": False, "log_likelihood": False}
    copies = gibbs.sample(data, seed=[1, 1, 2, 3], **kw)
    fresh = gibbs.sample(data, seed=5, **kw)
    c = compare_posteriors(copies, fresh, labels=("gibbs", "nuts"))
    assert c.verdict == "inconclusive" and "chains 0 and 1 are identical" in c.reasons[0]
    assert "identical" not in " ".join(
        compare_posteriors(fresh, copies.isel(chain=[0, 2, 3])).reasons
    )
