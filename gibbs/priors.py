"""Prior families of the varying-intercept model, each with its density written out.

Locations (``beta``, ``gamma``)::

    Flat()                 p(theta) = 1                                   (improper)
    Normal(mu, sigma)      p(theta) = prod_k N(theta_k | mu_k, sigma_k^2)

Scales (``sigma_y``, ``sigma_alpha``), as densities on sigma > 0::

    UniformSigma()         p(sigma) = 1                                   (improper; Gelman & Hill)
    UniformLogSigma()      p(sigma) = 1 / sigma                     (improper; p(log sigma) = 1)
    InverseGamma(a, b)     sigma^2 ~ IG(a, b):
                           p(sigma) = 2 sigma * b^a / Gamma(a) * (sigma^2)^(-a-1) exp(-b / sigma^2)
    HalfStudentT(nu, s)    p(sigma) = 2 t_nu(sigma / s) / s,  t_nu the Student-t density
                           (HalfCauchy(s) = HalfStudentT(1, s))
    HalfNormal(s)          p(sigma) = 2 N(sigma | 0, s^2)

Each scale prior knows how to draw sigma^2 from its full conditional given a sum of squares ``SS``
over ``m`` terms (Gelman & Hill section 18.4; BDA3 ch. 11-12; Wand et al. 2011):

    UniformSigma      sigma^2 = SS / chi^2_{m-1}
    UniformLogSigma   sigma^2 = SS / chi^2_m
    InverseGamma      sigma^2 ~ IG(a + m/2, b + SS/2)
    HalfStudentT      sigma^2 | lam ~ IG((nu + m)/2, nu/lam + SS/2),
                      lam | sigma^2 ~ IG((nu + 1)/2, nu/sigma^2 + 1/s^2)     (auxiliary lam)
    HalfNormal        sigma^2 ~ GIG(p = -(m-1)/2, a = 1/s^2, b = SS)    (exact, kernels.gig)

The default, :func:`gelman_hill`, is flat on beta and gamma and uniform on each sigma: the priors
that reproduce the book's radon numbers. The source article states no priors at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import special, stats

from gibbs.covariance import CovariancePrior, HuangWand, InverseWishart

if TYPE_CHECKING:
    from gibbs.data import HierarchicalData

__all__ = [
    "Flat",
    "HalfCauchy",
    "HalfNormal",
    "HalfStudentT",
    "InverseGamma",
    "LocationPrior",
    "Normal",
    "Priors",
    "SlopesPriors",
    "ScalePrior",
    "UniformLogSigma",
    "UniformSigma",
    "PRESETS",
    "named_priors",
    "SLOPES_PRESETS",
    "slopes_calibration_priors",
    "slopes_inverse_wishart",
    "conjugate_inverse_gamma",
    "count_calibration",
    "count_default",
    "gelman_hill",
    "weakly_informative",
]

_LOG2 = float(np.log(2.0))


def _positive(name: str, value: float) -> None:
    if not (np.all(np.isfinite(value)) and np.all(np.asarray(value) > 0)):
        raise ValueError(f"prior parameter {name} must be positive and finite, got {value}")


# --------------------------------------------------------------------------- locations
_LOG_SQRT_2PI = np.log(np.sqrt(2 * np.pi))


def _norm_logpdf(x, mu, sigma) -> np.ndarray:
    """scipy.stats.norm.logpdf(x, mu, sigma) term for term (the same bits), without its overhead.

    The samplers evaluate prior densities inside slice and i-SIR steps, thousands of times per
    second, where scipy's argument handling cost more than the arithmetic.
    """
    z = (np.asarray(x, dtype=float) - mu) / sigma
    return -(z**2) / 2.0 - _LOG_SQRT_2PI - np.log(sigma)


def _t_logpdf(x, nu: float) -> np.ndarray:
    """scipy.stats.t.logpdf(x, nu) term for term (the same bits) for finite nu."""
    if not np.isfinite(nu):
        return stats.t.logpdf(x, nu)
    x = np.asarray(x, dtype=float)
    const = np.log(special.poch(0.5 * nu, 0.5)) - 0.5 * (np.log(nu) + np.log(np.pi))
    return const - (nu + 1) / 2 * np.log1p(x * x / nu)


@dataclass(frozen=True)
class Flat:
    """Flat (improper) prior on a coefficient vector: p(theta) = 1."""

    proper = False

    def logpdf(self, theta: np.ndarray) -> np.ndarray:
        """Log density (0) summed over the last axis."""
        return np.zeros(np.shape(theta)[:-1])

    def precision(self, dim: int) -> tuple[np.ndarray, np.ndarray]:
        """Prior precision matrix and precision-times-mean vector for ``dim`` coefficients."""
        return np.zeros((dim, dim)), np.zeros(dim)


@dataclass(frozen=True)
class Normal:
    """Independent normal prior: theta_k ~ N(mu_k, sigma_k^2).

    Parameters
    ----------
    mu : float or array
        Prior means (broadcast to the number of coefficients).
    sigma : float or array
        Prior standard deviations, positive.
    """

    mu: Any = 0.0
    sigma: Any = 10.0
    proper = True

    def __post_init__(self) -> None:
        _positive("Normal.sigma", self.sigma)

    def _params(self, dim: int) -> tuple[np.ndarray, np.ndarray]:
        try:
            mu = np.broadcast_to(np.asarray(self.mu, dtype=float), (dim,))
            sigma = np.broadcast_to(np.asarray(self.sigma, dtype=float), (dim,))
        except ValueError as exc:
            raise ValueError(f"Normal prior parameters do not fit {dim} coefficients") from exc
        return mu, sigma

    def logpdf(self, theta: np.ndarray) -> np.ndarray:
        """Log density summed over the last axis."""
        mu, sigma = self._params(np.shape(theta)[-1])
        return np.sum(_norm_logpdf(theta, mu, sigma), axis=-1)

    def precision(self, dim: int) -> tuple[np.ndarray, np.ndarray]:
        """Prior precision matrix and precision-times-mean vector for ``dim`` coefficients."""
        mu, sigma = self._params(dim)
        return np.diag(sigma**-2.0), mu * sigma**-2.0


LocationPrior = Flat | Normal


# --------------------------------------------------------------------------- scales
class _Scale:
    """Shared behaviour of scale priors; subclasses define the density and the conjugate draw."""

    proper = True
    uses_aux = False

    def logpdf(self, sigma: np.ndarray, aux: np.ndarray | None = None) -> np.ndarray:
        """Log density on sigma (marginal over any auxiliary variable)."""
        raise NotImplementedError

    def variance_shape(self, m: int) -> float:
        """Shape of the gamma variate that the conjugate variance draw divides by."""
        raise NotImplementedError

    def min_terms(self) -> int:
        """Fewest terms ``m`` for which the full conditional of sigma^2 is proper."""
        return 1


@dataclass(frozen=True)
class UniformSigma(_Scale):
    """Uniform prior on sigma over (0, inf): p(sigma) = 1 (improper).

    Full conditional: sigma^2 = SS / chi^2_{m-1}. Gelman & Hill's default.
    """

    proper = False

    def logpdf(self, sigma, aux=None):  # noqa: D102
        return np.zeros(np.shape(sigma))

    def variance_shape(self, m):  # noqa: D102
        return (m - 1) / 2.0

    def min_terms(self):  # noqa: D102
        return 2


@dataclass(frozen=True)
class UniformLogSigma(_Scale):
    """Uniform prior on log sigma: p(sigma) = 1 / sigma (improper).

    Full conditional: sigma^2 = SS / chi^2_m. Leaves the posterior improper when put on
    ``sigma_alpha`` (Gelman 2006), so it is allowed on ``sigma_y`` only.
    """

    proper = False

    def logpdf(self, sigma, aux=None):  # noqa: D102
        return -np.log(sigma)

    def variance_shape(self, m):  # noqa: D102
        return m / 2.0


@dataclass(frozen=True)
class InverseGamma(_Scale):
    """Inverse-gamma prior on the variance: sigma^2 ~ IG(alpha, beta).

    Density on sigma: 2 sigma beta^alpha / Gamma(alpha) (sigma^2)^(-alpha-1) exp(-beta / sigma^2).
    Full conditional: sigma^2 ~ IG(alpha + m/2, beta + SS/2).
    """

    alpha: float = 1.0
    beta: float = 1.0

    def __post_init__(self) -> None:
        _positive("InverseGamma.alpha", self.alpha)
        _positive("InverseGamma.beta", self.beta)

    def logpdf(self, sigma, aux=None):  # noqa: D102
        a, b = self.alpha, self.beta
        s2 = np.square(sigma)
        return (
            _LOG2
            + np.log(sigma)
            + a * np.log(b)
            - special.gammaln(a)
            - (a + 1) * np.log(s2)
            - b / s2
        )

    def variance_shape(self, m):  # noqa: D102
        return self.alpha + m / 2.0


@dataclass(frozen=True)
class HalfStudentT(_Scale):
    """Half-Student-t prior on sigma: p(sigma) = 2 t_nu(sigma / s) / s.

    Kept conjugate by Wand et al.'s (2011) mixture: sigma^2 | lam ~ IG(nu/2, nu/lam) and
    lam ~ IG(1/2, 1/s^2) reproduce the half-t marginal, so both full conditionals are inverse-gamma.
    """

    nu: float = 3.0
    sigma: float = 1.0
    uses_aux = True

    def __post_init__(self) -> None:
        _positive("HalfStudentT.nu", self.nu)
        _positive("HalfStudentT.sigma", self.sigma)

    def logpdf(self, sigma, aux=None):  # noqa: D102
        return _LOG2 + _t_logpdf(np.asarray(sigma) / self.sigma, self.nu) - np.log(self.sigma)

    def variance_shape(self, m):  # noqa: D102
        return (self.nu + m) / 2.0

    def aux_shape(self) -> float:
        """Shape of the inverse-gamma full conditional of the auxiliary ``lam``."""
        return (self.nu + 1) / 2.0


def HalfCauchy(sigma: float = 1.0) -> HalfStudentT:  # noqa: N802 (reads like a class)
    """Half-Cauchy prior on sigma: the half-t with one degree of freedom."""
    return HalfStudentT(nu=1.0, sigma=sigma)


@dataclass(frozen=True)
class HalfNormal(_Scale):
    """Half-normal prior on sigma: p(sigma) = 2 N(sigma | 0, s^2).

    Full conditional of sigma^2: generalized inverse Gaussian GIG(-(m-1)/2, 1/s^2, SS), drawn
    exactly by :func:`gibbs.kernels.gig.gig_standard`.
    """

    sigma: float = 1.0

    def __post_init__(self) -> None:
        _positive("HalfNormal.sigma", self.sigma)

    def logpdf(self, sigma, aux=None):  # noqa: D102
        return _LOG2 + _norm_logpdf(sigma, 0.0, self.sigma)


ScalePrior = UniformSigma | UniformLogSigma | InverseGamma | HalfStudentT | HalfNormal


# --------------------------------------------------------------------------- the set
def _repr_parts(priors: Any, scales: tuple[str, ...]) -> list[str]:
    """Return the fields of a prior set as ``name=value``, the optional ones only when set."""
    parts = [f"{k}={getattr(priors, k)!r}" for k in ("beta", "gamma", *scales)]
    if priors.factor_scales:  # only shown when used, so that the usual repr stays short
        parts.append(f"factor_scales={priors.factor_scales!r}")
    if not isinstance(priors.factor_scale_default, UniformSigma):
        parts.append(f"factor_scale_default={priors.factor_scale_default!r}")
    if priors.dispersion is not None:
        parts.append(f"dispersion={priors.dispersion!r}")
    return parts


@dataclass(frozen=True)
class Priors:
    """The priors of one Gibbs configuration (and of its PyMC twin).

    Parameters
    ----------
    beta, gamma : Flat or Normal
        Priors of the individual- and group-level coefficients.
    sigma_y, sigma_alpha : scale prior
        Priors of the residual and group-level standard deviations.
    factor_scales : mapping of str to scale prior, optional
        With further grouping factors (:mod:`gibbs.factors`): the prior of each factor's
        standard deviation, by factor name; ``factor_scale_default`` for a factor not named.
    factor_scale_default : scale prior
        The prior of a factor's standard deviation not named in ``factor_scales`` (uniform).
    dispersion : scale prior, optional
        The prior of a count family's dispersion scale: sigma_epsilon of the overdispersed
        Poisson, 1 / sqrt(phi) of the negative binomial (:mod:`gibbs.families.count`); ``None``
        gives the family's default, ``HalfNormal(1)``. The Gaussian family's is ``sigma_y``.
    """

    beta: LocationPrior = field(default_factory=Flat)
    gamma: LocationPrior = field(default_factory=Flat)
    sigma_y: ScalePrior = field(default_factory=UniformSigma)
    sigma_alpha: ScalePrior = field(default_factory=UniformSigma)
    factor_scales: dict = field(default_factory=dict)
    factor_scale_default: ScalePrior = field(default_factory=UniformSigma)
    dispersion: ScalePrior | None = None

    def __repr__(self) -> str:
        return f"Priors({', '.join(_repr_parts(self, ('sigma_y', 'sigma_alpha')))})"

    def factor_scale(self, name: str) -> ScalePrior:
        """Return the prior of factor ``name``'s standard deviation."""
        return self.factor_scales.get(name, self.factor_scale_default)

    def check_factors(self, factors) -> None:
        """Raise ``ValueError`` for a factor scale prior that is unknown or leaves it improper.

        A uniform prior on a factor's sd needs at least 2 levels (its effects have mean zero);
        uniform-on-log is always improper, as for sigma_alpha.
        """
        names = {f.name for f in factors}
        unknown = sorted(set(self.factor_scales) - names)
        if unknown:
            raise ValueError(
                f"factor_scales names unknown factors {unknown}; factors: {sorted(names)}"
            )
        for f in factors:
            prior = self.factor_scale(f.name)
            if not isinstance(prior, _Scale):
                raise ValueError(f"prior on sigma_{f.name} must be a scale prior, got {prior!r}")
            if isinstance(prior, UniformLogSigma):
                raise ValueError(
                    f"prior on sigma_{f.name}: UniformLogSigma makes the posterior improper; use "
                    "UniformSigma, HalfStudentT or HalfNormal"
                )

    @property
    def proper(self) -> bool:
        """Whether every prior is proper (needed for SBC and Geweke tests)."""
        return self.is_proper("gaussian")

    def is_proper(self, family: str = "gaussian", factors=()) -> bool:
        """Whether every prior of the family's parameters is proper (binomial: no sigma_y)."""
        names = ["beta", "gamma", "sigma_alpha"] + (["sigma_y"] if family == "gaussian" else [])
        scales = [self.factor_scale(f.name) for f in factors]
        return all(getattr(self, name).proper for name in names) and all(s.proper for s in scales)

    def describe(self) -> dict[str, str]:
        """Return each prior as text (for attributes and reports)."""
        out = {
            name: repr(getattr(self, name)) for name in ("beta", "gamma", "sigma_y", "sigma_alpha")
        }
        out.update({f"sigma_{k}": repr(v) for k, v in self.factor_scales.items()})
        return out

    def check(self, data: HierarchicalData, family: str = "gaussian") -> None:
        """Raise ``ValueError`` if these priors leave the posterior improper for ``data``.

        The conditions are sufficient ones (Gelman 2006 for the group-level scale): flat
        ``gamma`` needs ``U`` of full rank on the groups with data; a uniform ``sigma_alpha`` needs
        at least q + 2 groups with data under flat ``gamma`` (2 otherwise); uniform-on-log
        ``sigma_alpha`` is always improper; uniform ``sigma_y`` needs n >= p + q + 3; uniform-on-log
        ``sigma_y`` needs within-group replication (n - p - groups with data >= 1).

        For the binomial families (``"logistic"``, ``"probit"``) ``sigma_y`` does not exist and is
        ignored; ``beta`` needs a Normal prior (under a flat one, separation by a predictor makes
        the posterior improper), and the groups counted for a uniform ``sigma_alpha`` are those
        with both successes and failures: only their likelihood vanishes in both directions of
        alpha_j, so that p(y | sigma_alpha) decays like sigma_alpha^-1 per such group.
        """
        binomial = family != "gaussian"
        for name in ("beta", "gamma"):
            if not isinstance(getattr(self, name), Flat | Normal):
                raise ValueError(f"prior on {name} must be Flat or Normal")
        for name in ("sigma_y", "sigma_alpha"):
            if not isinstance(getattr(self, name), _Scale):
                raise ValueError(
                    f"prior on {name} must be a scale prior, got {getattr(self, name)}"
                )
        J_obs, n, p, q = data.n_observed_groups, data.n, data.p, data.q
        if binomial:
            if p and isinstance(self.beta, Flat):
                raise ValueError(
                    f"prior on beta: Flat can leave the {family} posterior improper (a predictor "
                    "that separates successes from failures); use Normal, e.g. Normal(0, 2.5)"
                )
            successes = np.bincount(data.group, data.y, data.n_groups)
            trials = np.bincount(data.group, data.binomial_trials, data.n_groups)
            J_obs = int(np.sum((successes > 0) & (successes < trials)))
        if isinstance(self.sigma_alpha, UniformLogSigma):
            raise ValueError(
                "prior on sigma_alpha: UniformLogSigma (p(sigma) = 1/sigma) makes the posterior "
                "improper (it diverges as sigma_alpha -> 0, Gelman 2006); use UniformSigma, "
                "HalfStudentT or HalfNormal"
            )
        if isinstance(self.gamma, Flat):
            U_obs = data.U[data.stats.n_j > 0]
            if np.linalg.matrix_rank(U_obs) < q:
                raise ValueError(
                    "prior on gamma: Flat needs U of full rank on the groups with data; "
                    "use a Normal prior on gamma or drop a group-level predictor"
                )
            if binomial and _groups_separated(data, successes, trials):
                raise ValueError(
                    f"prior on gamma: Flat leaves the {family} posterior improper here: the "
                    "group-level predictors separate groups with only successes from groups "
                    "with only failures, so gamma can grow without bound; use a Normal prior "
                    "on gamma, e.g. Normal(0, 2.5)"
                )
        if isinstance(self.sigma_alpha, UniformSigma):
            needed = q + 2 if isinstance(self.gamma, Flat) else 2
            if J_obs < needed:
                kind = "with both outcomes" if binomial else "with data"
                raise ValueError(
                    f"prior on sigma_alpha: UniformSigma with {J_obs} groups {kind} leaves the "
                    f"posterior improper (needs at least {needed}); use a proper prior"
                )
        if binomial:
            return
        if isinstance(self.sigma_y, UniformSigma) and n < p + q + 3:
            raise ValueError(
                f"prior on sigma_y: UniformSigma with n = {n} rows and {p + q} coefficients "
                "leaves the posterior improper; use a proper prior"
            )
        if isinstance(self.sigma_y, UniformLogSigma) and n - p - J_obs < 1:
            raise ValueError(
                "prior on sigma_y: UniformLogSigma needs groups with more than one row "
                f"(n - p - groups with data = {n - p - J_obs}); use UniformSigma or a proper prior"
            )


