"""``PolynomialSampler`` and ``SinglePolynomialSampler`` over SymPy's sparse polynomial rings."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
from sympy import GF, QQ, RR, ZZ
from sympy.polys.domains.domain import Domain
from sympy.polys.orderings import MonomialOrder, monomial_key
from sympy.polys.rings import PolyElement, PolyRing, ring

from calt_hf.sampling import (
    check_symbols,
    FieldSpec,
    PolynomialSamplerBase,
    count_monomials_upto,
    parse_field,
    random_monomials,
    random_number,
)

_GF_TABLE_MAX = 1 << 16

#: Term orders by name; Sage's names are accepted too, so one sampler config serves both backends.
ORDERS = {"lex": "lex", "grlex": "grlex", "grevlex": "grevlex", "deglex": "grlex", "degrevlex": "grevlex"}


def _check_order(order: Any) -> Any:
    if isinstance(order, MonomialOrder):
        return order
    if isinstance(order, str) and order in ORDERS:
        return monomial_key(ORDERS[order])
    raise ValueError(f"order={order!r} is not supported; use one of {', '.join(ORDERS)}")


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


class SinglePolynomialSampler:
    """Random coefficients and random polynomials in a given SymPy ring."""

    def random_coeff(self, field: Domain, non_zero: bool = False, **kwargs: Any) -> Any:
        """A random element of ``field`` (ZZ, QQ, RR or GF(p)).

        ``min``/``max`` bound ZZ and RR (default -10..10), ``num_bound`` bounds QQ numerators and
        denominators (default 10); ``non_zero`` excludes zero.
        """
        spec = _spec_of(field)
        low = kwargs.get("min", -10)
        high = kwargs.get("max", 10)
        return _to_domain(field, random_number(spec, non_zero, low, high, kwargs.get("num_bound", 10)))

    def random_element(
        self,
        R: PolyRing,
        degree: int = 2,
        terms: int | None = None,
        choose_degree: bool = False,
        non_zero_coeff: bool = False,
        **kwargs: Any,
    ) -> PolyElement:
        """A random polynomial of degree at most ``degree`` with ``terms`` distinct monomials (default 5).

        Monomials are uniform among those of degree at most ``degree`` (so higher degrees, being more
        numerous, are likelier), or with ``choose_degree`` uniform in degree first. Each gets a random
        coefficient (zero allowed unless ``non_zero_coeff``); ``kwargs`` as for ``random_coeff``.
        """
        if terms is not None and terms < 0:
            raise ValueError(f"terms={terms} must be >= 0")
        if degree < 0:
            raise ValueError(f"degree={degree} must be >= 0")
        if terms == 0:
            return R.zero
        if degree == 0:
            return R(self.random_coeff(R.domain, non_zero=non_zero_coeff, **kwargs))
        count = min(5, count_monomials_upto(R.ngens, degree)) if terms is None else terms
        monomials = random_monomials(R.ngens, degree, count, choose_degree)
        # All monomials first, then one coefficient each in the same order: CALT's order of draws.
        coefficients = [self.random_coeff(R.domain, non_zero=non_zero_coeff, **kwargs) for _ in monomials]
        return R.from_dict(dict(zip(monomials, coefficients)))


class PolynomialSampler(PolynomialSamplerBase):
    """Random polynomials (or matrices of them) in a SymPy ring, with degree and term constraints.

    ``field_str``: QQ, RR, ZZ, GF(p) or GFp; ``order``: lex, grlex, grevlex (or Sage's deglex,
    degrevlex). Every value is checked here, so a bad configuration fails before any work. The ring is
    built once per process and reused. ``order`` defaults to grevlex, as in calt-x 1.x. ``nonzero_coeff``
    (an addition to CALT's SymPy signature, as in its Sage one) excludes zero coefficients; None (the
    default) follows ``nonzero_instance``, which is what calt-x's SymPy sampler does.
    Draws come from Python's ``random``, exactly as calt-x's, so ``random.seed(s)`` gives CALT's polynomials.
    """

    default_order = "grevlex"

    def __init__(
        self,
        symbols: str,
        field_str: str,
        order: str | MonomialOrder = "grevlex",
        max_num_terms: int | None = 10,
        max_degree: int = 5,
        min_degree: int = 0,
        degree_sampling: str = "uniform",
        term_sampling: str = "uniform",
        max_coeff: int | None = None,
        num_bound: int | None = None,
        strictly_conditioned: bool = True,
        nonzero_instance: bool = True,
        max_attempts: int = 1000,
        nonzero_coeff: bool | None = None,
    ) -> None:
        if nonzero_coeff is None:
            nonzero_coeff = nonzero_instance
        self._init_common(
            field_str, max_num_terms, max_degree, min_degree, degree_sampling, term_sampling,
            max_coeff, num_bound, strictly_conditioned, nonzero_instance, nonzero_coeff, max_attempts,
        )
        self._check_terms(len(check_symbols(symbols)))
        self.symbols = symbols
        self.order = self.canonical_order(order)
        self._spec = parse_field(field_str)
        self._order_key = _check_order(self.order)
        self.single_poly_sampler = SinglePolynomialSampler()

    @classmethod
    def canonical_order(cls, order: Any) -> Any:
        """The order under SymPy's name (grevlex for degrevlex); None is the default, grevlex."""
        if order is None:
            return cls.default_order
        return ORDERS.get(order, order) if isinstance(order, str) else order

    @property
    def field_spec(self) -> FieldSpec:
        return self._spec

    def get_field(self) -> Domain:
        """The SymPy domain named by ``field_str``."""
        return _domain(self._spec)

    _process_local = ("_ring", "_gf_elements")
    _gf_elements: list | None = None  # GF(p) elements by value, built with the ring (p <= _GF_TABLE_MAX)

    def get_ring(self) -> PolyRing:
        """The polynomial ring, built on first use and reused."""
        if self._ring is None:
            self._ring = ring(self.symbols, self.get_field(), self._order_key)[0]
            if self._spec.kind == "GF" and self._spec.characteristic <= _GF_TABLE_MAX:
                self._gf_elements = [self._ring.domain(v) for v in range(self._spec.characteristic)]
        return self._ring

    def sample(
        self,
        num_samples: int = 1,
        size: tuple[int, int] | None = None,
        density: float = 1.0,
        matrix_type: str | None = None,
    ) -> list[PolyElement] | list[np.ndarray]:
        """``num_samples`` polynomials, or (with ``size``) matrices of polynomials as numpy object arrays.

        ``density`` is the probability that an entry is non-zero; ``matrix_type="unimodular_upper_triangular"``
        puts ones on the diagonal and zeros below it.
        """
        self._check_sample_args(num_samples, size, density, matrix_type)
        if size is None:
            return [self._sample_polynomial() for _ in range(num_samples)]
        matrices = []
        for _ in range(num_samples):
            array = np.empty(tuple(size), dtype=object)
            for r, row in enumerate(self._sample_matrix(tuple(size), density, matrix_type)):
                for c, entry in enumerate(row):
                    array[r, c] = entry
            matrices.append(array)
        return matrices

    def total_degree(self, poly: PolyElement) -> int:
        """Total degree of a polynomial (0 for the zero polynomial)."""
        return max(map(sum, poly.itermonoms())) if poly else 0

    def num_terms(self, poly: PolyElement) -> int:
        return len(poly)

    def _ring_ngens(self, ring: PolyRing) -> int:
        return ring.ngens

    def _randint(self, low: int, high: int) -> int:
        return random.randint(low, high)

    def _random_unit(self) -> float:
        return random.random()

    def _candidate(self, ring: PolyRing, degree: int, num_terms: int) -> PolyElement:
        # calt-x's SinglePolynomialSampler.random_element, with the coefficients made without conversions.
        spec, non_zero = self._spec, self.nonzero_coeff
        bound = self.max_coeff if self.max_coeff is not None else 10
        num_bound = self.num_bound if self.num_bound is not None else 10
        if degree == 0:  # a constant: CALT draws no monomial for it, only the coefficient
            monomials = [(0,) * ring.ngens]
        else:
            monomials = random_monomials(ring.ngens, degree, num_terms, self.degree_sampling == "uniform")
        values = [random_number(spec, non_zero, -bound, bound, num_bound) for _ in monomials]
        return self._from_dict(ring, {m: self._make_coefficient(ring, v) for m, v in zip(monomials, values)})

    def _make_coefficient(self, ring: PolyRing, value: Any) -> Any:
        if self._gf_elements is not None:
            return self._gf_elements[value]
        return _to_domain(ring.domain, value)

    def _from_dict(self, ring: PolyRing, terms: dict[tuple[int, ...], Any]) -> PolyElement:
        # Coefficients are already domain elements: skip from_dict's conversion, keep only non-zero terms.
        return ring.dtype({m: c for m, c in terms.items() if c})
