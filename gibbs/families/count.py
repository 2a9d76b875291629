"""The count families: the overdispersed Poisson (lognormal) and the negative binomial.

With eta_i the structure's linear predictor and o_i the row's offset (log exposure):

- ``poisson`` (Gelman & Hill, sections 6.2 and 15.1): y_i ~ Poisson(exp(l_i)) with the row's log
  rate l_i = o_i + eta_i + epsilon_i, epsilon_i ~ N(0, sigma_epsilon^2). The log rates are kept in
  the state: given them, l_i - o_i ~ N(eta_i, sigma_epsilon^2) is a Gaussian pseudo-observation of
  eta_i (w_i = 1 / sigma_epsilon^2), so every location and scale block is the Gaussian model's.
  Each l_i is moved by one exact slice step on its full conditional, all rows and chains at once
  (:func:`gibbs.kernels.slice_groups.slice_step_grouped`); sigma_epsilon given the l_i is the
  Gaussian residual-scale draw.
- ``negative_binomial`` (Zhou, Li, Dunson & Carin 2012; Polson, Scott & Windle 2013): y_i ~
  NB(mean mu_i = exp(o_i + eta_i), dispersion phi), Var y_i = mu_i + mu_i^2 / phi. With
  psi_i = o_i + eta_i - log phi the likelihood is (e^psi)^y / (1 + e^psi)^(y + phi), so
  omega_i ~ PG(y_i + phi, psi_i) makes it Gaussian in eta: w_i = omega_i, and r_i = (y_i - phi) / 2
  + omega_i log phi for the linear predictor with the offset. The dispersion is sampled as
  s = 1 / sqrt(phi) (the coefficient of variation of the gamma mixing; s -> 0 is the Poisson) by a
  slice step on log s given eta with omega integrated out, immediately before omega is drawn
  afresh: the two together are one draw of (s, omega) given eta.

The Poisson model without epsilon is not sampled here: its likelihood has no Gaussian
augmentation in eta (there is no Polya-Gamma identity for exp(y eta - e^eta)), so it would need
a Metropolis or slice step on every location block; the negative binomial with s -> 0 is its
limit (docs/counts.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special

from gibbs.data import HierarchicalData
from gibbs.families.family import Family
from gibbs.kernels.scales import draw_centered_scale, slice_step_batched
from gibbs.kernels.slice_groups import slice_step_grouped
from gibbs.kernels.tuning import current
from gibbs.priors import (
    Flat,
    HalfNormal,
    Normal,
    Priors,
    SlopesPriors,
    UniformLogSigma,
    UniformSigma,
    count_calibration,
    count_default,
)

__all__ = [
    "NEGATIVE_BINOMIAL",
    "POISSON",
    "CountFamily",
    "NegativeBinomialFamily",
    "PoissonFamily",
    "negative_binomial_loglik",
    "polya_gamma_any",
    "poisson_lognormal_loglik",
    "slice_log_rates",
]

_LOG_2PI = float(np.log(2.0 * np.pi))
# Gauss-Hermite nodes for the marginal likelihood of a row with epsilon integrated out.
_GH_X, _GH_W = np.polynomial.hermite.hermgauss(24)
# A Poisson draw needs a finite mean; exp(40) is far beyond any count in the calibration designs.
_MAX_LOG_RATE = 40.0
# Terms of the Polya-Gamma series drawn for a fractional shape (_polya_gamma_series).
_PG_TERMS = 64
_PG_TAIL = float(special.polygamma(1, _PG_TERMS + 0.5)) / (2.0 * np.pi**2)


def poisson_lognormal_loglik(eta: np.ndarray, y: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """Log p(y_i | eta_i, sigma) = log int Poisson(y | e^(eta + e)) N(e | 0, sigma^2) de.

    Adaptive Gauss-Hermite quadrature: 24 nodes around the integrand's mode, scaled by its
    curvature (relative error below 1e-10 for the counts and scales of the shipped data).
    """
    eta, y, sigma = np.broadcast_arrays(eta, y, sigma)
    prec = 1.0 / sigma**2
    # The mode of y (eta + e) - e^(eta + e) - e^2 / (2 sigma^2) by Newton on its derivative,
    # which is concave and decreasing in e: from a start at or right of the root every step
    # stays right of it and moves left, fast. The root is at most max(0, min(log y - eta,
    # y sigma^2)); a start at 0 would overshoot to y sigma^2 for a large count and a low eta
    # and crawl back one unit per step.
    with np.errstate(divide="ignore"):
        e = np.maximum(0.0, np.minimum(np.log(y) - eta, y / prec))
    for _ in range(30):
        rate = np.exp(np.minimum(eta + e, 700.0))
        step = (y - rate - e * prec) / (-rate - prec)
        e = e - step
        # Quadratic convergence: once every step is this small the next ones change nothing
        # that the 24-node rule can resolve; most calls stop after a handful of steps.
        if np.all(np.abs(step) < 1e-12):
            break
    h = np.exp(np.minimum(eta + e, 700.0)) + prec
    scale = np.sqrt(2.0 / h)
    nodes = e[..., None] + scale[..., None] * _GH_X
    lam = eta[..., None] + nodes
    g = y[..., None] * lam - np.exp(np.minimum(lam, 700.0)) - 0.5 * nodes**2 * prec[..., None]
    logs = special.logsumexp(g + _GH_X**2, axis=-1, b=_GH_W)
    return logs + np.log(scale) - 0.5 * _LOG_2PI - np.log(sigma) - special.gammaln(y + 1.0)


def negative_binomial_loglik(eta: np.ndarray, y: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Return log NB(y | mean e^eta, phi = 1 / s^2), as ``pm.NegativeBinomial(mu, alpha=phi)``."""
    phi = 1.0 / np.asarray(s, float) ** 2
    log_mu = np.asarray(eta, float)
    log_sum = np.logaddexp(np.log(phi), log_mu)
    return (
        special.gammaln(y + phi)
        - special.gammaln(phi)
        - special.gammaln(y + 1.0)
        + phi * (np.log(phi) - log_sum)
        + y * (log_mu - log_sum)
    )


