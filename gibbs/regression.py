"""Bayesian linear regression without a group term, by two-block Gibbs: complete pooling.

The model is y_i ~ N(offset_i + D_i theta, sigma_y^2) with a Flat or Normal prior on theta and any
scale prior on sigma_y (:mod:`gibbs.priors`). Both full conditionals are exact:

    theta | sigma_y, y   ~ N(Q^-1 b, Q^-1),  Q = D'D / sigma_y^2 + P,  b = D'r / sigma_y^2 + P m
    sigma_y | theta, y   the scale prior's conjugate draw given SS = |r - D theta|^2 over n terms

with r = y - offset and (P, P m) the prior's precision and precision times mean

(:func:`gibbs.kernels.scales.draw_centered_scale`). Under a flat theta and a uniform sigma_y the
posterior is Student-t (:func:`flat_posterior_moments`) and the chain's draws are nearly
independent. The Bayesian complete- and no-pooling baselines are this model (no pooling: one
coefficient per group with rows), as are posteriordb's ``radon_pooled`` and, with a Normal prior
on the county indicators, ``radon_county_intercept`` (a fixed group-level scale).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from gibbs.arguments import as_seed, check_count
from gibbs.driver import Progress, run
from gibbs.kernels.scales import draw_centered_scale
from gibbs.priors import Flat, Normal, UniformLogSigma, UniformSigma
from gibbs.streams import ChainStreams, chain_seed_sequences
from gibbs.structures.base import Block, Recorder

__all__ = [
    "RegressionDesign",
    "RegressionModel",
    "flat_posterior_moments",
    "regression_model",
    "sample_design",
    "sample_regression",
]

_LOG_2PI = float(np.log(2.0 * np.pi))


class RegressionModel(NamedTuple):
    """Design, outcome, priors and the precomputed cross-products of one regression."""

    D: np.ndarray
    y: np.ndarray
    theta_prior: Any
    sigma_prior: Any
    DtD: np.ndarray
    Dty: np.ndarray
    P: np.ndarray
    Pm: np.ndarray


class RegressionDesign(NamedTuple):
    """A regression's design, outcome and coefficient names (``groups``: see sample_regression)."""

    D: np.ndarray
    y: np.ndarray
    coef_names: list[str]
    groups: dict[str, tuple]


class RegressionState(NamedTuple):
    """theta (chains, k), sigma_y (chains,) and the half-t auxiliary (chains,)."""

    theta: np.ndarray
    sigma_y: np.ndarray
    aux: np.ndarray


def regression_model(
    D: np.ndarray,
    y: np.ndarray,
    *,
    theta_prior: Any = None,
    sigma_prior: Any = None,
    offset: np.ndarray | None = None,
) -> RegressionModel:
    """Validate a regression and precompute its cross-products.

    Raises
    ------
    ValueError
        For non-finite data, a design that is not of full column rank under a flat prior, or a
        uniform ``sigma_y`` with too few rows for a proper posterior (n >= k + 2).
    """
    D = np.asarray(D, dtype=float)
    y = np.asarray(y, dtype=float)
    if D.ndim != 2 or y.shape != (D.shape[0],):
        raise ValueError(f"D must be (n, k) and y (n,); got {D.shape} and {y.shape}")
    if offset is not None:
        y = y - np.broadcast_to(np.asarray(offset, dtype=float), y.shape)
    if not (np.isfinite(D).all() and np.isfinite(y).all()):
        raise ValueError("the design and the outcome must be finite (no NaN or inf)")
    theta_prior = Flat() if theta_prior is None else theta_prior
    sigma_prior = UniformSigma() if sigma_prior is None else sigma_prior
    if not isinstance(theta_prior, Flat | Normal):
        raise ValueError(f"prior on the coefficients must be Flat or Normal, got {theta_prior!r}")
    n, k = D.shape
    if isinstance(theta_prior, Flat) and np.linalg.matrix_rank(D) < k:
        raise ValueError(
            f"the design's {k} columns are collinear (rank {np.linalg.matrix_rank(D)}): a flat "
            "prior leaves the posterior improper; drop a column or use a Normal prior"
        )
    flat = isinstance(theta_prior, Flat)
    low = {UniformSigma: k + 2, UniformLogSigma: k + 1}.get(type(sigma_prior), 1) if flat else 2
    if n < low:
        raise ValueError(
            f"prior on sigma_y: {sigma_prior!r} with n = {n} rows and {k} coefficients leaves "
            f"the posterior improper (needs n >= {low}); use a proper prior"
        )
    P, Pm = theta_prior.precision(k)
    return RegressionModel(D, y, theta_prior, sigma_prior, D.T @ D, D.T @ y, P, Pm)


