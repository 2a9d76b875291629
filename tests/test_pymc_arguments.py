"""PyMC's argument names on gibbs.sample: random_seed, initvals, var_names, idata_kwargs, and the
outcome named after its column."""

import arviz as az
import numpy as np
import pytest

import gibbs
from gibbs.datasets import load_radon

RUN = {"draws": 30, "tune": 20, "chains": 2, "progressbar": False}
pytestmark = pytest.mark.filterwarnings("ignore::gibbs.convergence.ConvergenceWarning")


@pytest.fixture(scope="module")
def radon():
    return load_radon()


def test_random_seed_is_seed_and_takes_a_generator(radon):
    a = gibbs.sample(radon, random_seed=np.random.default_rng(7), **RUN)
    b = gibbs.sample(radon, seed=np.random.default_rng(7), **RUN)
    c = gibbs.sample(radon, random_seed=np.random.default_rng(8), **RUN)
    np.testing.assert_array_equal(a.posterior["beta"], b.posterior["beta"])
    # Negative control: another generator state gives other draws.
    assert not np.array_equal(a.posterior["beta"], c.posterior["beta"])
    d = gibbs.sample(radon, random_seed=11, **RUN)
    e = gibbs.sample(radon, seed=11, **RUN)
    np.testing.assert_array_equal(d.posterior["alpha"], e.posterior["alpha"])


def test_initvals_is_init(radon):
    # No warm-up and a scheme whose first draw depends on the start: the default one forgets
    # its start at the first sweep (its proposals do not depend on the current point).
    run = {**RUN, "tune": 0, "scheme": "componentwise", "compute_convergence_checks": False}
    start = {"sigma_y": 3.0, "sigma_alpha": 2.5}
    a = gibbs.sample(radon, seed=1, initvals=start, **run)
    b = gibbs.sample(radon, seed=1, init=start, **run)
    c = gibbs.sample(radon, seed=1, **run)
    np.testing.assert_array_equal(a.posterior["sigma_alpha"], b.posterior["sigma_alpha"])
    assert not np.array_equal(a.posterior["sigma_alpha"], c.posterior["sigma_alpha"])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"seed": 1, "random_seed": 1}, "seed and random_seed"),
        ({"init": {"sigma_y": 1.0}, "initvals": {"sigma_y": 1.0}}, "init and initvals"),
        ({"var_names": ["betta"]}, r"\['betta'\] not among"),
        ({"var_names": "beta"}, "list of names"),
        ({"var_names": []}, "empty"),
        ({"idata_kwargs": {"save_warmup": True}}, r"\['save_warmup'\] not understood"),
        ({"idata_kwargs": {"log_likelihood": "yes"}}, "True or False"),
    ],
)
def test_bad_pymc_arguments_are_named_before_sampling(radon, kwargs, match):
    # draws=10**7 would run for hours: the error must come first.
    with pytest.raises(ValueError, match=match):
        gibbs.sample(radon, draws=10**7, progressbar=False, **kwargs)


def test_var_names_keeps_those_variables_and_their_draws(radon):
    full = gibbs.sample(radon, seed=3, **RUN)
    some = gibbs.sample(radon, seed=3, var_names=["beta", "sigma_alpha"], **RUN)
    assert list(some.posterior.data_vars) == ["beta", "sigma_alpha"]
    np.testing.assert_array_equal(some.posterior["beta"], full.posterior["beta"])
    # The pointwise log-likelihood still uses every parameter.
    np.testing.assert_array_equal(
        some.log_likelihood["log_radon"], full.log_likelihood["log_radon"]
    )


def test_var_names_with_factors_and_a_count_family():
    from gibbs.police_stops import load_police_stops

    stops = load_police_stops(quiet=True)
    idata = gibbs.sample(
        stops.data,
        family="poisson",
        factors=stops.factors,
        seed=1,
        var_names=["eth_effect", "sigma_epsilon"],
        **RUN,
    )
    assert list(idata.posterior.data_vars) == ["eth_effect", "sigma_epsilon"]
    assert "stops" in idata.observed_data


