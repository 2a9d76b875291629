"""Conditional identities: reference-free checks that stored draws are joint posterior draws.

Under the posterior, every block with a closed-form full conditional satisfies an exact identity
between its draw and the other parameters *of the same draw*. In the Gaussian varying-intercept
model, given beta, gamma, sigma_y, sigma_alpha and y,

    r_j = (alpha_j - m_j) sqrt(P_j) ~ N(0, 1),  P_j = n_j / sigma_y^2 + 1 / sigma_alpha^2,
    m_j = ((S_j - sumX_j beta) / sigma_y^2 + U_j gamma / sigma_alpha^2) / P_j,

independently over groups, so E[mean_j r_j^2] = 1, E[mean_j r_j] = 0 and the share of groups
with |r_j| < 1 has mean 2 Phi(1) - 1 exactly; likewise (beta - m_beta)' Q_beta (beta - m_beta) ~
chi^2_p given alpha and sigma_y, so its chi^2 CDF (a PIT) has mean 1/2, and the same for gamma
given alpha and sigma_alpha (flat or normal priors), and for the scales under a uniform,
log-uniform or inverse-gamma prior the sum of squares over sigma^2 is chi^2 given the locations.
Any correct sampler satisfies them, whatever
its scheme or its mixing, because each stored state is a posterior draw; the posterior
comparison cannot see what breaks them when the marginals stay right: a block handed the other
parameters of another iteration (a run-ahead buffer read one step off, a stale state), draws of
one variable relabelled or reordered against the others, a conditional drawn with the right
mean but the wrong spread. The conditionals are written here independently of the kernels
(row sums from the data, no shared code), so a slip in a kernel's formula shows too.

The test statistic of each identity is a per-draw average; its Monte Carlo standard error comes
from its own ESS over the chains (ArviZ), its z-score is referred to the normal, and the identities
of one run are tested together with Bonferroni at the level given. Their precision is that of
the run under test alone, not of a NUTS reference: a degree of freedom too few in sigma_y's
conditional on radon's 919 rows, far below what the posterior comparison resolves, shows here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from validation.conditional_laws import chi2_pit, location_precision, scale_law
from validation.group_identities import (
    gaussian_factor_row_statistics,
    group_level_statistics,
    slopes_mean_statistics,
)

__all__ = ["IdentityCheck", "conditional_identities", "gaussian_intercept_statistics"]

#: Draws handled at once (chains x draws x groups floats per array stay below ~50 MB).
_CHUNK = 4096
#: Draws (all chains) the varying-slopes identities are evaluated on.
_SLOPES_DRAWS = 24_000


@dataclass(frozen=True)
class IdentityCheck:
    """The identities of one run: one row per statistic, and the level they were tested at.

    ``rows`` has columns ``statistic``, ``expected``, ``estimate``, ``mcse``, ``z``, ``p``.
    """

    rows: pd.DataFrame
    level: float

    @property
    def threshold(self) -> float:
        """Bonferroni threshold of each p-value."""
        return self.level / max(len(self.rows), 1)

    @property
    def failed(self) -> pd.DataFrame:
        """Rows whose p-value is below the threshold, or that could not be evaluated."""
        bad = ~np.isfinite(self.rows["z"]) | (self.rows["p"] < self.threshold)
        return self.rows[bad]

    @property
    def passed(self) -> bool:
        """Whether every identity holds at the level."""
        return self.failed.empty

    def line(self) -> str:
        """One line for the command's output."""
        if self.passed:
            worst = self.rows["z"].abs().max()
            return (
                f"PASS ({len(self.rows)} exact identities of the stored draws, max |z| "
                f"{worst:.2f}, level {self.level:g})"
            )
        failed = self.failed.reindex(self.failed["z"].abs().sort_values(ascending=False).index)
        shown = "; ".join(self.describe(row) for _, row in failed.head(2).iterrows())
        more = f" (and {len(failed) - 2} more)" if len(failed) > 2 else ""
        return f"FAIL: {shown}{more}"

    @staticmethod
    def describe(row: pd.Series) -> str:
        """One failed identity in words."""
        return (
            f"{row['statistic']} = {row['estimate']:.4f} +- {row['mcse']:.4f} where exactly "
            f"{row['expected']:g} holds under the posterior (z = {row['z']:.1f})"
        )


