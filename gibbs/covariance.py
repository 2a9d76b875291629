"""Priors on the covariance matrix Sigma of varying coefficients, each with its density written out.

For K varying coefficients per group (an intercept and K - 1 slopes), with
``alpha_j ~ N(U_j Gamma, Sigma)``, j = 1..J::

    InverseWishart(nu, Psi)   p(Sigma) = |Psi|^(nu/2) / (2^(nu K/2) Gamma_K(nu/2))
                                         |Sigma|^(-(nu+K+1)/2) exp(-tr(Psi Sigma^-1) / 2)
                              proper for nu > K - 1.
    HuangWand(nu, A)          Sigma | a ~ InverseWishart(nu + K - 1, 2 nu diag(1/a_1..1/a_K)),
                              a_k ~ InverseGamma(1/2, 1/A_k^2)           (Huang & Wand 2013)
                              Each standard deviation sqrt(Sigma_kk) is half-t(nu, A_k); nu = 2
                              makes every correlation uniform on (-1, 1).

Both are conditionally conjugate. Given the J group deviations r_j = alpha_j - U_j Gamma and
S = sum_j r_j r_j^T (Gelman et al., BDA3 section 3.6; Huang & Wand 2013, section 4)::

    InverseWishart   Sigma | r ~ IW(nu + J, Psi + S)
    HuangWand        Sigma | r, a ~ IW(nu + K - 1 + J, 2 nu diag(1/a) + S)
                     a_k | Sigma ~ IG((nu + K)/2, nu (Sigma^-1)_kk + 1/A_k^2)

Inverse-Wishart draws use Bartlett's decomposition: with Psi = C C^T and A lower triangular,
A_ii^2 ~ chi^2_(df - i) (i = 0..K-1) and A_ik ~ N(0, 1) below the diagonal,
Sigma = (C A^-T)(C A^-T)^T ~ IW(df, Psi).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import special

if TYPE_CHECKING:
    from gibbs.streams import ChainStreams

__all__ = [
    "CovariancePrior",
    "HuangWand",
    "InverseWishart",
    "correlations",
    "draw_inverse_wishart",
    "inverse_and_logdet",
    "inverse_wishart_logpdf",
    "standard_deviations",
]


def _vector(value: Any, K: int, name: str) -> np.ndarray:
    v = np.broadcast_to(np.asarray(value, dtype=float), (K,)).copy()
    if np.any(~np.isfinite(v)) or np.any(v <= 0):
        raise ValueError(f"{name} must be positive and finite, got {value!r}")
    return v


@functools.lru_cache(maxsize=64)
def _scales(A: float | tuple[float, ...], K: int) -> np.ndarray:
    # Cached: the collapsed slopes step evaluates the prior density thousands of times a second.
    v = _vector(A, K, "HuangWand A")
    v.setflags(write=False)
    return v


def inverse_and_logdet(M: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (M^-1, log|M|) for stacked symmetric positive definite matrices (..., K, K).

    Closed forms for K <= 2 (the common varying-slope case; much faster than LAPACK calls on
    many tiny matrices); log|M| is NaN where M is not positive definite.
    """
    K = M.shape[-1]
    if K == 1:
        with np.errstate(invalid="ignore", divide="ignore"):
            return 1.0 / M, np.log(np.where(M[..., 0, 0] > 0, M[..., 0, 0], np.nan))
    if K == 2:
        a, b, d = M[..., 0, 0], M[..., 0, 1], M[..., 1, 1]
        # A slice sampler's far candidates overflow here (inf - inf); they get NaN, i.e. -inf.
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            det = a * d - b * b
            ok = (det > 0) & (a > 0)
            # Filled in place rather than stacked: this runs in every slice-step evaluation.
            inv = np.empty(M.shape)
            inv[..., 0, 0], inv[..., 1, 1] = d / det, a / det
            inv[..., 0, 1] = inv[..., 1, 0] = -b / det
            return inv, np.log(np.where(ok, det, np.nan))
    sign, logdet = np.linalg.slogdet(M)
    return np.linalg.inv(M), np.where(sign > 0, logdet, np.nan)


