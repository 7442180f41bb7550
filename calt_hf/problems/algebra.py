"""The algebra problems need beyond ``+`` and ``*``, for SymPy and Sage polynomials alike.

SymPy's ``PolyElement`` and Sage's polynomials name normalisation, factorization, Gröbner bases and
reduction differently; each helper dispatches on the polynomial's type, so a problem stays one class for
both backends and both give the same text where the mathematics agrees. Sage is never imported here:
its polynomials are reached through their own methods only, and SymPy only once it is loaded: a SymPy
polynomial cannot exist before ``sympy.polys.rings`` is imported, so a SageMath worker never imports
SymPy for these checks (~0.5 s a worker).
"""

from __future__ import annotations

import sys
from typing import Any


def is_sympy(f: Any) -> bool:
    rings = sys.modules.get("sympy.polys.rings")
    return rings is not None and isinstance(f, rings.PolyElement)


def is_sympy_ring(ring: Any) -> bool:
    rings = sys.modules.get("sympy.polys.rings")
    return rings is not None and isinstance(ring, rings.PolyRing)


def ngens(ring: Any) -> int:
    """Number of variables of a SymPy or Sage polynomial ring."""
    count = ring.ngens
    return count() if callable(count) else count


def is_constant(f: Any) -> bool:
    return f.is_ground if is_sympy(f) else f.is_constant()


def leading_coefficient(f: Any) -> Any:
    """The coefficient of the leading term under the ring's term order."""
    return f.LC if is_sympy(f) else f.lc()


def leading_exponents(f: Any) -> tuple[int, ...]:
    """The exponents of the leading monomial of a multivariate polynomial, under the ring's term order."""
    return tuple(f.LM) if is_sympy(f) else tuple(f.lm().exponents()[0])


def monic(f: Any) -> Any:
    """``f`` divided by its leading coefficient (over a field); Sage's multivariate rings have no ``monic()``."""
    return f.monic() if hasattr(f, "monic") else f * (1 / leading_coefficient(f))


def normalize(f: Any, field_kind: str) -> Any:
    """The representative of ``f`` up to units: monic over a field; over ZZ primitive with a positive
    leading coefficient (so the content, too, is divided out). Zero stays zero."""
    if f == 0:
        return f
    if field_kind != "ZZ":
        return monic(f)
    f = f.primitive()[1] if is_sympy(f) else f // f.content()
    return -f if leading_coefficient(f) < 0 else f


def factor_list(f: Any, field_kind: str) -> list[tuple[Any, int]]:
    """The non-constant irreducible factors of ``f``, each normalised, with their multiplicities (the unit
    and, over ZZ, the content are left out). In the backend's order: sort them for a canonical list."""
    pairs = f.factor_list()[1] if is_sympy(f) else list(f.factor())
    return [(normalize(g, field_kind), int(e)) for g, e in pairs if not is_constant(g)]


def is_irreducible(f: Any, field_kind: str) -> bool:
    """Whether a normalised ``f`` is irreducible: not constant, and its only factor is itself, once."""
    return not is_constant(f) and [e for _, e in factor_list(f, field_kind)] == [1]


def groebner_basis(generators: list, ring: Any) -> list:
    """The reduced Gröbner basis of the ideal the generators span, under the ring's term order: monic,
    by decreasing leading monomial (SymPy's Buchberger and Singular's ``std`` both return it so)."""
    if is_sympy(generators[0]):
        from sympy.polys.groebnertools import groebner as sympy_groebner

        return sympy_groebner(generators, ring)
    return list(ring.ideal(generators).groebner_basis("libsingular:std"))  # reduced; ~3x faster than the default


def normal_form(f: Any, basis: list) -> Any:
    """The remainder of ``f`` on division by a Gröbner basis: its unique normal form modulo the ideal."""
    return f.rem(basis) if is_sympy(f) else f.reduce(basis)


def ideal_samplers(ring: Any) -> Any:
    """The module of the ring's backend that holds ``GroebnerBasisSampler``, ``GroebnerIdealTransformer``,
    ``BorderBasisSampler`` and ``BorderIdealTransformer``."""
    if is_sympy_ring(ring):
        from calt_hf.backends.sympy import ideals
    else:
        from calt_hf.backends.sagemath import ideals
    return ideals


def text(f: Any) -> str:
    """The polynomial as the dataset writes it (the same text on both backends)."""
    if is_sympy(f):
        from calt_hf.backends.sympy import poly_to_str
    else:
        from calt_hf.backends.sagemath import poly_to_str
    return poly_to_str(f)
