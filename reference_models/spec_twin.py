"""The PyMC twin of any :class:`gibbs.spec.ModelSpec`.

The structure's terms plus the family's likelihood, each written once.

Structure (names, dims and coords as in the Gibbs output)::

    gamma, gamma_slope   Gamma's free elements (u_coef; slope)      Flat or Normal, as the priors
    beta                 non-varying predictors (x_coef)             Flat or Normal
    alpha_j              Gamma^T U_j + nested effects + e_j          (group[, effect])
                         K = 1: e_j = sigma_alpha z_j (non-centered) or Normal (centered)
                         K > 1: e_j = L z_j, Sigma = L L^T with the Gibbs prior as a Potential
                         (reference_models.slopes_twin)
    <f>_effect           sigma_f z (non-centered) or Normal(0, sigma_f)    every further factor
    eta_i                Z_i alpha_j[i] + X_i beta + crossed effects

Family (:data:`LIKELIHOODS`), with eta plus the offset: ``pm.Normal("y", eta, sigma_y)``,
``pm.Binomial("y", m, logit_p=eta)``, ``pm.Binomial("y", m, p=invprobit(eta))``,
``pm.Poisson("y", exp(eta + epsilon))`` with ``epsilon ~ N(0, sigma_epsilon)`` per row (centered
or non-centered as the group terms), or ``pm.NegativeBinomial("y", mu=exp(eta), alpha=phi)``
with phi = 1 / inv_sqrt_phi^2.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from gibbs.inference_data import OBS_DIM
from gibbs.slopes import effect_pairs
from gibbs.spec import ModelSpec
from reference_models.sampling import fit_cached
from reference_models.slopes_twin import covariance_rv, free_location_rv
from reference_models.twins import PARAMETERIZATIONS, data_fingerprint, location_rv, scale_rv

__all__ = [
    "LIKELIHOODS",
    "SPEC_PARAMETERIZATIONS",
    "build_spec_twin",
    "fit_spec_reference",
    "spec_var_names",
]

# "mean-split": every term centered, except that each crossed factor's effects are rotated into
# their mean and their contrasts. The mean is non-centered and absorbed into the intercept, which
# NUTS then moves as intercept + sum of factor means. With few levels (three ethnic groups in the
# police stops) the intercept and the factor's mean lie on one ridge that the data do not see;
# the rotation is linear with unit Jacobian, so the posterior is the same.
SPEC_PARAMETERIZATIONS = (*PARAMETERIZATIONS, "mean-split")


def _gaussian(pm, eta, spec: ModelSpec, centered: bool = False) -> None:
    sigma_y = scale_rv(pm, "sigma_y", spec.priors.sigma_y)
    pm.Normal("y", mu=eta, sigma=sigma_y, observed=spec.data.y, dims=OBS_DIM)


def _logistic(pm, eta, spec: ModelSpec, centered: bool = False) -> None:
    d = spec.data
    pm.Binomial("y", n=d.binomial_trials, logit_p=eta, observed=d.y, dims=OBS_DIM)


def _probit(pm, eta, spec: ModelSpec, centered: bool = False) -> None:
    d = spec.data
    pm.Binomial("y", n=d.binomial_trials, p=pm.math.invprobit(eta), observed=d.y, dims=OBS_DIM)


def _poisson(pm, eta, spec: ModelSpec, centered: bool = False) -> None:
    sigma = scale_rv(pm, "sigma_epsilon", spec.family.dispersion_prior(spec.priors))
    if centered:
        eps = pm.Normal("epsilon", 0.0, sigma, dims=OBS_DIM)
    else:
        z = pm.Normal("epsilon_z", 0.0, 1.0, dims=OBS_DIM)
        eps = pm.Deterministic("epsilon", sigma * z, dims=OBS_DIM)
    pm.Poisson("y", mu=pm.math.exp(eta + eps), observed=spec.data.y, dims=OBS_DIM)


def _negative_binomial(pm, eta, spec: ModelSpec, centered: bool = False) -> None:
    s = scale_rv(pm, "inv_sqrt_phi", spec.family.dispersion_prior(spec.priors))
    pm.NegativeBinomial(
        "y", mu=pm.math.exp(eta), alpha=1.0 / s**2, observed=spec.data.y, dims=OBS_DIM
    )


# The family's likelihood in PyMC, by family name (the twin's half of gibbs.families).
LIKELIHOODS: dict[str, Callable] = {
    "gaussian": _gaussian,
    "logistic": _logistic,
    "probit": _probit,
    "poisson": _poisson,
    "negative_binomial": _negative_binomial,
}


def spec_var_names(spec: ModelSpec) -> list[str]:
    """Posterior variables shared by the Gibbs output and the twin."""
    p_fixed = spec.data.p - len(spec.slopes)
    names = ["alpha", *(["beta"] if p_fixed else []), "gamma"]
    names += ["gamma_slope", "sigma_alpha", "rho_alpha"] if spec.K > 1 else ["sigma_alpha"]
    for f in spec.factors:
        names += [f"{f.name}_effect", f"sigma_{f.name}"]
    return names + list(spec.family.dispersion)


def build_spec_twin(spec: ModelSpec, parameterization: str = "noncentered"):
    """Build the PyMC model that is the same model as a Gibbs specification.

    Parameters
    ----------
    spec : ModelSpec
    parameterization : {"noncentered", "centered", "mean-split"}
        Of the group deviations, the factors' effects and the per-row effects of the Poisson
        family. ``"mean-split"`` (varying intercepts with crossed factors, an intercept column
        in U): centered, with each crossed factor's mean moved into the intercept (see
        :data:`SPEC_PARAMETERIZATIONS`).

    Returns
    -------
    pymc.Model
    """
    import pymc as pm
    import pytensor.tensor as pt

    if parameterization not in SPEC_PARAMETERIZATIONS:
        raise ValueError(f"parameterization must be one of {SPEC_PARAMETERIZATIONS}")
    d, priors, K = spec.data, spec.priors, spec.K
    split = parameterization == "mean-split"
    intercept_row = _check_split(spec) if split else None
    z_idx = [list(d.x_names).index(s) for s in spec.slopes]
    x_idx = [k for k in range(d.p) if k not in z_idx]
    Z = np.column_stack([np.ones(d.n), d.X[:, z_idx]])
    X = d.X[:, x_idx]
    effects = ["Intercept", *spec.slopes]
    coords = {
        d.group_dim: list(d.group_names),
        "x_coef": [d.x_names[k] for k in x_idx],
        "u_coef": list(d.u_names),
        OBS_DIM: np.arange(d.n),
    }
    if K > 1:
        coords.update(effect=effects, effect_pair=effect_pairs(effects), slope=list(spec.slopes))
    for f in spec.factors:
        coords[f.name] = list(f.levels)
    centered = parameterization in ("centered", "mean-split")
    alpha_dims = (d.group_dim, "effect") if K > 1 else d.group_dim
    nested_shift: list = []
    with pm.Model(coords=coords) as model:
        if split:
            # The intercept is defined below, once the factors' means are known.
            shifted = pm.Flat("gamma_shifted", dims="u_coef")
        elif K == 1:
            gamma = location_rv(pm, "gamma", priors.gamma, "u_coef")
            means = pt.dot(d.U, gamma)[:, None]
        else:
            ones = np.flatnonzero(np.all(d.U == 1.0, axis=0))
            row = int(ones[0])
            # Free elements of Gamma, row-major: column 0 for every row, then the constant row.
            free = [r * K for r in range(d.q)] + [row * K + k for k in range(1, K)]
            free = sorted(free)
            idx_gamma = np.array([free.index(r * K) for r in range(d.q)])
            idx_slope = np.array([free.index(row * K + k) for k in range(1, K)])
            gamma = free_location_rv(pm, "gamma", priors.gamma, idx_gamma, "u_coef")
            gamma_slope = free_location_rv(pm, "gamma_slope", priors.gamma, idx_slope, "slope")
            means = pt.concatenate(
                [pt.dot(d.U, gamma)[:, None], pt.zeros((d.n_groups, K - 1))], axis=1
            )
            means = means + pt.concatenate([pt.zeros(1), gamma_slope])[None, :]
        beta = location_rv(pm, "beta", priors.beta, "x_coef") if X.shape[1] else None
        eta = 0.0
        factor_means = 0.0
        for f in spec.factors:
            sd = scale_rv(pm, f"sigma_{f.name}", priors.factor_scale(f.name))
            if split and not f.nested:
                b, mean = _split_effects(pm, pt, f, sd)
                factor_means = factor_means + mean
                eta = eta + b[f.codes]
                continue
            if split:
                b = pm.Normal(f"{f.name}_effect", 0.0, sd, dims=f.name)
                shift = pt.zeros((d.n_groups, K))
                nested_shift.append(pt.set_subtensor(shift[:, 0], b[f.group_level]))
                continue
            if centered:
                b = pm.Normal(f"{f.name}_effect", 0.0, sd, dims=f.name)
            else:
                zf = pm.Normal(f"{f.name}_z", 0.0, 1.0, dims=f.name)
                b = pm.Deterministic(f"{f.name}_effect", sd * zf, dims=f.name)
            if f.nested:
                shift = pt.zeros((d.n_groups, K))
                means = means + pt.set_subtensor(shift[:, 0], b[f.group_level])
            else:
                eta = eta + b[f.codes]
        if split:
            gamma = pm.Deterministic(
                "gamma", shifted - factor_means * np.eye(d.q)[intercept_row], dims="u_coef"
            )
            _location_potential(pm, "gamma_prior", priors.gamma, gamma)
            # The groups' coefficients move with the factors' means too (alpha + mean is what
            # the likelihood sees), so that the ridge lies along the means' z alone.
            sigma_alpha = scale_rv(pm, "sigma_alpha", priors.sigma_alpha)
            nested = sum(nested_shift, pt.zeros((d.n_groups, 1)))[:, 0]
            moved = pm.Normal(
                "alpha_shifted", pt.dot(d.U, shifted) + nested, sigma_alpha, dims=alpha_dims
            )
            alpha = pm.Deterministic("alpha", moved - factor_means, dims=alpha_dims)
            eta = eta + alpha[d.group]
        elif K == 1:
            sigma_alpha = scale_rv(pm, "sigma_alpha", priors.sigma_alpha)
            if centered:
                alpha = pm.Normal("alpha", mu=means[:, 0], sigma=sigma_alpha, dims=alpha_dims)
            else:
                z = pm.Normal("alpha_z", 0.0, 1.0, dims=alpha_dims)
                alpha = pm.Deterministic("alpha", means[:, 0] + sigma_alpha * z, dims=alpha_dims)
            eta = eta + alpha[d.group]
        else:
            chol = covariance_rv(pm, pt, priors.Sigma, K)
            if centered:
                alpha = pm.MvNormal("alpha", mu=means, chol=chol, dims=alpha_dims)
            else:
                z = pm.Normal("alpha_z", 0.0, 1.0, dims=alpha_dims)
                alpha = pm.Deterministic("alpha", means + z @ chol.T, dims=alpha_dims)
            eta = eta + pt.sum(Z * alpha[d.group], axis=1)
        if beta is not None:
            eta = eta + pt.dot(X, beta)
        if d.offset is not None:
            eta = eta + d.offset
        LIKELIHOODS[spec.family.name](pm, eta, spec, centered=centered)
    return model


def _check_split(spec: ModelSpec) -> int:
    """Return U's intercept column for ``"mean-split"``, or say why it does not apply."""
    if spec.K > 1:
        raise ValueError("parameterization 'mean-split' takes varying intercepts only")
    ones = np.flatnonzero(np.all(spec.data.U == 1.0, axis=0))
    if not ones.size:
        raise ValueError("parameterization 'mean-split' needs an intercept column in U")
    return int(ones[0])


