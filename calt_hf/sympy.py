"""The SymPy backend: CALT's ``calt.dataset_generator.sympy`` API on calt_hf's shared core.

``from calt_hf.sympy import DatasetGenerator, DatasetWriter, PolynomialSampler`` is all that changes
when porting CALT code. The backward samplers of Gröbner and border bases (calt-x's Sage-only
``GroebnerBasisSampler``, ``GroebnerIdealTransformer``, ``BorderBasisSampler``, ``BorderIdealTransformer``) take
a SymPy ``PolyRing`` here, with calt-x's signatures and our own draws.
"""

from calt_hf.facades import exports

globals().update(exports("sympy", __name__))
