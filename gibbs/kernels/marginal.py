"""The fully collapsed sweep of the Gaussian varying-intercept model.

Given the two scales, the model is a linear Gaussian model, so alpha, beta and gamma can be
integrated out exactly and drawn exactly afterwards. The sweep therefore has two stages:

1. (sigma_y, sigma_alpha) from their *marginal* posterior p(sigma_y, sigma_alpha | y), by one
   step of iterated sampling importance resampling (i-SIR; Andrieu, Lee & Vihola 2018, also
   known as the multiple-proposal sampler of Tjelmeland 2004): draw K fresh points from a fixed
   proposal q and move to one of the K + 1 points (the current one included) with probability
   proportional to its importance weight p / q. The step leaves the marginal posterior invariant
   for any proposal; with weights p / q bounded (true here: q is a multivariate t on the log
   scales, whose tails are heavier than the posterior's) it is uniformly ergodic, and with a
   proposal close to the posterior it is close to an independent draw.
2. (beta, gamma) | scales, y and alpha | beta, gamma, scales, y: exact Gaussian draws.

The proposal is a multivariate t (4 degrees of freedom) on (log sigma_y, log sigma_alpha), centred
at the posterior mode and scaled by the inverse Hessian there (a Laplace fit, found by Newton's
method from a grid start). It depends on the data only, never on the chain's state, so it is
fixed for the whole run. Two designs get another fit: where the optimum has no negative-definite
Hessian (sigma_alpha near 0) the t takes the marginal's mean and covariance by quadrature; where
the groups outnumber the within-group degrees of freedom (every group a single row, at the
extreme: only sigma_y^2 + sigma_alpha^2 is well determined, a curved ridge in the log scales)
the t lives on (log total sd, log sigma_alpha / sigma_y), a map with unit Jacobian.

Because the scale chain never looks at alpha, beta or gamma, it can be run ahead: a call draws the
next ``B`` iterations of the whole state in one vectorised pass and later calls hand them out. The
run-ahead is only an implementation of the same kernel: when the incoming state or model is not
the one the buffer continued from (another block changed it, or a Geweke test swapped the data),
the buffer is dropped and the step starts again from the incoming state.

The marginal log density, for theta = (beta, gamma) with prior N(m, P^{-1}) (P = 0 when flat)::

    log p(sigma | y) = log p(sigma_y) + log p(sigma_alpha)
                       - 1/2 [(n - J) log sigma_y^2 + sum_j log(sigma_y^2 + n_j sigma_alpha^2)]
                       - 1/2 log |Q| - 1/2 (y' S^-1 y - b' Q^-1 b) + const,

with S^-1 = (I - c_j 11') / sigma_y^2 in group j, c_j = sigma_alpha^2 / (sigma_y^2 + n_j
sigma_alpha^2), Q = D' S^-1 D + P and b = D' S^-1 y + P m for the design D = [X, U_j[i]]: all from
the per-group sums that the blocked sweep already uses.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from scipy import special

from gibbs.kernels.gaussian import GaussianModel, State, draw_alpha
from gibbs.kernels.tuning import DEFAULT
from gibbs.kernels.tuning import current as current_tuning

__all__ = [
    "ScaleProposal",
    "draw_locations",
    "isir_pick",
    "isir_stay",
    "log_marginal_scales",
    "make_marginal_sweep",
    "marginal_sweep",
    "scale_proposal",
]

# Fresh proposals per step: with the Laplace-fitted proposal the chance of staying put is about
# 1 / (K + 1), and evaluating K points costs little more than one (numpy call overhead dominates).
PROPOSALS = DEFAULT.proposals  # at run time: gibbs.kernels.tuning.current()
# Degrees of freedom (an integer: the chi-square is a sum of squared normals) and scale inflation
# of the t proposal: heavier tails than the posterior's, so that the importance weights stay
# bounded.
PROPOSAL_DF = 4
PROPOSAL_INFLATION = DEFAULT.inflation
# Largest number of iterations drawn ahead in one pass (doubling from 1 after each refill), and
# a cap on the array elements one pass holds, so that many groups do not cost much memory.
MAX_AHEAD = 64
_AHEAD_ELEMENTS = 1 << 21


class ScaleProposal(NamedTuple):
    """Multivariate t proposal on (log sigma_y, log sigma_alpha), one per data row.

    Attributes
    ----------
    mean : ndarray, shape (R, 2)
    chol : ndarray, shape (R, 2, 2)
        Lower Cholesky factor of the scale matrix.
    chol_inv : ndarray, shape (R, 2, 2)
    log_norm : ndarray, shape (R,)
        Log normalising constant (so that the weights of different rows are comparable).
    ratio : bool
        The t lives on (log total sd, log sigma_alpha / sigma_y) (:func:`to_ratio`) instead of
        the log scales: for designs whose data determine sigma_y^2 + sigma_alpha^2 far better
        than its split (:func:`uses_ratio`). The map has unit Jacobian, so the t's density is the
        proposal density of the log scales too.
    """

    mean: np.ndarray
    chol: np.ndarray
    chol_inv: np.ndarray
    log_norm: np.ndarray
    ratio: bool = False


class _MarginalStats(NamedTuple):
    """Statistics of the marginal density, pooled over groups of equal size.

    Every group term depends on the group only through n_j, so groups with the same number of
    rows are summed once: the cost per point is linear in the number of distinct group sizes,
    not in J.
    """

    sizes: np.ndarray  # (G,): the distinct n_j > 0
    counts: np.ndarray  # (G,): how many groups have that size
    n_groups: int  # groups with data
    outer: np.ndarray  # (G, d * d): sum over those groups of s_j s_j', s_j = sums of [X_j, 1 U_j]
    cross: np.ndarray  # (R, G, d): sum of S_j s_j (S_j the group's sum of y)
    square: np.ndarray  # (R, G, 1): sum of S_j^2
    within: np.ndarray  # (d, d): within-group cross-products of the design
    within_b: np.ndarray  # (R, 1, d): within-group cross-products of design and y
    within_y: np.ndarray  # (R, 1): within-group sum of squares of y


def _marginal_stats(model: GaussianModel) -> _MarginalStats:
    """Statistics of :func:`log_marginal_scales`, computed once per model (and outcome rows)."""
    cached = model.__dict__.get("_cache_marginal_stats")
    if cached is not None:
        return cached
    s, obs, d, p = model.stats, model.observed_groups, model.M.shape[0], model.data.p
    n = s.n_j[obs]
    sum_y = np.asarray(s.sum_y, dtype=float)
    rows = sum_y.shape[0] if sum_y.ndim == 2 else 1
    sum_y = sum_y.reshape(rows, -1)[:, obs]
    sum_x = s.sum_X[obs]
    within = np.zeros((d, d))
    within[:p, :p] = s.XtX - sum_x.T @ (sum_x / n[:, None])
    within_b = np.zeros((rows, d))
    within_b[:, :p] = np.reshape(s.Xty, (rows, p)) - (sum_y / n) @ sum_x
    within_y = np.reshape(s.yty, (rows,)) - np.sum(sum_y * sum_y / n, axis=1)
    sums = model.group_sums[obs]
    sizes, which, counts = np.unique(n, return_inverse=True, return_counts=True)
    pool = np.zeros((sizes.size, n.size))
    pool[which, np.arange(n.size)] = 1.0  # pool[g, j] = 1 if group j has size g
    outer = (sums[:, :, None] * sums[:, None, :]).reshape(-1, d * d)
    stats = _MarginalStats(
        sizes.astype(float),
        counts.astype(float),
        int(n.size),
        pool @ outer,
        np.matmul(pool, sum_y[:, :, None] * sums),
        ((sum_y * sum_y) @ pool.T)[:, :, None],
        within,
        within_b[:, None, :],
        np.maximum(within_y, 0.0)[:, None],
    )
    object.__setattr__(model, "_cache_marginal_stats", stats)
    return stats


def log_marginal_scales(
    x: np.ndarray, model: GaussianModel
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Log marginal posterior of the scales, up to a constant, at many points per row.

    Every term is written as a sum of non-negative parts (within-group cross-products plus
    group terms weighted by e_j = 1 / (n_j (sigma_y^2 + n_j sigma_alpha^2))), so that far-out
    proposals do not lose the precision's positive definiteness to cancellation. A point whose
    precision is still not positive definite in floating point gets log density -inf.

    Parameters
    ----------
    x : ndarray, shape (R, m, 2)
        Points (log sigma_y, log sigma_alpha); R is 1 or the number of outcome rows of ``model``
        (see :meth:`GaussianModel.with_outcomes`).
    model : GaussianModel

    Returns
    -------
    logp : ndarray, shape (R, m)
        Log density of (log sigma_y, log sigma_alpha) (the Jacobian of the log included).
    L : ndarray, shape (R, m, d, d)
        Cholesky factor of the precision Q of theta = (beta, gamma) given the scales.
    w : ndarray, shape (R, m, d)
        L^{-1} b, so that theta | scales ~ N(L^-T w, Q^-1).
    """
    ms = _marginal_stats(model)
    d = model.M.shape[0]
    log_vy = 2.0 * x[..., 0]
    vy = np.exp(log_vy)
    va = np.exp(2.0 * x[..., 1])
    total = vy[..., None] + ms.sizes * va[..., None]  # (R, m, G): sigma_y^2 + n_j sigma_alpha^2
    e = 1.0 / (ms.sizes * total)
    Q = (
        ms.within / vy[..., None, None]
        + np.matmul(e, ms.outer).reshape(*e.shape[:-1], d, d)
        + model.P_theta
    )
    b = ms.within_b / vy[..., None] + np.matmul(e, ms.cross) + model.Pm_theta
    L, bad = _cholesky(Q)
    w = np.linalg.solve(L, b[..., None])[..., 0]
    log_det_q = 2.0 * np.sum(np.log(np.diagonal(L, axis1=-2, axis2=-1)), axis=-1)
    y_quad = ms.within_y / vy + np.matmul(e, ms.square)[..., 0]
    log_det_s = (model.data.n - ms.n_groups) * log_vy + np.matmul(np.log(total), ms.counts)
    pr = model.priors
    logp = (
        -0.5 * (log_det_s + log_det_q + y_quad - np.sum(w * w, axis=-1))
        + pr.sigma_y.logpdf(np.exp(x[..., 0]))
        + pr.sigma_alpha.logpdf(np.exp(x[..., 1]))
        + x[..., 0]
        + x[..., 1]
    )
    if bad is not None:
        logp = np.where(bad, -np.inf, logp)
    return logp, L, w


