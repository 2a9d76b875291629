"""Gibbs kernels: one module per model family, each a set of pure update functions."""

from gibbs.kernels.gaussian import (
    asis_sigma_alpha,
    collapsed_sigma_alpha,
    update_alpha,
    update_beta,
    update_beta_gamma_marginal,
    update_gamma,
    update_sigma_alpha,
    update_sigma_y,
)
from gibbs.kernels.marginal import marginal_sweep

__all__ = ["FAMILY_SCHEMES", "SCHEMES"]

# A sweep is a composition of blocks; every scheme targets the same posterior.
SCHEMES = {
    # The source article's order, with the corrected draws.
    "componentwise": (update_alpha, update_beta, update_gamma, update_sigma_y, update_sigma_alpha),
    # (beta, gamma) with alpha integrated out, then alpha: breaks the alpha-beta-gamma correlation.
    "blocked": (update_beta_gamma_marginal, update_alpha, update_sigma_y, update_sigma_alpha),
    # Blocked, plus a non-centered (ASIS) draw of sigma_alpha for when it is near zero.
    "interweaving": (
        update_beta_gamma_marginal,
        update_alpha,
        update_sigma_y,
        update_sigma_alpha,
        asis_sigma_alpha,
    ),
    # (beta, gamma) and sigma_alpha with alpha integrated out, then alpha, then sigma_y.
    "collapsed": (update_beta_gamma_marginal, collapsed_sigma_alpha, update_alpha, update_sigma_y),
    # Fully collapsed: (sigma_y, sigma_alpha) from their marginal posterior by i-SIR, then
    # (beta, gamma) and alpha exactly given them.
    "marginal": (marginal_sweep,),
}


def _binomial_schemes(family: str) -> dict[str, tuple]:
    from gibbs.kernels.binomial import (
        LATENT,
        collapsed_sigma_alpha_binomial,
        update_alpha_binomial,
        update_beta_binomial,
        update_beta_gamma_binomial,
    )
    from gibbs.kernels.binomial_integrated import (
        update_alpha_integrated,
        update_beta_integrated,
        update_gamma_noncentered,
        update_sigma_noncentered,
    )

    latent = LATENT[family]
    return {
        # Latent variables, then the centered blocks in the article's order.
        "componentwise": (
            latent,
            update_alpha_binomial,
            update_beta_binomial,
            update_gamma,
            update_sigma_alpha,
        ),
        # (beta, gamma) with alpha integrated out, then alpha, then sigma_alpha given alpha.
        "blocked": (latent, update_beta_gamma_binomial, update_alpha_binomial, update_sigma_alpha),
        # (beta, gamma) and sigma_alpha with alpha integrated out, then alpha.
        "collapsed": (
            latent,
            update_beta_gamma_binomial,
            collapsed_sigma_alpha_binomial,
            update_alpha_binomial,
        ),
        # Collapsed, then slice steps on exact conditionals with the latent variables integrated
        # out: alpha, beta, and gamma and sigma_alpha non-centered. Crosses the wide conditionals
        # of nearly separated groups, which the utilities narrow.
        "integrated": (
            latent,
            update_beta_gamma_binomial,
            collapsed_sigma_alpha_binomial,
            update_alpha_binomial,
            update_alpha_integrated,
            update_beta_integrated,
            update_gamma_noncentered,
            update_sigma_noncentered,
        ),
    }


# Sweeps of every family: FAMILY_SCHEMES[family][scheme].
FAMILY_SCHEMES = {
    "gaussian": SCHEMES,
    "logistic": _binomial_schemes("logistic"),
    "probit": _binomial_schemes("probit"),
}
