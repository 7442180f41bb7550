"""The SymPy backend adapter: polynomials of ``sympy.polys.rings`` (and ``Poly``/expressions) as text."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from sympy import Basic, Poly
from sympy.polys.rings import PolyElement, PolyRing

from calt_hf.conversion import (
    Backend,
    CoefficientFormatter,
    format_polynomial,
    generic_coefficient,
    integer_coefficient,
    modular_coefficient,
    rational_coefficient,
    real_coefficient,
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


@lru_cache(maxsize=256)
def _ring_layout(ring: PolyRing) -> tuple[tuple[str, ...], CoefficientFormatter]:
    return tuple(str(s) for s in ring.symbols), coefficient_formatter(ring.domain)


def poly_to_str(poly: PolyElement) -> str:
    """``3*x^2*y + x + 6``: terms in the ring's order, written from the terms (no regex over ``str()``)."""
    names, coefficient = _ring_layout(poly.ring)
    return format_polynomial(poly.terms(), names, coefficient)


def element_to_str(obj: Any) -> str:
    """One SymPy object (or any other value) as text."""
    if isinstance(obj, PolyElement):
        return poly_to_str(obj)
    if isinstance(obj, Poly):
        names = tuple(str(g) for g in obj.gens)
        return format_polynomial(obj.rep.terms(), names, coefficient_formatter(obj.domain))
    if isinstance(obj, Basic):
        return str(obj).replace("**", "^")
    return str(obj)


def matrix_rows(obj: Any) -> list | None:
    """SymPy matrices as lists of rows."""
    from sympy.matrices import MatrixBase

    return obj.tolist() if isinstance(obj, MatrixBase) else None


SYMPY = Backend(name="sympy", element_to_str=element_to_str, as_rows=matrix_rows)
