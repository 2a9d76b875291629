"""Closed-form checks of every Gibbs block, each paired with a broken block that must fail."""

import numpy as np
import pytest
from scipy import stats

from gibbs.datasets import simulate_hierarchical
from gibbs.kernels.gaussian import (
    GaussianModel,
    State,
    asis_sigma_alpha,
    update_alpha,
    update_beta,
    update_beta_gamma_marginal,
    update_gamma,
)
from gibbs.kernels.scales import draw_centered_scale, draw_noncentered_scale
from gibbs.priors import (
    HalfCauchy,
    HalfNormal,
    HalfStudentT,
    InverseGamma,
    Normal,
    Priors,
    UniformLogSigma,
    UniformSigma,
)
from gibbs.streams import ChainStreams, chain_seed_sequences
from tests.tiers import tiered
from validation import mutants

from .dense import block_conditional, joint_precision, marginal_beta_gamma
from .stat_checks import gaussian_draws_match, numeric_cdf

N_DRAWS = 20_000
LEVEL = 1e-3  # family-wise level of each closed-form check
SIGMA_Y, SIGMA_ALPHA = 0.9, 0.6

PRIOR_SETS = {
    "flat": Priors(),
    "normal": Priors(beta=Normal(0.3, 0.5), gamma=Normal([1.0, 0.0], [2.0, 0.4])),
}


@pytest.fixture(scope="module")
def data():
    # Unbalanced, with an empty group and single-member groups.
    sizes = np.array([0, 1, 1, 2, 3, 5, 8, 13, 4, 6])
    d, _ = simulate_hierarchical(10, sizes, beta=[0.5, -1.0], gamma=[1.0, 0.7], seed=11)
    return d


def _streams(n, seed=0):
    return ChainStreams(chain_seed_sequences(seed, n)[1])


def _fixed_state(data, n, seed=1):
    rng = np.random.default_rng(seed)
    theta = {
        "alpha": rng.normal(1.0, 0.5, data.n_groups),
        "beta": rng.normal(0.0, 1.0, data.p),
        "gamma": rng.normal(0.5, 0.5, data.q),
    }
    state = State(
        alpha=np.tile(theta["alpha"], (n, 1)),
        beta=np.tile(theta["beta"], (n, 1)),
        gamma=np.tile(theta["gamma"], (n, 1)),
        sigma_y=np.full(n, SIGMA_Y),
        sigma_alpha=np.full(n, SIGMA_ALPHA),
        aux_y=np.ones(n),
        aux_alpha=np.ones(n),
    )
    return state, np.concatenate([theta["alpha"], theta["beta"], theta["gamma"]])


BLOCKS = {
    "alpha": (
        update_alpha,
        [mutants.alpha_without_prior_precision, mutants.alpha_misindexed_groups],
    ),
    "beta": (update_beta, [mutants.beta_without_alpha_offset, mutants.beta_posterior_mean]),
    "gamma": (update_gamma, [mutants.gamma_from_group_means]),
}


def _block_check(data, priors, name, block):
    model = GaussianModel(data, priors)
    state, theta = _fixed_state(data, N_DRAWS)
    with np.errstate(all="ignore"):
        new = block(_streams(N_DRAWS), state, model)
    draws = getattr(new, name)
    if not np.all(np.isfinite(draws)):
        return False, 0.0
    Lam, h, blocks = joint_precision(data, priors, SIGMA_Y, SIGMA_ALPHA)
    mean, cov = block_conditional(Lam, h, blocks, name, theta)
    return gaussian_draws_match(draws, mean, cov, LEVEL)


@pytest.mark.parametrize("prior_set", sorted(PRIOR_SETS))
@pytest.mark.parametrize("name", ["alpha", "beta", "gamma"])
def test_location_block_matches_dense_conditional(data, prior_set, name):
    ok, p = _block_check(data, PRIOR_SETS[prior_set], name, BLOCKS[name][0])
    assert ok, f"{name} conditional rejected (p = {p:.2e})"


@pytest.mark.parametrize(
    "name,broken",
    [(n, b) for n, (_, bs) in BLOCKS.items() for b in bs],
    ids=lambda x: getattr(x, "__name__", x),
)
def test_broken_location_block_is_rejected(data, name, broken):
    ok, p = _block_check(data, Priors(), name, broken)
    assert not ok, f"the broken {broken.__name__} passed the closed-form check (p = {p:.2e})"