def _groups_separated(data: HierarchicalData, successes, trials) -> bool:
    """Return whether the group-level predictors separate the groups (a flat gamma is improper).

    Separated: a direction d of gamma raises every all-success group and lowers every
    all-failure group (U_j d >= 0, <= 0, at least one strict) and leaves the groups with both
    outcomes unchanged (U_j d = 0): along d the likelihood never decreases, so a flat prior on
    gamma cannot be normalised (quasi-separation at the group level).
    """
    from scipy.optimize import linprog

    seen = trials > 0
    up = seen & (successes == trials)
    down = seen & (successes == 0)
    mixed = seen & ~up & ~down
    if not (up.any() or down.any()):
        return False
    U = data.U
    # maximise sum(U_up d) - sum(U_down d) over the box |d| <= 1 under the constraints.
    c = -(U[up].sum(axis=0) - U[down].sum(axis=0))
    A_ub = np.vstack([-U[up], U[down]])
    res = linprog(
        c,
        A_ub=A_ub,
        b_ub=np.zeros(A_ub.shape[0]),
        A_eq=U[mixed] if mixed.any() else None,
        b_eq=np.zeros(int(mixed.sum())) if mixed.any() else None,
        bounds=[(-1.0, 1.0)] * U.shape[1],
        method="highs",
    )
    return bool(res.status == 0 and -res.fun > 1e-9 * max(1.0, np.abs(U).max()))