def _split_effects(pm, pt, f, sd):
    """Return a crossed factor's effects as Q [sd z; w]: mean non-centered, contrasts centered.

    Q is orthonormal with first column 1 / sqrt(L), so Q [a; w] with a, w ~ N(0, sd^2) is
    N(0, sd^2 I): the prior is unchanged. Returns the effects and their mean a / sqrt(L).
    """
    L = len(f.levels)
    q, _ = np.linalg.qr(np.column_stack([np.ones(L), np.eye(L)[:, : L - 1]]))
    q = q * np.sign(q[0, 0])
    z = pm.Normal(f"{f.name}_mean_z", 0.0, 1.0)
    w = pm.Normal(f"{f.name}_contrast", 0.0, sd, shape=L - 1)
    a = sd * z
    b = pm.Deterministic(f"{f.name}_effect", pt.dot(q, pt.concatenate([a[None], w])), dims=f.name)
    return b, a / np.sqrt(L)


def _location_potential(pm, name: str, prior, value) -> None:
    """Add the log density of a location prior at a derived ``value`` (Flat: nothing)."""
    from gibbs.priors import Flat, Normal

    if isinstance(prior, Flat):
        return
    if not isinstance(prior, Normal):
        raise TypeError(f"no PyMC twin for location prior {prior!r}")
    dist = pm.Normal.dist(np.asarray(prior.mu, float), np.asarray(prior.sigma, float))
    pm.Potential(name, pm.logp(dist, value).sum())


def spec_key(spec: ModelSpec, parameterization: str) -> tuple:
    """Cache key of a specification's twin."""
    return (
        "spec",
        data_fingerprint(spec.data),
        spec.family.name,
        spec.slopes,
        tuple((f.name, f.codes.tobytes(), f.levels) for f in spec.factors),
        repr(spec.priors),
        parameterization,
    )


def fit_spec_reference(
    spec: ModelSpec,
    sampler: str = "nutpie",
    *,
    parameterization: str = "noncentered",
    **sampling,
):
    """Sample a specification's twin with PyMC's NUTS or nutpie (models cached per process).

    ``sampling``: the keywords of :func:`reference_models.fit.sample_model`.
    """
    return fit_cached(
        spec_key(spec, parameterization),
        lambda: build_spec_twin(spec, parameterization),
        spec.data.y,
        sampler,
        attrs={
            "parameterization": parameterization,
            "priors": repr(spec.priors),
            "family": spec.family.name,
            "compared_vars": spec_var_names(spec),
        },
        **sampling,
    )
