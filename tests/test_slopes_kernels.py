"""Closed-form checks of the varying-slopes blocks, each paired with a broken block."""

import numpy as np
import pytest
from scipy import integrate, stats

from gibbs.covariance import HuangWand, InverseWishart, inverse_wishart_logpdf
from gibbs.datasets import simulate_slopes
from gibbs.kernels.slopes import (
    SlopesModel,
    SlopesState,
    update_alpha_slopes,
    update_beta_gamma_marginal_slopes,
    update_beta_slopes,
    update_gamma_slopes,
    update_sigma_slopes,
)
from gibbs.priors import Normal
from gibbs.slopes import SlopesPriors
from gibbs.streams import ChainStreams, chain_seed_sequences
from validation.slopes_mutants import SLOPES_MUTANTS, alpha_covariance_not_inverted

from .stat_checks import gaussian_draws_match

N_DRAWS = 20_000
LEVEL = 1e-3  # family-wise level of each closed-form check
SIGMA_Y = 0.9
SIGMA = np.array([[0.5, -0.15], [-0.15, 0.3]])

PRIOR_SETS = {
    "flat": SlopesPriors(Sigma=InverseWishart(4.0, 0.5)),
    "normal": SlopesPriors(
        beta=Normal(0.3, 0.5), gamma=Normal(0.0, [2.0, 0.4, 1.0]), Sigma=HuangWand(2.0, 1.0)
    ),
}


@pytest.fixture(scope="module")
def design():
    # Unbalanced, with an empty group and single-member groups; one varying slope, one fixed
    # predictor, one group-level predictor.
    sizes = np.array([0, 1, 1, 2, 3, 5, 8, 13, 4, 6])
    data, slopes, _ = simulate_slopes(
        10, sizes, gamma=[1.0, 0.7], mean_slopes=[-0.5], beta=[0.4], seed=11
    )
    return data, slopes


def _streams(n, seed=0):
    return ChainStreams(chain_seed_sequences(seed, n)[1])


def _free_mask(L, K):
    mask = np.zeros((L, K), dtype=bool)
    mask[:, 0] = True
    mask[0, :] = True  # simulate_slopes puts the constant column first
    return mask


def _fixed_state(model, n, seed=1):
    d, K = model.data, model.K
    rng = np.random.default_rng(seed)
    gamma = rng.normal(0.5, 0.5, (d.q, K)) * _free_mask(d.q, K)
    theta = {
        "alpha": rng.normal(1.0, 0.5, (d.n_groups, K)),
        "beta": rng.normal(0.0, 1.0, model.p),
        "gamma": gamma,
    }
    state = SlopesState(
        alpha=np.tile(theta["alpha"], (n, 1, 1)),
        beta=np.tile(theta["beta"], (n, 1)),
        gamma=np.tile(theta["gamma"], (n, 1, 1)),
        sigma_y=np.full(n, SIGMA_Y),
        Sigma=np.tile(SIGMA, (n, 1, 1)),
        aux_y=np.ones(n),
        aux_Sigma=np.ones((n, K)),
    )
    free = gamma[_free_mask(d.q, K)]  # row-major order, as the kernels flatten Gamma
    return state, np.concatenate([theta["alpha"].ravel(), theta["beta"], free])


def _dense(model, priors):
    """Precision and linear term of p(alpha, beta, free Gamma | sigma_y, Sigma, y), written
    from the model equations with dense n x JK and JK x F matrices."""
    d, K, p = model.data, model.K, model.p
    J, L = d.n_groups, d.q
    z_cols = [list(d.x_names).index(s) for s in model.slopes]
    x_cols = [c for c in range(d.p) if c not in z_cols]
    Z = np.column_stack([np.ones(d.n), d.X[:, z_cols]])
    Zfull = np.zeros((d.n, J * K))
    for k in range(K):
        Zfull[np.arange(d.n), d.group * K + k] = Z[:, k]
    X = d.X[:, x_cols]
    entries = [(row, k) for row in range(L) for k in range(K) if _free_mask(L, K)[row, k]]
    F = len(entries)
    B = np.zeros((J * K, F))
    for pos, (row, k) in enumerate(entries):
        B[np.arange(J) * K + k, pos] = d.U[:, row]
    A = np.hstack([np.eye(J * K), np.zeros((J * K, p)), -B])
    D = np.hstack([Zfull, X, np.zeros((d.n, F))])
    Pb, Pmb = priors.beta.precision(p)
    Pg, Pmg = priors.gamma.precision(F)
    Lam = D.T @ D / SIGMA_Y**2 + A.T @ np.kron(np.eye(J), np.linalg.inv(SIGMA)) @ A
    Lam[J * K : J * K + p, J * K : J * K + p] += Pb
    Lam[J * K + p :, J * K + p :] += Pg
    h = D.T @ d.y / SIGMA_Y**2 + np.concatenate([np.zeros(J * K), Pmb, Pmg])
    blocks = {
        "alpha": slice(0, J * K),
        "beta": slice(J * K, J * K + p),
        "gamma": slice(J * K + p, J * K + p + F),
    }
    return Lam, h, blocks


