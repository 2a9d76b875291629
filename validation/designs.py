"""The calibration designs: where Geweke's test and SBC look for a sampler's mistakes.

A calibration battery sees only the design it runs on. On six balanced groups of three rows,
one trial per row and unit-scale priors, a slip in how group sizes enter, in how binomial trials
enter, or between a standard deviation and a variance gives *exactly* the correct sampler, so no
number of replications can catch it. Every design here breaks one such symmetry:

=================  ==========================================================================
``balanced``       6 groups of 3 rows, one predictor, unit-scale calibration priors (the old
                   default, kept as the easy case)
``unbalanced``     group sizes 1, 1, 2, 3, 5, 8, 13 and 20 plus an empty group (nested factors:
                   no empty group), two predictors
``correlated``     three predictors correlated at 0.7 with scales 0.2, 1 and 5 and non-zero
                   means, a group-level predictor on scale 3, 2 to 6 rows per group
``trials``         binomial families: 1 to 12 trials per row, varying by row, unequal groups
``prior-scales``   the priors' scales moved far from 1 in opposite directions: beta's location
                   scale times 0.2 (a prior that matters: an sd read as a variance is then off
                   by 5x where it counts), gamma's times 5, sigma_y's scale times 5, every
                   group-level scale times 0.2
``half-normal``    half-normal scale priors (0.5 on sigma_y, 2 on the group-level scales) and
                   normal locations at scale 0.5, unequal groups: the prior family the
                   calibration presets do not use
``half-t``         half-t(5) scale priors (scales 2 and 0.5) and normal locations at scale 3;
                   varying slopes: Huang and Wand's prior with 5 degrees of freedom
``exposure``       count families: log exposures (offsets) spread from -2.3 to 3, unequal
                   groups (a slip in how the offset enters shows only where offsets vary)
``shipped``        the configuration's own data (radon's 85 counties, election88's cells)
=================  ==========================================================================

The count families (log link) take ``balanced``, ``unbalanced``, ``half-normal``, ``exposure``
and ``shipped``, with the group-level predictor on scale 1 instead of 3: on ``correlated``,
``prior-scales`` and ``half-t`` a prior draw of the log rate has a standard deviation of 9 to 15,
so counts of e^15 (no count data look like that, and a Polya-Gamma draw costs O(count)).

A design keeps the configuration's *structure and family*: its number of varying slopes and
its further factors (a nested factor stays nested, a crossed one crossed), so the same sweep of
named blocks runs on it. :func:`design_spec` builds it; ``validation.batteries`` runs the
batteries over several designs and the stress settings of :mod:`gibbs.kernels.tuning`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from gibbs.covariance import HuangWand, InverseWishart
from gibbs.data import HierarchicalData
from gibbs.priors import HalfNormal, HalfStudentT, InverseGamma, Normal
from gibbs.spec import ModelSpec, specify

__all__ = [
    "DESIGNS",
    "GEWEKE_DESIGNS",
    "SBC_DESIGNS",
    "Design",
    "calibration_priors_for",
    "design_spec",
    "designs_for",
    "family_priors",
    "scale_priors",
    "sized_design",
]


@dataclass(frozen=True)
class Design:
    """A calibration design: group sizes, predictors, trials and a prior rescaling.

    Attributes
    ----------
    name, description : str
    sizes : tuple of int
        Rows per group (0: a group without rows); empty for ``shipped``.
    predictors : int
        Individual-level predictors (at least the configuration's varying slopes).
    correlated : bool
        Correlated predictors on scales 0.2, 1, 5 with non-zero means (else independent N(0, 1)).
    max_trials : int
        Binomial trials per row drawn from 1..max_trials (1: Bernoulli rows).
    prior_scales : (float, float, float, float) or None
        Factors on the location scales of beta and gamma and on the scales of sigma_y and of
        the group-level scales (:func:`scale_priors`).
    prior_family : str or None
        ``"half-normal"`` or ``"half-t"``: priors of that family replace the calibration ones
        (:func:`family_priors`).
    outcomes : tuple of str
        The outcome kinds (``Family.outcome``) the design is meant for.
    """

    name: str
    description: str
    sizes: tuple[int, ...] = ()
    predictors: int = 1
    correlated: bool = False
    max_trials: int = 1
    prior_scales: tuple[float, float, float, float] | None = None
    prior_family: str | None = None
    outcomes: tuple[str, ...] = ("continuous", "binomial", "count")
    exposure: bool = False

    @property
    def shipped(self) -> bool:
        """Whether the design is the configuration's own data."""
        return not self.sizes


DESIGNS: dict[str, Design] = {
    d.name: d
    for d in (
        Design("balanced", "6 balanced groups of 3 rows", sizes=(3,) * 6),
        Design(
            "unbalanced",
            "group sizes 1 to 20, singletons and an empty group",
            sizes=(1, 1, 2, 3, 5, 0, 8, 13, 20),
            predictors=2,
        ),
        Design(
            "correlated",
            "3 correlated predictors on scales 0.2, 1, 5 with non-zero means",
            sizes=(2, 3, 4, 5, 6, 2, 3, 4),
            predictors=3,
            correlated=True,
            outcomes=("continuous", "binomial"),
        ),
        Design(
            "trials",
            "1 to 12 binomial trials per row, unequal groups",
            sizes=(1, 2, 3, 4, 6, 8),
            max_trials=12,
            outcomes=("binomial",),
        ),
        Design(
            "prior-scales",
            "prior scales x0.2 (beta, group-level scales) and x5 (gamma, sigma_y)",
            sizes=(1, 2, 4, 6, 3, 8),
            prior_scales=(0.2, 5.0, 5.0, 0.2),
            outcomes=("continuous", "binomial"),
        ),
        Design(
            "half-normal",
            "half-normal scale priors (0.5, 2), normal locations at 0.5",
            sizes=(1, 3, 2, 6, 4, 9),
            prior_family="half-normal",
        ),
        Design(
            "half-t",
            "half-t(5) scale priors (2, 0.5), normal locations at 3",
            sizes=(2, 1, 5, 3, 8, 4),
            prior_family="half-t",
            outcomes=("continuous", "binomial"),
        ),
        Design(
            "exposure",
            "log exposures from -2.3 to 3 (offsets), unequal groups",
            sizes=(1, 2, 4, 3, 6, 8),
            exposure=True,
            outcomes=("count",),
        ),
        Design("shipped", "the configuration's own data"),
    )
}

# What each battery runs by default: SBC refits every replication, so its designs stay small;
# Geweke's test runs one batch of chains and also takes the shipped data.
GEWEKE_DESIGNS = (
    "unbalanced",
    "correlated",
    "trials",
    "prior-scales",
    "half-normal",
    "half-t",
    "exposure",
    "shipped",
)
SBC_DESIGNS = tuple(d for d in GEWEKE_DESIGNS if d != "shipped")


def designs_for(spec: ModelSpec, names: Sequence[str]) -> list[Design]:
    """Return the designs of ``names`` that suit the family of ``spec`` (unknown names refused)."""
    unknown = [n for n in names if n not in DESIGNS]
    if unknown:
        raise ValueError(f"unknown design(s) {unknown}; choose from {sorted(DESIGNS)}")
    return [DESIGNS[n] for n in names if spec.family.outcome in DESIGNS[n].outcomes]


def sized_design(sizes: Sequence[int]) -> Design:
    """Return a design with the given group sizes (``--group-sizes 1,2,5,20``)."""
    sizes = tuple(int(s) for s in sizes)
    if not sizes or min(sizes) < 0 or sum(sizes) < 2:
        raise ValueError(f"group sizes must be >= 0 with at least 2 rows in all, got {sizes}")
    return Design(f"sizes {','.join(map(str, sizes))}", "group sizes given", sizes, predictors=2)


def _scaled(prior, factor: float):
    """``prior`` on a quantity multiplied by ``factor`` (locations: the sd; scales: the scale)."""
    if isinstance(prior, Normal):
        sigma = np.asarray(prior.sigma, float) * factor
        return Normal(prior.mu, float(sigma) if sigma.ndim == 0 else sigma)
    if isinstance(prior, InverseGamma):  # on the variance
        return InverseGamma(prior.alpha, prior.beta * factor**2)
    if isinstance(prior, HalfNormal):
        return HalfNormal(prior.sigma * factor)
    if isinstance(prior, HalfStudentT):
        return HalfStudentT(prior.nu, prior.sigma * factor)
    if isinstance(prior, InverseWishart):
        return dataclasses.replace(prior, scale=np.asarray(prior.scale, float) * factor**2)
    if isinstance(prior, HuangWand):
        return dataclasses.replace(prior, A=np.asarray(prior.A, float) * factor)
    if not getattr(prior, "proper", True):  # an unused improper prior (binomial sigma_y)
        return prior
    raise ValueError(f"cannot rescale the prior {prior!r}")


def scale_priors(priors, factors: tuple[float, float, float, float]):
    """Rescale proper priors: (beta, gamma, sigma_y, group-level scales) by ``factors``."""
    f_beta, f_gamma, f_y, f_group = factors
    changes = {"beta": _scaled(priors.beta, f_beta), "gamma": _scaled(priors.gamma, f_gamma)}
    if getattr(priors, "sigma_y", None) is not None:
        changes["sigma_y"] = _scaled(priors.sigma_y, f_y)
    if getattr(priors, "dispersion", None) is not None:  # the count families' sigma_y
        changes["dispersion"] = _scaled(priors.dispersion, f_y)
    for name in ("sigma_alpha", "Sigma"):
        if hasattr(priors, name):
            changes[name] = _scaled(getattr(priors, name), f_group)
    changes["factor_scales"] = {k: _scaled(v, f_group) for k, v in priors.factor_scales.items()}
    return dataclasses.replace(priors, **changes)


def family_priors(priors, family: str):
    """``priors`` with every scale prior replaced by one of ``family`` (and new location scales).

    ``"half-normal"``: HalfNormal(0.5) on sigma_y, HalfNormal(2) on the group-level scales,
    N(0, 0.5^2) locations. ``"half-t"``: HalfStudentT(5, 2) on sigma_y, HalfStudentT(5, 0.5) on
    the group-level scales (varying slopes: Huang and Wand's prior, nu = 5, A = 0.5), N(0, 3^2)
    locations. Both keep a finite fourth moment, which Geweke's test functions need.
    """
    if family == "half-normal":
        loc, y_scale, group = Normal(0.0, 0.5), HalfNormal(0.5), HalfNormal(2.0)
        covariance = InverseWishart(nu=6.0, scale=4.0)
    elif family == "half-t":
        loc, y_scale, group = Normal(0.0, 3.0), HalfStudentT(5.0, 2.0), HalfStudentT(5.0, 0.5)
        covariance = HuangWand(nu=5.0, A=0.5)
    else:
        raise ValueError(f"unknown prior family {family!r}: half-normal or half-t")
    changes = {
        "beta": loc,
        "gamma": loc,
        "factor_scales": dict.fromkeys(priors.factor_scales, group),
    }
    if getattr(priors, "sigma_y", None) is not None and priors.sigma_y.proper:
        changes["sigma_y"] = y_scale
    if getattr(priors, "dispersion", None) is not None:  # the count families' sigma_y
        changes["dispersion"] = y_scale
    if hasattr(priors, "sigma_alpha"):
        changes["sigma_alpha"] = group
    if hasattr(priors, "Sigma"):
        changes["Sigma"] = covariance
    return dataclasses.replace(priors, **changes)


def _scalar_locations(priors):
    """Location priors with one scalar mean and scale (a design may have other dimensions)."""
    changes = {}
    for name in ("beta", "gamma"):
        prior = getattr(priors, name)
        if isinstance(prior, Normal) and (np.ndim(prior.mu) or np.ndim(prior.sigma)):
            changes[name] = Normal(float(np.mean(prior.mu)), float(np.mean(prior.sigma)))
    return dataclasses.replace(priors, **changes) if changes else priors


def calibration_priors_for(spec: ModelSpec):
    """Proper priors for the batteries: the spec's own if proper, else its family's calibration.

    A family whose own priors do not calibrate (the count families, whose default locations at
    scale 10 imply rates of e^30) always takes its calibration priors.

    Further factors without a proper scale prior get the calibration presets' IG(3, 2).
    """
    family = spec.family
    priors = spec.priors
    if not (family.own_priors_calibrate and _is_proper(priors, family.name)):
        priors = family.calibration_priors(spec.K)
    scales = dict(priors.factor_scales)
    for name in spec.factor_labels:
        prior = scales.get(name)
        if prior is None or not isinstance(prior, InverseGamma | HalfNormal | HalfStudentT):
            scales[name] = InverseGamma(3.0, 2.0)
    return _scalar_locations(dataclasses.replace(priors, factor_scales=scales))


def _is_proper(priors, family: str) -> bool:
    check: Callable | None = getattr(priors, "is_proper", None)
    if check is None:
        return False
    try:
        return bool(check(family))
    except TypeError:
        return bool(check())


def _predictors(design: Design, rng: np.random.Generator, n: int) -> np.ndarray:
    p = design.predictors
    if not design.correlated:
        return rng.standard_normal((n, p))
    scales = np.array([0.2, 1.0, 5.0, 2.0, 0.5])[:p]
    means = np.array([1.0, -2.0, 3.0, 0.5, -1.0])[:p]
    corr = np.full((p, p), 0.7) + 0.3 * np.eye(p)
    z = rng.standard_normal((n, p)) @ np.linalg.cholesky(corr).T
    return means + scales * z


def design_spec(template: ModelSpec, design: Design, seed: int = 0) -> ModelSpec:
    """Return ``template``'s structure and family on ``design``, with proper priors.

    The varying slopes are the first predictors; a nested factor of the template groups the
    design's groups in threes, a crossed one labels rows with four levels at random.
    """
    priors = calibration_priors_for(template)
    if design.prior_family is not None:
        priors = family_priors(priors, design.prior_family)
    if design.prior_scales is not None:
        priors = scale_priors(priors, design.prior_scales)
    if design.shipped:
        return specify(
            template.data,
            family=template.family.name,
            priors=priors,
            slopes=list(template.slopes) or None,
            factors=template.factor_labels or None,
        )
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(17,)))
    nested = {
        name: _is_nested(labels, template.data.group)
        for name, labels in template.factor_labels.items()
    }
    # A nested factor labels groups: every group needs a row, so no empty group then.
    sizes = np.array(design.sizes)
    if any(nested.values()):
        sizes = np.maximum(sizes, 1)
    J, n = sizes.size, int(sizes.sum())
    group = np.repeat(np.arange(J), sizes)
    n_slopes = len(template.slopes)
    p = max(design.predictors, n_slopes)
    X = _predictors(dataclasses.replace(design, predictors=p), rng, n)
    x_names = [f"x{k}" for k in range(p)]
    count = template.family.outcome == "count"
    u_scale = 1.0 if count else 3.0  # a log link turns scale 3 into rates of e^9
    u1 = u_scale * rng.standard_normal(J) + (1.0 if design.correlated else 0.0)
    binomial = template.family.outcome == "binomial"
    trials = rng.integers(1, design.max_trials + 1, n) if binomial else None
    # Placeholder outcomes of the right kind: the batteries simulate their own.
    if binomial:
        y = rng.integers(0, (trials if trials is not None else 1) + 1)
    elif count:
        y = rng.poisson(3.0, n)
    else:
        y = rng.standard_normal(n)
    if design.exposure:
        offset = rng.uniform(-2.3, 3.0, n)
    elif template.data.offset is not None:
        # A template with an offset keeps one (and so its kernel), drawn for the design's rows.
        offset = 0.5 * rng.standard_normal(n)
    else:
        offset = None
    data = HierarchicalData(
        y=np.asarray(y, float),
        X=X,
        group=group,
        U=np.column_stack([np.ones(J), u1]),
        group_names=tuple(f"g{j}" for j in range(J)),
        x_names=tuple(x_names),
        u_names=("intercept", "u1"),
        trials=trials if binomial and design.max_trials > 1 else None,
        offset=offset,
    )
    factors = {
        name: (
            np.array([f"{name}{j // 3}" for j in group])
            if is_nested
            else np.array([f"{name}{k}" for k in rng.integers(0, 4, n)])
        )
        for name, is_nested in nested.items()
    }
    return specify(
        data,
        family=template.family.name,
        priors=priors,
        slopes=x_names[:n_slopes] or None,
        factors=factors or None,
    )


def _is_nested(labels: np.ndarray, group: np.ndarray) -> bool:
    """Whether ``labels`` are constant within every group (a factor above the groups)."""
    labels = np.asarray(labels)
    first = {}
    for g, lab in zip(group.tolist(), labels.tolist(), strict=True):
        if first.setdefault(g, lab) != lab:
            return False
    return True
