"""The driver: reproducibility, chain independence, output layout, and agreement of the schemes."""

import warnings

import numpy as np
import pytest

import gibbs
from gibbs.datasets import load_radon, simulate_hierarchical
from gibbs.kernels import SCHEMES
from gibbs.priors import HalfNormal, HalfStudentT, InverseGamma, Normal, Priors, UniformLogSigma
from gibbs.sampling import sample_sweep
from tests.tiers import tiered
from validation.compare import compare_posteriors
from validation.mutants import MUTANTS

VARS = ["alpha", "beta", "gamma", "sigma_y", "sigma_alpha"]


@pytest.fixture(scope="module")
def radon():
    return load_radon()


@pytest.fixture(scope="module")
def synthetic():
    # Few groups, so that a wrong degree of freedom on sigma_alpha is a visible error.
    sizes = np.array([3, 8, 1, 12, 5, 20, 2, 9])
    data, truth = simulate_hierarchical(
        8, sizes, beta=[0.8], gamma=[1.0, 0.5], sigma_y=0.5, sigma_alpha=0.7, seed=4
    )
    return data, truth


@pytest.mark.parametrize("scheme", sorted(SCHEMES))
def test_same_seed_bit_identical(radon, scheme):
    a = gibbs.sample(radon, scheme=scheme, draws=50, tune=20, seed=7, progressbar=False)
    b = gibbs.sample(radon, scheme=scheme, draws=50, tune=20, seed=7, progressbar=False)
    c = gibbs.sample(radon, scheme=scheme, draws=50, tune=20, seed=8, progressbar=False)
    for v in VARS:
        np.testing.assert_array_equal(a.posterior[v].values, b.posterior[v].values)
    assert not np.array_equal(a.posterior["alpha"].values, c.posterior["alpha"].values)


@pytest.mark.parametrize("scheme", sorted(SCHEMES))
def test_chain_draws_do_not_depend_on_number_of_chains(radon, scheme):
    two = gibbs.sample(radon, scheme=scheme, draws=40, tune=10, chains=2, seed=3, progressbar=False)
    five = gibbs.sample(
        radon, scheme=scheme, draws=40, tune=10, chains=5, seed=3, progressbar=False
    )
    for v in VARS:
        np.testing.assert_array_equal(two.posterior[v].values, five.posterior[v].values[:2])


def test_inference_data_layout(radon):
    idata = gibbs.sample(
        radon, draws=30, tune=5, chains=3, seed=1, progressbar=False, posterior_predictive=True
    )
    post = idata.posterior
    assert post["alpha"].dims == ("chain", "draw", "county")
    assert list(post["alpha"].county.values[:2]) == ["AITKIN", "ANOKA"]
    assert list(post["beta"].x_coef.values) == ["floor"]
    assert list(post["gamma"].u_coef.values) == ["intercept", "log_uranium"]
    assert post["sigma_y"].shape == (3, 30)
    assert idata.log_likelihood["log_radon"].shape == (3, 30, 919)
    assert idata.posterior_predictive["log_radon"].shape == (3, 30, 919)
    assert idata.observed_data["log_radon"].shape == (919,)
    assert set(idata.constant_data.data_vars) == {"X", "group", "U"}
    assert idata.sample_stats["lp"].shape == (3, 30)
    attrs = post.attrs
    assert attrs["scheme"] == gibbs.DEFAULT_SCHEME and attrs["inference_library"] == "gibbs-suite"
    assert (
        "UniformSigma" in attrs["priors"]
        and attrs["inference_library_version"] == gibbs.__version__
    )
    # log-likelihood is the normal density at the stored draws
    a = post["alpha"].values[0, 0, radon.group] + post["beta"].values[0, 0, 0] * radon.X[:, 0]
    s = post["sigma_y"].values[0, 0]
    expected = -0.5 * np.log(2 * np.pi * s**2) - 0.5 * ((radon.y - a) / s) ** 2
    np.testing.assert_allclose(idata.log_likelihood["log_radon"].values[0, 0], expected)


def test_memory_options(radon):
    idata = gibbs.sample(
        radon,
        draws=20,
        tune=5,
        seed=1,
        progressbar=False,
        store_alpha=["ANOKA", 5],
        log_likelihood=False,
        dtype=np.float32,
        thin=3,
    )
    assert list(idata.posterior.county.values) == ["ANOKA", radon.group_names[5]]
    assert idata.posterior["sigma_y"].dtype == np.float32
    assert "log_likelihood" not in idata.groups()
    with pytest.raises(ValueError, match="store_alpha"):
        gibbs.sample(radon, draws=5, tune=0, seed=1, progressbar=False, store_alpha=["NOWHERE"])


