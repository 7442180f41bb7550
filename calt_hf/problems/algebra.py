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
from fractions import Fraction
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


def unit_normal(f: Any, field_kind: str) -> Any:
    """The representative of ``f`` among its unit multiples: monic over a field, over ZZ (whose units are
    1 and -1) with a positive leading coefficient. Zero stays zero. Two polynomials are associates (each a
    unit multiple of the other) exactly when their unit normals are equal."""
    if f == 0:
        return f
    if field_kind != "ZZ":
        return monic(f)
    return -f if leading_coefficient(f) < 0 else f


def normalize(f: Any, field_kind: str) -> Any:
    """The representative of ``f`` up to units and, over ZZ, its content: monic over a field; over ZZ
    primitive with a positive leading coefficient. Zero stays zero."""
    if f != 0 and field_kind == "ZZ":
        f = f.primitive()[1] if is_sympy(f) else f // f.content()
    return unit_normal(f, field_kind)


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


def is_groebner_basis(candidates: list, basis: list) -> bool:
    """Whether ``candidates`` are a Gröbner basis (under the ring's order) of the ideal that the Gröbner basis
    ``basis`` spans: each lies in the ideal (normal form 0), and each leading monomial of ``basis`` is a
    multiple of one of theirs (so theirs generate the ideal's leading monomials; no basis is computed)."""
    nonzero = [g for g in candidates if g != 0]
    if any(normal_form(g, basis) != 0 for g in nonzero):
        return False
    leading = [leading_exponents(g) for g in nonzero]
    return all(
        any(all(a <= b for a, b in zip(monomial, target)) for monomial in leading)
        for target in map(leading_exponents, basis)
    )


def variable_names(ring: Any) -> tuple[str, ...]:
    """The names of a SymPy or Sage polynomial ring's variables, in the ring's order."""
    return tuple(map(str, ring.symbols)) if is_sympy_ring(ring) else tuple(map(str, ring.variable_names()))


def from_terms(ring: Any, terms: dict[tuple[int, ...], Any]) -> Any:
    """The polynomial of ``ring`` with these ``{exponents: coefficient}`` terms; coefficients as Python ints
    (GF(p), ZZ) or ``fractions.Fraction`` (QQ)."""
    if is_sympy_ring(ring):
        domain = ring.domain
        return ring.from_dict(
            {m: domain(c.numerator, c.denominator) if isinstance(c, Fraction) else domain(c) for m, c in terms.items()}
        )
    if ngens(ring) == 1:  # Sage's univariate ring takes degrees as keys
        return ring({m[0]: c for m, c in terms.items()})
    return ring(terms)


def text(f: Any) -> str:
    """The polynomial as the dataset writes it (the same text on both backends)."""
    if is_sympy(f):
        from calt_hf.backends.sympy import poly_to_str
    else:
        from calt_hf.backends.sagemath import poly_to_str
    return poly_to_str(f)