def _cholesky(Q: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Batched Cholesky factor; matrices that are not positive definite get the identity."""
    try:
        return np.linalg.cholesky(Q), None
    except np.linalg.LinAlgError:
        pass
    bad = ~np.all(np.isfinite(Q), axis=(-2, -1))
    safe = np.where(bad[..., None, None], np.eye(Q.shape[-1]), Q)
    bad |= np.linalg.eigvalsh(safe)[..., 0] <= 0.0
    safe = np.where(bad[..., None, None], np.eye(Q.shape[-1]), Q)
    try:
        return np.linalg.cholesky(safe), bad
    except np.linalg.LinAlgError:  # eigenvalues just above 0 that Cholesky still rejects
        flat = safe.reshape(-1, *Q.shape[-2:])
        out = np.empty_like(flat)
        flat_bad = bad.reshape(-1)
        for k, matrix in enumerate(flat):
            try:
                out[k] = np.linalg.cholesky(matrix)
            except np.linalg.LinAlgError:
                out[k], flat_bad[k] = np.eye(Q.shape[-1]), True
        return out.reshape(Q.shape), flat_bad.reshape(bad.shape)


def _safe_log_marginal(x: np.ndarray, model: GaussianModel) -> np.ndarray:
    """:func:`log_marginal_scales` with -inf wherever it is not finite (for the optimiser)."""
    with np.errstate(all="ignore"):
        logp = log_marginal_scales(x, model)[0]
    return np.where(np.isfinite(logp), logp, -np.inf)


def to_ratio(x: np.ndarray) -> np.ndarray:
    """Map (log sigma_y, log sigma_alpha) to (log sqrt(sigma_y^2 + sigma_alpha^2), log ratio).

    The Jacobian determinant of the map is 1 (its inverse is :func:`from_ratio`).
    """
    ly, la = x[..., 0], x[..., 1]
    return np.stack([0.5 * np.logaddexp(2.0 * ly, 2.0 * la), la - ly], axis=-1)


def from_ratio(c: np.ndarray) -> np.ndarray:
    """Inverse of :func:`to_ratio`."""
    lt, r = c[..., 0], c[..., 1]
    half = 0.5 * np.logaddexp(0.0, 2.0 * r)  # log sqrt(1 + ratio^2)
    return np.stack([lt - half, lt + r - half], axis=-1)


def uses_ratio(model: GaussianModel) -> bool:
    """Return whether the proposal lives on (total, ratio) coordinates.

    Chosen when the within-group degrees of freedom are fewer than the groups with data (every
    group a single row, at the extreme): sigma_y is then determined mainly through
    sigma_y^2 + sigma_alpha^2 and the log scales' posterior is a curved ridge.
    """
    obs = int(np.sum(model.stats.n_j > 0))
    return model.data.n - obs - model.data.p < obs


def _t_log_density(x: np.ndarray, proposal: ScaleProposal) -> np.ndarray:
    """Log density of the t proposal at points x (log scales) of shape (R, m, 2)."""
    if proposal.ratio:
        x = to_ratio(x)
    delta = np.matmul(proposal.chol_inv[:, None], (x - proposal.mean[:, None])[..., None])[..., 0]
    quad = np.sum(delta * delta, axis=-1)
    return proposal.log_norm[:, None] - 0.5 * (PROPOSAL_DF + 2) * np.log1p(quad / PROPOSAL_DF)


def scale_proposal(model: GaussianModel) -> ScaleProposal:
    """Fit the t proposal to the marginal posterior of the log scales (cached on the model).

    Newton's method on (log sigma_y, log sigma_alpha) from the best point of a coarse grid, with
    finite-difference derivatives and backtracking, for every outcome row at once. The proposal is
    a t with :data:`PROPOSAL_DF` degrees of freedom centred at the mode, with scale matrix
    :data:`PROPOSAL_INFLATION`^2 times the inverse of the negative Hessian. Where the Hessian is not
    negative definite (a degenerate posterior), the scale falls back to unit variances on the
    log scale: still a valid proposal, only a less efficient one.
    """
    tuning = current_tuning()
    cache = model.__dict__.setdefault("_cache_scale_proposal", {})
    if tuning in cache:
        return cache[tuning]
    s = model.stats
    sum_y = np.asarray(s.sum_y, dtype=float).reshape(-1, s.n_j.size)
    R = sum_y.shape[0]
    n = model.data.n
    mean_y = sum_y.sum(axis=-1) / n
    spread = np.sqrt(np.maximum(np.reshape(s.yty, (R,)) / n - mean_y**2, 1e-12))
    log_spread = np.log(spread)
    gy, ga = np.meshgrid(np.linspace(-4.0, 0.5, 10), np.linspace(-8.0, 1.0, 10), indexing="ij")
    grid = log_spread[:, None, None] + np.stack([gy.ravel(), ga.ravel()], axis=-1)[None]
    ratio = uses_ratio(model)
    if ratio:
        grid = to_ratio(grid)

    def f(points: np.ndarray) -> np.ndarray:  # the log marginal in the proposal's coordinates
        return _safe_log_marginal(from_ratio(points) if ratio else points, model)

    start = np.argmax(f(grid), axis=1)
    x = grid[np.arange(R), start]
    fx = f(x[:, None])[:, 0]
    step = 1e-3
    for _ in range(100):
        grad, hess, ok = _derivatives(x, f, step)
        # Newton step where the Hessian is negative definite, a bounded gradient step elsewhere.
        newton = np.zeros((R, 2))
        if ok.any():
            newton[ok] = -np.linalg.solve(hess[ok], grad[ok][..., None])[..., 0]
        norm = np.maximum(np.linalg.norm(np.where(np.isfinite(grad), grad, 0.0), axis=1), 1e-300)
        fallback = np.where(np.isfinite(grad), grad, 0.0) / norm[:, None] * 0.5
        direction = np.where(ok[:, None], newton, fallback)
        direction = direction / np.maximum(np.linalg.norm(direction, axis=1) / 2.0, 1.0)[:, None]
        scales = 0.5 ** np.arange(8.0)
        trial = x[:, None] + scales[None, :, None] * direction[:, None]
        f_trial = f(trial)
        best = np.argmax(f_trial, axis=1)
        better = f_trial[np.arange(R), best] > fx
        x = np.where(better[:, None], trial[np.arange(R), best], x)
        fx = np.where(better, f_trial[np.arange(R), best], fx)
        if np.all(~better | (np.linalg.norm(direction, axis=1) * scales[best] < 1e-7)):
            break
    _, hess, ok = _derivatives(x, f, step)
    cov = np.broadcast_to(np.eye(2), (R, 2, 2)).copy()
    if ok.any():
        cov[ok] = np.linalg.inv(-hess[ok])
    if not ok.all():
        # No negative-definite Hessian at the optimum: typically sigma_alpha near 0, where the
        # log density of log sigma_alpha is nearly linear (a prior times a flat likelihood).
        # Unit variances would be far too wide for a well-determined sigma_y (a sticky chain);
        # take the mean and covariance of the marginal itself, by quadrature on a grid.
        mean_g, cov_g = _grid_moments(x, hess, f)
        x = np.where(ok[:, None], x, mean_g)
        cov = np.where(ok[:, None, None], cov, cov_g)
    chol = np.linalg.cholesky(tuning.inflation**2 * cov)
    chol_inv = np.linalg.inv(chol)
    if tuning.shift:  # a stress setting (gibbs.kernels.tuning): off-centre, still valid
        x = x + tuning.shift * np.sqrt(np.einsum("rij,rij->ri", chol, chol))
    # Bivariate t normaliser: Gamma((nu + 2) / 2) / (Gamma(nu / 2) nu pi |Sigma|^(1/2)).
    nu = PROPOSAL_DF
    log_norm = (
        special.gammaln((nu + 2) / 2)
        - special.gammaln(nu / 2)
        - np.log(nu * np.pi)
        - np.log(chol[:, 0, 0] * chol[:, 1, 1])
    )
    proposal = ScaleProposal(x, chol, chol_inv, log_norm, ratio)
    for value in proposal[:4]:
        value.setflags(write=False)
    cache[tuning] = proposal
    return proposal


def _grid_moments(x: np.ndarray, hess: np.ndarray, f: Callable[[np.ndarray], np.ndarray]):
    """Mean and covariance of the marginal of the log scales by quadrature, per outcome row.

    A product grid around ``x`` with sinh spacing (dense near ``x``, sparse far out): per axis
    the scale is the curvature's where the Hessian's diagonal is negative, else 1, and the grid
    reaches 10 such scales and at least 12 units of log scale (the nearly exponential left tail
    of log sigma_alpha near 0). Returns arrays shaped (R, 2) and (R, 2, 2).
    """
    diag = np.diagonal(hess, axis1=1, axis2=2)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(np.isfinite(diag) & (diag < 0), 1.0 / np.sqrt(-diag), 1.0)
    m = 41
    reach = np.maximum(10.0, 12.0 / scale)  # (R, 2), in units of scale
    u = np.linspace(-1.0, 1.0, m)
    s_max = np.arcsinh(reach)  # (R, 2)
    t = np.sinh(u[None, None, :] * s_max[..., None])  # (R, 2, m)
    dt = np.cosh(u[None, None, :] * s_max[..., None]) * s_max[..., None]  # spacing factor
    ty = np.repeat(t[:, 0], m, axis=1)
    ta = np.tile(t[:, 1], (1, m))
    points = x[:, None] + np.stack([ty, ta], axis=-1) * scale[:, None]
    log_w = f(points) + np.log(np.repeat(dt[:, 0], m, axis=1) * np.tile(dt[:, 1], (1, m)))
    w = np.exp(log_w - np.max(log_w, axis=1, keepdims=True))
    w /= np.sum(w, axis=1, keepdims=True)
    mean = np.einsum("rm,rmk->rk", w, points)
    dev = points - mean[:, None]
    cov = np.einsum("rm,rmi,rmj->rij", w, dev, dev)
    # A grid that resolved nothing (one point carries all the weight) keeps unit variances.
    bad = ~(np.linalg.eigvalsh(cov)[:, 0] > 1e-12)
    cov[bad] = np.eye(2)
    return mean, cov


_STENCIL = np.array(
    [[0, 0], [1, 0], [-1, 0], [0, 1], [0, -1], [1, 1], [1, -1], [-1, 1], [-1, -1]], float
)


def _derivatives(x: np.ndarray, logf: Callable[[np.ndarray], np.ndarray], step: float):
    """Central-difference gradient and Hessian of the log marginal ``logf`` at x (R, 2), per row.

    Returns the gradient, the Hessian and whether the Hessian is finite and negative definite.
    """
    f = logf(x[:, None] + step * _STENCIL)
    grad = np.stack([f[:, 1] - f[:, 2], f[:, 3] - f[:, 4]], axis=-1) / (2 * step)
    hess = np.empty((x.shape[0], 2, 2))
    hess[:, 0, 0] = (f[:, 1] - 2 * f[:, 0] + f[:, 2]) / step**2
    hess[:, 1, 1] = (f[:, 3] - 2 * f[:, 0] + f[:, 4]) / step**2
    hess[:, 0, 1] = hess[:, 1, 0] = (f[:, 5] - f[:, 6] - f[:, 7] + f[:, 8]) / (4 * step**2)
    return grad, hess, np.isfinite(f).all(axis=1) & _negative_definite(hess)


def _negative_definite(H: np.ndarray) -> np.ndarray:
    return np.isfinite(H).all(axis=(1, 2)) & (H[:, 0, 0] < 0) & (np.linalg.det(H) > 0)


def isir_pick(log_w_fresh: np.ndarray, u_pick: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Draw the fresh point each i-SIR step moves to if it moves; also log sum of fresh weights.

    i-SIR moves from the current point x_0 to one of K + 1 points with probability proportional
    to its weight w_k. That is two stages: move with probability 1 - w_0 / sum_k w_k, and if so to
    fresh point k with probability proportional to w_k. The second stage does not depend on the
    current point, so it is drawn here for every step at once.

    Parameters
    ----------
    log_w_fresh : ndarray, shape (..., K)
        Log weights of the fresh points of each step.
    u_pick : ndarray, shape (...)
        Uniforms on [0, 1).

    Returns
    -------
    pick : ndarray of int, shape (...)
        Index of the fresh point.
    log_total : ndarray, shape (...)
        log sum_k w_k over the fresh points.
    """
    top = np.max(log_w_fresh, axis=-1, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)  # all weights zero: log_total is -inf below
    cum = np.cumsum(np.exp(log_w_fresh - top), axis=-1)
    pick = np.sum(cum <= u_pick[..., None] * cum[..., -1:], axis=-1)
    pick = np.minimum(pick, log_w_fresh.shape[-1] - 1)
    with np.errstate(divide="ignore"):
        return pick, top[..., 0] + np.log(cum[..., -1])


def isir_stay(log_w_current: float, log_total: float, u_stay: float) -> bool:
    """Whether an i-SIR step stays at its current point: probability w_0 / (w_0 + sum_k w_k)."""
    top = max(log_w_current, log_total)
    if top == -math.inf:  # every weight zero: nothing better to move to
        return True
    log_sum = top + math.log(math.exp(log_w_current - top) + math.exp(log_total - top))
    return math.log(u_stay) < log_w_current - log_sum if u_stay > 0.0 else True


def draw_locations(
    L: np.ndarray,
    w: np.ndarray,
    sigma_y: np.ndarray,
    sigma_alpha: np.ndarray,
    z_theta: np.ndarray,
    z_alpha: np.ndarray,
    model: GaussianModel,
) -> tuple[np.ndarray, np.ndarray]:
    """Exact draws of theta = (beta, gamma) and alpha given the scales, for (C, B) points.

    theta = L^-T (w + z) is N(Q^-1 b, Q^-1); then alpha is drawn from its Gaussian full
    conditional given theta and the scales (:func:`gibbs.kernels.gaussian.draw_alpha`).
    """
    theta = np.linalg.solve(np.swapaxes(L, -1, -2), (w + z_theta)[..., None])[..., 0]
    p = model.data.p
    alpha = draw_alpha(model, theta[..., :p], theta[..., p:], sigma_y, sigma_alpha, z_alpha)
    return theta, alpha


class _Ahead:
    """Iterations drawn ahead by :func:`marginal_sweep`, handed out one per call."""

    __slots__ = (
        "model",
        "size",
        "pos",
        "sigma_y",
        "sigma_alpha",
        "beta",
        "gamma",
        "alpha",
        "moved",
    )


def make_marginal_sweep(
    log_density: Callable = log_marginal_scales, importance: bool = True, key: str = "marginal"
) -> Callable:
    """Build the fully collapsed block for a given marginal density.

    Parameters
    ----------
    log_density : callable
        ``log_density(x, model) -> (logp, L, w)`` as :func:`log_marginal_scales`.
    importance : bool
        Divide by the proposal density in the weights (i-SIR); only the harness's negative
        controls turn this off.
    key : str
        Name of the block's run-ahead buffer in ``streams.scratch``.
    """

    def block(streams, state: State, model: GaussianModel) -> State:
        ahead = streams.scratch.get(key)
        size = 1
        if ahead is not None and ahead.model is model and ahead.pos > 0:
            prev = ahead.pos - 1
            continues = np.array_equal(state.sigma_y, ahead.sigma_y[:, prev]) and np.array_equal(
                state.sigma_alpha, ahead.sigma_alpha[:, prev]
            )
            if continues and ahead.pos < ahead.size:
                return _hand_out(ahead, state, streams)
            if continues:
                # Elements per step: alpha's draws, and per proposal the group-size terms
                # and the precision matrix.
                groups, d = _marginal_stats(model).sizes.size, model.M.shape[0]
                per_step = streams.chains * (
                    model.data.n_groups + current_tuning().proposals * (groups + d * d)
                )
                size = max(1, min(2 * ahead.size, MAX_AHEAD, _AHEAD_ELEMENTS // per_step))
        ahead = _draw_ahead(streams, state, model, size, log_density, importance)
        streams.scratch[key] = ahead
        return _hand_out(ahead, state, streams)

    block.__name__ = block.__qualname__ = "marginal_sweep"
    block.__doc__ = MARGINAL_SWEEP_DOC
    return block


MARGINAL_SWEEP_DOC = """Run one iteration of the fully collapsed sampler (see the module docstring).

The scales move by one i-SIR step, then (beta, gamma) and alpha are drawn exactly given them. Up
to :data:`MAX_AHEAD` iterations are drawn at once (the scale chain does not depend on the other
parameters) and handed out one per call; a buffer that does not continue from ``state`` and
``model`` is dropped, so the block is the same kernel whatever runs before or after it.
"""

marginal_sweep = make_marginal_sweep()


def _hand_out(ahead: _Ahead, state: State, streams) -> State:
    k = ahead.pos
    ahead.pos += 1
    # Whether this step's i-SIR move left the current scales (its mean is the acceptance rate).
    streams.stats["scales_accepted"] = ahead.moved[:, k]
    return state._replace(
        sigma_y=ahead.sigma_y[:, k],
        sigma_alpha=ahead.sigma_alpha[:, k],
        beta=ahead.beta[:, k],
        gamma=ahead.gamma[:, k],
        alpha=ahead.alpha[:, k],
    )


def _draw_ahead(
    streams, state: State, model: GaussianModel, size: int, log_density, importance: bool
) -> _Ahead:
    """Run the scale chain ``size`` steps from ``state``, then draw the locations for each."""
    proposal = scale_proposal(model)
    C, K, d = streams.chains, current_tuning().proposals, model.M.shape[0]
    # t draws: mean + chol z / sqrt(chi^2_nu / nu), the chi^2_nu as a sum of nu squared normals.
    z = streams.normal(size * K * (2 + PROPOSAL_DF)).reshape(C, size * K, 2 + PROPOSAL_DF)
    chi2 = np.sum(z[..., 2:] ** 2, axis=-1)
    fresh = (
        proposal.mean[:, None]
        + np.matmul(proposal.chol[:, None], z[..., :2, None])[..., 0]
        / np.sqrt(chi2 / PROPOSAL_DF)[..., None]
    )
    if proposal.ratio:
        fresh = from_ratio(fresh)
    current = np.log(np.stack([state.sigma_y, state.sigma_alpha], axis=-1))[:, None]
    points = np.concatenate([current, fresh], axis=1)  # (C, 1 + size K, 2)
    with np.errstate(all="ignore"):
        logp, L, w = log_density(points, model)
        log_w = logp - _t_log_density(points, proposal) if importance else logp
    log_w = np.where(np.isnan(log_w), -np.inf, log_w)  # a failed evaluation is never chosen
    u = streams.uniform(2 * size).reshape(C, size, 2)
    pick, log_total = isir_pick(log_w[:, 1:].reshape(C, size, K), u[..., 1])
    move_to = 1 + np.arange(size) * K + pick  # index into points of each step's pick
    # The sequential part of the chain is one scalar comparison per step and chain.
    index = np.empty((C, size), dtype=np.intp)
    log_w_list, total_list, u_list = log_w.tolist(), log_total.tolist(), u[..., 0].tolist()
    move_list = move_to.tolist()
    for c in range(C):
        held = 0
        row_w, row_total, row_u, row_move, row_index = (
            log_w_list[c],
            total_list[c],
            u_list[c],
            move_list[c],
            index[c],
        )
        for k in range(size):
            if not isir_stay(row_w[held], row_total[k], row_u[k]):
                held = row_move[k]
            row_index[k] = held
    rows = np.arange(C)
    moved = index != np.concatenate([np.zeros((C, 1), dtype=np.intp), index[:, :-1]], axis=1)
    chosen = points[rows[:, None], index]
    sigma = np.exp(chosen)
    theta, alpha = draw_locations(
        L[rows[:, None], index],
        w[rows[:, None], index],
        sigma[..., 0],
        sigma[..., 1],
        streams.normal(size * d).reshape(C, size, d),
        streams.normal(size * model.data.n_groups).reshape(C, size, -1),
        model,
    )
    ahead = _Ahead()
    ahead.model, ahead.size, ahead.pos, ahead.moved = model, size, 0, moved
    ahead.sigma_y, ahead.sigma_alpha = sigma[..., 0], sigma[..., 1]
    p = model.data.p
    ahead.beta, ahead.gamma, ahead.alpha = theta[..., :p], theta[..., p:], alpha
    return ahead
