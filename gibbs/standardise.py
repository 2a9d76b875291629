"""Internal centring and scaling of badly scaled predictors, with an exact back-transform.

A predictor with a large mean next to its spread (x + 1e8) or a tiny or huge scale (x * 1e-8)
makes the sweeps' linear algebra lose precision: the default scheme mixes badly and, at 1e8,
converges to a wrong beta. Writing X = m + s Z (Z centred, unit sd) gives the same model in
(alpha', beta', gamma') with

    beta' = s * beta,   alpha'_j = alpha_j + m'beta,   gamma'_0 = gamma_0 + m'beta,

because U's first column is ones. The change is exact for the posterior when

- scaling: the prior on beta is Flat or Normal (N(mu, tau) becomes N(s mu, s tau)), always;
- centring: the prior on gamma is Flat (then gamma'_0 is flat and independent of beta).

The rule (:func:`plan`): only the varying-intercept structure, only columns of X whose
|mean| exceeds 10 sds or whose sd is outside [1e-3, 1e3]; centring only under a flat gamma
prior. Otherwise nothing changes and the draws are those of the untransformed sweep. The sample's
output is transformed back (:func:`back_transform`); its observed and constant data are the
user's.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from gibbs.priors import Flat, Normal

__all__ = ["Standardisation", "back_transform", "plan"]

_MEAN_OVER_SD = 10.0
_SD_RANGE = (1e-3, 1e3)


@dataclass(frozen=True)
class Standardisation:
    """Per-column centre ``m`` and scale ``s`` of X, and the spec sampled instead."""

    center: np.ndarray
    scale: np.ndarray
    spec: object

    def describe(self) -> str:
        """One line for the output's attributes."""
        cols = self.spec.data.x_names
        changed = [
            f"{c} (centre {m:.6g}, scale {s:.6g})"
            for c, m, s in zip(cols, self.center, self.scale, strict=True)
            if m != 0.0 or s != 1.0
        ]
        return "X internally standardised: " + ", ".join(changed)


def _badly_scaled(X: np.ndarray) -> np.ndarray:
    mean, sd = X.mean(axis=0), X.std(axis=0)
    lo, hi = _SD_RANGE
    with np.errstate(divide="ignore", invalid="ignore"):
        return (np.abs(mean) > _MEAN_OVER_SD * sd) | (sd < lo) | (sd > hi)


def plan(spec) -> Standardisation | None:
    """Return the standardisation :func:`gibbs.sample` applies to ``spec``, or ``None``."""
    d, priors = spec.data, spec.priors
    if spec.structure != "intercepts" or d.p == 0:
        return None
    bad = _badly_scaled(d.X)
    if not bad.any() or not isinstance(priors.beta, Flat | Normal):
        return None
    centre_ok = isinstance(priors.gamma, Flat)
    mean, sd = d.X.mean(axis=0), d.X.std(axis=0)
    center = np.where(bad & centre_ok, mean, 0.0)
    scale = np.where(bad & (sd > 0), sd, 1.0)
    if not centre_ok:
        # Without centring a large mean stays; scaling alone cannot help that column.
        if not np.any(scale != 1.0):
            return None
    Z = (d.X - center) / scale
    beta = priors.beta
    if isinstance(beta, Normal):
        mu = np.broadcast_to(np.asarray(beta.mu, float), (d.p,)) * scale
        tau = np.broadcast_to(np.asarray(beta.sigma, float), (d.p,)) * scale
        beta = Normal(mu, tau)
    data = dataclasses.replace(d, X=Z)
    work = spec.replace(data=data, priors=dataclasses.replace(priors, beta=beta))
    return Standardisation(center=center, scale=scale, spec=work)


def back_transform(idata, std: Standardisation, original) -> None:
    """Turn ``idata``'s draws (of the standardised model) into the original model's, in place.

    ``original`` is the user's data: the output's constant data are set back to its X.
    """
    post = idata.posterior
    beta = post["beta"] / std.scale
    shift = (beta * std.center).sum("x_coef")  # m'beta per draw
    gamma = post["gamma"].copy(data=post["gamma"].values.copy())
    gamma[..., 0] = gamma[..., 0] - shift
    post["beta"], post["gamma"] = beta.astype(post["beta"].dtype), gamma
    if "alpha" in post and post["alpha"].size:
        post["alpha"] = post["alpha"] - shift
    if hasattr(idata, "constant_data") and "X" in idata.constant_data:
        X = idata.constant_data["X"]
        idata.constant_data["X"] = X.copy(data=np.array(original.X, dtype=X.dtype))
    note = std.describe()
    for group in idata.groups():
        idata[group].attrs["standardisation"] = note
