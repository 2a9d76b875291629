"""Deliberately broken samplers of the general kernel (:mod:`gibbs.structures.mixed`).

Each mutant replaces one *named* block of a correct scheme with a plausible slip, by class of
bug: a term left out of a precision, a sum over the wrong index set, an incomplete linear
predictor handed to the latent draw. ``applies(spec)`` says on which models the slip changes the
posterior at all (a slope term left out is no bug without slopes).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from gibbs.kernels.scales import draw_centered_scale, draw_noncentered_scale
from gibbs.structures import Block
from gibbs.structures import mixed as m

__all__ = ["GENERAL_MUTANTS", "BlockMutant"]


@dataclass(frozen=True)
class BlockMutant:
    """A scheme with the block called ``block`` replaced by ``update``."""

    name: str
    scheme: str
    block: str
    update: Callable
    applies: Callable = lambda spec: True

    @property
    def description(self) -> str:
        """One line on what is broken."""
        return (self.update.__doc__ or "").strip().splitlines()[0]

    def sweep(self, spec) -> tuple:
        """Return the broken sweep of ``spec``'s scheme."""
        blocks = spec.schemes()[self.scheme]
        if self.block not in [b.name for b in blocks]:
            raise ValueError(f"mutant {self.name}: scheme {self.scheme} has no block {self.block}")
        return tuple(Block(b.name, self.update) if b.name == self.block else b for b in blocks)


def deviations_without_shrinkage(streams, state, model):
    """Draw every e_j with precision A_j only: Sigma^-1, the group-level shrinkage, left out."""
    st = m.weighted_stats(state, model)
    D = st.A + 1e-10 * np.eye(model.K)
    rhs = st.zr - np.einsum("cjka,ca->cjk", st.B, state.small)
    return state._replace(dev=m.update_deviations_with(streams, D, rhs), stats=(model.Y, st))


def small_ignoring_group_variance(streams, state, model):
    """Draw s as if every e_j were 0: the deviations' variance left out of its precision."""
    tiny = state._replace(Sigma=np.broadcast_to(1e-10 * np.eye(model.K), state.Sigma.shape))
    return m.update_small(streams, tiny, model)._replace(Sigma=state.Sigma)


def factor_scale_over_rows(streams, state, model):
    """Draw each sigma_f from its effects summed over the n rows, not over its J_f levels."""
    sigma_f, aux_f = state.sigma_f.copy(), state.aux_f.copy()
    for i, f in enumerate(model.factors):
        b = model.factor_effects(state.small, i)[:, f.codes]
        sigma_f[:, i], aux_f[:, i] = draw_centered_scale(
            streams,
            model.priors.factor_scale(f.name),
            np.sum(b * b, axis=1),
            model.data.n,
            state.aux_f[:, i],
        )
    return state._replace(sigma_f=sigma_f, aux_f=aux_f)


def noncentered_scale_residual_with_factor(streams, state, model):
    """Move sigma_f non-centered against a residual that still subtracts the factor's effects."""
    if not model.factors:
        return state
    eta = m.linear_predictor(state.small, state.dev, model)
    if model.family.fixed_weights:
        s2 = state.sigma_y[:, None] ** 2
        w, r = np.broadcast_to(1.0 / s2, eta.shape), np.broadcast_to(model.Y, eta.shape) / s2
    else:
        w, r = state.w, state.r
    small, sigma_f = state.small.copy(), state.sigma_f.copy()
    for k, f in enumerate(model.factors):
        b = model.factor_effects(small, k)
        z = b / sigma_f[:, k, None]
        C, J_f = b.shape
        index = f.codes + J_f * np.arange(C)[:, None]
        W = np.bincount(index.ravel(), w.ravel(), C * J_f).reshape(C, J_f)
        R = np.bincount(index.ravel(), (r - w * eta).ravel(), C * J_f).reshape(C, J_f)
        new = draw_noncentered_scale(
            streams,
            model.priors.factor_scale(f.name),
            sigma_f[:, k],
            np.sum(z * z * W, axis=1),
            np.sum(z * R, axis=1),
            np.ones(C),
            state.aux_f[:, k],
        )
        eta = eta + ((new - sigma_f[:, k])[:, None] * z)[:, f.codes]
        small[:, model.offsets[k] : model.offsets[k + 1]] = new[:, None] * z
        sigma_f[:, k] = new
    return state._replace(small=small, sigma_f=sigma_f)


def latent_without_slopes(streams, state, model):
    """Draw the latent variables from a linear predictor without the varying slopes' terms."""
    dev = state.dev.copy()
    dev[..., 1:] = 0.0
    return m.latent_block(streams, state._replace(dev=dev), model)._replace(dev=state.dev)


def collapsed_scale_without_noise(streams, state, model):
    """Draw sigma_alpha with e_j integrated out but without the noise variance 1 / A_j."""
    A, z = m.collapsed_terms(state, model)
    a = A[..., 0, 0]
    sigma = draw_centered_scale(
        streams,
        model.priors.sigma_alpha,
        np.sum((z[..., 0] / a) ** 2, axis=1),
        a.shape[1],
        state.aux_Sigma,
    )
    return state._replace(Sigma=(sigma[0] ** 2)[:, None, None], aux_Sigma=sigma[1])


GENERAL_MUTANTS = {
    mu.name: mu
    for mu in [
        BlockMutant(
            "deviations_without_shrinkage", "collapsed", "deviations", deviations_without_shrinkage
        ),
        BlockMutant(
            "small_ignoring_group_variance", "collapsed", "small", small_ignoring_group_variance
        ),
        BlockMutant(
            "factor_scale_over_rows",
            "collapsed",
            "factor_scales",
            factor_scale_over_rows,
            applies=lambda spec: bool(spec.factors),
        ),
        BlockMutant(
            "noncentered_scale_residual_with_factor",
            "collapsed",
            "factor_scales_noncentered",
            noncentered_scale_residual_with_factor,
            applies=lambda spec: bool(spec.factors),
        ),
        BlockMutant(
            "latent_without_slopes",
            "collapsed",
            "latent",
            latent_without_slopes,
            applies=lambda spec: bool(spec.slopes) and not spec.family.fixed_weights,
        ),
        BlockMutant(
            "collapsed_scale_without_noise",
            "collapsed",
            "group_scale",
            collapsed_scale_without_noise,
            applies=lambda spec: not spec.slopes,
        ),
    ]
}
