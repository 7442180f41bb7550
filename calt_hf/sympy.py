"""The SymPy backend: CALT's ``calt.dataset_generator.sympy`` API on calt_hf's shared core.

``from calt_hf.sympy import DatasetGenerator, DatasetWriter, PolynomialSampler`` is all that changes
when porting CALT code. The backward samplers of Gröbner and border bases (calt-x's Sage-only
``GroebnerBasisSampler``, ``GroebnerIdealTransformer``, ``BorderBasisSampler``, ``BorderIdealTransformer``) take
a SymPy ``PolyRing`` here, with calt-x's signatures and our own draws.
"""

from calt_hf import engine
from calt_hf.backends.sympy.adapter import SYMPY
from calt_hf.backends.sympy.ideals import (
    BorderBasisSampler,
    BorderIdealTransformer,
    GroebnerBasisSampler,
    GroebnerIdealTransformer,
)
from calt_hf.backends.sympy.sampler import PolynomialSampler, SinglePolynomialSampler
from calt_hf.statistics import BaseStatisticsCalculator
from calt_hf.writer import DatasetWriter

__all__ = [
    "DatasetGenerator",
    "DatasetWriter",
    "PolynomialSampler",
    "SinglePolynomialSampler",
    "BaseStatisticsCalculator",
    "GroebnerBasisSampler",
    "GroebnerIdealTransformer",
    "BorderBasisSampler",
    "BorderIdealTransformer",
]


class DatasetGenerator(engine.DatasetGenerator):
    __doc__ = engine.DatasetGenerator.__doc__
    cas = SYMPY
