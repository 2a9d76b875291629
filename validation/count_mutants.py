"""Deliberately broken samplers of the count families (:mod:`gibbs.families.count`).

Each replaces the ``latent`` or the ``dispersion`` block of the general kernel's schemes with a
plausible slip of its class: a standard deviation where a variance belongs, a sum over the
wrong number of terms, a Polya-Gamma tilt without the dispersion's shift, a slice step whose
bracket depends on the current point, a dispersion step that does not refresh what depends on it,
and (every latent family) an offset left in the pseudo-responses the location blocks see. The
negative binomial's integrated scheme has its own: a variance read as a standard deviation in
the deviations' prior, a deviation's prior without its correlation with the others, and the
intercept's prior left out of the factor translation.
"""

from __future__ import annotations

import numpy as np

from gibbs.families.count import (
    NegativeBinomialFamily,
    PoissonFamily,
    polya_gamma_any,
    slice_log_rates,
)
from gibbs.kernels.scales import draw_centered_scale
from gibbs.kernels.tuning import current
from gibbs.structures import mixed as m
from gibbs.structures import mixed_exact as mx
from validation.general_mutants import BlockMutant

__all__ = ["COUNT_MUTANTS"]


def _finish(state, model, latent, w, r):
    if model.has_offset:
        r = r - w * model.offset
    return m.with_latent(state, model, w, r)._replace(latent=latent)


def _log_rates(streams, state, model, prec, width_from_point=False):
    eta = m.full_predictor(state, model)
    Y = model.family_data
    if width_from_point:
        width = 2.0 * current().slice_width / np.sqrt(np.exp(state.latent) + prec)
    else:
        width = 2.0 * current().slice_width / np.sqrt(Y + prec)
    return slice_log_rates(streams, Y, eta, state.latent, prec, width), eta


def log_rates_with_sd_as_precision(streams, state, model):
    """Move the Poisson log rates under N(eta, sigma_epsilon) read as precision 1 / sigma."""
    prec = np.broadcast_to(1.0 / state.sigma_y[:, None], state.latent.shape)
    new, _ = _log_rates(streams, state, model, prec)
    w = np.broadcast_to(1.0 / state.sigma_y[:, None] ** 2, new.shape)
    return _finish(state, model, new, w, new * w)


def log_rates_width_from_current_point(streams, state, model):
    """Slice the log rates with a bracket width taken from the current point (not reversible)."""
    prec = np.broadcast_to(1.0 / state.sigma_y[:, None] ** 2, state.latent.shape)
    new, _ = _log_rates(streams, state, model, prec, width_from_point=True)
    return _finish(state, model, new, prec, new * prec)


def epsilon_scale_over_groups(streams, state, model):
    """Draw sigma_epsilon as if its sum of squares had one term per group, not per row."""
    eta = m.full_predictor(state, model)
    ss = np.sum((state.latent - eta) ** 2, axis=1)
    prior = model.family.dispersion_prior(model.priors)
    sigma, aux = draw_centered_scale(streams, prior, ss, model.data.n_groups, state.aux_y)
    return state._replace(sigma_y=sigma, aux_y=aux, stats=None)


def polya_gamma_without_log_phi(streams, state, model):
    """Tilt the negative binomial's Polya-Gamma draws by eta, without the - log phi shift."""
    eta = m.full_predictor(state, model)
    phi = 1.0 / state.sigma_y[:, None] ** 2
    Y = np.broadcast_to(model.family_data, eta.shape)
    omega = np.empty(eta.shape)
    for c, gen in enumerate(streams.latent):
        omega[c] = polya_gamma_any(gen, (Y + phi)[c], eta[c])
    return _finish(state, model, None, omega, 0.5 * (Y - phi) + omega * np.log(phi))


def dispersion_given_stale_omega(streams, state, model):
    """Slice phi given eta, then keep the Polya-Gamma draws of the old phi (no refresh)."""
    moved = m.dispersion_block(streams, state, model)
    return moved._replace(stats=state.stats, w=state.w, r=state.r)