@dataclass(frozen=True)
class SlopesPriors:
    """The priors of a varying-slopes configuration (and of its PyMC twin).

    Parameters
    ----------
    beta : Flat or Normal
        Coefficients of the non-varying predictors.
    gamma : Flat or Normal
        Every element of Gamma (L x K).
    sigma_y : scale prior
        Residual standard deviation (:mod:`gibbs.priors`).
    Sigma : InverseWishart or HuangWand
        Covariance of the varying coefficients (:mod:`gibbs.covariance`). The default,
        ``HuangWand(nu=2, A=1e5)``, puts a nearly flat half-t(2, 10^5) prior on each standard
        deviation and a uniform prior on each correlation: Gelman & Hill's uniform prior on the
        group-level scale, carried over to a covariance matrix.
    """

    beta: LocationPrior = field(default_factory=Flat)
    gamma: LocationPrior = field(default_factory=Flat)
    sigma_y: ScalePrior = field(default_factory=UniformSigma)
    Sigma: CovariancePrior = field(default_factory=HuangWand)
    factor_scales: dict = field(default_factory=dict)
    factor_scale_default: ScalePrior = field(default_factory=UniformSigma)
    dispersion: ScalePrior | None = None

    def __repr__(self) -> str:
        return f"SlopesPriors({', '.join(_repr_parts(self, ('sigma_y', 'Sigma')))})"

    def factor_scale(self, name: str) -> ScalePrior:
        """Return the prior of factor ``name``'s standard deviation."""
        return self.factor_scales.get(name, self.factor_scale_default)

    def check_factors(self, factors) -> None:
        """Raise ``ValueError`` for a factor scale prior that is unknown or improper."""
        Priors.check_factors(self, factors)

    def is_proper(self, family: str = "gaussian") -> bool:
        """Whether every prior is proper (needed for SBC and Geweke tests)."""
        return self.beta.proper and self.gamma.proper and self.sigma_y.proper

    @property
    def proper(self) -> bool:
        """Whether every prior is proper."""
        return self.is_proper()

    def check(self, data: HierarchicalData, K: int) -> None:
        """Raise ``ValueError`` for a prior of the wrong kind or an improper posterior.

        Flat ``gamma`` needs U of full rank; a uniform ``sigma_y`` needs n >= p + L K + 3; the
        covariance prior must be proper for K varying coefficients (the posterior of Sigma is
        then proper whatever J).
        """
        for name in ("beta", "gamma"):
            if not isinstance(getattr(self, name), Flat | Normal):
                raise ValueError(f"prior on {name} must be Flat or Normal")
        if not isinstance(self.sigma_y, ScalePrior):
            raise ValueError(f"prior on sigma_y must be a scale prior, got {self.sigma_y!r}")
        if not isinstance(self.Sigma, InverseWishart | HuangWand):
            raise ValueError(
                f"prior on Sigma must be InverseWishart or HuangWand, got {self.Sigma!r}"
            )
        self.Sigma.check(K)
        if isinstance(self.gamma, Flat) and np.linalg.matrix_rank(data.U) < data.q:
            raise ValueError("prior on gamma: Flat needs U of full rank; use a Normal prior")
        n_coef = data.p + data.q  # beta, the intercept's gamma and the mean slopes
        if isinstance(self.sigma_y, UniformSigma) and data.n < n_coef + 3:
            raise ValueError(
                f"prior on sigma_y: UniformSigma with n = {data.n} rows and {n_coef} coefficients "
                "leaves the posterior improper; use a proper prior"
            )
        if not isinstance(self.sigma_y, UniformSigma) and not self.sigma_y.proper:
            raise ValueError(f"prior on sigma_y: {self.sigma_y!r} is not supported here")

    def describe(self) -> dict[str, str]:
        """Return each prior as text."""
        return {name: repr(getattr(self, name)) for name in ("beta", "gamma", "sigma_y", "Sigma")}


