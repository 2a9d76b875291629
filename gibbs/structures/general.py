"""The general kernel (:mod:`gibbs.structures.mixed`) as an implementation.

It serves every structure, for any family that hands it pseudo-observations.
"""

from __future__ import annotations

from gibbs.structures.base import Implementation, Recorder
from gibbs.structures.mixed import MixedModel, mixed_schemes
from gibbs.structures.mixed_io import initial_state_mixed, mixed_inference_data, mixed_record

__all__ = ["GENERAL"]


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
    schemes=mixed_schemes,
    default_scheme=lambda family: "collapsed",
    initial_state=initial_state_mixed,
    recorder=lambda model, keep, dtype: Recorder(record=mixed_record(model, keep)),
    to_idata=mixed_inference_data,
    attrs=_attrs,
    offsets=True,
)
