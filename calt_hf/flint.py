"""The FLINT backend: ``calt_hf.sympy``'s API on calt_hf's shared core, with FLINT (python-flint) polynomials.

Needs python-flint (``pip install "calt_hf[flint]"``); without it, importing this module raises an ImportError
that says so. The sampler draws as the SymPy backend's, so a generator written against
``calt_hf.sympy``'s ``PolynomialSampler`` gives the same text on FLINT's (whose arithmetic is FLINT's, in C), and
so do the backward samplers of Gröbner and border bases (``GroebnerBasisSampler``, ``GroebnerIdealTransformer``,
``BorderBasisSampler``, ``BorderIdealTransformer``), over a FLINT context.
"""

from calt_hf.facades import exports

globals().update(exports("flint", __name__))
