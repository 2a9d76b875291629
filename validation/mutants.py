"""Deliberately broken Gibbs samplers: the harness must catch every one of them.

Each mutant is a realistic bug in one block of the varying-intercept sampler (most of them are in
the source article or are classic slips when writing its full conditionals). A mutant replaces
one or two blocks of the correct ``componentwise`` sweep, or breaks the fully collapsed
``marginal`` sweep, so the rest of the machinery (streams, driver, InferenceData) is the
production code.

None of these is a sampler option: they exist only so that tests and ``gibbs-suite compare
--mutants`` can show that the checks have power.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from gibbs.kernels.gaussian import (
    GaussianModel,
    State,
    chain_dot,
    gaussian_draw,
    group_ss,
    residual_ss,
    update_alpha,
    update_beta,
    update_gamma,
    update_sigma_alpha,
    update_sigma_y,
)
from gibbs.kernels.marginal import log_marginal_scales, make_marginal_sweep
from gibbs.kernels.scales import draw_centered_scale
from gibbs.priors import Flat, UniformLogSigma
from validation.binomial_mutants import BINOMIAL_MUTANTS
from validation.mutant_types import Mutant, SweepMutant

__all__ = [
    "INERT_UNDER_FLAT_PRIORS",
    "MUTANTS",
    "Mutant",
    "SweepMutant",
    "get_mutant",
    "mutants_for",
]


def plugin_sigma_y(streams, state: State, model: GaussianModel) -> State:
    """Article step 4 literally: sigma_y^2 set to the sample variance (not drawn)."""
    return state._replace(sigma_y=np.sqrt(residual_ss(state, model) / model.data.n))


def plugin_sigma_alpha(streams, state: State, model: GaussianModel) -> State:
    """Article step 5 literally: a sample variance, and divided by n instead of J."""
    return state._replace(sigma_alpha=np.sqrt(group_ss(state, model) / model.data.n))


def _sigma_alpha_with(m_shift: int = 0, prior=None, m_override=None):
    def block(streams, state: State, model: GaussianModel) -> State:
        m = m_override(model) if m_override else model.data.n_groups + m_shift
        sigma, aux = draw_centered_scale(
            streams, prior or model.priors.sigma_alpha, group_ss(state, model), m, state.aux_alpha
        )
        return state._replace(sigma_alpha=sigma, aux_alpha=aux)

    return block


sigma_alpha_over_n = _sigma_alpha_with(m_override=lambda model: model.data.n)
sigma_alpha_df_minus_one = _sigma_alpha_with(m_shift=-1)
sigma_alpha_log_uniform_df = _sigma_alpha_with(prior=UniformLogSigma())


def alpha_without_prior_precision(streams, state: State, model: GaussianModel) -> State:
    """Alpha's precision drops the 1/sigma_alpha^2 term (its mean keeps it)."""
    s, U = model.stats, model.data.U
    prec_y = state.sigma_y[:, None] ** -2.0
    prec_a = state.sigma_alpha[:, None] ** -2.0
    precision = s.n_j * prec_y
    # Stacked products (chain_dot), as the kernels: chain k must not depend on the others.
    b = (s.sum_y - chain_dot(state.beta, s.sum_X.T)) * prec_y + chain_dot(state.gamma, U.T) * prec_a
    z = streams.normal(model.data.n_groups)
    with np.errstate(divide="ignore", invalid="ignore"):
        return state._replace(alpha=b / precision + z / np.sqrt(precision))


def alpha_mean_group_size(streams, state: State, model: GaussianModel) -> State:
    """Alpha's precision uses the mean group size n / J for every group instead of n_j.

    Exact on balanced groups; wrong wherever group sizes differ.
    """
    s, U = model.stats, model.data.U
    prec_y = state.sigma_y[:, None] ** -2.0
    prec_a = state.sigma_alpha[:, None] ** -2.0
    precision = (model.data.n / model.data.n_groups) * prec_y + prec_a
    # Stacked products (chain_dot), as the kernels: chain k must not depend on the others.
    b = (s.sum_y - chain_dot(state.beta, s.sum_X.T)) * prec_y + chain_dot(state.gamma, U.T) * prec_a
    z = streams.normal(model.data.n_groups)
    return state._replace(alpha=b / precision + z / np.sqrt(precision))