def slopes_calibration_priors() -> SlopesPriors:
    """Return proper, light-tailed priors for SBC and Geweke tests of the varying-slopes model.

    N(0, 1) coefficients, sigma_y^2 ~ IG(3, 2), and Sigma ~ IW(6, I) (for K = 2, finite moments
    of the order the Geweke test functions need).
    """
    return SlopesPriors(
        beta=Normal(0.0, 1.0),
        gamma=Normal(0.0, 1.0),
        sigma_y=InverseGamma(3.0, 2.0),
        Sigma=InverseWishart(nu=6.0, scale=1.0),
    )


def slopes_inverse_wishart() -> SlopesPriors:
    """Return flat locations, uniform sigma_y, and Sigma ~ IW(K + 1, I) (uniform correlations).

    The classical conjugate choice (Gelman & Hill section 13.3 before they move to the scaled
    inverse-Wishart): each correlation is uniform on (-1, 1), but the standard deviations are
    tied to the identity's scale (an IW(3, I) puts little mass below 0.1).
    """
    return SlopesPriors(Sigma=InverseWishart(scale=1.0))


SLOPES_PRESETS = {
    "huang-wand": SlopesPriors,
    "inverse-wishart": slopes_inverse_wishart,
    "slopes-calibration": slopes_calibration_priors,
}