def _conditional(Lam, h, block, theta):
    mask = np.zeros(Lam.shape[0], dtype=bool)
    mask[block] = True
    cov = np.linalg.inv(Lam[np.ix_(mask, mask)])
    return cov @ (h[mask] - Lam[np.ix_(mask, ~mask)] @ theta[~mask]), cov


def _block_draws(model, block, name):
    state, theta = _fixed_state(model, N_DRAWS)
    new = block(_streams(N_DRAWS), state, model)
    draws = getattr(new, name)
    if name == "gamma":
        draws = model.free_gamma(draws)
    return draws.reshape(N_DRAWS, -1), theta


BLOCKS = {"alpha": update_alpha_slopes, "beta": update_beta_slopes, "gamma": update_gamma_slopes}


@pytest.mark.parametrize("prior_set", sorted(PRIOR_SETS))
@pytest.mark.parametrize("name", sorted(BLOCKS))
def test_slopes_block_matches_dense_conditional(design, prior_set, name):
    priors = PRIOR_SETS[prior_set]
    model = SlopesModel(*design, priors)
    draws, theta = _block_draws(model, BLOCKS[name], name)
    Lam, h, blocks = _dense(model, priors)
    mean, cov = _conditional(Lam, h, blocks[name], theta)
    ok, p = gaussian_draws_match(draws, mean, cov, LEVEL)
    assert ok, f"{name} conditional rejected (p = {p:.2e})"


def test_alpha_block_with_covariance_not_inverted_is_rejected(design):
    priors = PRIOR_SETS["flat"]
    model = SlopesModel(*design, priors)
    draws, theta = _block_draws(model, alpha_covariance_not_inverted, "alpha")
    Lam, h, blocks = _dense(model, priors)
    ok, p = gaussian_draws_match(draws, *_conditional(Lam, h, blocks["alpha"], theta), LEVEL)
    assert not ok, f"the broken alpha block passed (p = {p:.2e})"


@pytest.mark.parametrize("prior_set", sorted(PRIOR_SETS))
def test_blocked_beta_gamma_matches_dense_marginal(design, prior_set):
    priors = PRIOR_SETS[prior_set]
    model = SlopesModel(*design, priors)
    state, _ = _fixed_state(model, N_DRAWS)
    new = update_beta_gamma_marginal_slopes(_streams(N_DRAWS), state, model)
    draws = np.column_stack([new.beta, model.free_gamma(new.gamma)])
    Lam, h, blocks = _dense(model, priors)
    JK = blocks["alpha"].stop
    cov = np.linalg.inv(Lam)
    ok, p = gaussian_draws_match(draws, (cov @ h)[JK:], cov[JK:, JK:], LEVEL)
    assert ok, p
    # Negative control: the same draws are not the conditional given alpha (which the
    # componentwise gamma block targets): the check tells the two apart.
    state, theta = _fixed_state(model, N_DRAWS)
    mean, cond_cov = _conditional(Lam, h, slice(JK, Lam.shape[0]), theta)
    ok, _ = gaussian_draws_match(draws, mean, cond_cov, LEVEL)
    assert not ok


# --------------------------------------------------------------------------- Sigma
def _sigma_draws(model, block, seed=5):
    state, _ = _fixed_state(model, N_DRAWS)
    new = block(_streams(N_DRAWS, seed), state, model)
    r = state.alpha[0] - np.einsum("jl,lk->jk", model.data.U, state.gamma[0])
    return new.Sigma, r.T @ r


def _inverse_wishart_checks(Sigma, df, Psi):
    """p-values: tr(Psi Sigma^-1) ~ chi^2_(df K) and Sigma_kk ~ IG((df - K + 1)/2, Psi_kk/2)."""
    K = Psi.shape[0]
    trace = np.einsum("ab,cba->c", Psi, np.linalg.inv(Sigma))
    p = [stats.kstest(trace, stats.chi2(df * K).cdf).pvalue]
    for k in range(K):
        dist = stats.invgamma((df - K + 1) / 2, scale=Psi[k, k] / 2)
        p.append(stats.kstest(Sigma[:, k, k], dist.cdf).pvalue)
    return min(p) * len(p)  # Bonferroni


