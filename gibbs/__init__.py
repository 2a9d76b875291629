"""Gibbs samplers for multilevel (hierarchical) regression, in numpy and scipy only."""

from gibbs.data import HierarchicalData

__all__ = ["HierarchicalData", "__version__"]
__version__ = "0.1.0"
