"""The FLINT backend (python-flint): FLINT's multivariate polynomials over GF(p), ZZ and QQ, arithmetic in C.

``adapter`` holds its ``Backend`` value, ``sampler`` its ``PolynomialSampler``, ``ideals`` its backward samplers
(the SymPy backend's draws); what is known before FLINT is imported is here: it has no polynomials over
floating-point reals, and no Gröbner bases (SymPy computes them on converted polynomials, the same bases SymPy
gives).
"""

from calt_hf.backends import About, Limit

ABOUT = About(
    distribution="python-flint",
    objects_module="flint",
    limits=(Limit("polynomials", "RR", 0, "FLINT has no polynomials over floating-point reals"),),
    through=(("groebner", "Gröbner bases computed by SymPy on converted polynomials (FLINT has no algorithm for them)"),),
)
