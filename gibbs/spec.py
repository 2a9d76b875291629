"""One model specification: data, structure, family and priors, validated once.

``gibbs.specify(...)`` is what :func:`gibbs.sample`, the twins and the batteries share: the data
(from arrays or a formula), the structure (varying slopes, further grouping factors), the family
and the priors, checked together before any sampling, with the kernel that samples them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gibbs.data import HierarchicalData, check_conditioning
from gibbs.factors import make_factors
from gibbs.families import Family, get_family
from gibbs.formula import is_formula, parse_formula
from gibbs.kernels.factors import Factor
from gibbs.priors import Priors, SlopesPriors, named_priors
from gibbs.structures import Implementation, implementation, structure_of

__all__ = ["ModelSpec", "as_spec", "specify"]


@dataclass(frozen=True, eq=False)
class ModelSpec:
    """A validated model: data, structure, family, priors and the kernel model built from them.

    Attributes
    ----------
    data : HierarchicalData
    family : Family
    slopes : tuple of str
        Columns of ``data.X`` whose coefficients vary by group besides the intercept.
    factors : tuple of Factor
        Further grouping factors (nested above the groups or crossed with them).
    priors : Priors or SlopesPriors
    factor_labels : dict
        The factors' labels per row, as given (for the twins).
    """

    data: HierarchicalData
    family: Family
    slopes: tuple[str, ...]
    factors: tuple[Factor, ...]
    priors: Any
    factor_labels: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        impl = implementation(self.structure, self.family, offset=self.data.offset is not None)
        try:
            model = impl.build(self.data, self.slopes, self.factors, self.priors, self.family)
        except np.linalg.LinAlgError as exc:
            # A nearly singular X'X fails its Cholesky factorisation on some CPUs and passes on
            # others (then sample() refuses it): give the same named error on every machine.
            check_conditioning(self.data)
            raise ValueError(
                f"the model's precomputed linear algebra failed on these data ({exc}); check "
                "X and U for (nearly) collinear columns"
            ) from exc
        object.__setattr__(self, "implementation", impl)
        object.__setattr__(self, "model", model)

    implementation: Implementation = field(init=False, repr=False)
    model: Any = field(init=False, repr=False)

    @property
    def structure(self) -> str:
        """``"intercepts"``, ``"slopes"``, ``"factors"`` or ``"slopes+factors"``."""
        return structure_of(self.slopes, self.factors)

    @property
    def K(self) -> int:
        """Number of varying coefficients per group."""
        return len(self.slopes) + 1

    def describe(self) -> list[str]:
        """Return one line per structural feature: the varying slopes and every further factor."""
        d = self.data
        lines = [f"varying slopes by {d.group_dim}: {', '.join(self.slopes)}"] * bool(self.slopes)
        for f in self.factors:
            kind = f"nested above {d.group_dim}" if f.nested else f"crossed with {d.group_dim}"
            lines.append(f"further factor {f.name}: {len(f.levels)} levels ({kind})")
        return lines

    def schemes(self) -> dict[str, tuple]:
        """Return the update schemes of this model, by name."""
        return self.implementation.schemes(self.family)

    @property
    def default_scheme(self) -> str:
        """The scheme :func:`gibbs.sample` uses when none is given."""
        return self.implementation.default_scheme(self.family)

    def replace(self, *, data: HierarchicalData | None = None, priors: Any = None) -> ModelSpec:
        """Return this specification with other data (same columns) or other priors."""
        data = data if data is not None else self.data
        labels = self.factor_labels
        return ModelSpec(
            data=data,
            family=self.family,
            slopes=self.slopes,
            factors=make_factors(data, labels) if labels else (),
            priors=priors if priors is not None else self.priors,
            factor_labels=labels,
        )


def _resolve_data(data_or_formula: Any, data: Any, trials: Any) -> tuple:
    """Return (HierarchicalData, varying slopes, further factors) of the arguments."""
    if is_formula(data_or_formula):
        return parse_formula(data_or_formula, data, trials=trials)
    if isinstance(data_or_formula, ModelSpec):
        raise ValueError("pass a ModelSpec alone: sample(spec)")
    if data_or_formula is not None and data is not None:
        raise ValueError("pass the data once: sample(hdata) or sample(formula, data=df)")
    data = data_or_formula if data_or_formula is not None else data
    if not isinstance(data, HierarchicalData):
        raise ValueError(
            "sample needs a HierarchicalData, or a formula string and data=DataFrame; got "
            f"{type(data).__name__}"
        )
    if trials is not None:
        raise ValueError("trials= goes with a formula; for HierarchicalData set its trials")
    return data, (), {}


def specify(
    data_or_formula: HierarchicalData | str | None = None,
    data: Any = None,
    *,
    family: str | Family = "gaussian",
    priors: Priors | SlopesPriors | None = None,
    slopes: Sequence[str] | None = None,
    factors: Mapping[str, Any] | None = None,
    trials: str | int | None = None,
) -> ModelSpec:
    """Build and validate a :class:`ModelSpec` (the arguments of :func:`gibbs.sample`).

    Raises
    ------
    ValueError
        For bad data, a structure x family that is not built, priors of the wrong kind or priors
        that leave the posterior improper: before any sampling.
    """
    hdata, formula_slopes, formula_factors = _resolve_data(data_or_formula, data, trials)
    if slopes is not None and formula_slopes:
        raise ValueError("give the varying slopes once: in the formula or as slopes=")
    if factors is not None and formula_factors:
        raise ValueError("give the grouping factors once: in the formula or as factors=")
    slopes = tuple(slopes if slopes is not None else formula_slopes)
    labels = dict(factors if factors is not None else formula_factors)
    fam = get_family(family)
    K = len(slopes) + 1
    priors = named_priors(priors, K)
    if priors is None:
        priors = fam.default_priors(K)
    elif K == 1 and isinstance(priors, SlopesPriors):
        raise ValueError("SlopesPriors go with varying slopes (slopes= or '(1 + x | g)')")
    elif K > 1 and not isinstance(priors, SlopesPriors):
        raise ValueError(
            "varying slopes need SlopesPriors (a prior on the covariance matrix Sigma), got "
            f"{type(priors).__name__}"
        )
    elif not isinstance(priors, Priors | SlopesPriors):
        raise ValueError(
            "priors must be a Priors (or SlopesPriors), a preset name or a mapping of fields, "
            f"got {type(priors).__name__}"
        )
    fam.check_outcome(hdata)
    return ModelSpec(
        data=hdata,
        family=fam,
        slopes=slopes,
        factors=make_factors(hdata, labels) if labels or factors is not None else (),
        priors=priors,
        factor_labels=labels,
    )


def as_spec(
    data_or_formula: Any,
    data: Any = None,
    *,
    family: str | Family = "gaussian",
    priors: Any = None,
    slopes: Sequence[str] | None = None,
    factors: Mapping[str, Any] | None = None,
    trials: str | int | None = None,
) -> ModelSpec:
    """Return a given :class:`ModelSpec` (refusing model arguments beside it), else specify one.

    What :func:`gibbs.sample` and the twin fitters accept as their first arguments.
    """
    model = {"priors": priors, "slopes": slopes, "factors": factors, "trials": trials}
    if not isinstance(data_or_formula, ModelSpec):
        return specify(data_or_formula, data, family=family, **model)
    given = {**model, "data": data}
    extra = [k for k, v in given.items() if v is not None] + ["family"] * (family != "gaussian")
    if extra:
        raise ValueError(
            f"a ModelSpec already fixes the model: pass {', '.join(extra)} to gibbs.specify"
        )
    return data_or_formula