def gaussian_intercept_statistics(posterior, data, priors) -> dict[str, np.ndarray]:
    """Per-draw statistics of the identities, each shaped (chain, draw).

    ``posterior`` holds alpha (every group, in the data's order), gamma, sigma_y, sigma_alpha and,
    when ``data.p > 0``, beta. A location block whose prior has no closed-form Gaussian
    conditional (neither flat nor normal) is left out.
    """
    y = np.asarray(data.y, float) - data.linear_offset
    group, X, U = np.asarray(data.group), np.asarray(data.X, float), np.asarray(data.U, float)
    J, p, q = data.n_groups, data.p, data.q
    n_j = np.bincount(group, minlength=J).astype(float)
    sum_y = np.bincount(group, y, minlength=J)
    sum_x = np.zeros((J, p))  # p may be 0 (radon M0)
    for k in range(p):
        sum_x[:, k] = np.bincount(group, X[:, k], minlength=J)
    xtx, xty = X.T @ X, X.T @ y
    utu = U.T @ U
    beta_prior = location_precision(priors.beta, p) if p else None
    gamma_prior = location_precision(priors.gamma, q)

    alpha = np.asarray(posterior["alpha"].values, float)
    C, D = alpha.shape[:2]
    gamma = np.asarray(posterior["gamma"].values, float).reshape(C, D, q)
    beta = (
        np.asarray(posterior["beta"].values, float).reshape(C, D, p) if p else np.zeros((C, D, 0))
    )
    vy = np.asarray(posterior["sigma_y"].values, float) ** 2
    va = np.asarray(posterior["sigma_alpha"].values, float) ** 2
    out = {k: np.empty((C, D)) for k in ("alpha_r2", "alpha_r", "alpha_inside")}
    if beta_prior is not None:
        out["beta_pit"] = np.empty((C, D))
    if gamma_prior is not None:
        out["gamma_pit"] = np.empty((C, D))
    scale_y, scale_a = scale_law(priors.sigma_y), scale_law(priors.sigma_alpha)
    if scale_y is not None:
        out["sigma_y_pit"] = np.empty((C, D))
    if scale_a is not None:
        out["sigma_alpha_pit"] = np.empty((C, D))
    yty = float(y @ y)
    for start in range(0, D, _CHUNK):
        s = slice(start, start + _CHUNK)
        a, b, g, v_y, v_a = alpha[:, s], beta[:, s], gamma[:, s], vy[:, s, None], va[:, s, None]
        prec = n_j / v_y + 1.0 / v_a
        mean = ((sum_y - b @ sum_x.T) / v_y + g @ U.T / v_a) / prec
        r = (a - mean) * np.sqrt(prec)
        out["alpha_r2"][:, s] = np.mean(r * r, axis=-1)
        out["alpha_r"][:, s] = np.mean(r, axis=-1)
        out["alpha_inside"][:, s] = np.mean(np.abs(r) < 1.0, axis=-1)
        if beta_prior is not None:
            P, Pm = beta_prior
            Q = xtx / v_y[..., None] + P
            rhs = (xty - a @ sum_x) / v_y + Pm
            out["beta_pit"][:, s] = chi2_pit(b, Q, rhs)
        if gamma_prior is not None:
            P, Pm = gamma_prior
            Q = utu / v_a[..., None] + P
            rhs = (a @ U) / v_a + Pm
            out["gamma_pit"][:, s] = chi2_pit(g, Q, rhs)
        if scale_y is not None:
            # sum_i (y_i - alpha_j[i] - X_i beta)^2 expanded over the groups' sums.
            xb = np.einsum("cdp,pk,cdk->cd", b, xtx, b) - 2.0 * (b @ xty)
            within = np.sum(a * (n_j * a - 2.0 * (sum_y - b @ sum_x.T)), axis=-1)
            rss = np.maximum(yty + xb + within, 0.0)
            out["sigma_y_pit"][:, s] = scale_y(rss, v_y[..., 0], data.n)
        if scale_a is not None:
            dev = a - g @ U.T
            out["sigma_alpha_pit"][:, s] = scale_a(np.sum(dev * dev, axis=-1), v_a[..., 0], J)
    return out


