"""The general kernel (:mod:`gibbs.structures.mixed`) as an implementation.

It serves every structure, for any family that hands it pseudo-observations.
"""

from __future__ import annotations

from gibbs.structures.base import Implementation, Recorder
from gibbs.structures.mixed import MixedModel, mixed_schemes
from gibbs.structures.mixed_exact import exact_schemes
from gibbs.structures.mixed_io import initial_state_mixed, mixed_inference_data, mixed_record

__all__ = ["DEFAULT_GENERAL_SCHEMES", "GENERAL"]

# The default scheme by family where it is not ``collapsed``: the negative binomial's location
# blocks mix far better on the exact likelihood than given Polya-Gamma variables of large shape.
DEFAULT_GENERAL_SCHEMES = {"negative_binomial": "integrated"}


def _attrs(model: MixedModel) -> dict:
    out: dict = {"kernel": "general"}
    if model.slopes:
        out["slopes"] = list(model.slopes)
    if model.factors:
        out["factors"] = [f.name for f in model.factors]
    return out


GENERAL = Implementation(
    name="general",
    build=lambda data, slopes, factors, priors, family: MixedModel(
        data, tuple(slopes), tuple(factors), priors, family
    ),
    schemes=lambda family: {**mixed_schemes(family), **exact_schemes(family)},
    default_scheme=lambda family: DEFAULT_GENERAL_SCHEMES.get(family.name, "collapsed"),
    initial_state=initial_state_mixed,
    recorder=lambda model, keep, dtype: Recorder(record=mixed_record(model, keep)),
    to_idata=mixed_inference_data,
    attrs=_attrs,
    offsets=True,
)
