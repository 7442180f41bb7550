"""The SymPy backend adapter: polynomials of ``sympy.polys.rings`` (and ``Poly``/expressions) as text."""

from __future__ import annotations

from fractions import Fraction
from collections.abc import Callable
from typing import Any

from sympy import Basic, Poly
from sympy.matrices import MatrixBase
from sympy.polys.domains.modularinteger import ModularInteger
from sympy.polys.orderings import lex
from sympy.polys.rings import PolyElement, PolyRing

from calt_hf.conversion import (
    Backend,
    CoefficientFormatter,
    Terms,
    TermWriter,
    generic_coefficient,
    integer_coefficient,
    modular_coefficient,
    per_ring,
    rational_coefficient,
    real_coefficient,
    unsupported_coefficients,
)


def coefficient_formatter(domain: Any) -> CoefficientFormatter:
    """How coefficients of a SymPy domain are written."""
    if domain.is_FiniteField:
        return modular_coefficient
    if domain.is_ZZ:
        return integer_coefficient
    if domain.is_QQ:
        return rational_coefficient
    if domain.is_RR:
        return real_coefficient
    return generic_coefficient


def _poly_writer_for(ring: PolyRing) -> Callable[[PolyElement], str]:
    """How polynomials of ``ring`` are written: one ``TermWriter`` a ring, its terms cached by (exponents,
    coefficient); over SymPy's own GF(p) by the coefficient's residue (an int, hashed in C: the element's
    ``__hash__`` and ``__eq__`` are Python methods, most of a look-up's time; GCD text 12 -> 7 us a sample).
    With python-flint installed SymPy's GF(p) elements are FLINT's ``nmod`` (its ground types), hashed in C."""
    order = ring.order
    writer = TermWriter(tuple(str(s) for s in ring.symbols), coefficient_formatter(ring.domain), None if order is lex else order)
    dtype = ring.domain.dtype  # a factory function, not a class, under FLINT's ground types
    if ring.domain.is_FiniteField and isinstance(dtype, type) and issubclass(dtype, ModularInteger):
        return lambda poly: writer.write([(monomial, coefficient.val) for monomial, coefficient in poly.items()])
    return lambda poly: writer.write(poly.items())


_poly_writer = per_ring(_poly_writer_for)


def poly_to_str(poly: PolyElement) -> str:
    """``3*x^2*y + x + 6``: terms in the ring's order, written from the terms (no regex over ``str()``)."""
    return _poly_writer(poly.ring)(poly)


def element_to_str(obj: Any) -> str:
    """One SymPy object (or any other value) as text."""
    if isinstance(obj, PolyElement):
        return poly_to_str(obj)
    if isinstance(obj, Poly):  # a Poly has no ring order of its own: write it in lex order
        return TermWriter(tuple(str(g) for g in obj.gens), coefficient_formatter(obj.domain), None).write(obj.rep.terms())
    if isinstance(obj, Basic):
        return str(obj).replace("**", "^")
    return str(obj)


def exact_terms(obj: Any) -> Terms | None:
    """A ring polynomial's ``terms()`` (what CALT's expanded form reads): GF(p) and ZZ as ints, QQ as fractions."""
    if not isinstance(obj, PolyElement):
        return None
    domain = obj.ring.domain
    if domain.is_FiniteField or domain.is_ZZ:
        return [(monomial, int(c)) for monomial, c in obj.terms()]
    if domain.is_QQ:
        return [(monomial, Fraction(int(c.numerator), int(c.denominator))) for monomial, c in obj.terms()]
    raise unsupported_coefficients(domain)


def matrix_rows(obj: Any) -> list | None:
    """SymPy matrices as lists of rows."""
    return obj.tolist() if isinstance(obj, MatrixBase) else None


SYMPY = Backend(
    name="sympy",
    element_to_str=element_to_str,
    as_rows=matrix_rows,
    leaf_types=(PolyElement,),
    leaf_to_str=poly_to_str,
    terms=exact_terms,
)