def _marginal_draws(data, priors, block):
    model = GaussianModel(data, priors)
    state, _ = _fixed_state(data, N_DRAWS)
    new = block(_streams(N_DRAWS), state, model)
    return np.column_stack([new.beta, new.gamma])


def _marginal_forgetting_group_size(streams, state, model):
    """A classic slip: c_j = sigma_a^2 / (sigma_y^2 + sigma_a^2), without n_j."""
    s = model.data.stats
    var_y, var_a = state.sigma_y**2, state.sigma_alpha**2
    c = np.broadcast_to((var_a / (var_y + var_a))[:, None], (len(var_y), model.data.n_groups))
    Q = (model.M - np.einsum("cj,jab->cab", c, model.group_outer)) / var_y[:, None, None]
    b = (model.h - (c * s.sum_y) @ model.group_sums) / var_y[:, None]
    from gibbs.kernels.gaussian import gaussian_draw

    theta = gaussian_draw(streams.normal(model.data.p + model.data.q), Q, b)
    return state._replace(beta=theta[:, : model.data.p], gamma=theta[:, model.data.p :])


@pytest.mark.parametrize("prior_set", sorted(PRIOR_SETS))
def test_blocked_beta_gamma_matches_dense_marginal(data, prior_set):
    priors = PRIOR_SETS[prior_set]
    Lam, h, blocks = joint_precision(data, priors, SIGMA_Y, SIGMA_ALPHA)
    mean, cov = marginal_beta_gamma(Lam, h, blocks)
    ok, p = gaussian_draws_match(
        _marginal_draws(data, priors, update_beta_gamma_marginal), mean, cov, LEVEL
    )
    assert ok, p
    # Negative control: without n_j in c_j the precision is wrong (here not even positive
    # definite, which the production code would raise as LinAlgError).
    try:
        draws = _marginal_draws(data, Priors(), _marginal_forgetting_group_size)
    except np.linalg.LinAlgError:
        return
    flat_mean, flat_cov = marginal_beta_gamma(
        *joint_precision(data, Priors(), SIGMA_Y, SIGMA_ALPHA)
    )
    ok, _ = gaussian_draws_match(draws, flat_mean, flat_cov, LEVEL)
    assert not ok, "the marginal draw without n_j passed"


# --------------------------------------------------------------------------- variances
SS, M = 3.7, 6  # few terms, so that a wrong degree of freedom is a large error

CLOSED_FORMS = {
    "uniform": (UniformSigma(), stats.invgamma((M - 1) / 2, scale=SS / 2)),
    "uniform_log": (UniformLogSigma(), stats.invgamma(M / 2, scale=SS / 2)),
    "inverse_gamma": (InverseGamma(2.0, 0.5), stats.invgamma(2.0 + M / 2, scale=0.5 + SS / 2)),
}


def _variance_draws(prior, m=M, sweeps=1, seed=3, n=N_DRAWS):
    streams = _streams(n, seed)
    aux = np.ones(n)
    for _ in range(sweeps):  # the half-t mixture is itself a two-block Gibbs chain
        sigma, aux = draw_centered_scale(streams, prior, np.full(n, SS), m, aux)
    return sigma


@pytest.mark.parametrize("family", sorted(CLOSED_FORMS))
def test_variance_draw_matches_closed_form(family):
    prior, dist = CLOSED_FORMS[family]
    p = stats.kstest(_variance_draws(prior) ** 2, dist.cdf).pvalue
    assert p > LEVEL, p


@pytest.mark.parametrize(
    "prior,wrong_m",
    [
        (UniformSigma(), M + 1),
        (UniformSigma(), M - 1),
        (UniformLogSigma(), M - 1),
        (InverseGamma(2.0, 0.5), M + 1),
    ],
)
def test_wrong_degrees_of_freedom_fail_closed_form(prior, wrong_m):
    dist = CLOSED_FORMS[
        {UniformSigma: "uniform", UniformLogSigma: "uniform_log", InverseGamma: "inverse_gamma"}[
            type(prior)
        ]
    ][1]
    p = stats.kstest(_variance_draws(prior, m=wrong_m) ** 2, dist.cdf).pvalue
    assert p < LEVEL, p


