"""Closed-form checks of the logistic and probit blocks, each with a broken-block control.

Given the latent variables, every Gaussian block must match the exact Gaussian conditional built
by dense linear algebra from the pseudo-data r / w with noise variances 1 / w; the latent draws
must follow the Polya-Gamma density (``polyagamma_cdf``) and the truncated normals.
"""

import numpy as np
import pytest
from polyagamma import polyagamma_cdf, random_polyagamma
from scipy import special, stats

from gibbs.datasets import simulate_binomial
from gibbs.kernels import binomial as kb
from gibbs.kernels.gaussian import update_gamma
from gibbs.priors import HalfStudentT, InverseGamma, Normal, Priors
from gibbs.streams import ChainStreams, chain_seed_sequences
from validation import binomial_mutants as bm

from .stat_checks import gaussian_draws_match, numeric_cdf

LEVEL = 1e-3
PRIORS = Priors(beta=Normal(0.2, 1.5), gamma=Normal(-0.1, 2.0), sigma_alpha=InverseGamma(3, 2))


def _data(family="logistic", trials=1):
    sizes = np.array([3, 4, 2, 5, 0, 4, 3])
    data, _ = simulate_binomial(
        7, sizes, family=family, beta=[0.8], gamma=[-0.3, 0.6], trials=trials, seed=4
    )
    return data


def _state(model, chains, seed=0):
    """One fixed parameter point and latent variables, repeated for every chain."""
    rng = np.random.default_rng(seed)
    d = model.data
    one = {
        "alpha": rng.normal(0, 1, d.n_groups),
        "beta": rng.normal(0, 1, d.p),
        "gamma": rng.normal(0, 1, d.q),
        "sigma_alpha": np.array(0.8),
        "w": rng.uniform(0.1, 1.5, d.n),
        "r": rng.normal(0, 1, d.n),
    }
    rep = {k: np.repeat(np.asarray(v)[None], chains, axis=0) for k, v in one.items()}
    return kb.BinomialState(aux_alpha=np.ones(chains), **rep)


def _streams(chains, seed=1):
    return ChainStreams(chain_seed_sequences(seed, chains)[1])


def _dense(model, state):
    """Pseudo-data, noise covariance, group indicator and design of the exact Gaussian model."""
    d = model.data
    w, r = state.w[0], state.r[0]
    Z = np.zeros((d.n, d.n_groups))
    Z[np.arange(d.n), d.group] = 1.0
    return r / w, np.diag(1.0 / w), Z, np.column_stack([d.X, d.U[d.group]])


def _theta_marginal_exact(model, state):
    ystar, noise, Z, D = _dense(model, state)
    sa2 = state.sigma_alpha[0] ** 2
    Sigma_inv = np.linalg.inv(noise + sa2 * Z @ Z.T)
    Q = D.T @ Sigma_inv @ D + model.P_theta
    cov = np.linalg.inv(Q)
    return cov @ (D.T @ Sigma_inv @ ystar + model.Pm_theta), cov


def _alpha_exact(model, state):
    ystar, noise, Z, _ = _dense(model, state)
    d = model.data
    W = np.linalg.inv(noise)
    sa2 = state.sigma_alpha[0] ** 2
    Q = Z.T @ W @ Z + np.eye(d.n_groups) / sa2
    cov = np.linalg.inv(Q)
    b = Z.T @ W @ (ystar - d.X @ state.beta[0]) + d.U @ state.gamma[0] / sa2
    return cov @ b, cov


def _beta_exact(model, state):
    ystar, noise, Z, _ = _dense(model, state)
    X = model.data.X
    W = np.linalg.inv(noise)
    Q = X.T @ W @ X + model.P_beta
    cov = np.linalg.inv(Q)
    return cov @ (X.T @ W @ (ystar - Z @ state.alpha[0]) + model.Pm_beta), cov


BLOCKS = {
    "beta_gamma_marginal": (kb.update_beta_gamma_binomial, _theta_marginal_exact, "theta"),
    "alpha": (kb.update_alpha_binomial, _alpha_exact, "alpha"),
    "beta": (kb.update_beta_binomial, _beta_exact, "beta"),
}


def _draws(block, model, state, what):
    new = block(_streams(state.alpha.shape[0]), state, model)
    if what == "theta":
        return np.column_stack([new.beta, new.gamma])
    return getattr(new, what)