def theta_block(streams: ChainStreams, state: RegressionState, model: RegressionModel):
    """Draw theta from its Gaussian full conditional given sigma_y."""
    v = state.sigma_y**-2.0
    Q = model.DtD[None] * v[:, None, None] + model.P[None]
    b = model.Dty[None] * v[:, None] + model.Pm[None]
    L = np.linalg.cholesky(Q)
    mean = np.linalg.solve(Q, b[..., None])[..., 0]
    z = streams.normal(model.D.shape[1])
    # L^-T z has covariance Q^-1.
    step = np.linalg.solve(np.swapaxes(L, -1, -2), z[..., None])[..., 0]
    return state._replace(theta=mean + step)


def sigma_block(streams: ChainStreams, state: RegressionState, model: RegressionModel):
    """Draw sigma_y from its full conditional given theta (the prior's conjugate draw)."""
    resid = model.y[None] - state.theta @ model.D.T
    ss = np.einsum("ci,ci->c", resid, resid)
    sigma, aux = draw_centered_scale(streams, model.sigma_prior, ss, model.D.shape[0], state.aux)
    return state._replace(sigma_y=sigma, aux=aux)


SWEEP = (Block("theta", theta_block), Block("sigma_y", sigma_block))


def _initial_state(model: RegressionModel, streams: ChainStreams) -> RegressionState:
    """Start each chain at the penalised least-squares fit with jitter, sigma_y at its spread."""
    k = model.D.shape[1]
    Q = model.DtD + model.P + 1e-8 * np.eye(k)
    centre = np.linalg.solve(Q, model.Dty + model.Pm)
    spread = float(np.std(model.y - model.D @ centre)) or 1.0
    gens = streams.init
    theta = np.stack([centre + 0.1 * g.standard_normal(k) for g in gens])
    sigma = np.array([spread * np.exp(0.1 * g.standard_normal()) for g in gens])
    return RegressionState(theta, sigma, np.ones(len(gens)))


