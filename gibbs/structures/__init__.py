"""Structures (how groups enter the linear predictor) and the kernel of each structure x family.

Every combination is in :data:`IMPLEMENTATIONS` or refused from it: one table, shown by
:func:`capability_rows` (and ``gibbs-suite data --capabilities``).
"""

from __future__ import annotations

from gibbs.families import FAMILY, Family
from gibbs.structures.base import Block, Implementation, as_blocks
from gibbs.structures.factors import GAUSSIAN_FACTORS
from gibbs.structures.general import GENERAL
from gibbs.structures.intercepts import BINOMIAL_INTERCEPTS, GAUSSIAN_INTERCEPTS
from gibbs.structures.slopes import GAUSSIAN_SLOPES

__all__ = [
    "IMPLEMENTATIONS",
    "STRUCTURES",
    "Block",
    "Implementation",
    "as_blocks",
    "implementation",
    "structure_of",
]

# How the groups enter: (1 | g); (1 + x | g); (1 | g) + (1 | f)...; (1 + x | g) + (1 | f)...
STRUCTURES = ("intercepts", "slopes", "factors", "slopes+factors")

# The kernel of every structure x family. The specialised kernels are the fastest for the models
# they were written for (docs/benchmarks.md); the general one serves every other combination.
_SPECIALISED: dict[tuple[str, str], Implementation] = {
    ("intercepts", "gaussian"): GAUSSIAN_INTERCEPTS,
    ("intercepts", "logistic"): BINOMIAL_INTERCEPTS,
    ("intercepts", "probit"): BINOMIAL_INTERCEPTS,
    ("slopes", "gaussian"): GAUSSIAN_SLOPES,
    ("factors", "gaussian"): GAUSSIAN_FACTORS,
}
IMPLEMENTATIONS: dict[tuple[str, str], Implementation] = {
    (structure, family): _SPECIALISED.get((structure, family), GENERAL)
    for structure in STRUCTURES
    for family in FAMILY
}


def structure_of(slopes, factors) -> str:
    """Return the structure of a model with these varying slopes and further factors."""
    return ("slopes" if slopes else "") + ("+" if slopes and factors else "") + (
        "factors" if factors else ""
    ) or "intercepts"


def implementation(structure: str, family: Family, offset: bool = False) -> Implementation:
    """Return the kernel of a structure x family, or raise ``ValueError`` naming the table.

    With an offset in the linear predictor, a kernel that takes none gives way to the general
    one (which serves every structure x family).
    """
    try:
        impl = IMPLEMENTATIONS[(structure, family.name)]
    except KeyError:
        built = ", ".join(f"{s} x {f}" for s, f in IMPLEMENTATIONS)
        raise ValueError(f"{structure} x {family.name} is not built; built: {built}") from None
    return impl if impl.offsets or not offset else GENERAL