def test_inverse_wishart_sigma_draw_matches_closed_form(design):
    prior = InverseWishart(4.0, 0.5)
    model = SlopesModel(*design, SlopesPriors(Sigma=prior))
    Sigma, S = _sigma_draws(model, update_sigma_slopes)
    p = _inverse_wishart_checks(Sigma, prior.nu + model.data.n_groups, prior.psi(2) + S)
    assert p > LEVEL, p


@pytest.mark.parametrize("mutant", ["sigma_without_groups", "sigma_diagonal_scatter"])
def test_broken_sigma_draw_fails_closed_form(design, mutant):
    prior = InverseWishart(4.0, 0.5)
    model = SlopesModel(*design, SlopesPriors(Sigma=prior))
    Sigma, S = _sigma_draws(model, SLOPES_MUTANTS[mutant].block)
    p = _inverse_wishart_checks(Sigma, prior.nu + model.data.n_groups, prior.psi(2) + S)
    assert p < LEVEL, p


def test_huang_wand_auxiliary_draw_matches_closed_form():
    prior = HuangWand(2.0, (1.5, 0.7))
    n = N_DRAWS
    aux = prior.draw_aux(_streams(n, 9), np.tile(SIGMA, (n, 1, 1)), np.ones((n, 2)))
    inv = np.linalg.inv(SIGMA)
    for k, A in enumerate((1.5, 0.7)):
        dist = stats.invgamma((2.0 + 2) / 2, scale=2.0 * inv[k, k] + A**-2)
        assert stats.kstest(aux[:, k], dist.cdf).pvalue > LEVEL / 2
    # Negative control: the shape (nu + K)/2 is easy to get wrong as (nu + 1)/2.
    wrong = stats.invgamma((2.0 + 1) / 2, scale=2.0 * inv[0, 0] + 1.5**-2)
    assert stats.kstest(aux[:, 0], wrong.cdf).pvalue < LEVEL


def test_huang_wand_prior_has_half_t_sds_and_uniform_correlation():
    prior = HuangWand(2.0, (1.5, 0.7))
    Sigma, _ = prior.draw_prior(np.random.default_rng(3), N_DRAWS, 2)
    sd = np.sqrt(np.diagonal(Sigma, axis1=1, axis2=2))
    for k, A in enumerate((1.5, 0.7)):
        half_t_cdf = lambda x, A=A: 2.0 * stats.t(2.0, scale=A).cdf(x) - 1.0  # noqa: E731
        assert stats.kstest(sd[:, k], half_t_cdf).pvalue > LEVEL / 3
    rho = Sigma[:, 0, 1] / (sd[:, 0] * sd[:, 1])
    assert stats.kstest(rho, stats.uniform(-1, 2).cdf).pvalue > LEVEL / 3
    # Negative control: nu = 4 makes the correlation non-uniform (more mass near 0).
    Sigma4, _ = HuangWand(4.0, 1.0).draw_prior(np.random.default_rng(3), N_DRAWS, 2)
    rho4 = Sigma4[:, 0, 1] / np.sqrt(Sigma4[:, 0, 0] * Sigma4[:, 1, 1])
    assert stats.kstest(rho4, stats.uniform(-1, 2).cdf).pvalue < LEVEL


def test_inverse_wishart_density_matches_scipy():
    rng = np.random.default_rng(0)
    Psi = np.array([[1.0, 0.3], [0.3, 0.5]])
    Sigma = stats.invwishart(5.0, Psi).rvs(10, random_state=rng)
    ours = inverse_wishart_logpdf(Sigma, 5.0, Psi)
    np.testing.assert_allclose(ours, stats.invwishart(5.0, Psi).logpdf(Sigma.T), rtol=1e-10)


def test_huang_wand_marginal_density_integrates_the_auxiliary_variables():
    prior = HuangWand(2.0, (1.5, 0.7))
    S = np.array([[0.5, 0.1], [0.1, 0.3]])

    def joint(u1, u2):  # over log a, with its Jacobian
        return np.exp(prior.logpdf(S, np.array([np.exp(u1), np.exp(u2)])) + u1 + u2)

    value, _ = integrate.dblquad(joint, -15, 15, -15, 15)
    marginal = prior.marginal_logpdf(S) + prior.marginal_constant(2)
    assert abs(np.log(value) - marginal) < 1e-6
    # Negative control: another nu gives another density.
    other = HuangWand(3.0, (1.5, 0.7))
    assert abs(np.log(value) - other.marginal_logpdf(S) - other.marginal_constant(2)) > 1e-2