def beta_prior_sd_as_variance(streams, state: State, model: GaussianModel) -> State:
    """Beta's normal prior enters with precision 1 / sigma instead of 1 / sigma^2.

    Exact when the prior's scale is 1 (or flat); wrong at any other scale.
    """
    if model.data.p == 0 or isinstance(model.priors.beta, Flat):
        return update_beta(streams, state, model)
    s = model.stats
    r = s.Xty - chain_dot(state.alpha, s.sum_X)
    z = streams.normal(model.data.p)
    diag = np.diagonal(model.P_beta)
    mean = model.Pm_beta / diag
    P = np.diag(np.sqrt(diag))  # the slip: an sd read as a variance
    prec_y = state.sigma_y[:, None, None] ** -2.0
    beta = gaussian_draw(z, s.XtX * prec_y + P, r * prec_y[:, 0] + P @ mean)
    return state._replace(beta=beta)


def beta_without_alpha_offset(streams, state: State, model: GaussianModel) -> State:
    """Beta regressed on y instead of y - alpha_j[i]."""
    s = model.stats
    z = streams.normal(model.data.p)
    beta = s.Xty @ model.XtX_inv.T + state.sigma_y[:, None] * (z @ model.XtX_root.T)
    return state._replace(beta=np.broadcast_to(beta, state.beta.shape).copy())


def beta_posterior_mean(streams, state: State, model: GaussianModel) -> State:
    """Beta set to its conditional mean: no sampling noise."""
    r = model.stats.Xty - state.alpha @ model.stats.sum_X
    streams.normal(model.data.p)
    return state._replace(beta=r @ model.XtX_inv.T)


def gamma_from_group_means(streams, state: State, model: GaussianModel) -> State:
    """Gamma regressed on the group means of y instead of on alpha."""
    s = model.stats
    y_bar = s.sum_y / np.maximum(s.n_j, 1.0)
    z = streams.normal(model.data.q)
    gamma = (y_bar @ model.data.U) @ model.UtU_inv.T + state.sigma_alpha[:, None] * (
        z @ model.UtU_root.T
    )
    return state._replace(gamma=gamma)


def alpha_misindexed_groups(streams, state: State, model: GaussianModel) -> State:
    """Group sums read with an off-by-one group index (a mis-indexed group map)."""
    s, U = model.stats, model.data.U
    prec_y = state.sigma_y[:, None] ** -2.0
    prec_a = state.sigma_alpha[:, None] ** -2.0
    precision = s.n_j * prec_y + prec_a
    sums = np.roll(s.sum_y, 1) - chain_dot(state.beta, np.roll(s.sum_X, 1, axis=0).T)
    b = sums * prec_y + chain_dot(state.gamma, U.T) * prec_a
    z = streams.normal(model.data.n_groups)
    return state._replace(alpha=b / precision + z / np.sqrt(precision))


def _marginal_without_log_det(x, model):
    """Return the scales' marginal density without the -1/2 log|Q| of integrating out theta."""
    logp, L, w = log_marginal_scales(x, model)
    return logp + np.sum(np.log(np.diagonal(L, axis1=-2, axis2=-1)), axis=-1), L, w


# Broken versions of the fully collapsed sweep (gibbs.kernels.marginal).
isir_unweighted = make_marginal_sweep(importance=False, key="mutant:isir_unweighted")
marginal_without_log_det = make_marginal_sweep(
    _marginal_without_log_det, key="mutant:marginal_without_log_det"
)

_BASE = (update_alpha, update_beta, update_gamma, update_sigma_y, update_sigma_alpha)


def _replace(**blocks: Callable) -> tuple[Callable, ...]:
    names = ["alpha", "beta", "gamma", "sigma_y", "sigma_alpha"]
    return tuple(blocks.get(n, b) for n, b in zip(names, _BASE, strict=True))