def _covariance(post, names: list[str]) -> np.ndarray:
    """Sigma (chain, draw, K, K) from the stored sds and correlations ("A:B" pair labels)."""
    sd = np.asarray(post["sigma_alpha"].values, float)
    K = sd.shape[-1]
    R = np.broadcast_to(np.eye(K), (*sd.shape[:2], K, K)).copy()
    if K > 1:
        rho = np.asarray(post["rho_alpha"].values, float)
        pairs = [
            str(v).split(":") for v in post["rho_alpha"].coords[post["rho_alpha"].dims[-1]].values
        ]
        for k, (a, b) in enumerate(pairs):
            i, j = names.index(a), names.index(b)
            R[..., i, j] = R[..., j, i] = rho[..., k]
    return sd[..., :, None] * R * sd[..., None, :]


def gaussian_slopes_statistics(posterior, data, priors, slopes) -> dict[str, np.ndarray]:
    """Per-draw statistics of the varying-slopes model's identities, each shaped (chain, draw).

    alpha_j (K varying coefficients) given beta, Gamma, Sigma, sigma_y and y is
    N(P_j^-1 b_j, P_j^-1) with P_j = Sigma^-1 + Z_j'Z_j / sigma_y^2 and
    b_j = Sigma^-1 mu_j + Z_j'(y_j - X_j beta) / sigma_y^2, mu_j = (U_j gamma, the mean slopes):
    q_j = (alpha_j - m_j)' P_j (alpha_j - m_j) ~ chi^2_K and the whitened residual is N(0, I).
    sigma_y's identity is the varying-intercept model's, over the rows' residuals.
    """
    y = np.asarray(data.y, float) - data.linear_offset
    group, U = np.asarray(data.group), np.asarray(data.U, float)
    X_all = np.asarray(data.X, float)
    varying = [list(data.x_names).index(c) for c in slopes]
    fixed = [k for k in range(data.p) if k not in varying]
    Z = np.column_stack([np.ones(data.n), X_all[:, varying]])
    X = X_all[:, fixed]
    J, K = data.n_groups, Z.shape[1]
    # Per-group Z'Z, Z'y and Z'X from the rows.
    ztz = np.zeros((J, K, K))
    np.add.at(ztz, group, Z[:, :, None] * Z[:, None, :])
    zty = np.zeros((J, K))
    np.add.at(zty, group, Z * y[:, None])
    ztx = np.zeros((J, K, X.shape[1]))
    np.add.at(ztx, group, Z[:, :, None] * X[:, None, :])

    names = [str(v) for v in posterior["alpha"].coords[posterior["alpha"].dims[-1]].values]
    alpha = np.asarray(posterior["alpha"].values, float)  # (C, D, J, K)
    C, D = alpha.shape[:2]
    gamma = np.asarray(posterior["gamma"].values, float).reshape(C, D, -1)
    mean_slopes = (
        np.asarray(posterior["gamma_slope"].values, float).reshape(C, D, -1)
        if K > 1
        else np.zeros((C, D, 0))
    )
    beta = (
        np.asarray(posterior["beta"].values, float).reshape(C, D, -1)
        if fixed
        else np.zeros((C, D, 0))
    )
    Sigma = _covariance(posterior, names)
    vy = np.asarray(posterior["sigma_y"].values, float) ** 2
    scale_y = scale_law(priors.sigma_y)
    out = {k: np.empty((C, D)) for k in ("alpha_q", "alpha_pit", "alpha_w")}
    if scale_y is not None:
        out["sigma_y_pit"] = np.empty((C, D))
    chunk = max(1, _CHUNK // 8)
    for start in range(0, D, chunk):
        s = slice(start, start + chunk)
        a, v_y, S_inv = alpha[:, s], vy[:, s, None, None], np.linalg.inv(Sigma[:, s])
        mu = np.concatenate(
            [(gamma[:, s] @ U.T)[..., None], np.repeat(mean_slopes[:, s, None, :], J, axis=2)],
            axis=-1,
        )  # (C, d, J, K)
        data_rhs = zty - np.einsum("jkp,cdp->cdjk", ztx, beta[:, s])
        P = S_inv[:, :, None] + ztz / v_y[..., None]
        rhs = np.einsum("cdab,cdjb->cdja", S_inv, mu) + data_rhs / v_y
        m = np.linalg.solve(P, rhs[..., None])[..., 0]
        dev = a - m
        q = np.einsum("...i,...ij,...j->...", dev, P, dev)
        out["alpha_q"][:, s] = np.mean(q, axis=-1) / K
        out["alpha_pit"][:, s] = np.mean(stats.chi2.cdf(q, K), axis=-1)
        # L' dev with P = L L' is N(0, I): its mean over groups and coefficients is 0.
        L = np.linalg.cholesky(P)
        out["alpha_w"][:, s] = np.mean(np.einsum("...ij,...i->...j", L, dev), axis=(-2, -1))
        if scale_y is not None:
            fit = np.einsum("ik,cdik->cdi", Z, a[:, :, group]) + beta[:, s] @ X.T
            rss = np.sum((y - fit) ** 2, axis=-1)
            out["sigma_y_pit"][:, s] = scale_y(rss, vy[:, s], data.n)
    return out


_EXPECTED = {
    "alpha_r2": ("mean over groups of r_j^2 (alpha's conditional)", 1.0),
    "alpha_r": ("mean over groups of r_j (alpha's conditional)", 0.0),
    "alpha_inside": (
        "share of groups with |r_j| < 1 (alpha's conditional)",
        2 * stats.norm.cdf(1) - 1,
    ),
    "alpha_q": ("mean over groups of alpha_j's conditional chi^2 / K", 1.0),
    "alpha_pit": ("mean over groups of alpha_j's conditional chi^2 CDF (PIT)", 0.5),
    "alpha_w": ("mean of alpha's whitened conditional residuals", 0.0),
    "beta_pit": ("beta's conditional chi^2 CDF (PIT)", 0.5),
    "gamma_pit": ("gamma's conditional chi^2 CDF (PIT)", 0.5),
    "sigma_y_pit": ("sigma_y's conditional CDF (PIT)", 0.5),
    "sigma_alpha_pit": ("sigma_alpha's conditional CDF (PIT)", 0.5),
    "gamma_means_pit": ("(gamma, gamma_slope)'s conditional chi^2 CDF (PIT)", 0.5),
}
_KINDS = {
    "pit": ("{}'s conditional CDF (PIT)", 0.5),
    "r2": ("mean over levels of r_l^2 ({}'s conditional)", 1.0),
    "r": ("mean over levels of r_l ({}'s conditional)", 0.0),
    "inside": ("share of levels with |r_l| < 1 ({}'s conditional)", 2 * stats.norm.cdf(1) - 1),
}


def _meaning(key: str) -> tuple[str, float]:
    """Label and exact expectation of a statistic (named ``<variable>_<kind>``)."""
    if key in _EXPECTED:
        return _EXPECTED[key]
    stem, _, kind = key.rpartition("_")
    label, expected = _KINDS[kind]
    return label.format(stem), expected


def _thinned(post):
    # K x K solves per group and draw: thin evenly to about _SLOPES_DRAWS draws in all (the MCSE
    # of each statistic accounts for what is kept).
    step = max(1, post.sizes["chain"] * post.sizes["draw"] // _SLOPES_DRAWS)
    return post.isel(draw=slice(None, None, step))


def _slopes_group_level(post, spec) -> dict[str, np.ndarray]:
    names = [str(v) for v in post["alpha"].coords[post["alpha"].dims[-1]].values]
    found = slopes_mean_statistics(post, spec, _covariance(post, names))
    return {"gamma_means_pit": found["gamma_pit"]} if found else {}


#: Identities of the group level, whatever the family (by structure).
_GROUP_LEVEL = {
    "intercepts": group_level_statistics,
    "factors": group_level_statistics,
    "slopes": _slopes_group_level,
}
#: Identities that involve y, by family and structure (only the Gaussian likelihood has them).
_ROW_LEVEL = {
    "gaussian": {
        "intercepts": lambda post, spec: gaussian_intercept_statistics(
            post, spec.data, spec.priors
        ),
        "factors": gaussian_factor_row_statistics,
        "slopes": lambda post, spec: gaussian_slopes_statistics(
            post, spec.data, spec.priors, spec.slopes
        ),
    }
}


def _needed(spec, row_level: bool) -> set[str]:
    """Variables the identities of ``spec`` read."""
    names = {"alpha", "gamma", "sigma_alpha"}
    names |= {n for f in spec.factors for n in (f"{f.name}_effect", f"sigma_{f.name}")}
    if spec.structure == "slopes" and spec.K > 1:
        names |= {"gamma_slope", "rho_alpha"}
    if row_level:
        names |= {"sigma_y"} | ({"beta"} if spec.data.p > len(spec.slopes) else set())
    return names


def conditional_identities(idata: Any, spec: Any, level: float = 0.001) -> IdentityCheck | None:
    """Test the conditional identities of a run of ``spec``'s model, or None where none apply.

    Every family gets the group level's identities (gamma, sigma_alpha, the factors' scales
    and nested effects; with varying slopes, gamma and the mean slopes); the Gaussian family
    also those of the row level (alpha, crossed effects, beta, sigma_y). They need alpha for
    every group; configurations that combine varying slopes and further factors, and runs that
    do not store what the identities read, return None.
    """
    import arviz as az

    post = idata.posterior if hasattr(idata, "posterior") else idata
    group_level = _GROUP_LEVEL.get(spec.structure)
    row_level = _ROW_LEVEL.get(spec.family.name, {}).get(spec.structure)
    shape = (spec.data.n_groups, spec.K) if spec.structure == "slopes" else (spec.data.n_groups,)
    if group_level is None or not _needed(spec, row_level is not None) <= set(post.data_vars):
        return None
    if post["alpha"].shape[2:] != shape:
        return None
    if spec.structure == "slopes":
        post = _thinned(post)
    statistics = row_level(post, spec) if row_level is not None else {}
    statistics |= {k: v for k, v in group_level(post, spec).items() if k not in statistics}
    if not statistics:
        return None
    rows = []
    for key, values in statistics.items():
        label, expected = _meaning(key)
        with np.errstate(all="ignore"):
            mcse = float(np.ravel(az.mcse(values, method="mean"))[0])
            estimate = float(np.mean(values))
            # Constant statistics (draws that do not move) have no MCSE: a failure, not a crash.
            z = (estimate - expected) / mcse if mcse > 0 else np.inf * (estimate - expected)
        p = float(2.0 * stats.norm.sf(abs(z))) if np.isfinite(z) else float("nan")
        rows.append(
            {
                "statistic": label,
                "expected": expected,
                "estimate": estimate,
                "mcse": mcse,
                "z": z,
                "p": p,
            }
        )
    return IdentityCheck(pd.DataFrame(rows), level)