@pytest.mark.parametrize("family", ["logistic", "probit"])
@pytest.mark.parametrize("name", sorted(BLOCKS))
def test_gaussian_blocks_match_dense_conditionals(family, name):
    block, exact, what = BLOCKS[name]
    model = kb.BinomialModel(_data(family), PRIORS, family)
    state = _state(model, 4000)
    mean, cov = exact(model, state)
    ok, p = gaussian_draws_match(_draws(block, model, state, what), mean, cov, LEVEL)
    assert ok, f"p = {p}"
    # Control: the same check on a state whose latent precisions are replaced by ones (the
    # Gaussian model's unit weights) must fail against the true conditional.
    wrong = state._replace(w=np.ones_like(state.w))
    ok_wrong, _ = gaussian_draws_match(_draws(block, model, wrong, what), mean, cov, LEVEL)
    assert not ok_wrong


def test_gamma_block_is_the_gaussian_models():
    model = kb.BinomialModel(_data(), PRIORS, "logistic")
    state = _state(model, 4000)
    U = model.data.U
    sa2 = state.sigma_alpha[0] ** 2
    Q = U.T @ U / sa2 + model.P_gamma
    cov = np.linalg.inv(Q)
    mean = cov @ (U.T @ state.alpha[0] / sa2 + model.Pm_gamma)
    draws = update_gamma(_streams(4000), state, model).gamma
    assert gaussian_draws_match(draws, mean, cov, LEVEL)[0]
    wrong = update_gamma(_streams(4000), state._replace(sigma_alpha=state.sigma_alpha * 1.3), model)
    assert not gaussian_draws_match(wrong.gamma, mean, cov, LEVEL)[0]


def _collapsed_target_logpdf(model, state, prior):
    """log p(sigma_alpha | theta, latent) from the dense multivariate normal of the pseudo-data."""
    ystar, noise, Z, D = _dense(model, state)
    theta = np.concatenate([state.beta[0], state.gamma[0]])
    resid = ystar - D @ theta

    def logpdf(s):
        s = np.atleast_1d(s)
        out = np.empty(s.shape)
        for k, v in enumerate(s):
            out[k] = stats.multivariate_normal.logpdf(resid, cov=noise + v**2 * Z @ Z.T)
        return out + prior.logpdf(s)

    return logpdf


@pytest.mark.parametrize("prior", [InverseGamma(3, 2), HalfStudentT(3, 1.0)], ids=repr)
def test_collapsed_sigma_alpha_step_leaves_the_dense_conditional_invariant(prior):
    priors = Priors(beta=PRIORS.beta, gamma=PRIORS.gamma, sigma_alpha=prior)
    model = kb.BinomialModel(_data(), priors, "logistic")
    chains = 3000
    state = _state(model, chains)
    logpdf = _collapsed_target_logpdf(model, state, prior)
    grid = np.geomspace(1e-3, 30, 4001)
    cdf = numeric_cdf(lambda x: np.interp(x, grid, logpdf(grid)), 1e-3, 30)
    # Start every chain at an exact draw (inverse CDF), apply one step: still the target.
    u = np.random.default_rng(3).random(chains)
    x_grid = np.geomspace(1e-3, 30, 200_001)
    start = np.interp(u, cdf(x_grid), x_grid)
    state = state._replace(sigma_alpha=start)
    after = kb.collapsed_sigma_alpha_binomial(_streams(chains), state, model).sigma_alpha
    assert stats.kstest(after, cdf).pvalue > LEVEL
    broken = bm.collapsed_without_jacobian(_streams(chains), state, model).sigma_alpha
    assert stats.kstest(broken, cdf).pvalue < LEVEL


# --------------------------------------------------------------------------- latent draws
def _constant_eta_model(family, eta, n=3000, trials=1, y=1.0):
    """One group, no X: every row has the linear predictor alpha_0 = eta."""
    from gibbs.data import HierarchicalData

    data = HierarchicalData(
        y=np.full(n, y),
        X=None,
        group=np.arange(n) % 2,
        U=np.ones((2, 1)),
        trials=None if trials == 1 else np.full(n, trials),
    )
    model = kb.BinomialModel(data, PRIORS, family)
    state = kb.BinomialState(
        alpha=np.full((1, 2), eta),
        beta=np.zeros((1, 0)),
        gamma=np.zeros((1, 1)),
        sigma_alpha=np.ones(1),
        aux_alpha=np.ones(1),
        w=np.ones((1, n)),
        r=np.zeros((1, n)),
    )
    return model, state


