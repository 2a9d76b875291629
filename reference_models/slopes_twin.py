"""PyMC twin of the varying-slopes model: the same likelihood and the same priors, written out.

For the model of :mod:`gibbs.slopes` (Z_i the intercept and varying columns, X_i the others)::

    y_i     ~ Normal(Z_i alpha_j[i] + X_i beta, sigma_y)          "y"     dims obs_id
    alpha_j ~ MvNormal(Gamma^T U_j, Sigma)                         "alpha" dims (group, effect)
    Gamma   : "gamma" (u_coef; the intercepts' column) and "gamma_slope" (slope; the mean slopes),
              the other elements zero, each Flat or Normal as in the Gibbs priors
    beta    : Flat or Normal                                             "beta"  dims x_coef

LKJ is not conjugate, so the twin does not use it: Sigma = L L^T is parameterized by its Cholesky
factor, u = (log L_kk, L_kl for k > l) with flat densities, and one ``pm.Potential`` adds the Gibbs
sampler's prior density of Sigma plus log |d Sigma / d u|. An inverse-Wishart prior is written out
as its density; a Huang-Wand prior as its marginal density with the auxiliary variables integrated
out (Huang & Wand 2013, equation 2), which is the same prior on Sigma. ``sigma_alpha`` (standard
deviations) and ``rho_alpha`` (correlations) are Deterministics with the Gibbs output's names.

The non-centered parameterization draws ``alpha_z`` ~ N(0, I) and sets alpha_j = Gamma^T U_j +
L z_j; the centered one draws alpha_j from ``pm.MvNormal`` with ``chol=L``.
"""

from __future__ import annotations

import numpy as np

from gibbs.covariance import HuangWand, InverseWishart
from gibbs.data import HierarchicalData
from gibbs.inference_data import OBS_DIM
from gibbs.kernels.slopes import SlopesModel
from gibbs.priors import Flat, Normal
from gibbs.slopes import SlopesPriors, effect_pairs
from reference_models.sampling import fit_cached
from reference_models.twins import PARAMETERIZATIONS, data_fingerprint, scale_rv

__all__ = [
    "build_slopes_twin",
    "covariance_rv",
    "fit_slopes_reference",
    "free_location_rv",
    "sigma_log_prior",
    "slopes_var_names",
]


def slopes_var_names(data: HierarchicalData, slopes) -> list[str]:
    """Posterior variables shared by the Gibbs output and the twin."""
    fixed = data.p - len(slopes)
    return [
        "alpha",
        *(["beta"] if fixed else []),
        "gamma",
        "gamma_slope",
        "sigma_y",
        "sigma_alpha",
        "rho_alpha",
    ]


def free_location_rv(pm, name: str, prior, idx: np.ndarray, dims: str):
    """Return a location prior on some of Gamma's free elements (``idx`` into the free vector)."""
    if isinstance(prior, Flat):
        return pm.Flat(name, dims=dims)
    if isinstance(prior, Normal):
        mu, sigma = prior._params(int(idx.max()) + 1 if idx.size else 0)
        return pm.Normal(name, mu=mu[idx], sigma=sigma[idx], dims=dims)
    raise TypeError(f"no PyMC twin for location prior {prior!r}")


def sigma_log_prior(pt, prior, Sigma, S_inv, logdet, K: int):
    """Return the log density of a covariance prior (PyTensor), without its constant."""
    if isinstance(prior, InverseWishart):
        Psi = prior.psi(K)
        return -0.5 * (prior.df(K) + K + 1) * logdet - 0.5 * pt.sum(Psi * S_inv.T)
    if isinstance(prior, HuangWand):
        b = prior.scales(K) ** -2.0
        diag_inv = pt.diagonal(S_inv)
        return -0.5 * (prior.nu + 2 * K) * logdet - 0.5 * (prior.nu + K) * pt.sum(
            pt.log(prior.nu * diag_inv + b)
        )
    raise TypeError(f"no PyMC twin for covariance prior {prior!r}")


def covariance_rv(pm, pt, prior, K: int):
    """Add Sigma = L L^T with the Gibbs prior (a Potential) to the model; return L.

    L's coordinates u = (log L_kk, L_kl for k > l) are Flat; the Potential is the prior's
    log density plus log |d Sigma / d u|. Adds the Deterministics ``sigma_alpha`` (effect) and
    ``rho_alpha`` (effect_pair).
    """
    rows, cols = np.tril_indices(K, -1)
    log_diag = pm.Flat("Sigma_chol_log_diag", shape=K)
    chol = pt.diag(pt.exp(log_diag))
    if rows.size:
        off = pm.Flat("Sigma_chol_offdiag", shape=rows.size)
        chol = pt.set_subtensor(chol[rows, cols], off)
    Sigma = chol @ chol.T
    S_inv = pt.nlinalg.matrix_inverse(Sigma)
    logdet = 2.0 * pt.sum(log_diag)
    jacobian = K * np.log(2.0) + pt.sum(log_diag * (K + 1.0 - np.arange(K)))
    pm.Potential("Sigma_prior", sigma_log_prior(pt, prior, Sigma, S_inv, logdet, K) + jacobian)
    sd = pt.sqrt(pt.diagonal(Sigma))
    pm.Deterministic("sigma_alpha", sd, dims="effect")
    if rows.size:
        pm.Deterministic("rho_alpha", Sigma[rows, cols] / (sd[rows] * sd[cols]), dims="effect_pair")
    return chol


