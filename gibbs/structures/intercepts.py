"""Varying intercepts (one grouping factor, K = 1): the Gaussian and binomial kernels.

The Gaussian kernel (:mod:`gibbs.kernels.gaussian`, :mod:`gibbs.kernels.marginal`) works on
per-group sufficient statistics; the binomial one (:mod:`gibbs.kernels.binomial`) on the per-group
sums of its latent variables.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from scipy import special

from gibbs.inference_data import to_inference_data
from gibbs.kernels import FAMILY_SCHEMES
from gibbs.kernels.binomial import BinomialModel, BinomialState, log_joint_binomial
from gibbs.kernels.gaussian import GaussianModel, State, chain_dot, log_joint
from gibbs.streams import ChainStreams
from gibbs.structures.base import Implementation, state_recorder

__all__ = ["BINOMIAL_INTERCEPTS", "GAUSSIAN_INTERCEPTS", "initial_state", "initial_state_binomial"]

# The scheme with the most effective samples per second on radon, per family
# (docs/benchmarks.md); for probit the one that passes the calibration batteries at their fixed
# settings: the collapsed scheme is 2.6x faster per effective draw on radon but mixes 10x more
# slowly per draw under separation (docs/binomial.md).
DEFAULT_SCHEMES = {"gaussian": "marginal", "logistic": "collapsed", "probit": "integrated"}
PARAMS = ("alpha", "beta", "gamma", "sigma_y", "sigma_alpha")


def initial_state(
    model: GaussianModel, streams: ChainStreams, init: Mapping[str, Any] | None = None
) -> State:
    """Over-dispersed initial values, one set per chain, from each chain's own ``init`` stream.

    Coefficients start at the complete-pooling least-squares fit plus two standard errors of
    normal noise; sigma_y at the residual sd times exp(N(0, 0.5^2)); sigma_alpha at the spread of
    the group mean residuals times exp(N(0, 1)); alpha around U gamma. ``init`` overrides any of
    ``alpha``, ``beta``, ``gamma``, ``sigma_y``, ``sigma_alpha`` (broadcast to every chain).
    """
    d, C = model.data, streams.chains
    D = np.column_stack([d.X, d.U[d.group]])
    theta_hat, *_ = np.linalg.lstsq(D, d.y, rcond=None)
    resid = d.y - D @ theta_hat
    dof = max(d.n - D.shape[1], 1)
    s2 = float(resid @ resid) / dof
    cov = s2 * np.linalg.pinv(D.T @ D)
    root = np.linalg.cholesky(cov + 1e-12 * np.eye(len(cov)) * max(np.trace(cov), 1e-12))
    group_means = (
        np.bincount(d.group, resid, d.n_groups)[d.stats.n_j > 0] / d.stats.n_j[d.stats.n_j > 0]
    )
    spread = max(float(np.std(group_means)), 0.1 * np.sqrt(s2))
    z = np.stack([g.standard_normal(D.shape[1] + 2 + d.n_groups) for g in streams.init])
    theta = theta_hat + 2.0 * chain_dot(z[:, : D.shape[1]], root.T)  # see chain_dot
    gamma = theta[:, d.p :]
    sigma_alpha = spread * np.exp(z[:, -d.n_groups - 1])
    values = {
        "beta": theta[:, : d.p],
        "gamma": gamma,
        "sigma_y": np.sqrt(s2) * np.exp(0.5 * z[:, D.shape[1]]),
        "sigma_alpha": sigma_alpha,
        "alpha": chain_dot(gamma, d.U.T) + sigma_alpha[:, None] * z[:, -d.n_groups :],
    }
    shapes = {
        "alpha": (d.n_groups,),
        "beta": (d.p,),
        "gamma": (d.q,),
        "sigma_y": (),
        "sigma_alpha": (),
    }
    _override(values, shapes, init, C)
    return State(**values, aux_y=np.ones(C), aux_alpha=np.ones(C))


def initial_state_binomial(
    model: BinomialModel, streams: ChainStreams, init: Mapping[str, Any] | None = None
) -> BinomialState:
    """Over-dispersed initial values for the logistic and probit models, one set per chain.

    Coefficients start at a weighted least-squares fit to the empirical link of each row,
    link((y + 1/2) / (m + 1)), plus two standard errors of normal noise (standard errors from the
    binomial information at those proportions); sigma_alpha at the spread of the group mean
    residuals times exp(N(0, 1)); alpha around U gamma. ``init`` overrides ``alpha``, ``beta``,
    ``gamma`` or ``sigma_alpha``.
    """
    d, C, m = model.data, streams.chains, model.trials
    prop = (d.y + 0.5) / (m + 1.0)
    z0 = special.logit(prop) if model.family == "logistic" else special.ndtri(prop)
    info = m * prop * (1 - prop)
    if model.family == "probit":  # information of the probit link at the same proportions
        info = m * np.exp(-(z0**2)) / (2 * np.pi * prop * (1 - prop))
    D = model.D
    sw = np.sqrt(info)
    theta_hat, *_ = np.linalg.lstsq(D * sw[:, None], z0 * sw, rcond=None)
    cov = np.linalg.pinv((D * info[:, None]).T @ D)
    root = np.linalg.cholesky(cov + 1e-12 * np.eye(len(cov)) * max(np.trace(cov), 1e-12))
    resid = z0 - D @ theta_hat
    n_j = d.stats.n_j
    group_means = np.bincount(d.group, resid, d.n_groups)[n_j > 0] / n_j[n_j > 0]
    spread = max(float(np.std(group_means)), 0.1)
    k = D.shape[1]
    z = np.stack([g.standard_normal(k + 1 + d.n_groups) for g in streams.init])
    # Products chain by chain: one matrix product over all chains is rounded by BLAS according
    # to the number of chains, and chain k's start (so its draws) would depend on it.
    theta = theta_hat + 2.0 * np.stack([zc @ root.T for zc in z[:, :k]])
    values = {"beta": theta[:, : d.p], "gamma": theta[:, d.p :]}
    values["sigma_alpha"] = spread * np.exp(z[:, k])
    location = np.stack([g @ d.U.T for g in values["gamma"]])
    values["alpha"] = location + values["sigma_alpha"][:, None] * z[:, k + 1 :]
    shapes = {"alpha": (d.n_groups,), "beta": (d.p,), "gamma": (d.q,), "sigma_alpha": ()}
    _override(values, shapes, init, C)
    return BinomialState(
        **values,
        aux_alpha=np.ones(C),
        w=np.ones((C, d.n)),
        r=np.zeros((C, d.n)),
    )


def _override(
    values: dict[str, np.ndarray],
    shapes: dict[str, tuple],
    init: Mapping[str, Any] | None,
    chains: int,
) -> None:
    """Apply user initial values (broadcast to every chain), checking names, shapes and signs."""
    for name, value in (init or {}).items():
        if name not in shapes:
            raise ValueError(f"init: unknown parameter {name!r}; expected one of {list(shapes)}")
        try:
            values[name] = np.array(
                np.broadcast_to(np.asarray(value, float), (chains, *shapes[name]))
            )
        except ValueError as exc:
            raise ValueError(f"init: {name} must have shape {shapes[name]}") from exc
    for name in ("sigma_y", "sigma_alpha"):
        if name in values and np.any(values[name] <= 0):
            raise ValueError(f"init: {name} must be positive")


def _gaussian_recorder(model: GaussianModel, keep_alpha: np.ndarray, dtype: Any):
    # With every alpha kept at full precision the Gaussian log density is computed once,
    # vectorised over all draws, after the loop; otherwise it is computed while the full state
    # is at hand.
    after = keep_alpha.size == model.data.n_groups and np.dtype(dtype) == np.float64

    def lp_after(store, kept):
        C = store["alpha"].shape[0]
        flat = State(
            **{k: store[k].reshape(C * kept, *store[k].shape[2:]) for k in PARAMS},
            aux_y=np.ones(C * kept),
            aux_alpha=np.ones(C * kept),
        )
        return log_joint(flat, model).reshape(C, kept)

    return state_recorder(
        PARAMS, keep_alpha, log_joint, model, lp_after=lp_after if after else None
    )


def _to_idata(model, store, keep_alpha, attrs, *, log_likelihood, predictive_rngs):
    return to_inference_data(
        model.data,
        store,
        keep_alpha,
        attrs,
        log_likelihood=log_likelihood,
        predictive_rngs=predictive_rngs,
        family=attrs["family"],
    )


GAUSSIAN_INTERCEPTS = Implementation(
    name="intercepts",
    build=lambda data, slopes, factors, priors, family: GaussianModel(data, priors),
    schemes=lambda family: FAMILY_SCHEMES["gaussian"],
    default_scheme=lambda family: DEFAULT_SCHEMES["gaussian"],
    initial_state=initial_state,
    recorder=_gaussian_recorder,
    to_idata=_to_idata,
)

BINOMIAL_INTERCEPTS = Implementation(
    name="intercepts",
    build=lambda data, slopes, factors, priors, family: BinomialModel(data, priors, family.name),
    schemes=lambda family: FAMILY_SCHEMES[family.name],
    default_scheme=lambda family: DEFAULT_SCHEMES[family.name],
    initial_state=initial_state_binomial,
    recorder=lambda model, keep, dtype: state_recorder(PARAMS, keep, log_joint_binomial, model),
    to_idata=_to_idata,
)