def test_thinning_keeps_every_kth_iteration(radon):
    full = gibbs.sample(radon, draws=30, tune=4, chains=1, seed=2, progressbar=False)
    thin = gibbs.sample(radon, draws=10, tune=4, chains=1, seed=2, thin=3, progressbar=False)
    np.testing.assert_array_equal(
        thin.posterior["sigma_y"].values[0], full.posterior["sigma_y"].values[0, 2::3]
    )


def test_init_overrides_and_validation(radon):
    idata = gibbs.sample(
        radon,
        draws=1,
        tune=0,
        chains=2,
        seed=1,
        progressbar=False,
        init={"sigma_alpha": 0.3, "gamma": [1.0, 0.5]},
        scheme="componentwise",
    )
    assert idata.posterior["alpha"].shape == (2, 1, 85)
    with pytest.raises(ValueError, match="unknown parameter 'tau'"):
        gibbs.sample(radon, draws=1, tune=0, progressbar=False, init={"tau": 1.0})
    with pytest.raises(ValueError, match="sigma_y must be positive"):
        gibbs.sample(radon, draws=1, tune=0, progressbar=False, init={"sigma_y": -1.0})


def test_initial_values_are_overdispersed(radon):
    from gibbs.kernels.gaussian import GaussianModel
    from gibbs.streams import ChainStreams, chain_seed_sequences
    from gibbs.structures.intercepts import initial_state

    model = GaussianModel(radon, Priors())
    state = initial_state(model, ChainStreams(chain_seed_sequences(0, 200)[1]))
    long = gibbs.sample(radon, draws=500, tune=200, seed=0, progressbar=False, log_likelihood=False)
    # Spread of starting points exceeds the posterior spread (the point of over-dispersion).
    assert state.gamma[:, 0].std() > long.posterior["gamma"].values[..., 0].std()
    assert state.sigma_alpha.std() > long.posterior["sigma_alpha"].values.std()


def test_bad_arguments(radon):
    with pytest.raises(ValueError, match="unknown scheme"):
        gibbs.sample(radon, scheme="plugin")
    with pytest.raises(ValueError, match="draws must be an integer >= 1"):
        gibbs.sample(radon, draws=0)


def test_improper_priors_rejected_before_sampling(radon):
    with pytest.raises(ValueError, match="prior on sigma_alpha: UniformLogSigma"):
        gibbs.sample(radon, priors=Priors(sigma_alpha=UniformLogSigma()))
    few, _ = simulate_hierarchical(3, 4, gamma=[1.0, 0.5], seed=0)
    with pytest.raises(ValueError, match="needs at least 4"):
        gibbs.sample(few)
    # A proper prior makes the same data fine.
    gibbs.sample(
        few, priors=Priors(sigma_alpha=HalfNormal(1.0)), draws=5, tune=0, progressbar=False
    )
    singles, _ = simulate_hierarchical(10, 1, seed=0)
    with pytest.raises(ValueError, match="prior on sigma_y: UniformLogSigma"):
        gibbs.sample(singles, priors=Priors(sigma_y=UniformLogSigma()))


def test_keyboard_interrupt_returns_finished_draws(radon):
    calls = {"n": 0}

    def interrupt_after_60(streams, state, model):
        calls["n"] += 1
        if calls["n"] > 60:
            raise KeyboardInterrupt
        return state

    blocks = (*SCHEMES["blocked"], interrupt_after_60)
    with pytest.warns(RuntimeWarning, match="returning the 50 draws"):
        idata = sample_sweep(
            radon, blocks, "blocked", draws=100, tune=10, seed=0, progressbar=False
        )
    assert idata.posterior.sizes["draw"] == 50


def test_progress_is_reported(radon, capsys):
    gibbs.sample(radon, draws=10, tune=10, seed=0, progressbar=True)
    assert "20/20 [100%]" in capsys.readouterr().err