def test_log_uniform_df_with_uniform_prior_fails():
    dist = CLOSED_FORMS["uniform"][1]
    p = stats.kstest(_variance_draws(UniformLogSigma()) ** 2, dist.cdf).pvalue
    assert p < LEVEL


def _posterior_cdf(prior):
    # p(sigma | SS) = prior(sigma) * sigma^-M exp(-SS / (2 sigma^2)), from the written-out prior.
    return numeric_cdf(lambda s: prior.logpdf(s) - M * np.log(s) - SS / (2 * s**2), 1e-3, 1e3)


ALL_SCALES = {
    "uniform": UniformSigma(),
    "uniform_log": UniformLogSigma(),
    "inverse_gamma": InverseGamma(2.0, 0.5),
    "half_t": HalfStudentT(3.0, 0.5),
    "half_cauchy": HalfCauchy(0.3),
    "half_normal": HalfNormal(0.4),
}


@pytest.mark.parametrize("family", sorted(ALL_SCALES))
def test_scale_draw_matches_written_out_density(family):
    prior = ALL_SCALES[family]
    n = N_DRAWS if family != "half_normal" else 4000  # scipy's GIG is drawn chain by chain
    sigma = _variance_draws(prior, sweeps=30 if prior.uses_aux else 1, n=n)
    p = stats.kstest(sigma, _posterior_cdf(prior)).pvalue
    assert p > LEVEL, p


@pytest.mark.parametrize("family", ["half_t", "half_normal"])
def test_scale_draw_with_wrong_terms_fails_density_check(family):
    prior = ALL_SCALES[family]
    n = N_DRAWS if family != "half_normal" else 4000
    sigma = _variance_draws(prior, m=M - 2, sweeps=30 if prior.uses_aux else 1, n=n)
    assert stats.kstest(sigma, _posterior_cdf(prior)).pvalue < LEVEL


QUAD, LIN, NOISE = 4.0, 1.5, 0.8


def _noncentered_cdf(prior, aux=1.0):
    if isinstance(prior, HalfStudentT):  # conditional prior given aux: sigma^2 ~ IG(nu/2, nu/aux)
        prior = InverseGamma(prior.nu / 2, prior.nu / aux)
    return numeric_cdf(
        lambda s: prior.logpdf(s) - (QUAD * s**2 - 2 * LIN * s) / (2 * NOISE), 1e-4, 1e2
    )


@pytest.mark.parametrize("family", ["uniform", "inverse_gamma", "half_t", "half_normal"])
def test_noncentered_scale_draw_matches_density(family):
    prior = ALL_SCALES[family]
    exact = isinstance(prior, UniformSigma | HalfNormal)
    n = N_DRAWS if exact else 2000
    streams = _streams(n, 5)
    sigma = np.full(n, 0.5)
    aux = np.full(n, 0.7)
    for _ in range(1 if exact else 25):  # slice sampling is a Markov step: iterate to stationarity
        sigma = draw_noncentered_scale(
            streams, prior, sigma, np.full(n, QUAD), np.full(n, LIN), np.full(n, NOISE), aux
        )
    p = stats.kstest(sigma, _noncentered_cdf(prior, 0.7)).pvalue
    assert p > LEVEL, p
    # Negative control: the same draws are not from the conditional with a different linear term.
    wrong = numeric_cdf(
        lambda s: (
            (UniformSigma().logpdf(s) if exact else 0 * s)
            - (QUAD * s**2 - 2 * 1.1 * LIN * s) / (2 * NOISE)
        ),
        1e-4,
        1e2,
    )
    assert stats.kstest(sigma, wrong).pvalue < LEVEL


def _asis_forgetting_alpha(streams, state, model):
    """A classic slip: the non-centered draw updates sigma_alpha but leaves alpha as it was."""
    new = asis_sigma_alpha(streams, state, model)
    return new._replace(alpha=state.alpha)