def gelman_hill() -> Priors:
    """Gelman & Hill's priors: flat on beta and gamma, uniform on sigma_y and sigma_alpha."""
    return Priors()


def weakly_informative() -> Priors:
    """Weakly informative priors: N(0, 10^2) locations, half-t(3, 2.5) scales."""
    return Priors(
        beta=Normal(0.0, 10.0),
        gamma=Normal(0.0, 10.0),
        sigma_y=HalfStudentT(3.0, 2.5),
        sigma_alpha=HalfStudentT(3.0, 2.5),
    )


def conjugate_inverse_gamma() -> Priors:
    """Return normal N(0, 2^2) locations and inverse-gamma(3, 2) variances (light-tailed).

    Every moment the Geweke test functions use is finite under these priors.
    """
    return Priors(
        beta=Normal(0.0, 2.0),
        gamma=Normal(0.0, 2.0),
        sigma_y=InverseGamma(3.0, 2.0),
        sigma_alpha=InverseGamma(3.0, 2.0),
    )


def binomial_default() -> Priors:
    """Return the default priors of the logistic and probit models.

    N(0, 2.5^2) on beta and gamma and a uniform sigma_alpha (``sigma_y`` is not a parameter of
    these models and is ignored).

    On the logit scale N(0, 2.5^2) is weakly informative (a coefficient of 5 changes a probability
    from 0.5 to 0.99); it keeps the posterior proper under separation, which a flat prior does not.
    """
    return Priors(beta=Normal(0.0, 2.5), gamma=Normal(0.0, 2.5))


