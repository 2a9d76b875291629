"""The fully collapsed sweep: its marginal density, its exact draws, i-SIR, the run-ahead buffer."""

import json
import warnings

import arviz as az
import numpy as np
import pytest
from scipy import stats

import gibbs
from gibbs.datasets import load_radon, simulate_hierarchical
from gibbs.kernels.gaussian import GaussianModel
from gibbs.kernels.marginal import (
    MAX_AHEAD,
    draw_locations,
    isir_pick,
    isir_stay,
    log_marginal_scales,
    marginal_sweep,
    scale_proposal,
)
from gibbs.priors import Flat, HalfNormal, InverseGamma, Normal, Priors
from gibbs.sampling import sample_sweep
from gibbs.streams import ChainStreams, chain_seed_sequences
from gibbs.structures.intercepts import initial_state
from validation.mutants import MUTANTS

from .dense import block_conditional, joint_precision, marginal_beta_gamma

POINTS = np.log([[0.5, 0.3], [0.9, 0.05], [0.3, 2.0], [1.5, 0.8]])  # (log sigma_y, log sigma_a)


def _small(p=1, empty=True):
    sizes = np.array([3, 0, 5, 1, 2, 4]) if empty else np.array([3, 2, 5, 1, 2, 4])
    data, _ = simulate_hierarchical(
        6, sizes, beta=[0.7] * p, gamma=[1.0, 0.5], sigma_y=0.6, sigma_alpha=0.5, seed=2
    )
    return data


def _dense_log_marginal(data, priors, log_sigma):
    """log p(y | sigma) + log p(sigma) + log-Jacobian, from n x n matrices (up to a constant)."""
    sy, sa = np.exp(log_sigma)
    Z = np.zeros((data.n, data.n_groups))
    Z[np.arange(data.n), data.group] = 1.0
    D = np.column_stack([data.X, Z @ data.U])
    V = sy**2 * np.eye(data.n) + sa**2 * Z @ Z.T
    if isinstance(priors.beta, Flat):  # flat locations: integrate theta against Lebesgue measure
        Vi = np.linalg.inv(V)
        A = D.T @ Vi @ D
        P = Vi - Vi @ D @ np.linalg.solve(A, D.T @ Vi)
        loglik = -0.5 * (np.linalg.slogdet(V)[1] + np.linalg.slogdet(A)[1] + data.y @ P @ data.y)
    else:
        m = np.concatenate([priors.beta.mu * np.ones(data.p), priors.gamma.mu * np.ones(data.q)])
        s2 = np.concatenate(
            [priors.beta.sigma**2 * np.ones(data.p), priors.gamma.sigma**2 * np.ones(data.q)]
        )
        loglik = stats.multivariate_normal(D @ m, V + (D * s2) @ D.T).logpdf(data.y)
    return (
        loglik
        + priors.sigma_y.logpdf(np.array(sy))
        + priors.sigma_alpha.logpdf(np.array(sa))
        + log_sigma.sum()
    )


@pytest.mark.parametrize(
    "priors, p",
    [
        (Priors(), 1),
        (Priors(), 0),
        (
            Priors(
                beta=Normal(0.3, 2.0),
                gamma=Normal(-0.5, 1.5),
                sigma_y=InverseGamma(3, 2),
                sigma_alpha=HalfNormal(1.0),
            ),
            1,
        ),
    ],
)
def test_log_marginal_matches_dense_linear_algebra(priors, p):
    data = _small(p)
    model = GaussianModel(data, priors)
    logp = log_marginal_scales(POINTS[None], model)[0][0]
    dense = np.array([_dense_log_marginal(data, priors, x) for x in POINTS])
    # Equal up to one additive constant (the improper priors' and 2 pi terms).
    np.testing.assert_allclose(logp - logp[0], dense - dense[0], rtol=1e-9, atol=1e-9)


def test_log_marginal_per_outcome_row_matches_separate_models():
    data = _small()
    model = GaussianModel(data, Priors())
    Y = np.stack([data.y, data.y[::-1] * 2.0, data.y + 1.0])
    rows = model.with_outcomes(Y)
    logp = log_marginal_scales(np.broadcast_to(POINTS, (3, *POINTS.shape)), rows)[0]
    for r in range(3):
        single = GaussianModel(data.replace(y=Y[r]), Priors())
        expected = log_marginal_scales(POINTS[None], single)[0][0]
        np.testing.assert_allclose(logp[r] - logp[r, 0], expected - expected[0], atol=1e-9)


def test_theta_given_scales_matches_dense_marginal():
    data = _small()
    priors = Priors(beta=Normal(0, 2.0), gamma=Normal(0, 3.0))
    model = GaussianModel(data, priors)
    _, L, w = log_marginal_scales(POINTS[None], model)
    for k, x in enumerate(POINTS):
        sy, sa = np.exp(x)
        Lam, h, blocks = joint_precision(data, priors, sy, sa)
        mean, cov = marginal_beta_gamma(Lam, h, blocks)
        Lk = L[0, k]
        np.testing.assert_allclose(Lk @ Lk.T, np.linalg.inv(cov), rtol=1e-9)
        np.testing.assert_allclose(np.linalg.solve(Lk.T, w[0, k]), mean, rtol=1e-9, atol=1e-12)