def sample_regression(
    D: np.ndarray,
    y: np.ndarray,
    *,
    coef_names: Sequence[str],
    groups: dict[str, tuple[str, Sequence[Any], slice]] | None = None,
    theta_prior: Any = None,
    sigma_prior: Any = None,
    offset: np.ndarray | None = None,
    draws: int = 1000,
    tune: int = 200,
    chains: int = 4,
    random_seed: Any = None,
    log_likelihood: bool = True,
    progressbar: bool = False,
    sweep: Sequence[Block] | None = None,
):
    """Sample the regression and return an ``arviz.InferenceData`` (PyMC's layout).

    Parameters
    ----------
    D, y : ndarray
        Design (n, k) and outcome (n,).
    coef_names : sequence of str
        One label per column of ``D``.
    groups : dict, optional
        How the coefficients are reported: ``{variable: (dim, labels, columns)}`` with
        ``columns`` a slice of ``D``'s columns (e.g. ``{"beta": ("x_coef", ["floor"],
        slice(1, 2))}``), or ``(None, None, k)`` for a scalar variable (column k); by default
        one variable ``theta`` over dimension ``coef``.
    theta_prior, sigma_prior : prior, optional
        Flat (default) or Normal on the coefficients; any scale prior on sigma_y (uniform by
        default).
    offset : ndarray, optional
        A known term added to the linear predictor.
    draws, tune, chains : int
        Kept draws per chain, discarded warm-up sweeps, chains.
    random_seed : int, SeedSequence, Generator or list, optional
        As for :func:`gibbs.sample`.
    log_likelihood : bool
        Store the pointwise log-likelihood (for ``arviz.loo``).
    progressbar : bool
        Report progress on stderr.
    sweep : sequence of Block, optional
        The blocks run each iteration (:data:`SWEEP`; the harness passes broken ones).

    Returns
    -------
    arviz.InferenceData
    """
    import arviz as az

    model = regression_model(D, y, theta_prior=theta_prior, sigma_prior=sigma_prior, offset=offset)
    for name, value, low in (("draws", draws, 1), ("tune", tune, 0), ("chains", chains, 1)):
        check_count(name, value, low)
    if len(coef_names) != model.D.shape[1]:
        raise ValueError(f"coef_names: {len(coef_names)} names for {model.D.shape[1]} columns")
    master, seqs = chain_seed_sequences(as_seed(random_seed, chains), chains)
    streams = ChainStreams(seqs)

    def record(state: RegressionState) -> dict[str, np.ndarray]:
        return {"theta": state.theta, "sigma_y": state.sigma_y}

    store, kept, timings = run(
        model,
        SWEEP if sweep is None else tuple(sweep),
        _initial_state(model, streams),
        streams,
        draws=draws,
        tune=tune,
        thin=1,
        recorder=Recorder(record=record, float_names=()),
        progress=Progress(tune + draws, f"Gibbs (regression, {chains} chains)", progressbar),
    )
    theta = store["theta"]
    groups = groups or {"theta": ("coef", list(coef_names), slice(None))}
    # A variable without a dimension (dim None) is one column, stored as a scalar.
    posterior = {name: theta[..., cols] for name, (_, _, cols) in groups.items()}
    posterior["sigma_y"] = store["sigma_y"]
    coords = {dim: list(labels) for dim, labels, _ in groups.values() if dim is not None}
    coords["obs_id"] = np.arange(model.D.shape[0])
    dims = {name: [dim] for name, (dim, _, _) in groups.items() if dim is not None}
    dims["y"] = ["obs_id"]
    extra = {}
    mu = theta @ model.D.T
    resid = model.y - mu
    sigma = store["sigma_y"][..., None]
    lp = -0.5 * np.sum(_LOG_2PI + (resid / sigma) ** 2, axis=-1) - model.D.shape[0] * np.log(
        store["sigma_y"]
    )
    if log_likelihood:
        extra["log_likelihood"] = {"y": -0.5 * (_LOG_2PI + (resid / sigma) ** 2) - np.log(sigma)}
    attrs = {
        "sampler": "gibbs-suite",
        "scheme": "regression (two-block Gibbs)",
        "random_seed": str(master.entropy),
        "tune": tune,
        "draws": kept,
        "chains": chains,
        "sampling_time": timings["sampling_time"],
        "priors": f"theta: {model.theta_prior!r}; sigma_y: {model.sigma_prior!r}",
    }
    idata = az.from_dict(
        posterior=posterior,
        sample_stats={
            "lp": lp + model.theta_prior.logpdf(theta) + model.sigma_prior.logpdf(store["sigma_y"])
        },
        observed_data={"y": np.asarray(y, dtype=float)},
        coords=coords,
        dims=dims,
        attrs=attrs,
        **extra,
    )
    idata.posterior.attrs.update(attrs)
    return idata


def sample_design(design: RegressionDesign, **kwargs: Any):
    """:func:`sample_regression` of a :class:`RegressionDesign` (keyword arguments passed on)."""
    return sample_regression(
        design.D, design.y, coef_names=design.coef_names, groups=design.groups, **kwargs
    )


def flat_posterior_moments(D: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    """Exact posterior means and sds under a flat theta and a uniform sigma_y.

    sigma_y^2 | y = SSE / chi^2_nu with nu = n - k - 1, and theta | y is Student-t with nu degrees
    of freedom, centre the least-squares fit and scale matrix SSE / nu (D'D)^-1.
    """
    from scipy.special import gammaln

    D = np.asarray(D, float)
    n, k = D.shape
    theta_hat, *_ = np.linalg.lstsq(D, y, rcond=None)
    sse = float(np.sum((y - D @ theta_hat) ** 2))
    nu = n - k - 1
    V = np.linalg.inv(D.T @ D)
    # E[1 / chi_nu] and E[1 / chi^2_nu] give E[sigma] and E[sigma^2].
    e_inv_chi = np.exp(gammaln((nu - 1) / 2) - gammaln(nu / 2)) / np.sqrt(2.0)
    e_sigma = np.sqrt(sse) * e_inv_chi
    e_sigma2 = sse / (nu - 2)
    return {
        "theta_mean": theta_hat,
        "theta_sd": np.sqrt(np.diag(V) * sse / (nu - 2)),
        "sigma_mean": np.array(e_sigma),
        "sigma_sd": np.array(np.sqrt(e_sigma2 - e_sigma**2)),
    }