def binary_calibration() -> Priors:
    """Return proper priors for SBC and Geweke tests of the binomial models.

    N(0, 1) locations and an inverse-gamma(3, 2) group-level variance (light-tailed: every moment
    the Geweke test functions use is finite).
    """
    return Priors(beta=Normal(0.0, 1.0), gamma=Normal(0.0, 1.0), sigma_alpha=InverseGamma(3.0, 2.0))


def count_default() -> Priors:
    """Return the default priors of the count families (overdispersed Poisson, negative binomial).

    N(0, 10^2) on beta and gamma (log rates: a coefficient of 10 multiplies a rate by e^10) and
    half-normal(1) on every scale: sigma_alpha, the factors' and the dispersion. These are the
    priors of the police-stops analyses the suite compares against.
    """
    return Priors(
        beta=Normal(0.0, 10.0),
        gamma=Normal(0.0, 10.0),
        sigma_alpha=HalfNormal(1.0),
        factor_scale_default=HalfNormal(1.0),
        dispersion=HalfNormal(1.0),
    )


def count_calibration() -> Priors:
    """Return proper, light-tailed priors for SBC and Geweke tests of the count families.

    N(0, 1) locations (log rates near the data's scale) and inverse-gamma(3, 2) on every variance
    (the group-level, factor and dispersion scales), as for the binomial families.
    """
    scale = InverseGamma(3.0, 2.0)
    return Priors(
        beta=Normal(0.0, 1.0),
        gamma=Normal(0.0, 1.0),
        sigma_alpha=scale,
        factor_scale_default=scale,
        dispersion=scale,
    )


