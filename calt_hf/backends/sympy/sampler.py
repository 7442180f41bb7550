"""``PolynomialSampler`` and ``SinglePolynomialSampler`` over SymPy's sparse polynomial rings.

The draws are calt-x 1.5.0's SymPy draws (``calt_hf.sampling.PythonRandomSampler``); this module only
builds SymPy's rings, coefficients and polynomials.
"""

from __future__ import annotations

from typing import Any

from sympy import GF, QQ, RR, ZZ
from sympy.polys.domains.domain import Domain
from sympy.polys.orderings import MonomialOrder, monomial_key
from sympy.polys.rings import PolyElement, PolyRing, ring

from calt_hf.sampling import FieldSpec, PythonRandomSampler, SinglePolynomialSamplerBase

_GF_TABLE_MAX = 1 << 16

#: Term orders by name; Sage's names are accepted too, so one sampler config serves both backends.
ORDERS = {"lex": "lex", "grlex": "grlex", "grevlex": "grevlex", "deglex": "grlex", "degrevlex": "grevlex"}


def _domain(spec: FieldSpec) -> Domain:
    return GF(spec.characteristic) if spec.kind == "GF" else {"QQ": QQ, "RR": RR, "ZZ": ZZ}[spec.kind]


def _spec_of(domain: Domain) -> FieldSpec:
    if domain.is_FiniteField:
        return FieldSpec("GF", int(domain.characteristic()))
    for kind, candidate in (("QQ", QQ), ("RR", RR), ("ZZ", ZZ)):
        if domain == candidate:
            return FieldSpec(kind)
    raise NotImplementedError(f"random coefficients are not implemented for the domain {domain}")


def _to_domain(domain: Domain, value: Any) -> Any:
    if isinstance(value, tuple):  # QQ: (numerator, denominator)
        return domain(*value)
    return domain(value)


class SinglePolynomialSampler(SinglePolynomialSamplerBase):
    """Random coefficients (``random_coeff(domain)``) and random polynomials (``random_element(ring)``) in a
    given SymPy ring, drawn as calt-x's."""

    def _spec_of(self, field: Domain) -> FieldSpec:
        return _spec_of(field)

    def _element(self, field: Domain, value: Any) -> Any:
        return _to_domain(field, value)

    def _field_of(self, ring: PolyRing) -> Domain:
        return ring.domain

    def _ngens(self, ring: PolyRing) -> int:
        return ring.ngens

    def _polynomial(self, ring: PolyRing, terms: dict[tuple[int, ...], Any]) -> PolyElement:
        return ring.from_dict(terms)


class PolynomialSampler(PythonRandomSampler):
    """Random polynomials (or numpy matrices of them) in a SymPy ``PolyRing``, with degree and term constraints,
    drawn as calt-x's (the parameters and the draws: ``calt_hf.sampling.PythonRandomSampler``). ``order`` may
    also be a SymPy ``MonomialOrder``; it is kept under SymPy's name (``self.order == "grevlex"`` for degrevlex).
    """

    default_order = "grevlex"
    single_sampler_class = SinglePolynomialSampler

    @classmethod
    def canonical_order(cls, order: Any) -> Any:
        """The order under SymPy's name (grevlex for degrevlex); None is the default, grevlex."""
        if order is None:
            return cls.default_order
        return ORDERS.get(order, order) if isinstance(order, str) else order

    def _ring_order_of(self, order: Any) -> MonomialOrder:
        if isinstance(order, MonomialOrder):
            return order
        if isinstance(order, str) and order in ORDERS:
            return monomial_key(ORDERS[order])
        raise ValueError(f"order={order!r} is not supported; use one of {', '.join(ORDERS)}")

    def get_field(self) -> Domain:
        """The SymPy domain named by ``field_str``."""
        return _domain(self._spec)

    _process_local = ("_ring", "_gf_elements")
    _gf_elements: list | None = None  # GF(p) elements by value, built with the ring (p <= _GF_TABLE_MAX)

    def get_ring(self) -> PolyRing:
        """The polynomial ring, built on first use and reused."""
        if self._ring is None:
            self._ring = ring(self.symbols, self.get_field(), self._ring_order)[0]
            if self._spec.kind == "GF" and self._spec.characteristic <= _GF_TABLE_MAX:
                self._gf_elements = [self._ring.domain(v) for v in range(self._spec.characteristic)]
        return self._ring

    def total_degree(self, poly: PolyElement) -> int:
        """Total degree of a polynomial (0 for the zero polynomial)."""
        return max(map(sum, poly.itermonoms())) if poly else 0

    def num_terms(self, poly: PolyElement) -> int:
        return len(poly)

    def _ring_ngens(self, ring: PolyRing) -> int:
        return ring.ngens

    def _make_coefficient(self, ring: PolyRing, value: Any) -> Any:
        if self._gf_elements is not None:
            return self._gf_elements[value]
        return _to_domain(ring.domain, value)

    def _from_values(self, ring: PolyRing, terms: dict[tuple[int, ...], Any]) -> PolyElement:
        # Non-zero plain values: each becomes a domain element (GF(p)'s from the table), no other conversion.
        table = self._gf_elements
        if table is not None:
            return ring.dtype({m: table[v] for m, v in terms.items()})
        return ring.dtype({m: _to_domain(ring.domain, v) for m, v in terms.items()})

    def _from_dict(self, ring: PolyRing, terms: dict[tuple[int, ...], Any]) -> PolyElement:
        # Coefficients are already domain elements: skip from_dict's conversion, keep only non-zero terms.
        return ring.dtype({m: c for m, c in terms.items() if c})