def test_idata_kwargs_log_likelihood(radon):
    off = gibbs.sample(radon, seed=2, idata_kwargs={"log_likelihood": False}, **RUN)
    on = gibbs.sample(
        radon, seed=2, log_likelihood=False, idata_kwargs={"log_likelihood": True}, **RUN
    )
    assert "log_likelihood" not in off.groups()
    assert "log_likelihood" in on.groups()


def test_outcome_is_named_after_its_column(radon):
    idata = gibbs.sample(radon, seed=4, posterior_predictive=True, **RUN)
    for group in ("observed_data", "log_likelihood", "posterior_predictive"):
        assert list(getattr(idata, group).data_vars) == ["log_radon"], group
    assert np.isfinite(az.loo(idata).elpd_loo)
    # Arrays without a column name keep PyMC's usual "y".
    rng = np.random.default_rng(0)
    data = gibbs.HierarchicalData.from_arrays(
        y=rng.normal(size=40), X=rng.normal(size=(40, 1)), groups=np.repeat(np.arange(8), 5)
    )
    plain = gibbs.sample(data, seed=4, **RUN)
    assert list(plain.observed_data.data_vars) == ["y"]


def test_fit_reference_takes_what_gibbs_sample_takes(monkeypatch):
    """A formula reaches the same twin as its data, with the structure's parameterization."""
    import pandas as pd

    import reference_models.reference as reference
    from reference_models.fit import fit_reference

    seen = []
    monkeypatch.setattr(
        reference, "fit_intercepts_reference", lambda *a, **k: seen.append((a, k)) or "intercepts"
    )
    for name, kernel in [
        ("fit_spec_reference", "general"),
        ("fit_factors_reference", "factors"),
        ("fit_slopes_reference", "slopes"),
    ]:
        monkeypatch.setattr(reference, name, lambda *a, _k=kernel, **k: seen.append((a, k)) or _k)
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(
        {
            "y": rng.normal(size=24),
            "x": rng.normal(size=24),
            "g": np.repeat(list("abcdef"), 4),
            "h": np.tile(list("uvw"), 8),
        }
    )
    out = fit_reference("y ~ x + (1 | g)", data=frame, random_seed=3, priors="weakly-informative")
    assert out == "intercepts"
    (data, priors, sampler), kw = seen[-1]
    direct = gibbs.specify("y ~ x + (1 | g)", data=frame, priors="weakly-informative")
    np.testing.assert_array_equal(data.y, direct.data.y)
    assert priors == direct.priors and kw["seed"] == 3 and sampler == "pymc"
    # A crossed factor or a varying slope goes to its structure's twin, as in gibbs.sample.
    for formula in ("y ~ x + (1 | g) + (1 | h)", "y ~ x + (1 + x | g)"):
        kernel = gibbs.specify(formula, data=frame).implementation.name
        assert fit_reference(formula, data=frame, draws=10) == kernel != "intercepts"
        assert seen[-1][1]["draws"] == 10


def test_block_statistics_are_in_sample_stats(radon):
    """The i-SIR step of the scales reports whether it moved, as PyMC's steps report theirs."""
    idata = gibbs.sample(radon, random_seed=4, draws=200, tune=50, chains=3, progressbar=False)
    moved = idata.sample_stats["scales_accepted"].values
    assert moved.shape == (3, 200) and moved.dtype == bool
    # With thin=1 the scales change between two draws exactly when the step moved.
    changed = np.diff(idata.posterior["sigma_y"].values, axis=1) != 0
    assert np.array_equal(moved[:, 1:], changed)
    # Negative control: the statistic one draw off does not line up.
    assert not np.array_equal(moved[:, :-1], changed)
    # Exact Gibbs blocks report nothing: only the log density.
    plain = gibbs.sample(radon, scheme="collapsed", random_seed=4, **RUN)
    assert list(plain.sample_stats.data_vars) == ["lp"]