PRESETS = {
    "gelman-hill": gelman_hill,
    "weakly-informative": weakly_informative,
    "inverse-gamma": conjugate_inverse_gamma,
    "binomial-default": binomial_default,
    "binomial-calibration": binary_calibration,
    "count-default": count_default,
    "count-calibration": count_calibration,
}


def default_priors(family: str = "gaussian") -> Priors:
    """Return a family's default priors: Gelman & Hill's (Gaussian) or :func:`binomial_default`."""
    return gelman_hill() if family == "gaussian" else binomial_default()


def named_priors(priors: Any, K: int = 1) -> Any:
    """Return ``priors`` with a preset name or a mapping of fields turned into a priors object.

    ``"weakly-informative"`` names :data:`PRESETS` (varying intercepts) or
    :data:`SLOPES_PRESETS` (varying slopes, ``K > 1``); a mapping such as
    ``{"beta": Normal(0, 10)}`` gives ``Priors(**mapping)`` (``SlopesPriors`` for ``K > 1``).
    Anything else is returned as it is.
    """
    if isinstance(priors, str):
        presets = SLOPES_PRESETS if K > 1 else PRESETS
        if priors not in presets:
            other = PRESETS if K > 1 else SLOPES_PRESETS
            where = (
                " (that one is for varying intercepts)"
                if K > 1
                else " (that one is for varying slopes)"
            ) * (priors in other)
            raise ValueError(
                f"priors: unknown preset {priors!r}{where}; choose one of {sorted(presets)}"
            )
        return presets[priors]()
    if isinstance(priors, Mapping):
        cls = SlopesPriors if K > 1 else Priors
        try:
            return cls(**priors)
        except TypeError as exc:
            raise ValueError(f"priors: {exc} (fields of {cls.__name__})") from exc
    return priors