@pytest.mark.parametrize(("h", "z"), [(1.0, 0.0), (1.0, 2.5), (4.0, -1.0)])
def test_polyagamma_package_draws_follow_the_pg_density(h, z):
    draws = random_polyagamma(h, z, size=4000, random_state=np.random.default_rng(7))
    assert stats.kstest(draws, lambda x: polyagamma_cdf(x, h=h, z=z)).pvalue > LEVEL
    # Control: the same draws against a PG with another tilt.
    assert stats.kstest(draws, lambda x: polyagamma_cdf(x, h=h, z=z + 1.5)).pvalue < LEVEL
    # Independent of the package's own series: the closed-form mean and variance of PG(h, z)
    # (Polson, Scott & Windle 2013): h tanh(z/2) / (2z) and h (sinh z - z) / (4 z^3 cosh^2(z/2)),
    # with limits h/4 and h/24 at z = 0.
    if z == 0:
        mean, var = h / 4, h / 24
    else:
        mean = h * np.tanh(z / 2) / (2 * z)
        var = h * (np.sinh(z) - z) / (4 * z**3 * np.cosh(z / 2) ** 2)
    critical = stats.norm.isf(LEVEL / 4)  # two tests, two-sided, Bonferroni
    assert abs(draws.mean() - mean) < critical * np.sqrt(var / draws.size)
    # Standard error of the sample variance from the sample fourth central moment.
    m4 = np.mean((draws - draws.mean()) ** 4)
    assert abs(draws.var() - var) < critical * np.sqrt((m4 - draws.var() ** 2) / draws.size)


@pytest.mark.parametrize("trials", [1, 3])
def test_logistic_latent_block_draws_pg_of_trials_and_eta(trials):
    eta = 1.7
    model, state = _constant_eta_model("logistic", eta, trials=trials)
    new = kb.latent_logistic(_streams(1), state, model)
    cdf = lambda x: polyagamma_cdf(x, h=trials, z=eta)  # noqa: E731
    assert stats.kstest(new.w[0], cdf).pvalue > LEVEL
    np.testing.assert_array_equal(new.r[0], model.Y[0] - trials / 2)
    for broken in (bm.pg_without_tilt, bm.pg_double_shape):
        assert stats.kstest(broken(_streams(1), state, model).w[0], cdf).pvalue < LEVEL


@pytest.mark.parametrize("y", [0.0, 1.0])
def test_probit_latent_block_draws_truncated_normals(y):
    eta = -0.6
    model, state = _constant_eta_model("probit", eta, y=y)
    z = kb.latent_probit(_streams(1), state, model).r[0]
    a, b = (-eta, np.inf) if y == 1 else (-np.inf, -eta)
    cdf = stats.truncnorm(a, b, loc=eta).cdf
    assert stats.kstest(z, cdf).pvalue > LEVEL
    for broken in (bm.probit_flipped_truncation, bm.probit_untruncated):
        assert stats.kstest(broken(_streams(1), state, model).r[0], cdf).pvalue < LEVEL


def test_probit_binomial_rows_sum_one_utility_per_trial():
    # 5 trials with 2 successes: r = sum of 2 draws above 0 and 3 below; w = 5.
    eta, n = 0.4, 4000
    model, state = _constant_eta_model("probit", eta, n=n, trials=5, y=2.0)
    new = kb.latent_probit(_streams(1), state, model)
    np.testing.assert_array_equal(new.w[0], 5.0)
    up = stats.truncnorm(-eta, np.inf, loc=eta)
    down = stats.truncnorm(-np.inf, -eta, loc=eta)
    mean = 2 * up.mean() + 3 * down.mean()
    sd = np.sqrt(2 * up.var() + 3 * down.var())
    z = (new.r[0].mean() - mean) / (sd / np.sqrt(n))
    assert abs(z) < stats.norm.isf(LEVEL / 2)
    assert new.r[0].std() == pytest.approx(sd, rel=0.1)


def test_binomial_log_likelihood_matches_scipy():
    eta = np.array([-3.0, -0.2, 0.0, 1.1, 4.0])
    y = np.array([0.0, 2.0, 1.0, 3.0, 5.0])
    m = np.array([1.0, 4.0, 2.0, 3.0, 6.0])
    from gibbs.families import binomial_loglik

    for family, cdf in (("logistic", special.expit), ("probit", special.ndtr)):
        np.testing.assert_allclose(
            binomial_loglik(family, eta, y, m), stats.binom.logpmf(y, m, cdf(eta)), rtol=1e-10
        )
    # Far in the tails the stable forms stay finite where log(cdf) underflows.
    assert np.isfinite(binomial_loglik("probit", np.array([-40.0]), np.ones(1), np.ones(1)))
    assert np.isfinite(binomial_loglik("logistic", np.array([-800.0]), np.ones(1), np.ones(1)))