def polya_gamma_any(gen: np.random.Generator, h: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Draw PG(h_i, z_i) for real h_i > 0 as PG(floor h, z) + PG(h - floor h, z).

    The integer part by Devroye's exact method; the fractional part from the series of gammas
    (:func:`_polya_gamma_series`). Not the package's methods for real h: in polyagamma 2.0.2
    the default for non-integer h >= 1 is biased (its mean at PG(2.5, 0) is off by 11 standard
    errors in 400,000 draws), its gamma method is biased by about -0.2% at PG(0.5, 5) and
    refuses h below 1e-4; tests/test_count_families.py holds the draws used here to the exact
    moments.
    """
    from polyagamma import random_polyagamma

    whole = np.floor(h)
    frac = h - whole
    out = np.zeros(h.shape)
    big = whole >= 1
    if big.any():
        out[big] = random_polyagamma(whole[big], z[big], method="devroye", random_state=gen)
    part = frac > 0
    if part.any():
        out[part] += _polya_gamma_series(gen, frac[part], z[part])
    return out


def _polya_gamma_series(gen: np.random.Generator, h: np.ndarray, z: np.ndarray) -> np.ndarray:
    """PG(h, z), h < 1, from its series sum_k G_k(h, 1) / (2 pi^2 (k - 1/2)^2 + z^2 / 2).

    The first 64 terms are drawn; the rest (a sum of mean below 1e-3 h and of negligible
    variance) is replaced by its mean, so that the draw's mean is exact to about 1e-7 h.
    """
    k = np.arange(1, _PG_TERMS + 1) - 0.5
    denom = 2.0 * np.pi**2 * k**2 + 0.5 * z[:, None] ** 2
    head = np.sum(gen.standard_gamma(np.repeat(h[:, None], k.size, axis=1)) / denom, axis=1)
    # sum_{k > K} 1 / (k - 1/2)^2 = trigamma(K + 1/2); z shrinks the far terms a little.
    tail = _PG_TAIL * h / (1.0 + z**2 / (4.0 * np.pi**2 * (_PG_TERMS + 0.5) ** 2))
    return head + tail


def slice_log_rates(streams, Y, eta, latent, prec, width) -> np.ndarray:
    """One slice step on every log rate l_i ~ y l - e^l - (l - eta)^2 prec / 2, all at once."""
    Y3, eta3, prec3 = Y[:, None, :], eta[:, None, :], prec[:, None, :]

    def logf(cand: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore"):
            out = Y3 * cand - np.exp(cand) - 0.5 * (cand - eta3) ** 2 * prec3
        return np.where(np.isnan(out), -np.inf, out)

    return slice_step_grouped(streams, logf, latent, width)


def _check_counts(data: HierarchicalData, family: str) -> None:
    y = data.y
    bad = np.flatnonzero((y < 0) | (y != np.round(y)))
    if bad.size:
        raise ValueError(
            f"the {family} family needs outcome '{data.y_name}' to be a count (an integer >= 0): "
            f"{bad.size} row(s) are not (first at row {bad[0]}, value {y[bad[0]]:g})"
        )
    if data.trials is not None:
        raise ValueError(
            f"trials are for the binomial families; the {family} family takes an exposure as "
            "offset= (log exposure) instead"
        )


@dataclass(frozen=True)
class CountFamily(Family):
    """What the two count families share: outcome and prior checks, priors, initial values."""

    def check_outcome(self, data: HierarchicalData) -> None:
        """Y must be counts; no binomial trials."""
        _check_counts(data, self.name)

    def dispersion_prior(self, priors: Any) -> Any:
        """``priors.dispersion``, or HalfNormal(1) when it is not set."""
        return priors.dispersion if priors.dispersion is not None else HalfNormal(1.0)

    def check_priors(self, priors: Any, data: HierarchicalData, K: int, factors=()) -> None:
        """Require Normal locations, a proper dispersion prior and proper scale posteriors.

        Under a flat prior a group of zero counts (or a predictor that separates them) lets a
        coefficient run to minus infinity; a uniform sigma_alpha needs two groups with a
        positive count (only their likelihood vanishes in both directions of alpha_j).
        """
        kind = Priors if K == 1 else SlopesPriors
        if not isinstance(priors, kind):
            raise ValueError(
                f"{'varying intercepts' if K == 1 else 'varying slopes'} need {kind.__name__}, "
                f"got {type(priors).__name__}"
            )
        for name in ("beta", "gamma"):
            if isinstance(getattr(priors, name), Flat):
                raise ValueError(
                    f"prior on {name}: the {self.name} family needs a Normal prior (under a flat "
                    "one, a group or a predictor level with only zero counts leaves the "
                    "posterior improper), e.g. Normal(0, 10) (the 'count-default' preset)"
                )
            if not isinstance(getattr(priors, name), Normal):
                raise ValueError(f"prior on {name} must be Normal")
        disp = self.dispersion_prior(priors)
        if isinstance(disp, UniformSigma | UniformLogSigma) or not disp.proper:
            raise ValueError(
                f"prior on {self.dispersion[0]} (dispersion=): {disp!r} is not proper; use "
                "HalfNormal, HalfStudentT or InverseGamma"
            )
        if K == 1:
            if isinstance(priors.sigma_alpha, UniformLogSigma):
                raise ValueError(
                    "prior on sigma_alpha: UniformLogSigma makes the posterior improper; use "
                    "UniformSigma, HalfStudentT or HalfNormal"
                )
            positive = np.bincount(data.group, data.y, data.n_groups) > 0
            if isinstance(priors.sigma_alpha, UniformSigma) and positive.sum() < 2:
                raise ValueError(
                    f"prior on sigma_alpha: UniformSigma with {int(positive.sum())} group(s) "
                    "with a positive count leaves the posterior improper (needs 2); use a proper "
                    "prior"
                )
        else:
            priors.check(data, K)
        priors.check_factors(factors)

    def default_priors(self, K: int = 1) -> Any:
        """N(0, 10^2) locations, half-normal(1) scales (:func:`gibbs.priors.count_default`)."""
        if K == 1:
            return count_default()
        base = count_default()
        return SlopesPriors(
            beta=base.beta,
            gamma=base.gamma,
            factor_scale_default=base.factor_scale_default,
            dispersion=base.dispersion,
        )

    def calibration_priors(self, K: int = 1) -> Any:
        """N(0, 1) locations and IG(3, 2) variances (:func:`gibbs.priors.count_calibration`)."""
        if K == 1:
            return count_calibration()
        from gibbs.priors import slopes_calibration_priors

        base = count_calibration()
        return SlopesPriors(
            beta=base.beta,
            gamma=base.gamma,
            Sigma=slopes_calibration_priors().Sigma,
            factor_scale_default=base.factor_scale_default,
            dispersion=base.dispersion,
        )

    def prepare(self, Y: np.ndarray, trials: np.ndarray) -> np.ndarray:
        """Return the outcomes themselves (chains or 1, n)."""
        return np.asarray(Y, float)

    def working_response(self, y, trials) -> tuple[np.ndarray, np.ndarray]:
        """log(y + 1/2) (offset included) and the Poisson information y + 1/2."""
        y = np.asarray(y, float)
        return np.log(y + 0.5), y + 0.5


@dataclass(frozen=True)
class PoissonFamily(CountFamily):
    """y_i ~ Poisson(exp(l_i)), l_i ~ N(o_i + eta_i, sigma_epsilon^2); the state keeps l."""

    def initial_latent(self, eta: np.ndarray, y: np.ndarray, disp: np.ndarray) -> np.ndarray:
        """log(y + 1/2) for every chain."""
        return np.broadcast_to(np.log(np.asarray(y, float) + 0.5), eta.shape).copy()

    def draw_latent(self, rng: np.random.Generator, eta: np.ndarray, disp: np.ndarray):
        """L = eta + sigma_epsilon N(0, 1) (eta with the offset)."""
        return eta + disp[:, None] * rng.standard_normal(eta.shape)

    def dispersion_step(self, streams, eta, latent, disp, aux, prior, prepared):
        """sigma_epsilon given the log rates: the Gaussian residual-scale draw over n rows."""
        ss = np.sum((latent - eta) ** 2, axis=1)
        return draw_centered_scale(streams, prior, ss, eta.shape[1], aux)

    def latent_step(self, streams, eta, latent, disp, prepared):
        """One slice step on every log rate l_i; return (l, w, r) with w = 1 / sigma^2."""
        Y = prepared
        prec = 1.0 / disp[:, None] ** 2
        # The conditional's sd is about 1 / sqrt(y + 1 / sigma^2): a width from the data and
        # the other parameters only, never from the current point.
        width = 2.0 * current().slice_width / np.sqrt(Y + prec)
        new = slice_log_rates(streams, Y, eta, latent, prec, width)
        w = np.broadcast_to(prec, eta.shape)
        return new, w, new * prec

    def joint_loglik(self, eta, y, trials, disp, latent) -> np.ndarray:
        """Log Poisson(y | e^l) + log N(l | eta, sigma_epsilon^2) per row."""
        z = (latent - eta) / disp
        with np.errstate(over="ignore"):
            pois = y * latent - np.exp(latent) - special.gammaln(y + 1.0)
        return pois - 0.5 * (_LOG_2PI + z * z) - np.log(disp)

    def loglik(self, eta, y, trials, sigma_y=None) -> np.ndarray:
        """Log p(y_i | eta_i, sigma_epsilon), epsilon integrated out (for LOO and SBC)."""
        return poisson_lognormal_loglik(eta, y, sigma_y)

    def simulate(self, rngs, eta, trials, sigma_y=None, latent=None) -> np.ndarray:
        """Y ~ Poisson(e^l), l given or eta + sigma_epsilon N(0, 1); one generator per chain."""
        out = np.empty(eta.shape)
        for c, g in enumerate(rngs):
            sd = np.broadcast_to(sigma_y, eta.shape)[c]
            lam = latent[c] if latent is not None else eta[c] + sd * g.standard_normal(eta[c].shape)
            out[c] = g.poisson(np.exp(np.minimum(lam, _MAX_LOG_RATE)))
        return out


@dataclass(frozen=True)
class NegativeBinomialFamily(CountFamily):
    """y_i ~ NB(mean exp(o_i + eta_i), phi), omega_i ~ PG(y_i + phi, psi_i); s = 1 / sqrt(phi)."""

    def dispersion_step(self, streams, eta, latent, disp, aux, prior, prepared):
        """Slice log s given eta with omega integrated out (omega is drawn right after)."""
        Y = prepared[:, None, :]
        eta3 = eta[:, None, :]

        def logf(x: np.ndarray) -> np.ndarray:
            s = np.exp(x)
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                # The log-likelihood without its term free of s, -log y!.
                phi = s[..., None] ** -2.0
                log_sum = np.log(phi + np.exp(eta3))
                ll = (
                    special.gammaln(Y + phi)
                    - special.gammaln(phi)
                    + phi * (np.log(phi) - log_sum)
                    + Y * (eta3 - log_sum)
                ).sum(axis=-1)
                out = ll + prior.logpdf(s) + x
            return np.where(np.isfinite(out), out, -np.inf)

        x = slice_step_batched(streams, logf, np.log(disp), width=current().slice_width)
        return np.exp(x), aux

    def latent_step(self, streams, eta, latent, disp, prepared):
        """omega_i ~ PG(y_i + phi, eta_i - log phi) chain by chain; return (None, w, r)."""
        phi = 1.0 / disp[:, None] ** 2
        Y = np.broadcast_to(prepared, eta.shape)
        h = Y + phi
        psi = eta - np.log(phi)
        omega = np.empty(eta.shape)
        for c, gen in enumerate(streams.latent):
            omega[c] = polya_gamma_any(gen, h[c], psi[c])
        return None, omega, 0.5 * (Y - phi) + omega * np.log(phi)

    def loglik(self, eta, y, trials, sigma_y=None) -> np.ndarray:
        """Log NB(y | e^eta, 1 / s^2) per row."""
        return negative_binomial_loglik(eta, y, sigma_y)

    # The integrated scheme's location moves (gibbs.structures.mixed_exact) use these two.
    exact_locations = True

    def eta_loglik(self, eta, y, disp) -> np.ndarray:
        """Log NB(y | e^eta, phi) up to terms free of eta: y eta - (y + phi) log(phi + e^eta)."""
        phi = 1.0 / np.asarray(disp, float) ** 2
        # log(phi + e^eta) directly (cheaper than logaddexp): an overflow far out gives -inf,
        # the limit of the log-likelihood there.
        return y * eta - (y + phi) * np.log(phi + np.exp(eta))

    def eta_information_bound(self, disp: np.ndarray) -> np.ndarray:
        """Bound a row's Fisher information about eta: phi mu / (mu + phi) < phi = 1 / s^2."""
        return 1.0 / np.asarray(disp, float) ** 2

    def simulate(self, rngs, eta, trials, sigma_y=None, latent=None) -> np.ndarray:
        """Y ~ Poisson(e^eta G), G ~ Gamma(phi, 1 / phi): the NB as a gamma mixture."""
        out = np.empty(eta.shape)
        for c, g in enumerate(rngs):
            s = np.broadcast_to(sigma_y, eta.shape)[c]
            phi = 1.0 / s**2
            mix = g.gamma(phi, 1.0 / phi)
            out[c] = g.poisson(np.exp(np.minimum(eta[c], _MAX_LOG_RATE)) * mix)
        return out


POISSON = PoissonFamily(
    "poisson",
    fixed_weights=False,
    dispersion=("sigma_epsilon",),
    outcome="count",
    baseline="maximum likelihood (IRLS)",
    # Under the N(0, 10^2) defaults a prior draw of a log rate is of order 30: counts of e^30,
    # which no data have and which a Polya-Gamma draw pays for in time. Calibrate on N(0, 1).
    own_priors_calibrate=False,
)
NEGATIVE_BINOMIAL = NegativeBinomialFamily(
    "negative_binomial",
    fixed_weights=False,
    dispersion=("inv_sqrt_phi",),
    outcome="count",
    baseline="maximum likelihood (IRLS)",
    # Under the N(0, 10^2) defaults a prior draw of a log rate is of order 30: counts of e^30,
    # which no data have and which a Polya-Gamma draw pays for in time. Calibrate on N(0, 1).
    own_priors_calibrate=False,
)
