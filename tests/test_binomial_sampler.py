"""The logistic and probit samplers: reproducibility, output, input errors, ML baselines and
log-density equality with the PyMC twins."""

import warnings

import numpy as np
import pytest
from scipy import optimize

import gibbs
from gibbs.data import HierarchicalData
from gibbs.datasets import load_radon_action_level, simulate_binomial
from gibbs.families import binomial_loglik
from gibbs.kernels.binomial import BinomialModel, BinomialState, log_joint_binomial
from gibbs.priors import Flat, HalfNormal, HalfStudentT, InverseGamma, Normal, Priors
from reference_models.pooling import complete_pooling_glm, no_pooling_glm
from reference_models.twins import build_twin, model_var_names

FAMILIES = ["logistic", "probit"]


@pytest.fixture(scope="module")
def small():
    data, _ = simulate_binomial(12, 8, family="logistic", seed=2)
    return data


@pytest.mark.parametrize("family", FAMILIES)
def test_same_seed_gives_bit_identical_draws_and_chains_do_not_depend_on_their_number(
    small, family
):
    kw = dict(family=family, draws=30, tune=20, progressbar=False, seed=11)
    a = gibbs.sample(small, chains=2, **kw).posterior
    b = gibbs.sample(small, chains=2, **kw).posterior
    c = gibbs.sample(small, chains=3, **kw).posterior
    for name in ("alpha", "beta", "gamma", "sigma_alpha"):
        np.testing.assert_array_equal(a[name].values, b[name].values)
        np.testing.assert_array_equal(a[name].values, c[name].values[:2])
    d = gibbs.sample(small, chains=2, **{**kw, "seed": 12}).posterior
    assert not np.array_equal(a["sigma_alpha"].values, d["sigma_alpha"].values)


@pytest.mark.parametrize("family", FAMILIES)
def test_inference_data_has_the_binomial_groups(family):
    data, _ = simulate_binomial(10, 6, family=family, trials=3, seed=1)
    idata = gibbs.sample(
        data,
        family=family,
        draws=40,
        tune=20,
        chains=2,
        seed=1,
        progressbar=False,
        posterior_predictive=True,
    )
    post = idata.posterior
    assert (
        set(post.data_vars)
        == set(model_var_names(data, family))
        == {"alpha", "beta", "gamma", "sigma_alpha"}
    )
    assert post.attrs["family"] == family
    np.testing.assert_array_equal(idata.constant_data["trials"].values, 3.0)
    # Pointwise log-likelihood is the binomial pmf at each draw.
    eta = post["alpha"].values[..., data.group] + post["beta"].values @ data.X.T
    np.testing.assert_allclose(
        idata.log_likelihood["y"].values, binomial_loglik(family, eta, data.y, data.trials)
    )
    ypred = idata.posterior_predictive["y"].values
    assert ypred.min() >= 0 and ypred.max() <= 3 and np.all(ypred == np.round(ypred))
    # lp is the log joint density of the kept state.
    state = BinomialState(
        alpha=post["alpha"].values[0],
        beta=post["beta"].values[0],
        gamma=post["gamma"].values[0],
        sigma_alpha=post["sigma_alpha"].values[0],
        aux_alpha=np.ones(40),
        w=np.ones((40, data.n)),
        r=np.zeros((40, data.n)),
    )
    model = BinomialModel(data, gibbs.priors.binomial_default(), family)
    np.testing.assert_allclose(
        idata.sample_stats["lp"].values[0], log_joint_binomial(state, model), rtol=1e-10
    )


def test_radon_action_level_is_log_radon_above_log_4():
    from gibbs.datasets import load_radon

    binary, continuous = load_radon_action_level(), load_radon()
    np.testing.assert_array_equal(binary.y, continuous.y > np.log(4.0))
    assert binary.y_name == "above_action_level" and 0 < binary.y.mean() < 1