def test_empty_and_single_member_groups_are_sampled():
    sizes = np.array([0, 1, 1, 4, 6, 0, 9, 3])
    data, _ = simulate_hierarchical(8, sizes, seed=2)
    idata = gibbs.sample(data, draws=200, tune=50, seed=0, progressbar=False)
    alpha = idata.posterior["alpha"].values
    assert np.isfinite(alpha).all()
    # An empty group is predicted from U: wider than a group with nine rows.
    assert alpha[..., 0].std() > alpha[..., 6].std()


# --------------------------------------------------------------------------- agreement
DRAWS = 3000  # per chain; 4 chains


def _fit(data, scheme, seed, priors=None):
    return gibbs.sample(
        data,
        priors=priors,
        scheme=scheme,
        draws=DRAWS,
        tune=500,
        seed=seed,
        progressbar=False,
        log_likelihood=False,
    )


@pytest.mark.parametrize("scheme", ["componentwise", "blocked", "collapsed", "marginal"])
def test_schemes_agree_on_synthetic(synthetic, scheme):
    data, _ = synthetic
    c = compare_posteriors(
        _fit(data, "interweaving", 1), _fit(data, scheme, 2), labels=("interweaving", scheme)
    )
    assert c.verdict == "agree", str(c)


# Every scheme's agreement on synthetic data and under Geweke stays in the default tier; on
# radon the default (marginal); the others in make test-all.
@pytest.mark.parametrize(
    "scheme",
    tiered(["componentwise", "blocked", "collapsed", "marginal"], {"marginal"}),
)
def test_schemes_agree_on_radon(radon, scheme):
    # Without a collapsed or interweaving step sigma_alpha mixes slowly on radon: thin those.
    b = gibbs.sample(
        radon,
        scheme=scheme,
        draws=DRAWS,
        tune=1000,
        seed=2,
        progressbar=False,
        log_likelihood=False,
        thin=5 if scheme in ("componentwise", "blocked") else 1,
    )
    c = compare_posteriors(_fit(radon, "interweaving", 1), b, labels=("interweaving", scheme))
    assert c.verdict == "agree", str(c)


@pytest.mark.parametrize(
    "priors",
    [
        Priors(
            beta=Normal(0, 1),
            gamma=Normal(0, 2),
            sigma_y=InverseGamma(2.0, 1.0),
            sigma_alpha=HalfStudentT(3, 1.0),
        ),
        Priors(sigma_alpha=HalfNormal(1.0)),
        Priors(sigma_alpha=InverseGamma(1.0, 0.5), sigma_y=UniformLogSigma()),
    ],
    ids=["normal-ig-halft", "halfnormal", "ig-loguniform"],
)
@pytest.mark.parametrize("scheme", tiered(["componentwise", "marginal"], {"marginal"}))
def test_schemes_agree_under_other_priors(synthetic, priors, scheme):
    data, _ = synthetic
    a = _fit(data, "interweaving", 1, priors)
    b = _fit(data, scheme, 2, priors)
    c = compare_posteriors(a, b, labels=("interweaving", scheme))
    assert c.verdict == "agree", str(c)


def test_scheme_comparison_catches_a_broken_sampler(synthetic):
    """Negative control for the agreement tests above: the same comparison, a seeded bug."""
    data, _ = synthetic
    correct = _fit(data, "interweaving", 1)
    broken = MUTANTS["log_uniform_df"].sample(
        data, draws=DRAWS, tune=500, seed=2, log_likelihood=False
    )
    c = compare_posteriors(correct, broken)
    assert c.verdict == "disagree", str(c)


def test_rhat_below_101_on_radon(radon):
    import arviz as az

    idata = gibbs.sample(radon, seed=5, progressbar=False, log_likelihood=False)
    rhat = az.rhat(idata)
    assert max(float(rhat[v].max()) for v in rhat.data_vars) < 1.01


def test_rhat_check_fails_for_stuck_chains(radon):
    """Negative control: chains that barely move from over-dispersed starts fail R-hat."""
    import arviz as az

    def creep(streams, state, model):
        z = streams.normal(model.data.q + 1)
        return state._replace(
            gamma=state.gamma + 1e-3 * z[:, 1:], sigma_y=state.sigma_y * np.exp(1e-3 * z[:, 0])
        )

    idata = sample_sweep(
        radon, (creep,), "stuck", draws=200, tune=0, seed=5, progressbar=False, log_likelihood=False
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rhat = az.rhat(idata)
    assert max(float(rhat[v].max()) for v in ["gamma", "sigma_y"]) > 1.01