def test_draw_locations_is_the_exact_conditional():
    """With z = 0 the draws are the conditional means; unit z's recover the covariances."""
    data = _small()
    priors = Priors()
    model = GaussianModel(data, priors)
    x = POINTS[1]
    sy, sa = np.exp(x)
    _, L, w = log_marginal_scales(x[None, None], model)
    d, J = model.M.shape[0], data.n_groups
    # Rows: z = 0, then each unit vector of theta's normals.
    z_theta = np.vstack([np.zeros(d), np.eye(d)])[None]
    z_alpha = np.zeros((1, d + 1, J))
    Lb, wb = np.broadcast_to(L, (1, d + 1, d, d)), np.broadcast_to(w, (1, d + 1, d))
    full = np.full((1, d + 1), 1.0)
    theta, alpha = draw_locations(Lb, wb, sy * full, sa * full, z_theta, z_alpha, model)
    Lam, h, blocks = joint_precision(data, priors, sy, sa)
    mean, cov = marginal_beta_gamma(Lam, h, blocks)
    np.testing.assert_allclose(theta[0, 0], mean, rtol=1e-9)
    steps = theta[0, 1:] - theta[0, 0]
    np.testing.assert_allclose(steps.T @ steps, cov, rtol=1e-9, atol=1e-14)
    # alpha | theta: its dense conditional mean at theta's draw, and its sd from unit normals.
    full_theta = np.concatenate([np.zeros(J), theta[0, 0]])
    a_mean, a_cov = block_conditional(Lam, h, blocks, "alpha", full_theta)
    np.testing.assert_allclose(alpha[0, 0], a_mean, rtol=1e-9)
    _, alpha_unit = draw_locations(
        L, w, np.array([[sy]]), np.array([[sa]]), theta[:, :1] * 0, np.ones((1, 1, J)), model
    )
    _, alpha_zero = draw_locations(
        L, w, np.array([[sy]]), np.array([[sa]]), theta[:, :1] * 0, np.zeros((1, 1, J)), model
    )
    np.testing.assert_allclose(alpha_unit - alpha_zero, np.sqrt(np.diag(a_cov))[None, None])


def test_isir_pick_frequencies_follow_the_weights():
    weights = np.array([1.0, 2.0, 3.0, 4.0])
    u = np.random.default_rng(5).random(40_000)
    pick, log_total = isir_pick(np.broadcast_to(np.log(weights), (u.size, 4)), u)
    np.testing.assert_allclose(log_total, np.log(10.0))
    counts = np.bincount(pick, minlength=4)
    assert stats.chisquare(counts, u.size * weights / weights.sum()).pvalue > 1e-3
    # Negative control: the same check on uniform picks rejects.
    uniform_counts = np.bincount(np.floor(4 * u).astype(int), minlength=4)
    assert stats.chisquare(uniform_counts, u.size * weights / weights.sum()).pvalue < 1e-3


def test_isir_stays_with_probability_current_over_total_weight():
    # w_0 = 1, fresh total 3: stay iff u < 1/4.
    assert isir_stay(0.0, np.log(3.0), 0.2499) and not isir_stay(0.0, np.log(3.0), 0.2501)
    assert isir_stay(-np.inf, -np.inf, 0.5)  # nothing to move to
    assert not isir_stay(-np.inf, 0.0, 0.999)  # a zero-weight current point always moves


def test_proposal_is_centred_at_the_mode():
    model = GaussianModel(load_radon(), Priors())
    prop = scale_proposal(model)
    gy = prop.mean[0, 0] + np.linspace(-0.01, 0.01, 41)
    ga = prop.mean[0, 1] + np.linspace(-0.1, 0.1, 41)
    grid = np.stack(np.meshgrid(gy, ga, indexing="ij"), axis=-1).reshape(1, -1, 2)
    best = grid[0, np.argmax(log_marginal_scales(grid, model)[0][0])]
    # Within one grid step of the grid's best point.
    assert abs(best[0] - prop.mean[0, 0]) <= 0.0005 and abs(best[1] - prop.mean[0, 1]) <= 0.005
    assert scale_proposal(model) is prop  # cached on the model
    # Different outcomes get their own proposal (the cache does not carry over).
    other = model.with_outcomes(model.data.y[None] * 3.0)
    assert scale_proposal(other).mean[0, 0] == pytest.approx(prop.mean[0, 0] + np.log(3.0), 1e-3)


def _quadrature(model, low_y=-3.0):
    """Exact posterior moments of the scales by 2-D quadrature of the marginal density."""
    gy = np.linspace(low_y, 2.0, 601 if low_y == -3.0 else 701)
    ga = np.linspace(-12.0, 3.0, 1201 if low_y == -3.0 else 601)
    grid = np.stack(np.meshgrid(gy, ga, indexing="ij"), axis=-1).reshape(1, -1, 2)
    logp = log_marginal_scales(grid, model)[0][0]
    w = np.exp(logp - logp.max())
    w /= w.sum()
    sy, sa = np.exp(grid[0, :, 0]), np.exp(grid[0, :, 1])
    return {"sigma_y": w @ sy, "sigma_alpha": w @ sa, "sa_below_0.2": w @ (sa < 0.2)}