# --------------------------------------------------------------------------- bad input
def test_non_binary_outcome_is_named(small):
    bad = small.replace(y=np.where(np.arange(small.n) == 5, 2.0, small.y))
    with pytest.raises(ValueError, match=r"outcome 'y' to be 0 or 1: 1 row\(s\).*row 5, value 2"):
        gibbs.sample(bad, family="logistic", progressbar=False)


def test_counts_above_trials_are_named():
    data, _ = simulate_binomial(6, 4, trials=2, seed=0)
    bad = data.replace(y=np.where(np.arange(data.n) == 3, 3.0, data.y))
    with pytest.raises(ValueError, match="from 0 to its trials: 1 row"):
        gibbs.sample(bad, family="probit", progressbar=False)


def test_bad_trials_are_named():
    with pytest.raises(ValueError, match=r"trials must be integers >= 1: 1 row\(s\).*row 2"):
        HierarchicalData(y=[0, 1, 1], X=None, group=[0, 1, 1], U=np.ones((2, 1)), trials=[1, 2, 0])
    with pytest.raises(ValueError, match="trials has 2 entries but y has 3 rows"):
        HierarchicalData(y=[0, 1, 1], X=None, group=[0, 1, 1], U=np.ones((2, 1)), trials=[1, 2])


def test_flat_beta_is_refused_for_binomial_models(small):
    with pytest.raises(ValueError, match="prior on beta: Flat can leave the logistic posterior"):
        gibbs.sample(small, Priors(), family="logistic", progressbar=False)


def test_uniform_sigma_alpha_needs_groups_with_both_outcomes():
    data, _ = simulate_binomial(4, 3, seed=0)
    y = (data.group == 0) * np.arange(data.n) % 2  # only group 0 has both outcomes
    with pytest.raises(ValueError, match="1 groups with both outcomes"):
        gibbs.sample(data.replace(y=y.astype(float)), family="probit", progressbar=False)


def test_unknown_family_and_scheme_are_named(small):
    with pytest.raises(ValueError, match="unknown family 'gamma'"):
        gibbs.sample(small, family="gamma", progressbar=False)
    with pytest.raises(ValueError, match="unknown scheme 'interweaving' for the logistic family"):
        gibbs.sample(small, family="bernoulli", scheme="interweaving", progressbar=False)


def test_init_overrides_are_checked(small):
    idata = gibbs.sample(
        small,
        family="logistic",
        draws=1,
        tune=0,
        chains=2,
        seed=0,
        progressbar=False,
        init={"sigma_alpha": 0.5},
    )
    assert idata.posterior["sigma_alpha"].shape == (2, 1)
    with pytest.raises(ValueError, match="init: unknown parameter 'sigma_y'"):
        gibbs.sample(small, family="logistic", init={"sigma_y": 1.0}, progressbar=False)


# --------------------------------------------------------------------------- ML baselines
def _mle(D, y, m, family):
    from gibbs.families import binomial_loglik as ll

    res = optimize.minimize(
        lambda b: -ll(family, D @ b, y, m).sum(),
        np.zeros(D.shape[1]),
        method="BFGS",
        options={"gtol": 1e-9},
    )
    return res.x


@pytest.mark.parametrize("family", FAMILIES)
def test_complete_pooling_glm_is_the_maximum_likelihood_fit(family):
    data, _ = simulate_binomial(15, 10, family=family, trials=2, seed=3)
    fit = complete_pooling_glm(data, family)
    D = np.column_stack([data.U[data.group], data.X])
    np.testing.assert_allclose(
        fit.coef["estimate"].to_numpy(), _mle(D, data.y, data.trials, family), atol=1e-5
    )