def latent_without_offset_shift(streams, state, model):
    """Keep the pseudo-responses of eta + offset for blocks that see eta (no - w o shift)."""
    eta = m.full_predictor(state, model)
    latent, w, r = model.family.latent_step(
        streams, eta, state.latent, state.sigma_y, model.family_data
    )
    return m.with_latent(state, model, w, r)._replace(latent=latent)


def deviations_variance_as_sd(streams, state, model):
    """Slice the deviations under N(0, sigma_alpha) read as variance sigma_alpha (not sigma^2)."""
    moved = mx.exact_deviations(streams, state._replace(Sigma=np.sqrt(state.Sigma)), model)
    return moved._replace(Sigma=state.Sigma)


def deviations_without_correlation(streams, state, model):
    """Slice each deviation coordinate under its marginal prior, ignoring the other coordinates."""
    diagonal = state.Sigma * np.eye(model.K)
    moved = mx.exact_deviations(streams, state._replace(Sigma=diagonal), model)
    return moved._replace(Sigma=state.Sigma)


def translation_without_intercept_prior(streams, state, model):
    """Draw the factor-intercept translation as if the intercept's prior were flat."""
    i0 = mx.intercept_index(model)
    if not model.factors or i0 is None:
        return state
    small = state.small.copy()
    for k, f in enumerate(model.factors):
        sl = slice(model.offsets[k], model.offsets[k + 1])
        var = state.sigma_f[:, k] ** 2
        prec = len(f.levels) / var
        c = small[:, sl].sum(axis=1) / var / prec + streams.normal(1)[:, 0] / np.sqrt(prec)
        small[:, i0] += c
        small[:, sl] -= c[:, None]
    return state._replace(small=small, stats=None)


def _integrated(extra=lambda spec: True):
    return lambda spec: isinstance(spec.family, NegativeBinomialFamily) and extra(spec)


def _has_offset(spec) -> bool:
    return getattr(spec.model, "has_offset", False) and not spec.family.fixed_weights


def _family(kind):
    return lambda spec: isinstance(spec.family, kind)


COUNT_MUTANTS = {
    mu.name: mu
    for mu in [
        BlockMutant(
            "log_rates_with_sd_as_precision",
            "collapsed",
            "latent",
            log_rates_with_sd_as_precision,
            applies=_family(PoissonFamily),
        ),
        BlockMutant(
            "log_rates_width_from_current_point",
            "collapsed",
            "latent",
            log_rates_width_from_current_point,
            applies=_family(PoissonFamily),
        ),
        BlockMutant(
            "epsilon_scale_over_groups",
            "collapsed",
            "dispersion",
            epsilon_scale_over_groups,
            applies=_family(PoissonFamily),
        ),
        BlockMutant(
            "polya_gamma_without_log_phi",
            "collapsed",
            "latent",
            polya_gamma_without_log_phi,
            applies=_family(NegativeBinomialFamily),
        ),
        BlockMutant(
            "dispersion_given_stale_omega",
            "collapsed",
            "dispersion",
            dispersion_given_stale_omega,
            applies=_family(NegativeBinomialFamily),
        ),
        # The integrated scheme (exact-likelihood location moves, gibbs.structures.mixed_exact).
        BlockMutant(
            "deviations_variance_as_sd",
            "integrated",
            "deviations",
            deviations_variance_as_sd,
            applies=_integrated(lambda spec: spec.K == 1),
        ),
        BlockMutant(
            "deviations_without_correlation",
            "integrated",
            "deviations",
            deviations_without_correlation,
            applies=_integrated(lambda spec: spec.K > 1),
        ),
        BlockMutant(
            "translation_without_intercept_prior",
            "integrated",
            "factor_translation",
            translation_without_intercept_prior,
            applies=_integrated(lambda spec: bool(spec.factors)),
        ),
        # Every latent family with an offset (binomial ones too): the offset reaches the
        # likelihood but is left in what the location blocks regress on.
        BlockMutant(
            "latent_without_offset_shift",
            "collapsed",
            "latent",
            latent_without_offset_shift,
            applies=_has_offset,
        ),
    ]
}