def _z_scores(sweep, data, priors, exact):
    idata = sample_sweep(
        data,
        sweep,
        "test",
        priors,
        draws=10_000,
        tune=200,
        seed=3,
        progressbar=False,
        log_likelihood=False,
    )
    post = idata.posterior
    values = {
        "sigma_y": post["sigma_y"].values,
        "sigma_alpha": post["sigma_alpha"].values,
        "sa_below_0.2": (post["sigma_alpha"].values < 0.2).astype(float),
    }
    estimates = {k: (v.mean(), az.mcse(v, method="mean").item()) for k, v in values.items()}
    return {k: (m - exact[k]) / se for k, (m, se) in estimates.items()}


def test_sweep_targets_the_exact_marginal_posterior():
    """Posterior means of the scales match quadrature within 4 MCSE; both mutants do not."""
    data, _ = simulate_hierarchical(4, 5, seed=6)
    priors = Priors(sigma_alpha=HalfNormal(1.0))
    exact = _quadrature(GaussianModel(data, priors))
    z = _z_scores((marginal_sweep,), data, priors, exact)
    assert max(abs(v) for v in z.values()) < 4.0, z
    for name in ("isir_unweighted", "marginal_without_log_det"):
        z_bad = _z_scores(MUTANTS[name].sweep, data, priors, exact)
        assert max(abs(v) for v in z_bad.values()) > 4.0, (name, z_bad)


def test_sweep_targets_the_exact_marginal_on_single_row_groups():
    """Every group a single row: the proposal lives on (total, ratio) (a unit-Jacobian map),
    and the draws still match quadrature; the unweighted i-SIR mutant does not."""
    from gibbs.kernels.marginal import uses_ratio

    data, _ = simulate_hierarchical(40, 1, seed=7)
    priors = Priors(sigma_y=HalfNormal(1.0), sigma_alpha=HalfNormal(1.0))
    model = GaussianModel(data, priors)
    assert uses_ratio(model) and scale_proposal(model).ratio
    exact = _quadrature(model, low_y=-12.0)  # sigma_y near 0 is plausible here
    z = _z_scores((marginal_sweep,), data, priors, exact)
    assert max(abs(v) for v in z.values()) < 4.0, z
    z_bad = _z_scores(MUTANTS["isir_unweighted"].sweep, data, priors, exact)
    assert max(abs(v) for v in z_bad.values()) > 4.0, z_bad


def _streams(chains=3, seed=1):
    return ChainStreams(chain_seed_sequences(seed, chains)[1])


def test_run_ahead_doubles_and_restarts_when_the_state_changes():
    model = GaussianModel(load_radon(), Priors())
    streams = _streams()
    state = initial_state(model, streams)
    sizes = []
    for _ in range(2 * MAX_AHEAD):
        state = marginal_sweep(streams, state, model)
        sizes.append(streams.scratch["marginal"].size)
    assert sizes[:4] == [1, 2, 2, 4] and max(sizes) == MAX_AHEAD
    # Another block moves sigma_alpha: the buffer is dropped and the chain restarts from there.
    moved = state._replace(sigma_alpha=state.sigma_alpha * 1.5)
    marginal_sweep(streams, moved, model)
    ahead = streams.scratch["marginal"]
    assert ahead.size == 1
    # So is it for a different model (a Geweke test swaps the outcomes every iteration).
    other = model.with_outcomes(np.broadcast_to(model.data.y, (3, model.data.n)))
    state = marginal_sweep(streams, state, other)
    assert streams.scratch["marginal"].model is other and streams.scratch["marginal"].size == 1


def test_default_mixes_when_sigma_alpha_is_truly_zero(monkeypatch):
    """The stress cell that failed (benchmarks/stress.py: J = 1000 groups of 5, sigma_alpha = 0).

    The optimum of the log scales has no negative-definite Hessian there; the proposal's
    covariance then comes from quadrature of the marginal. Negative control: the former
    fallback, unit variances on the log scales, does not converge at the same seed.
    """
    from gibbs.kernels import marginal

    data, _ = simulate_hierarchical(1000, 5, sigma_y=1.0, sigma_alpha=0.0, seed=1005)

    def run():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            idata = gibbs.sample(data, seed=1, progressbar=False, log_likelihood=False)
        return json.loads(idata.posterior.attrs["convergence"])

    good = run()
    assert good["converged"], good["message"]
    monkeypatch.setattr(
        marginal,
        "_grid_moments",
        lambda x, hess, model: (x, np.broadcast_to(np.eye(2), (len(x), 2, 2))),
    )
    bad = run()
    assert not bad["converged"] and bad["max_rhat"] > 1.01