MUTANTS: dict[str, Mutant] = {
    m.name: m
    for m in [
        Mutant(
            "plugin_variance",
            "the source article's steps 4-5: both variances set to sample variances "
            "(step 5 divided by n)",
            _replace(sigma_y=plugin_sigma_y, sigma_alpha=plugin_sigma_alpha),
        ),
        Mutant(
            "sigma_alpha_over_n",
            "step 5 counts n terms instead of J (scaled-inverse-chi-square with n - 1 df)",
            _replace(sigma_alpha=sigma_alpha_over_n),
        ),
        Mutant(
            "df_off_by_one",
            "sigma_alpha^2 = SS / chi^2 with J - 2 degrees of freedom instead of J - 1",
            _replace(sigma_alpha=sigma_alpha_df_minus_one),
        ),
        Mutant(
            "log_uniform_df",
            "the uniform-on-log-sigma df (J) used with the uniform-on-sigma prior (J - 1)",
            _replace(sigma_alpha=sigma_alpha_log_uniform_df),
        ),
        Mutant(
            "alpha_drops_prior_precision",
            "alpha's conditional precision omits 1 / sigma_alpha^2",
            _replace(alpha=alpha_without_prior_precision),
        ),
        Mutant(
            "alpha_mean_group_size",
            "alpha's precision uses the mean group size n / J instead of n_j (exact on "
            "balanced groups)",
            _replace(alpha=alpha_mean_group_size),
        ),
        Mutant(
            "beta_prior_sd_as_variance",
            "beta's normal prior enters with precision 1 / sigma, not 1 / sigma^2 (exact at "
            "unit prior scale)",
            _replace(beta=beta_prior_sd_as_variance),
        ),
        Mutant(
            "beta_without_alpha_offset",
            "beta regressed on y instead of y - alpha_j[i]",
            _replace(beta=beta_without_alpha_offset),
        ),
        Mutant(
            "gamma_from_group_means",
            "gamma regressed on the group means of y instead of on alpha",
            _replace(gamma=gamma_from_group_means),
        ),
        Mutant(
            "misindexed_groups",
            "group sums read with an off-by-one group index",
            _replace(alpha=alpha_misindexed_groups),
        ),
        Mutant(
            "beta_without_noise",
            "beta set to its conditional mean instead of drawn",
            _replace(beta=beta_posterior_mean),
        ),
        Mutant(
            "isir_unweighted",
            "fully collapsed sweep: resampling proportional to the posterior density, without "
            "dividing by the proposal density",
            (isir_unweighted,),
        ),
        Mutant(
            "marginal_without_log_det",
            "fully collapsed sweep: the scales' marginal density omits -1/2 log|Q| from "
            "integrating out (beta, gamma)",
            (marginal_without_log_det,),
        ),
    ]
}


# Mutants whose slip lives in a prior that flat priors do not have: exactly the correct sampler
# there (compare on flat-prior data must agree), caught where the prior is proper and not at
# unit scale (the prior-scales design of validation.designs).
INERT_UNDER_FLAT_PRIORS = frozenset({"beta_prior_sd_as_variance"})


def mutants_for(family: str = "gaussian") -> dict[str, Mutant]:
    """Return the catalogue of mutants of one family (the Gaussian one is :data:`MUTANTS`)."""
    from gibbs.families import normalize_family

    family = normalize_family(family)
    if family == "gaussian":
        return MUTANTS
    return BINOMIAL_MUTANTS[family]


def get_mutant(name: str, family: str | None = None) -> Mutant:
    """Return the mutant called ``name`` (of ``family`` if given, else of any family)."""
    families = [family] if family is not None else ["gaussian", "logistic", "probit"]
    catalogue = {k: v for f in families for k, v in mutants_for(f).items()}
    try:
        return catalogue[name]
    except KeyError:
        raise ValueError(f"unknown mutant {name!r}; choose one of {sorted(catalogue)}") from None


def requires_flat_beta(mutant: Mutant) -> bool:
    """Whether the mutant's blocks assume the flat prior on beta (and gamma)."""
    return mutant.name in {
        "beta_without_alpha_offset",
        "beta_without_noise",
        "gamma_from_group_means",
    }
