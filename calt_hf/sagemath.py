"""The SageMath backend: CALT's ``calt.dataset_generator.sagemath`` API on calt_hf's shared core.

Needs passagemath (``pip install "calt_hf[sage]"``); without it, importing this module raises an
ImportError that says so. ``from calt_hf.sagemath import DatasetGenerator, DatasetWriter,
PolynomialSampler`` is all that changes when porting CALT code; so does ``from calt_hf.sagemath import
GroebnerBasisSampler, GroebnerIdealTransformer, BorderBasisSampler, BorderIdealTransformer`` for calt-x's
backward samplers of Gröbner and border bases, which draw exactly as calt-x's.
"""

from calt_hf.facades import exports

globals().update(exports("sagemath", __name__))
