"""Exact posterior summaries of the Gaussian varying-intercept model, by 2-D quadrature.

Given the two scales (sigma_y, sigma_alpha) the model is linear and Gaussian: theta = (beta,
gamma) | scales, y ~ N(Q^-1 b, Q^-1) and alpha_j | theta, scales, y is Gaussian with a mean
linear in theta, so every location's conditional mean and variance given the scales is closed
form. The scales' marginal posterior p(log sigma_y, log sigma_alpha | y) is known up to a
constant (:func:`reference_models.exact_density.log_marginal_scales`, written apart from the
fully collapsed scheme's kernel, with the priors' densities from scipy, so that a bug in the
sampler is not also in its reference; the kernel's proposal only places the box, whose edge
mass is checked). Every posterior moment is then a
2-D integral over the log scales, computed here on a product grid:

- means and sds: E[x] = sum_k w_k m_k(x), Var[x] = sum_k w_k (v_k + m_k^2) - E[x]^2 over the grid
  nodes k with normalised weights w_k;
- the 5% and 95% quantiles of a location: roots of the Gaussian mixture's CDF
  sum_k w_k Phi((q - m_k) / sqrt(v_k)); of a scale: the grid marginal's CDF (monotone cubic).

The midpoint rule on a box of +-``width`` proposal sds around the mode converges geometrically
for these smooth, rapidly decaying integrands; :func:`exact_posterior` evaluates two grids (n and
2n nodes per axis) and records the largest change of any summary, in units of that parameter's
posterior sd, as the reference's convergence figure, and the mass in the box's edge cells.

The result duck-types a golden reference (``var_names``, ``summary_for``), so
:func:`validation.compare.compare_posteriors` takes it in place of NUTS draws: the z-scores are
then in the sampler's own Monte Carlo standard errors (the reference's error is the quadrature
change, recorded as its "MCSE").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import interpolate, optimize, special

from gibbs.data import HierarchicalData
from gibbs.priors import Priors
from reference_models.exact_density import log_marginal_scales

__all__ = ["ExactPosterior", "exact_posterior", "exact_regression"]

STATS = ("mean", "sd", "q05", "q95")
_LEVELS = {"q05": 0.05, "q95": 0.95}


@dataclass(frozen=True)
class ExactPosterior:
    """Exact summaries of one posterior, with how they were computed.

    Attributes
    ----------
    summary : DataFrame
        One row per scalar (``alpha[AITKIN]``, ``beta[floor]``, ``sigma_y``...): mean, sd, q05,
        q95, their "MCSE" (the change between the two grids, at least 1e-12) and ESS = inf.
    provenance : dict
        Method, grids, box, convergence figure and edge mass.
    var_names : list of str
    """

    summary: pd.DataFrame
    provenance: dict[str, Any]
    var_names: list[str]

    def summary_for(self, var_names: list[str]) -> pd.DataFrame:
        """Rows of the scalars of ``var_names`` (``alpha`` gives every ``alpha[...]``)."""
        missing = [v for v in var_names if v not in self.var_names]
        if missing:
            raise KeyError(f"{missing} not in the exact reference (it has {self.var_names})")
        base = self.summary.index.str.split("[").str[0]
        return self.summary[base.isin(list(var_names))]


def _model(data: HierarchicalData, priors: Priors | None):
    import gibbs

    spec = gibbs.specify(data, priors=priors)
    if spec.implementation.name != "intercepts" or spec.family.name != "gaussian":
        raise ValueError(
            "exact references cover the Gaussian varying-intercept model (two scales); got "
            f"the {spec.family.name} family on the {spec.implementation.name} structure"
        )
    return spec.model


# The left tail of log sigma_alpha decays only like sigma_alpha = e^x (any scale prior with a
# positive density at 0, times a likelihood that tends to complete pooling's): the grid extends
# it by this many log units (e^-36 ~ 2e-16 of the edge density) in cells of growing width.
_TAIL = 36.0


def _axis(centre: float, half: float, n: int, tail: float = 0.0):
    """Midpoint nodes and cell widths: n cells on centre +- half, then n // 4 over the tail."""
    edges = np.linspace(centre - half, centre + half, n + 1)
    if tail:
        # Geometric widths from the bulk's cell width: fine next to the bulk, coarse far out.
        h = edges[1] - edges[0]
        m = max(n // 4, 8)
        ratio = optimize.brentq(lambda r: h * (r**m - 1) / (r - 1) - tail, 1.0 + 1e-9, 10.0)
        steps = h * ratio ** np.arange(1, m + 1)
        edges = np.concatenate([edges[0] - np.cumsum(steps)[::-1], edges])
    return 0.5 * (edges[1:] + edges[:-1]), np.diff(edges), edges


def _grid(model, n: int, width: float):
    """Nodes (k, 2) on the box around the mode, their normalised log weights and the axes."""
    from gibbs.kernels.marginal import scale_proposal  # only places the box

    prop = scale_proposal(model)
    if prop.ratio:
        raise ValueError("exact references need a design whose two scales are both identified")
    centre = prop.mean[0]
    half = width * np.sqrt(np.sum(prop.chol[0] ** 2, axis=1))  # sds of the two log scales
    axes = [_axis(centre[0], half[0], n), _axis(centre[1], half[1], n, tail=_TAIL)]
    x = np.stack(np.meshgrid(axes[0][0], axes[1][0], indexing="ij"), axis=-1).reshape(-1, 2)
    area = np.log(np.outer(axes[0][1], axes[1][1])).ravel()
    logp, L, w = log_marginal_scales(x, model.data, model.priors)
    logp = logp + area
    logw = logp - special.logsumexp(logp)
    shape = (axes[0][0].size, axes[1][0].size)
    on_edge = np.zeros(shape, dtype=bool)
    on_edge[[0, -1], :] = on_edge[:, [0, -1]] = True
    edge = float(np.exp(special.logsumexp(logw[on_edge.ravel()])))
    return x, (logw, L, w), edge, axes, shape


def _conditionals(model, x, L, w):
    """Conditional means and variances, given each node's scales, of every location scalar."""
    d, s = model.data, model.stats
    p = d.p
    Lt_inv = np.linalg.inv(np.swapaxes(L, -1, -2))  # L^-T
    theta = np.einsum("kij,kj->ki", Lt_inv, w)
    cov = np.einsum("kij,klj->kil", Lt_inv, Lt_inv)  # Q^-1 = L^-T L^-1
    vy = np.exp(2 * x[:, 0])[:, None]
    va = np.exp(2 * x[:, 1])[:, None]
    prec = s.n_j[None, :] * (1 / vy) + 1 / va  # (k, J)
    v = 1 / prec
    # alpha_j = v_j (S_j / vy - sx_j beta / vy + U_j gamma / va) + sqrt(v_j) z: h_j . theta.
    sx = np.asarray(s.sum_X, float).reshape(d.n_groups, p)
    h = np.concatenate(
        [-(v / vy)[..., None] * sx[None], (v / va)[..., None] * d.U[None]], axis=-1
    )  # (k, J, p + q)
    a_mean = v * np.asarray(s.sum_y, float)[None] / vy + np.einsum("kjd,kd->kj", h, theta)
    a_var = v + np.einsum("kjd,kde,kje->kj", h, cov, h)
    t_var = np.diagonal(cov, axis1=1, axis2=2)
    return theta, t_var, a_mean, a_var


def _mixture_quantile(logw, m, v, level):
    w = np.exp(logw)
    sd = np.sqrt(v)
    mean = np.sum(w * m)
    spread = np.sqrt(np.sum(w * (v + m * m)) - mean**2)

    def f(q):
        return np.sum(w * special.ndtr((q - m) / sd)) - level

    lo, hi = mean - 10 * spread, mean + 10 * spread
    return optimize.brentq(f, lo, hi, xtol=1e-13 * max(spread, 1e-300), rtol=1e-14)


def _scale_summary(model, logw, x, axes, which: int, refine: int = 8):
    """Mean, sd and quantiles of one scale from the grid marginal of its log.

    The quantiles come from that marginal on an axis ``refine`` times finer (the other scale
    integrated on its own axis), through a monotone cubic of its CDF at the cells' edges.
    """
    w = np.exp(logw)
    val = np.exp(x[:, which])
    mean = np.sum(w * val)
    sd = np.sqrt(max(np.sum(w * val * val) - mean**2, 0.0))
    edges = axes[which][2]
    fine = np.concatenate(
        [np.linspace(a, b, refine + 1)[:-1] for a, b in zip(edges[:-1], edges[1:], strict=True)]
        + [edges[-1:]]
    )
    mid, width = 0.5 * (fine[1:] + fine[:-1]), np.diff(fine)
    other_mid, other_width = axes[1 - which][0], axes[1 - which][1]
    pair = (mid[:, None], other_mid[None, :]) if which == 0 else (other_mid[None, :], mid[:, None])
    pts = np.stack(np.broadcast_arrays(*pair), axis=-1).reshape(-1, 2)
    logp = log_marginal_scales(pts, model.data, model.priors)[0].reshape(mid.size, other_mid.size)
    logm = special.logsumexp(logp + np.log(other_width)[None, :], axis=1) + np.log(width)
    mass = np.exp(logm - special.logsumexp(logm))
    cdf = np.concatenate([[0.0], np.cumsum(mass)])
    # Far-tail cells hold no mass in floating point: keep the edges where the CDF still rises
    # by more than rounding (steps of 1e-300 make the cubic's slopes overflow; a light left
    # tail, as under an inverse-gamma prior, has many of them).
    keep = np.concatenate([[True], np.diff(cdf) > 1e-15])
    inv = interpolate.PchipInterpolator(cdf[keep], fine[keep])
    return {"mean": mean, "sd": sd, **{k: float(np.exp(inv(q))) for k, q in _LEVELS.items()}}


def _summaries(model, n: int, width: float) -> tuple[pd.DataFrame, float]:
    d = model.data
    x, (logw, L, w), edge, axes, _ = _grid(model, n, width)
    theta, t_var, a_mean, a_var = _conditionals(model, x, L, w)
    rows: dict[str, dict[str, float]] = {}
    names = (
        [f"alpha[{g}]" for g in d.group_names]
        + [f"beta[{b}]" for b in d.x_names]
        + [f"gamma[{u}]" for u in d.u_names]
    )
    means = np.concatenate([a_mean, theta], axis=1)
    vars_ = np.concatenate([a_var, t_var], axis=1)
    # theta is (beta, gamma) in that order: the names above follow the same order.
    wts = np.exp(logw)
    for k, name in enumerate(names):
        m, v = means[:, k], vars_[:, k]
        mean = float(np.sum(wts * m))
        sd = float(np.sqrt(max(np.sum(wts * (v + m * m)) - mean**2, 0.0)))
        rows[name] = {"mean": mean, "sd": sd}
        for key, level in _LEVELS.items():
            rows[name][key] = float(_mixture_quantile(logw, m, v, level))
    rows["sigma_y"] = _scale_summary(model, logw, x, axes, 0)
    rows["sigma_alpha"] = _scale_summary(model, logw, x, axes, 1)
    return pd.DataFrame.from_dict(rows, orient="index")[list(STATS)], edge


def _golden_table(coarse: pd.DataFrame, fine: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """Return the fine grid's summaries as a golden table, and each parameter's grid change.

    The change between the grids is each summary's "MCSE"; the second value is each parameter's
    largest change in its posterior sds.
    """
    change = (fine - coarse).abs()
    table = fine.copy()
    for s in STATS:
        table[f"mcse_{s}"] = np.maximum(change[s].to_numpy(), 1e-12)
    for col in ("ess_bulk", "ess_tail"):
        table[col] = np.inf
    table["r_hat"] = 1.0
    return table, change.div(fine["sd"], axis=0).max(axis=1)


def exact_posterior(
    data: HierarchicalData,
    priors: Priors | None = None,
    *,
    nodes: int = 160,
    width: float = 12.0,
    description: str = "",
) -> ExactPosterior:
    """Compute the exact posterior summaries of the Gaussian varying-intercept model.

    Parameters
    ----------
    data : HierarchicalData
    priors : Priors, optional
        The model's priors (Gelman & Hill's when omitted), as in :func:`gibbs.sample`.
    nodes : int
        Grid nodes per axis of the coarse grid; the fine grid has twice as many.
    width : float
        Half-width of the box, in posterior sds of each log scale (from the Laplace fit).
    description : str
        What the data are, for the provenance.

    Returns
    -------
    ExactPosterior
        The fine grid's summaries; their "MCSE" is the change from the coarse grid.
    """
    model = _model(data, priors)
    coarse, _ = _summaries(model, nodes, width)
    fine, edge = _summaries(model, 2 * nodes, width)
    table, worst = _golden_table(coarse, fine)
    provenance = {
        "tool": "gibbs-suite exact quadrature (reference_models.exact)",
        "method": "2-D midpoint rule over (log sigma_y, log sigma_alpha); closed-form "
        "conditional moments of the locations; Gaussian-mixture quantiles",
        "grid": {
            "coarse": nodes,
            "fine": 2 * nodes,
            "box_sds": width,
            "log_sigma_alpha_left_tail": _TAIL,
        },
        "convergence": {
            "max_change_over_sd": float(worst.max()),
            "worst_parameter": str(worst.idxmax()),
            "edge_mass": edge,
        },
        "priors": repr(model.priors),
        "data": description,
    }
    names = ["alpha", *(["beta"] if data.p else []), "gamma", "sigma_y", "sigma_alpha"]
    return ExactPosterior(table, provenance, names)


# --------------------------------------------------------------------------- one scale
def _regression_log_marginal(log_s: np.ndarray, model) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Log p(log sigma_y | y) up to a constant, and theta's conditional means and variances.

    Given sigma_y = s, theta ~ N(Q^-1 b, Q^-1) with Q = D'D / s^2 + P and b = D'y / s^2 + P m, and
    p(y | s) is proportional to s^-n |Q|^-1/2 exp((b'Q^-1 b - y'y / s^2) / 2); the prior on s
    and the Jacobian s of the log complete the density.
    """
    n = model.D.shape[0]
    yy = float(model.y @ model.y)
    out = np.empty(log_s.shape)
    means = np.empty((log_s.size, model.D.shape[1]))
    variances = np.empty_like(means)
    for i, x in enumerate(log_s):
        v = np.exp(-2.0 * x)
        Q = model.DtD * v + model.P
        b = model.Dty * v + model.Pm
        L = np.linalg.cholesky(Q)
        half = np.linalg.solve(L, b)
        L_inv = np.linalg.inv(L)
        means[i] = L_inv.T @ half
        variances[i] = np.sum(L_inv * L_inv, axis=0)
        out[i] = (
            -n * x
            - np.sum(np.log(np.diag(L)))
            + 0.5 * (half @ half - yy * v)
            + model.sigma_prior.logpdf(np.exp(x))
            + x
        )
    return out, means, variances


def _regression_summaries(model, names, n: int, width: float):
    """Summaries on an n-cell midpoint grid of log sigma_y, +-``width`` sds around the mode."""
    # Locate the mode and its curvature on a broad grid, then integrate on the box around it.
    spread = np.log(np.std(model.y) + 1e-300)
    broad = np.linspace(spread - 12.0, spread + 4.0, 801)
    logp, _, _ = _regression_log_marginal(broad, model)
    k = int(np.argmax(logp))
    h = broad[1] - broad[0]
    curv = (logp[k + 1] - 2 * logp[k] + logp[k - 1]) / h**2
    sd = 1.0 / np.sqrt(-curv)
    mid, widths, _ = _axis(broad[k], width * sd, n)
    logp, means, variances = _regression_log_marginal(mid, model)
    logp = logp + np.log(widths)
    logw = logp - special.logsumexp(logp)
    w = np.exp(logw)
    rows: dict[str, dict[str, float]] = {}
    for j, name in enumerate(names):
        m, v = means[:, j], variances[:, j]
        mean = float(np.sum(w * m))
        rows[name] = {
            "mean": mean,
            "sd": float(np.sqrt(max(np.sum(w * (v + m * m)) - mean**2, 0.0))),
            **{key: float(_mixture_quantile(logw, m, v, q)) for key, q in _LEVELS.items()},
        }
    s = np.exp(mid)
    mean = float(np.sum(w * s))
    cdf = np.concatenate([[0.0], np.cumsum(w)])
    edges = np.concatenate([mid - widths / 2, mid[-1:] + widths[-1:] / 2])
    keep = np.concatenate([[True], np.diff(cdf) > 1e-300])
    inv = interpolate.PchipInterpolator(cdf[keep], edges[keep])
    rows["sigma_y"] = {
        "mean": mean,
        "sd": float(np.sqrt(max(np.sum(w * s * s) - mean**2, 0.0))),
        **{key: float(np.exp(inv(q))) for key, q in _LEVELS.items()},
    }
    edge = float(w[0] + w[-1])
    return pd.DataFrame.from_dict(rows, orient="index")[list(STATS)], edge


def _scalar_names(design) -> list[str]:
    """Return the summary row of every coefficient: ``alpha[AITKIN]``, or ``beta`` for a scalar."""
    names = [""] * design.D.shape[1]
    for var, (dim, labels, cols) in design.groups.items():
        if dim is None:
            names[cols] = var
        else:
            for label, col in zip(labels, range(design.D.shape[1])[cols], strict=True):
                names[col] = f"{var}[{label}]"
    return names


def exact_regression(
    design,
    theta_prior=None,
    sigma_prior=None,
    *,
    nodes: int = 2000,
    width: float = 14.0,
    description: str = "",
) -> ExactPosterior:
    """Exact posterior summaries of a regression without a group term (one scale): 1-D quadrature.

    Given sigma_y the coefficients are Gaussian (closed-form moments); sigma_y's marginal is known
    up to a constant, so every summary is a 1-D integral over log sigma_y: a midpoint rule with
    ``nodes`` and ``2 * nodes`` cells on +-``width`` Laplace sds, the fine grid's values shipped
    and the change between the two stored as each summary's error.

    Parameters
    ----------
    design : gibbs.regression.RegressionDesign
    theta_prior, sigma_prior : prior, optional
        As for :func:`gibbs.regression.sample_regression` (flat and uniform by default).
    """
    from gibbs.regression import regression_model

    model = regression_model(design.D, design.y, theta_prior=theta_prior, sigma_prior=sigma_prior)
    names = _scalar_names(design)
    coarse, _ = _regression_summaries(model, names, nodes, width)
    fine, edge = _regression_summaries(model, names, 2 * nodes, width)
    table, worst = _golden_table(coarse, fine)
    provenance = {
        "tool": "gibbs-suite exact quadrature (reference_models.exact)",
        "method": "1-D midpoint rule over log sigma_y; closed-form conditional moments of the "
        "coefficients; Gaussian-mixture quantiles",
        "grid": {"coarse": nodes, "fine": 2 * nodes, "box_sds": width},
        "convergence": {
            "max_change_over_sd": float(worst.max()),
            "worst_parameter": str(worst.idxmax()),
            "edge_mass": edge,
        },
        "priors": f"coefficients: {model.theta_prior!r}; sigma_y: {model.sigma_prior!r}",
        "data": description,
    }
    return ExactPosterior(table, provenance, [*design.groups, "sigma_y"])
