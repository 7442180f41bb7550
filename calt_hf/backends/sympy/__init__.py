"""The SymPy backend: sparse polynomial rings of ``sympy.polys.rings`` over QQ, ZZ, RR and GF(p).

``adapter`` holds its ``Backend`` value, ``sampler`` its ``PolynomialSampler``; what is known before SymPy is
imported is here.
"""

from calt_hf.backends import About, Limit

ABOUT = About(
    distribution="sympy",
    objects_module="sympy.polys.rings",
    limits=(Limit("factorization", "GF", 1, "SymPy factors over GF(p) in one variable only"),),
)
