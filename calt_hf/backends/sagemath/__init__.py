"""The SageMath backend (passagemath): Singular's polynomial rings over QQ, ZZ and GF(p), Sage's own over RR.

``adapter`` holds its ``Backend`` value, ``sampler`` its ``PolynomialSampler``; what is known before Sage is
imported is here: it computes everything the problem library needs.
"""

from calt_hf.backends import About

ABOUT = About(distribution="passagemath-singular", objects_module="sage.structure.element")
