"""The SymPy backend's value: polynomials of ``sympy.polys.rings`` (and ``Poly``/expressions) as text, SymPy's
algebra for the problem library, and pickling of SymPy's rings, domains and polynomials, which SymPy 1.14 cannot
pickle (rebuilt from what defines them: a ring from its symbols, domain and order, so a worker gets the ring it
would have built itself, SymPy caching rings; a polynomial from its terms)."""

from __future__ import annotations

from fractions import Fraction
from collections.abc import Callable
from typing import Any

from sympy import Basic, Poly
from sympy.matrices import MatrixBase
from sympy.polys.domains.finitefield import FiniteField
from sympy.polys.domains.modularinteger import ModularInteger
from sympy.polys.groebnertools import groebner as sympy_groebner
from sympy.polys.orderings import lex, monomial_key
from sympy.polys.rings import PolyElement, PolyRing

from calt_hf.backends import Backend, Terms
from calt_hf.conversion import (
    CoefficientFormatter,
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


# --- pickling ------------------------------------------------------------------------------------------
def _order_by_name(order: Any) -> Any:
    """A standard monomial order as its name (rebuilt as SymPy's own singleton), any other as it is."""
    name = str(order)
    try:
        return name if monomial_key(name) == order else order
    except ValueError:
        return order


def _rebuild_ring(symbols: tuple, domain: Any, order: Any) -> Any:
    return PolyRing(symbols, domain, monomial_key(order) if isinstance(order, str) else order)


def _rebuild_polynomial(ring: Any, terms: list[tuple[tuple[int, ...], Any]]) -> Any:
    return ring.from_dict(dict(terms))


def _rebuild_modular_integer(modulus: int, symmetric: bool, value: int) -> Any:
    return FiniteField(modulus, symmetric)(value)


def reduce(obj: Any) -> tuple | None:
    """SymPy's rings, polynomials, GF(p) domains and their elements, rebuilt from what defines them."""
    if isinstance(obj, PolyRing):
        return _rebuild_ring, (obj.symbols, obj.domain, _order_by_name(obj.order))
    if isinstance(obj, PolyElement):
        return _rebuild_polynomial, (obj.ring, list(obj.items()))
    if isinstance(obj, FiniteField):
        return FiniteField, (int(obj.mod), bool(obj.sym))
    if isinstance(obj, ModularInteger):
        return _rebuild_modular_integer, (int(obj.mod), bool(obj.sym), int(obj.val))
    return None


# --- the value -----------------------------------------------------------------------------------------
def from_terms(ring: PolyRing, terms: dict[tuple[int, ...], Any]) -> PolyElement:
    domain = ring.domain
    return ring.from_dict(
        {m: domain(c.numerator, c.denominator) if isinstance(c, Fraction) else domain(c) for m, c in terms.items()}
    )


class SymPyBackend(Backend):
    name = "sympy"
    leaf_types = (PolyElement,)
    element_to_str = staticmethod(element_to_str)
    leaf_to_str = staticmethod(poly_to_str)
    as_rows = staticmethod(matrix_rows)
    terms = staticmethod(exact_terms)
    reduce = staticmethod(reduce)
    from_terms = staticmethod(from_terms)

    @staticmethod
    def owns(ring: Any) -> bool:
        return isinstance(ring, PolyRing)

    @staticmethod
    def ngens(ring: PolyRing) -> int:
        return ring.ngens

    @staticmethod
    def variable_names(ring: PolyRing) -> tuple[str, ...]:
        return tuple(map(str, ring.symbols))

    @staticmethod
    def is_constant(f: PolyElement) -> bool:
        return f.is_ground

    @staticmethod
    def leading_coefficient(f: PolyElement) -> Any:
        return f.LC

    @staticmethod
    def leading_exponents(f: PolyElement) -> tuple[int, ...]:
        return tuple(f.LM)

    @staticmethod
    def monic(f: PolyElement) -> PolyElement:
        return f.monic()

    @staticmethod
    def primitive(f: PolyElement) -> PolyElement:
        return f.primitive()[1]

    @staticmethod
    def factor_pairs(f: PolyElement) -> list[tuple[PolyElement, int]]:
        return f.factor_list()[1]

    @staticmethod
    def groebner_basis(generators: list, ring: PolyRing) -> list:
        return sympy_groebner(generators, ring)

    @staticmethod
    def normal_form(f: PolyElement, basis: list) -> PolyElement:
        return f.rem(basis)


BACKEND = SYMPY = SymPyBackend()