def build_slopes_twin(
    data: HierarchicalData,
    slopes,
    priors: SlopesPriors | None = None,
    parameterization: str = "noncentered",
):
    """Build the PyMC model that is the same model as the varying-slopes Gibbs configuration.

    Parameters
    ----------
    data : HierarchicalData
    slopes : sequence of str
        Columns of ``data.X`` with varying slopes.
    priors : SlopesPriors, optional
        Defaults to ``SlopesPriors()``.
    parameterization : {"noncentered", "centered"}

    Returns
    -------
    pymc.Model
    """
    import pymc as pm
    import pytensor.tensor as pt

    if parameterization not in PARAMETERIZATIONS:
        raise ValueError(f"parameterization must be one of {PARAMETERIZATIONS}")
    priors = priors if priors is not None else SlopesPriors()
    gm = SlopesModel(data, tuple(slopes), priors)  # validates, and gives Z, X and Gamma's layout
    K, L, p = gm.K, data.q, gm.p
    effects = gm.effect_names
    coords = {
        data.group_dim: list(data.group_names),
        "effect": effects,
        "effect_pair": effect_pairs(effects),
        "slope": list(gm.slopes),
        "x_coef": gm.fixed_names,
        "u_coef": list(data.u_names),
        OBS_DIM: np.arange(data.n),
    }
    # Positions of gamma (column 0) and gamma_slope (constant row, columns 1..) in the free vector.
    free = list(gm.free_idx)
    idx_gamma = np.array([free.index(row * K) for row in range(L)])
    idx_slope = np.array([free.index(gm.intercept_row * K + k) for k in range(1, K)])
    with pm.Model(coords=coords) as model:
        gamma = free_location_rv(pm, "gamma", priors.gamma, idx_gamma, "u_coef")
        gamma_slope = free_location_rv(pm, "gamma_slope", priors.gamma, idx_slope, "slope")
        beta = None
        if p:
            beta = (
                pm.Flat("beta", dims="x_coef")
                if isinstance(priors.beta, Flat)
                else pm.Normal(
                    "beta",
                    mu=np.asarray(priors.beta.mu, float),
                    sigma=np.asarray(priors.beta.sigma, float),
                    dims="x_coef",
                )
            )
        sigma_y = scale_rv(pm, "sigma_y", priors.sigma_y)
        chol = covariance_rv(pm, pt, priors.Sigma, K)
        mean_slopes = pt.concatenate([pt.zeros(1), gamma_slope]) if K > 1 else pt.zeros(1)
        mean_int = pt.dot(data.U, gamma)
        means = pt.concatenate([mean_int[:, None], pt.zeros((data.n_groups, K - 1))], axis=1)
        means = means + mean_slopes[None, :]
        if parameterization == "centered":
            alpha = pm.MvNormal("alpha", mu=means, chol=chol, dims=(data.group_dim, "effect"))
        else:
            z = pm.Normal("alpha_z", 0.0, 1.0, dims=(data.group_dim, "effect"))
            alpha = pm.Deterministic("alpha", means + z @ chol.T, dims=(data.group_dim, "effect"))
        mu = pt.sum(gm.Z * alpha[data.group], axis=1)
        if beta is not None:
            mu = mu + pt.dot(gm.X, beta)
        pm.Normal("y", mu=mu, sigma=sigma_y, observed=data.y, dims=OBS_DIM)
    return model


def _key(data, slopes, priors, parameterization):
    return (
        "slopes",
        data_fingerprint(data),
        tuple(slopes),
        repr(priors if priors is not None else SlopesPriors()),
        parameterization,
    )


def fit_slopes_reference(
    data: HierarchicalData,
    slopes,
    priors: SlopesPriors | None = None,
    sampler: str = "nutpie",
    *,
    parameterization: str = "noncentered",
    **sampling,
):
    """Sample the varying-slopes twin with PyMC's NUTS or nutpie (models cached per process).

    ``sampling``: the keywords of :func:`reference_models.fit.sample_model` (draws, tune,
    chains, seed, target_accept, progressbar, log_likelihood), with the same defaults and output
    conventions as :func:`reference_models.fit.fit_reference`.
    """
    priors = priors if priors is not None else SlopesPriors()
    return fit_cached(
        _key(data, slopes, priors, parameterization),
        lambda: build_slopes_twin(data, slopes, priors, parameterization),
        data.y,
        sampler,
        attrs={
            "parameterization": parameterization,
            "priors": repr(priors),
            "slopes": list(slopes),
            "compared_vars": slopes_var_names(data, slopes),
        },
        **sampling,
    )
