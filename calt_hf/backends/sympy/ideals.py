"""The backward samplers over SymPy's sparse polynomial rings (``sympy.polys.rings``).

There is no calt-x to match here: the draws are ours (``IdealOperations``), from Python's ``random`` (the
polynomials, sizes, permutations and points) and, for the order ideals, numpy's global generator as on
Sage, so a seed gives the same order ideal on both backends. A ring is a ``PolyRing`` (a calt_hf
``PolynomialSampler``'s ``get_ring()``, or ``ring("x, y", GF(7), lex)[0]``).

A sample is computed on plain ``{exponents: coefficient}`` dicts (the working polynomials), GF(p)
coefficients as ints in 0..p-1, other fields' as the domain's elements, drawn by ``TermsSampler`` with the
calls of SymPy's ``PolynomialSampler`` and multiplied and added by SymPy's own loops (``PolyElement.__mul__``
and ``__add__``, so the terms come in the same order and, over RR, with the same roundings); each polynomial
becomes a ``PolyElement`` once, at the end. SymPy's elements of GF(p) are Python objects (or FLINT's ``nmod``)
whose every operation allocates: this is 1.5x to 2x faster a sample (``scripts/bench.py --backward``).
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

from sympy.polys.matrices import DomainMatrix
from sympy.polys.orderings import lex
from sympy.polys.rings import PolyRing, ring as sympy_ring

from calt_hf.backends.sympy.sampler import PolynomialSampler, _spec_of
from calt_hf.conversion import per_ring
from calt_hf.ideals import bind
from calt_hf.ideals.common import field_name
from calt_hf.ideals.operations import IdealOperations, PythonRandomSource
from calt_hf.sampling import FieldSpec, PythonRandomSampler

__all__ = ["GroebnerBasisSampler", "GroebnerIdealTransformer", "BorderBasisSampler", "BorderIdealTransformer"]

#: GF(p) elements are made from a table of all of them up to this p (one look-up a coefficient).
_ELEMENT_TABLE_MAX = 1 << 16

Terms = dict  # a working polynomial: {exponents: coefficient}


class TermsSampler(PolynomialSampler):
    """SymPy's ``PolynomialSampler``, drawing with exactly its calls, that returns each polynomial as its
    ``{exponents: coefficient}`` dict (GF(p): ints in 0..p-1) rather than as a ``PolyElement``."""

    def _make_coefficient(self, ring: PolyRing, value: Any) -> Any:
        return value if self._spec.kind == "GF" else super()._make_coefficient(ring, value)

    def _from_dict(self, ring: PolyRing, terms: dict[tuple[int, ...], Any]) -> Terms:
        return {m: c for m, c in terms.items() if c}

    def _from_values(self, ring: PolyRing, terms: dict[tuple[int, ...], Any]) -> Terms:
        # The core's conversion (through the two methods above), not SymPy's, which builds a PolyElement.
        return PythonRandomSampler._from_values(self, ring, terms)

    def total_degree(self, poly: Terms) -> int:
        return max(map(sum, poly)) if poly else 0

    def num_terms(self, poly: Terms) -> int:
        return len(poly)

    def _zero_like(self, poly: Terms) -> Terms:
        return {}


class _Field(NamedTuple):
    """What the working arithmetic of one ring needs: the modulus (0 but over GF(p)), the zero coefficient,
    SymPy's monomial product, and how a working polynomial becomes a ``PolyElement``."""

    modulus: int
    zero: Any
    monomial_mul: Callable
    element: Callable[[Terms], Any]


def _field_of(ring: PolyRing) -> _Field:
    domain, dtype = ring.domain, ring.dtype
    if not domain.is_FiniteField:
        return _Field(0, domain.zero, ring.monomial_mul, dtype)
    modulus = int(domain.characteristic())
    if modulus <= _ELEMENT_TABLE_MAX:
        elements = [domain(v) for v in range(modulus)]
        return _Field(modulus, 0, ring.monomial_mul, lambda poly: dtype({m: elements[c] for m, c in poly.items()}))
    return _Field(modulus, 0, ring.monomial_mul, lambda poly: dtype({m: domain(c) for m, c in poly.items()}))


_field = per_ring(_field_of)