def _stationary_given_sigma_y(data, priors, n, seed):
    """Draws of p(alpha, beta, gamma, sigma_alpha | sigma_y, y) from long runs of exact blocks."""
    from gibbs.kernels.gaussian import collapsed_sigma_alpha

    model = GaussianModel(data, priors)
    state, _ = _fixed_state(data, n)
    streams = _streams(n, seed)
    for _ in range(200):
        for block in (update_beta_gamma_marginal, collapsed_sigma_alpha, update_alpha):
            state = block(streams, state, model)
    return model, streams, state


def _invariance_p_values(model, streams, state, step):
    after = step(streams, state, model)

    def statistics(st):
        dev = st.alpha - st.gamma @ model.data.U.T
        return [st.sigma_alpha, st.gamma[:, 0], np.sum(dev**2, axis=1) / st.sigma_alpha**2]

    pairs = zip(statistics(state), statistics(after), strict=True)
    return [stats.ks_2samp(a, b).pvalue for a, b in pairs]


@pytest.mark.parametrize(
    "prior",
    tiered(
        [UniformSigma(), HalfNormal(1.0), InverseGamma(1.0, 0.5)],
        {InverseGamma(1.0, 0.5)},
        ids=["uniform", "half_normal", "inverse_gamma"],
    ),
)
def test_asis_step_leaves_posterior_invariant(data, prior):
    """Start from p(alpha, beta, gamma, sigma_alpha | sigma_y, y) and apply the interweaving step.

    sigma_y is held fixed; the partially collapsed blocks are run long from fixed starts in 4000
    independent chains, and the interweaving step must keep sigma_alpha, gamma and sum (eta_j)^2
    where the exact blocks have them (two-sample KS, Bonferroni over the three at LEVEL).
    """
    model, streams, state = _stationary_given_sigma_y(data, Priors(sigma_alpha=prior), 4000, 9)
    p = _invariance_p_values(model, streams, state, asis_sigma_alpha)
    assert min(p) > LEVEL / 3, p
    if isinstance(prior, UniformSigma):
        # Negative control: the step without rescaling alpha breaks the joint of alpha, sigma_alpha.
        broken = _invariance_p_values(model, streams, state, _asis_forgetting_alpha)
        assert min(broken) < LEVEL / 3, broken


def _collapsed_target_cdf(data, beta, gamma, sigma_y, prior, group_var_scale=1.0):
    """p(sigma_alpha | beta, gamma, sigma_y, y) from the raw rows (dense, independent)."""
    groups = [j for j in range(data.n_groups) if np.any(data.group == j)]
    resid = data.y - data.X @ beta - data.U[data.group] @ gamma
    rbar = np.array([resid[data.group == j].mean() for j in groups])
    n = np.array([np.sum(data.group == j) for j in groups])

    def logpdf(s):
        v = group_var_scale * sigma_y**2 / n[:, None] + s[None, :] ** 2
        return prior.logpdf(s) - 0.5 * np.sum(np.log(v) + rbar[:, None] ** 2 / v, axis=0)

    return numeric_cdf(logpdf, 1e-4, 1e2, points=50_001)


@pytest.mark.parametrize(
    "prior",
    [UniformSigma(), HalfStudentT(3.0, 0.5), InverseGamma(1.0, 0.5)],
    ids=["uniform", "half_t", "inverse_gamma"],
)
def test_collapsed_sigma_alpha_matches_marginal_density(data, prior):
    from gibbs.kernels.gaussian import collapsed_sigma_alpha

    n = 4000
    model = GaussianModel(data, Priors(sigma_alpha=prior))
    state, theta = _fixed_state(data, n)
    streams = _streams(n, 21)
    for _ in range(30):  # slice sampling is a Markov step: iterate to stationarity
        state = collapsed_sigma_alpha(streams, state, model)
    J, p = data.n_groups, data.p
    beta, gamma = theta[J : J + p], theta[J + p :]
    cdf = _collapsed_target_cdf(data, beta, gamma, SIGMA_Y, prior)
    assert stats.kstest(state.sigma_alpha, cdf).pvalue > LEVEL
    # Negative control: the marginal written with sigma_y^2 instead of sigma_y^2 / n_j.
    wrong = _collapsed_target_cdf(data, beta, gamma, SIGMA_Y, prior, group_var_scale=3.0)
    assert stats.kstest(state.sigma_alpha, wrong).pvalue < LEVEL
