"""Internal standardisation of badly scaled predictors: exact, and only where it is needed."""

import dataclasses

import arviz as az
import numpy as np
import pytest

import gibbs
from gibbs.datasets import load_radon
from gibbs.priors import Normal, Priors
from gibbs.standardise import plan

# Two independent correct runs of one posterior: |z| above this in any of the few statistics
# compared is a 1-in-10^4 event per statistic (normal tails), not Monte Carlo noise.
Z_MAX = 3.9


@pytest.fixture(scope="module")
def radon():
    return load_radon()


def _z(a: np.ndarray, b: np.ndarray) -> float:
    """z-score of the difference of two chains' means, in their MCSEs (chain, draw arrays)."""
    ma, mb = (float(az.mcse(az.convert_to_dataset({"v": v}), method="mean")["v"]) for v in (a, b))
    return float((a.mean() - b.mean()) / np.hypot(ma, mb))


def _sample(data, **kw):
    return gibbs.sample(data, progressbar=False, log_likelihood=False, **kw)


def test_shipped_data_are_sampled_as_given(radon):
    assert plan(gibbs.specify(radon)) is None


@pytest.mark.parametrize("scheme", ["marginal", "collapsed"])
def test_an_offset_of_1e8_gives_the_posterior_of_the_centred_data(radon, scheme):
    offset = 1e8
    far = _sample(dataclasses.replace(radon, X=radon.X + offset), scheme=scheme, seed=11)
    near = _sample(radon, scheme=scheme, seed=12)
    assert "standardisation" in far.posterior.attrs
    np.testing.assert_array_equal(far.constant_data["X"], radon.X + offset)
    b_far, b_near = far.posterior["beta"].values[..., 0], near.posterior["beta"].values[..., 0]
    # With X + c, alpha_j and gamma_0 are shifted by -c beta: compare the shifted-back draws.
    checks = {
        "beta": (b_far, b_near),
        "gamma_0": (
            far.posterior["gamma"].values[..., 0] + offset * b_far,
            near.posterior["gamma"].values[..., 0],
        ),
        "alpha_0": (
            far.posterior["alpha"].values[..., 0] + offset * b_far,
            near.posterior["alpha"].values[..., 0],
        ),
        "sigma_alpha": (far.posterior["sigma_alpha"].values, near.posterior["sigma_alpha"].values),
    }
    for name, (a, b) in checks.items():
        assert abs(_z(a, b)) < Z_MAX, name


def test_scaling_is_exact_under_a_normal_beta_prior(radon):
    s = 1e-4  # sd of x below 1e-3: scaled internally, and its prior scaled with it
    priors_far = Priors(beta=Normal(0.0, 1.0 / s))
    far = _sample(dataclasses.replace(radon, X=radon.X * s), priors=priors_far, seed=21)
    near = _sample(radon, priors=Priors(beta=Normal(0.0, 1.0)), seed=22)
    assert "standardisation" in far.posterior.attrs
    a = far.posterior["beta"].values[..., 0] * s
    assert abs(_z(a, near.posterior["beta"].values[..., 0])) < Z_MAX


def test_without_a_flat_gamma_an_offset_is_not_centred_and_is_refused(radon):
    # Negative control: under a Normal prior on gamma, centring would change the prior, so the
    # offset stays and the sweep's linear algebra cannot be trusted: refused before sampling.
    far = dataclasses.replace(radon, X=radon.X + 1e8)
    with pytest.raises(ValueError, match="ill-conditioned: column 'floor' has mean [0-9.]+e\\+08"):
        _sample(far, priors=Priors(gamma=Normal(0.0, 10.0)), seed=1)