class SymPyIdealOperations(PythonRandomSource, IdealOperations):
    """SymPy's rings, Python's ``random`` and ``DomainMatrix``; working polynomials as dicts."""

    def field_spec(self, ring: Any) -> FieldSpec:
        if not isinstance(ring, PolyRing):
            raise ValueError(f"ring={ring!r} is not a SymPy PolyRing; give e.g. sampler.get_ring() or ring('x, y', GF(7), lex)[0]")
        try:
            return _spec_of(ring.domain)
        except NotImplementedError as error:
            raise ValueError(f"ring={ring} is not allowed: {error}") from error

    def gens(self, ring: Any) -> tuple:
        return tuple(self.from_ring(ring, ring.gens))

    def polynomial_sampler(self, ring: Any, **options: Any) -> TermsSampler:
        symbols = ", ".join(str(symbol) for symbol in ring.symbols)
        sampler = TermsSampler(symbols, field_name(self.field_spec(ring)), order=ring.order, **options)
        if sampler.get_ring() != ring:
            raise ValueError(f"ring={ring} is not allowed: its domain {ring.domain} is not one PolynomialSampler builds")
        return sampler

    def univariate_ring(self, ring: Any) -> Any:
        return sympy_ring(str(ring.symbols[-1]), ring.domain, lex)[0]

    def embed(self, poly: Terms, ring: Any) -> Terms:
        before = (0,) * (ring.ngens - 1)
        return {before + monomial: coefficient for monomial, coefficient in poly.items()}

    def monic(self, ring: Any, poly: Terms) -> Terms:
        """As ``PolyElement.monic``, in one variable (the leading monomial is the largest)."""
        if not poly:
            return poly
        leading, modulus = poly[max(poly)], _field(ring).modulus
        if modulus:
            inverse = pow(leading, -1, modulus)
            return poly if leading == 1 else {m: c * inverse % modulus for m, c in poly.items()}
        if leading == ring.domain.one:
            return poly
        quo = ring.domain.quo
        return {m: quo(c, leading) for m, c in poly.items()}

    def height(self, ring: Any, poly: Terms) -> Any:
        if not poly:
            return 0
        # int(): with python-flint installed SymPy's QQ and ZZ hold FLINT numbers, which do not compare with floats
        if ring.domain.is_QQ:
            return int(max(max(abs(c.numerator), c.denominator) for c in poly.values()))
        return max(abs(c) for c in poly.values())

    def from_terms(self, ring: Any, terms: dict[tuple[int, ...], Any]) -> Terms:
        modulus = _field(ring).modulus
        if modulus:
            return {m: r for m, c in terms.items() if (r := int(c) % modulus)}
        convert = ring.domain.convert
        return {m: v for m, c in terms.items() if (v := convert(c))}

    # -- working polynomials: PolyElement.__mul__ and __add__'s loops over dicts --------------------------
    def mul(self, ring: Any, f: Terms, g: Terms) -> Terms:
        if not f or not g:
            return {}
        modulus, zero, monomial_mul, _ = _field(ring)
        product: Terms = {}
        get = product.get
        g_terms = list(g.items())
        for e1, v1 in f.items():
            for e2, v2 in g_terms:
                e = monomial_mul(e1, e2)
                product[e] = get(e, zero) + v1 * v2
        if modulus:
            return {e: r for e, v in product.items() if (r := v % modulus)}
        return {e: v for e, v in product.items() if v}

    def add(self, ring: Any, f: Terms, g: Terms) -> Terms:
        modulus, zero, _, _ = _field(ring)
        total = dict(f)
        get = total.get
        for e, v in g.items():
            v = get(e, zero) + v
            if modulus:
                v %= modulus
            if v:
                total[e] = v
            else:
                del total[e]
        return total

    def zero(self, ring: Any, like: Terms) -> Terms:
        return {}

    def to_ring(self, ring: Any, polys: list) -> list:
        element = _field(ring).element
        return [element(poly) for poly in polys]

    def from_ring(self, ring: Any, polys: list) -> list:
        modulus = _field(ring).modulus
        if modulus:
            return [{m: int(c) % modulus for m, c in poly.items()} for poly in polys]
        return [dict(poly) for poly in polys]

    # -- linear algebra -------------------------------------------------------------------------------
    def solve(self, ring: Any, square: list[list[Any]], right: list[list[Any]]) -> list[list[Any]] | None:
        size, width = len(square), len(right[0])
        augmented = DomainMatrix([a + b for a, b in zip(square, right)], (size, size + width), ring.domain)
        reduced, pivots = augmented.rref()
        if tuple(pivots[:size]) != tuple(range(size)):
            return None
        return [row[size:] for row in reduced.to_list()]

    def coefficient_vector(self, ring: Any, values: list[Any]) -> Any:
        return [ring.domain.convert(value) for value in values]

    def _field_element(self, ring: Any) -> Any:
        return ring.domain


SYMPY_IDEALS = SymPyIdealOperations()


GroebnerBasisSampler, GroebnerIdealTransformer, BorderBasisSampler, BorderIdealTransformer = bind(SYMPY_IDEALS, __name__)