def inverse_wishart_logpdf(
    Sigma: np.ndarray, nu: float | np.ndarray, Psi: np.ndarray
) -> np.ndarray:
    """Log density of IW(nu, Psi) at Sigma; leading axes of Sigma, nu and Psi broadcast."""
    K = Sigma.shape[-1]
    nu = np.asarray(nu, dtype=float)
    _, logdet_psi = np.linalg.slogdet(Psi)
    _, logdet_sigma = np.linalg.slogdet(Sigma)
    trace = np.einsum("...ab,...ba->...", Psi, np.linalg.inv(Sigma))
    return (
        0.5 * nu * logdet_psi
        - 0.5 * nu * K * np.log(2.0)
        - special.multigammaln(0.5 * nu, K)
        - 0.5 * (nu + K + 1) * logdet_sigma
        - 0.5 * trace
    )


def draw_inverse_wishart(streams: ChainStreams, df: float, Psi: np.ndarray) -> np.ndarray:
    """Draw Sigma ~ IW(df, Psi) for every chain (Bartlett's decomposition).

    Parameters
    ----------
    streams : ChainStreams
        The chains' random streams (normals and gamma variates).
    df : float
        Degrees of freedom, > K - 1.
    Psi : ndarray, shape (chains, K, K)
        Scale matrices.

    Returns
    -------
    ndarray, shape (chains, K, K)
    """
    C, K = Psi.shape[0], Psi.shape[-1]
    A = np.zeros((C, K, K))
    for i in range(K):
        A[:, i, i] = np.sqrt(2.0 * streams.gamma(0.5 * (df - i)))
    rows, cols = np.tril_indices(K, -1)
    if rows.size:
        A[:, rows, cols] = streams.normal(rows.size)
    M = np.linalg.cholesky(Psi) @ np.swapaxes(np.linalg.inv(A), -1, -2)
    return M @ np.swapaxes(M, -1, -2)


def _draw_inverse_wishart_rng(rng: np.random.Generator, df: float, Psi: np.ndarray) -> np.ndarray:
    """IW(df, Psi) draws from one generator, for prior simulation; Psi shape (size, K, K)."""
    size, K = Psi.shape[0], Psi.shape[-1]
    A = np.zeros((size, K, K))
    for i in range(K):
        A[:, i, i] = np.sqrt(rng.chisquare(df - i, size))
    rows, cols = np.tril_indices(K, -1)
    A[:, rows, cols] = rng.standard_normal((size, rows.size))
    M = np.linalg.cholesky(Psi) @ np.swapaxes(np.linalg.inv(A), -1, -2)
    return M @ np.swapaxes(M, -1, -2)


def standard_deviations(Sigma: np.ndarray) -> np.ndarray:
    """Return sqrt(diag Sigma), shape (..., K)."""
    return np.sqrt(np.diagonal(Sigma, axis1=-2, axis2=-1))


def correlations(Sigma: np.ndarray) -> np.ndarray:
    """Return the K (K - 1) / 2 correlations below the diagonal, row by row, shape (..., pairs)."""
    sd = standard_deviations(Sigma)
    rows, cols = np.tril_indices(Sigma.shape[-1], -1)
    return Sigma[..., rows, cols] / (sd[..., rows] * sd[..., cols])


