"""Gibbs samplers for multilevel (hierarchical) regression, in numpy and scipy only."""

from gibbs.data import HierarchicalData
from gibbs.predict import predict
from gibbs.priors import (
    Flat,
    HalfCauchy,
    HalfNormal,
    HalfStudentT,
    InverseGamma,
    Normal,
    Priors,
    UniformLogSigma,
    UniformSigma,
)
from gibbs.sampling import DEFAULT_SCHEME, sample
from gibbs.spec import ModelSpec, specify
from gibbs.version import __version__

__all__ = [
    "DEFAULT_SCHEME",
    "Flat",
    "HalfCauchy",
    "HalfNormal",
    "HalfStudentT",
    "HierarchicalData",
    "InverseGamma",
    "ModelSpec",
    "Normal",
    "Priors",
    "UniformLogSigma",
    "UniformSigma",
    "__version__",
    "predict",
    "sample",
    "specify",
]