def test_no_pooling_glm_reports_separated_groups_instead_of_infinite_estimates():
    data, _ = simulate_binomial(
        30, 2 + np.arange(30) % 5, gamma=(0.0, 0.5), sigma_alpha=2.0, seed=0
    )
    s = np.bincount(data.group, data.y, data.n_groups)
    n = data.stats.n_j
    separated = {data.group_names[j] for j in np.flatnonzero((s == 0) | (s == n))}
    assert len(separated) >= 5
    with pytest.warns(RuntimeWarning, match="no finite intercept"):
        fit = no_pooling_glm(data, "logistic")
    assert set(fit.unestimable_groups) == separated
    assert np.all(np.isfinite(fit.coef["estimate"]))
    assert not separated & set(fit.group_intercepts.index)
    assert "no finite estimate" in fit.notes[0]


# --------------------------------------------------------------------------- PyMC twins
PRIOR_SETS = {
    "default": gibbs.priors.binomial_default(),
    "inverse_gamma": Priors(
        beta=Normal(0, 1), gamma=Normal(0.5, 2), sigma_alpha=InverseGamma(3, 2)
    ),
    "half_t": Priors(beta=Normal(0, 1), gamma=Flat(), sigma_alpha=HalfStudentT(3, 1)),
    "half_normal": Priors(beta=Normal(0, 1), gamma=Normal(0, 1), sigma_alpha=HalfNormal(0.7)),
}


def _twin_logp(model, data, state, parameterization):
    logp = model.compile_logp(jacobian=False)
    names = {v.name for v in model.value_vars}
    out = []
    for i in range(state.alpha.shape[0]):
        sa = state.sigma_alpha[i]
        values = {
            "gamma": state.gamma[i],
            "beta": state.beta[i],
            "sigma_alpha": sa,
            "sigma_alpha_sq": sa**2,
            "alpha": state.alpha[i],
            "alpha_z": (state.alpha[i] - data.U @ state.gamma[i]) / sa,
        }
        point = {}
        for name in names:
            base = name[: -len("_log__")] if name.endswith("_log__") else name
            point[name] = np.log(values[base]) if name.endswith("_log__") else values[base]
        value = float(logp(point))
        if "sigma_alpha_sq_log__" in names:
            value += np.log(2 * sa)
        if parameterization == "noncentered":
            value -= data.n_groups * np.log(sa)
        out.append(value)
    return np.array(out)


@pytest.mark.pymc
@pytest.mark.parametrize("parameterization", ["centered", "noncentered"])
@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("name", sorted(PRIOR_SETS))
def test_twin_log_density_equals_gibbs_log_joint(family, name, parameterization):
    data, _ = simulate_binomial(6, np.array([3, 2, 4, 0, 5, 3]), trials=2, seed=1)
    priors = PRIOR_SETS[name]
    rng = np.random.default_rng(0)
    k = 5
    state = BinomialState(
        alpha=rng.normal(0, 1.5, (k, data.n_groups)),
        beta=rng.normal(0, 1, (k, data.p)),
        gamma=rng.normal(0, 1, (k, data.q)),
        sigma_alpha=rng.uniform(0.2, 2.0, k),
        aux_alpha=np.ones(k),
        w=np.ones((k, data.n)),
        r=np.zeros((k, data.n)),
    )
    gibbs_lp = log_joint_binomial(state, BinomialModel(data, priors, family))
    twin = build_twin(data, priors, parameterization, family)
    diff = gibbs_lp - _twin_logp(twin, data, state, parameterization)
    np.testing.assert_allclose(diff - diff[0], 0.0, atol=1e-8 * np.abs(gibbs_lp).max())
    # Control: the twin of the other link differs by more than a constant.
    other = build_twin(data, priors, parameterization, FAMILIES[1 - FAMILIES.index(family)])
    wrong = gibbs_lp - _twin_logp(other, data, state, parameterization)
    assert np.ptp(wrong) > 1e-3


def test_ml_warning_is_not_raised_for_estimable_data():
    data, _ = simulate_binomial(8, 30, sigma_alpha=0.3, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        fit = no_pooling_glm(data, "probit")
    assert fit.unestimable_groups == [] and len(fit.group_intercepts) == 8