@dataclass(frozen=True)
class InverseWishart:
    """Sigma ~ IW(nu, Psi), Psi = ``scale`` times the identity, or diag(``scale``).

    Parameters
    ----------
    nu : float, optional
        Degrees of freedom; proper for nu > K - 1. The default, K + 1, makes each correlation
        uniform on (-1, 1) when Psi is diagonal (Barnard et al. 2000).
    scale : float or sequence of float
        Diagonal of Psi.
    """

    nu: float | None = None
    scale: float | tuple[float, ...] = 1.0
    uses_aux = False

    def df(self, K: int) -> float:
        """Return the degrees of freedom for K varying coefficients."""
        return float(K + 1) if self.nu is None else float(self.nu)

    def psi(self, K: int) -> np.ndarray:
        """Return Psi for K varying coefficients."""
        return np.diag(_vector(self.scale, K, "InverseWishart scale"))

    def check(self, K: int) -> None:
        """Raise ``ValueError`` unless the prior is a proper density on K x K matrices."""
        if not self.df(K) > K - 1:
            raise ValueError(
                f"prior on Sigma: InverseWishart needs nu > K - 1 = {K - 1} for {K} varying "
                f"coefficients, got nu = {self.nu}"
            )
        self.psi(K)

    def logpdf(self, Sigma: np.ndarray, aux: np.ndarray) -> np.ndarray:
        """Log density at Sigma (``aux`` is unused)."""
        K = Sigma.shape[-1]
        return inverse_wishart_logpdf(Sigma, self.df(K), self.psi(K))

    def marginal_logpdf(
        self, Sigma: np.ndarray, inverse: np.ndarray | None = None, logdet: np.ndarray | None = None
    ) -> np.ndarray:
        """Log density at Sigma (no auxiliary variables), up to a constant.

        ``inverse`` and ``logdet`` (Sigma^-1 and log|Sigma|) may be passed when already known.
        """
        if inverse is None or logdet is None:
            inverse, logdet = inverse_and_logdet(Sigma)
        K = inverse.shape[-1]
        trace = np.einsum("ab,...ba->...", self.psi(K), inverse)
        return -0.5 * (self.df(K) + K + 1) * logdet - 0.5 * trace

    def initial_aux(self, Sigma: np.ndarray) -> np.ndarray:
        """Auxiliary variables (none: ones)."""
        return np.ones(Sigma.shape[:-1])

    def draw_conditional(
        self, streams: ChainStreams, S: np.ndarray, J: int, aux: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Draw Sigma ~ IW(nu + J, Psi + S); returns (Sigma, aux)."""
        K = S.shape[-1]
        Sigma = draw_inverse_wishart(streams, self.df(K) + J, self.psi(K) + S)
        return Sigma, aux

    def draw_aux(self, streams: ChainStreams, Sigma: np.ndarray, aux: np.ndarray) -> np.ndarray:
        """Draw the auxiliary variables given Sigma (none: returned unchanged)."""
        return aux

    def draw_prior(self, rng: np.random.Generator, size: int, K: int) -> tuple[np.ndarray, ...]:
        """Draw ``size`` matrices from the prior; returns (Sigma, aux)."""
        Psi = np.broadcast_to(self.psi(K), (size, K, K))
        return _draw_inverse_wishart_rng(rng, self.df(K), Psi), np.ones((size, K))


@dataclass(frozen=True)
class HuangWand:
    """Huang & Wand's (2013) prior: half-t(nu, A_k) standard deviations.

    ``Sigma | a ~ IW(nu + K - 1, 2 nu diag(1/a))``, ``a_k ~ InverseGamma(1/2, 1/A_k^2)``. Each
    sqrt(Sigma_kk) is marginally half-t with nu degrees of freedom and scale A_k; with nu = 2 every
    correlation is marginally uniform on (-1, 1). Large A (Huang & Wand suggest 10^5) is close to
    a uniform prior on each standard deviation (Gelman & Hill's choice for the varying-intercept
    model).

    Parameters
    ----------
    nu : float
        Degrees of freedom of the half-t marginals.
    A : float or sequence of float
        Scales of the half-t marginals, one per varying coefficient or shared.
    """

    nu: float = 2.0
    A: float | tuple[float, ...] = 1e5
    uses_aux = True

    def scales(self, K: int) -> np.ndarray:
        """Return the half-t scales A_k (read-only)."""
        return _scales(self.A, K)

    def check(self, K: int) -> None:
        """Raise ``ValueError`` for non-positive nu or A."""
        if not self.nu > 0:
            raise ValueError(f"prior on Sigma: HuangWand needs nu > 0, got {self.nu}")
        self.scales(K)

    def logpdf(self, Sigma: np.ndarray, aux: np.ndarray) -> np.ndarray:
        """Joint log density of (Sigma, a): IW(Sigma | a) times prod_k IG(a_k; 1/2, 1/A_k^2)."""
        K = Sigma.shape[-1]
        b = self.scales(K) ** -2.0
        Psi = 2.0 * self.nu * (np.eye(K) / aux[..., None, :])
        log_ig = 0.5 * np.log(b) - special.gammaln(0.5) - 1.5 * np.log(aux) - b / aux
        return inverse_wishart_logpdf(Sigma, self.nu + K - 1, Psi) + np.sum(log_ig, axis=-1)

    def marginal_constant(self, K: int) -> float:
        """Return the normalizing constant of :meth:`marginal_logpdf`."""
        b = self.scales(K) ** -2.0
        return float(
            K * (0.5 * (self.nu + K - 1) * np.log(2.0 * self.nu) - special.gammaln(0.5))
            + np.sum(0.5 * np.log(b))
            + K * special.gammaln(0.5 * (self.nu + K))
            - 0.5 * (self.nu + K - 1) * K * np.log(2.0)
            - special.multigammaln(0.5 * (self.nu + K - 1), K)
        )

    def marginal_logpdf(
        self, Sigma: np.ndarray, inverse: np.ndarray | None = None, logdet: np.ndarray | None = None
    ) -> np.ndarray:
        """Log density of Sigma with a integrated out (Huang & Wand 2013, equation 2).

        p(Sigma) = c |Sigma|^(-(nu + 2K)/2) prod_k (nu (Sigma^-1)_kk + 1/A_k^2)^(-(nu + K)/2),
        returned without the constant c (:meth:`marginal_constant`). ``inverse`` and ``logdet``
        (Sigma^-1 and log|Sigma|) may be passed when already known.
        """
        if inverse is None or logdet is None:
            inverse, logdet = inverse_and_logdet(Sigma)
        K = inverse.shape[-1]
        b = self.scales(K) ** -2.0
        diag_inv = np.diagonal(inverse, axis1=-2, axis2=-1)
        return -0.5 * (self.nu + 2 * K) * logdet - 0.5 * (self.nu + K) * np.sum(
            np.log(self.nu * diag_inv + b), axis=-1
        )

    def _aux_given(self, Sigma: np.ndarray, gamma_variates: np.ndarray) -> np.ndarray:
        K = Sigma.shape[-1]
        diag_inv = np.diagonal(np.linalg.inv(Sigma), axis1=-2, axis2=-1)
        return (self.nu * diag_inv + self.scales(K) ** -2.0) / gamma_variates

    def initial_aux(self, Sigma: np.ndarray) -> np.ndarray:
        """Start a at its conditional mean-like value given Sigma (rate / shape)."""
        K = Sigma.shape[-1]
        return self._aux_given(Sigma, np.full(Sigma.shape[:-1], 0.5 * (self.nu + K)))

    def draw_conditional(
        self, streams: ChainStreams, S: np.ndarray, J: int, aux: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Draw Sigma | a, then a | Sigma; returns (Sigma, aux)."""
        K = S.shape[-1]
        Psi = 2.0 * self.nu * (np.eye(K) / aux[:, None, :]) + S
        Sigma = draw_inverse_wishart(streams, self.nu + K - 1 + J, Psi)
        return Sigma, self.draw_aux(streams, Sigma, aux)

    def draw_aux(self, streams: ChainStreams, Sigma: np.ndarray, aux: np.ndarray) -> np.ndarray:
        """Draw a_k | Sigma ~ IG((nu + K)/2, nu (Sigma^-1)_kk + 1/A_k^2)."""
        K = Sigma.shape[-1]
        g = np.stack([streams.gamma(0.5 * (self.nu + K)) for _ in range(K)], axis=-1)
        return self._aux_given(Sigma, g)

    def draw_prior(self, rng: np.random.Generator, size: int, K: int) -> tuple[np.ndarray, ...]:
        """Draw ``size`` matrices from the prior; returns (Sigma, a)."""
        aux = self.scales(K) ** -2.0 / rng.gamma(0.5, 1.0, (size, K))
        Psi = 2.0 * self.nu * (np.eye(K) / aux[:, None, :])
        return _draw_inverse_wishart_rng(rng, self.nu + K - 1, Psi), aux


CovariancePrior = InverseWishart | HuangWand
