"""``PolynomialSampler`` over Sage polynomial rings (Singular's ``MPolynomial_libsingular`` for QQ, ZZ, GF(p)).

The outline is the shared ``PolynomialSamplerBase``; the draws are calt-x 1.5.0's Sage draws, from Sage's
randstate (``set_random_seed``, which the core reseeds before each sample): a candidate's monomials come
from Sage's ``random_element`` of the same ring over ZZ (univariate: a ``sample`` of the degrees), then
one coefficient per monomial in that polynomial's term order. Sage rings pickle cheaply (about 0.9 KB,
0.2 ms, and unpickle to the same cached ring), so the ring is built once, in the constructor, and
travels with the sampler.
"""

from __future__ import annotations

import functools
from typing import Any

from sage.all__sagemath_singular import GF, QQ, RR, ZZ, MatrixSpace, PolynomialRing
from sage.misc.prandom import randint, sample
from sage.rings.polynomial.multi_polynomial import MPolynomial
from sage.rings.polynomial.multi_polynomial_libsingular import MPolynomial_libsingular
from sage.rings.polynomial.polynomial_element import Polynomial
from sage.rings.polynomial.term_order import TermOrder

from calt_hf.backends.sagemath.adapter import reseed_sage
from calt_hf.sampling import FieldSpec, PolynomialSamplerBase, check_symbols, parse_field, symbol_names

#: SymPy's names for the usual orders; Sage's own names (and TermOrder objects) are passed through.
SYMPY_ORDERS = {"grlex": "deglex", "grevlex": "degrevlex"}
#: Term orders without weights, under which Singular's degree of a monomial is the sum of its exponents.
UNWEIGHTED_ORDERS = frozenset({"lex", "deglex", "degrevlex", "invlex", "neglex", "negdeglex", "negdegrevlex"})


def _sage_order(order: Any, ngens: int) -> TermOrder:
    try:
        return TermOrder(SYMPY_ORDERS.get(order, order) if isinstance(order, str) else order, ngens)
    except (ValueError, TypeError) as error:
        raise ValueError(
            f"order={order!r} is not supported; use lex, grlex, grevlex or a Sage term order "
            f"(deglex, degrevlex, ...): {error}"
        ) from error


def _field(spec: FieldSpec) -> Any:
    return GF(spec.characteristic) if spec.kind == "GF" else {"QQ": QQ, "RR": RR, "ZZ": ZZ}[spec.kind]


def _spec_of(base: Any) -> FieldSpec:
    for kind, candidate in (("QQ", QQ), ("RR", RR), ("ZZ", ZZ)):
        if base is candidate:
            return FieldSpec(kind)
    if base.is_finite() and base.is_prime_field():
        return FieldSpec("GF", int(base.characteristic()))
    raise ValueError(f"ring over {base} is not supported: random coefficients need QQ, RR, ZZ or GF(p)")


@functools.lru_cache(maxsize=64)
def _matrix_space(ring: Any, rows: int, cols: int) -> Any:
    """Sage's space of ``rows x cols`` matrices over ``ring``: found once (``matrix(ring, ...)`` looks it up again
    each time, 140 us of a 5 x 3 matrix's 147)."""
    return MatrixSpace(ring, rows, cols)


def _is_polynomial_ring(ring: Any) -> bool:
    try:
        return isinstance(ring.gen(0), (MPolynomial, Polynomial))
    except (AttributeError, IndexError, ValueError, TypeError):
        return False


class PolynomialSampler(PolynomialSamplerBase):
    """Random polynomials (or Sage matrices of them) with degree and term constraints, CALT's Sage API.

    Give either ``ring`` (a Sage polynomial ring over QQ, RR, ZZ or GF(p)) or ``symbols`` (``"x, y"``)
    and ``field_str`` (QQ, RR, ZZ, GF(p) or GFp), with ``order`` (Sage's lex, deglex, degrevlex, ... or
    SymPy's grlex, grevlex, so one config serves both backends; default degrevlex, as in calt-x 1.x).
    The order is kept under Sage's name (``self.order == "degrevlex"`` for grevlex); with ``ring`` it is
    the ring's, and ``order`` may only repeat it (the default is ignored). One symbol gives Sage's
    univariate ring, as ``PolynomialRing`` does. ``nonzero_coeff`` defaults to True, as in calt-x 1.x.
    Every value is checked here, before any sampling.
    """

    _process_local = ()  # the ring pickles (see the module docstring)
    default_order = "degrevlex"

    def __init__(
        self,
        symbols: str | None = None,
        field_str: str | None = None,
        order: str | TermOrder | None = "degrevlex",
        ring: Any = None,
        max_num_terms: int | None = 10,
        max_degree: int = 5,
        min_degree: int = 0,
        degree_sampling: str = "uniform",
        term_sampling: str = "uniform",
        max_coeff: int | None = None,
        num_bound: int | None = None,
        strictly_conditioned: bool = True,
        nonzero_instance: bool = True,
        nonzero_coeff: bool | None = True,
        max_attempts: int = 1000,
    ) -> None:
        if ring is not None:
            if symbols is not None or field_str is not None:
                raise ValueError("Cannot specify both ring and symbols/field_str")
        elif symbols is None or field_str is None:
            raise ValueError("Must specify either ring or both symbols and field_str")
        if nonzero_coeff is None:
            nonzero_coeff = True
        self._init_common(
            field_str, max_num_terms, max_degree, min_degree, degree_sampling, term_sampling,
            max_coeff, num_bound, strictly_conditioned, nonzero_instance, nonzero_coeff, max_attempts,
        )
        self.ring, self.symbols = ring, symbols
        if ring is not None:
            if not _is_polynomial_ring(ring):
                raise ValueError(f"ring={ring!r} is not a Sage polynomial ring")
            self._spec = _spec_of(ring.base_ring())
            self._ring = ring
            own = ring.term_order().name() if isinstance(ring.gen(), MPolynomial) else None
            given = self.canonical_order(order)
            if order is not None and own is not None and given not in (own, self.default_order):
                raise ValueError(f"order={order!r} contradicts ring={ring!r}, whose order is {own!r}; omit order")
            self.order = own
        else:
            check_symbols(symbols)
            self._spec = parse_field(field_str)
            self.order = self.canonical_order(order)
            names = symbol_names(symbols)
            try:
                self._ring = PolynomialRing(_field(self._spec), names, order=_sage_order(self.order, len(names)))
            except (ValueError, TypeError) as error:
                raise ValueError(f"symbols={symbols!r} do not name a polynomial ring: {error}") from error
        self._check_terms(self._ring.ngens())
        self._multivariate = isinstance(self._ring.gen(), MPolynomial)
        # Singular's degree (0.7 us) is the weighted one: the standard degree under the unweighted orders only;
        # ``degree(None, True)`` (2-3 us) otherwise.
        self._singular_degree = isinstance(self._ring.gen(), MPolynomial_libsingular) and (
            self._ring.term_order().name() in UNWEIGHTED_ORDERS
        )
        self._univariate_draw = self._ring.ngens() == 1  # calt-x draws one variable's degrees directly
        if not self._univariate_draw:  # the ring whose random_element chooses a candidate's monomials
            self._shapes = PolynomialRing(ZZ, self._ring.variable_names(), order=self._ring.term_order())

    @classmethod
    def canonical_order(cls, order: Any) -> Any:
        """The order under Sage's name (degrevlex for grevlex); None is the default, degrevlex."""
        if order is None:
            return cls.default_order
        return SYMPY_ORDERS.get(order, order) if isinstance(order, str) else order

    def get_field(self) -> Any:
        """The coefficient field (or ZZ) of the ring."""
        return self._ring.base_ring()

    def get_ring(self) -> Any:
        """The polynomial ring: built once, in the constructor, and reused."""
        return self._ring

    def _matrix(self, rows: list[list[Any]]) -> Any:
        return _matrix_space(self._ring, len(rows), len(rows[0]))(rows)

    def total_degree(self, poly: Any) -> int:
        """Total (standard, unweighted) degree of a polynomial; 0 for the zero polynomial."""
        if self._singular_degree:
            return max(int(poly.total_degree()), 0)  # a Python int: Sage's Integer is slow in the statistics' sums
        return max(int(poly.degree(None, True) if self._multivariate else poly.degree()), 0)

    def num_terms(self, poly: Any) -> int:
        return poly.number_of_terms()

    def _ring_ngens(self, ring: Any) -> int:
        return ring.ngens()

    def reseed_sources(self, seed: int) -> None:
        """Seed Sage's randstate, which the draws come from (the core's fast scheme, not ``set_random_seed``)."""
        reseed_sage(seed)

    def _randint(self, low: int, high: int) -> int:
        return randint(low, high)

    def _random_unit(self) -> float:
        return RR.random_element(0, 1)

    def _candidate_degree(self, poly: Any) -> int:
        # Sage's own degree, -1 for zero: as in calt-x, a zero candidate never passes the degree test.
        return poly.degree() if self._univariate_draw else poly.total_degree()

    def _candidate(self, ring: Any, degree: int, num_terms: int) -> Any:
        if self._univariate_draw:
            exponents = [(d,) for d in sorted(sample(range(degree + 1), num_terms))]
        else:
            # Coefficients 1 to 1 (x=1, y=2): only the monomials of Sage's draw are kept, in its term order.
            shape = self._shapes.random_element(
                degree=degree, terms=num_terms, choose_degree=self.degree_sampling == "uniform", x=1, y=2
            )
            exponents = list(shape.dict())
        return self._from_dict(ring, {e: self._coefficient() for e in exponents})

    def _coefficient(self) -> Any:
        """One coefficient, drawn as calt-x's Sage sampler does (a coin from RR for the sign of a non-zero one)."""
        kind, non_zero = self._spec.kind, self.nonzero_coeff
        bound = self.max_coeff if self.max_coeff is not None else 10
        if kind == "GF":
            return randint(1 if non_zero else 0, self._spec.characteristic - 1)
        if kind == "RR":
            value = RR.random_element(min=-bound, max=bound)
            while non_zero and value == 0:
                value = RR.random_element(min=-bound, max=bound)
            return value
        if kind == "QQ":
            bound = self.num_bound if self.num_bound is not None else 10
        if non_zero:
            numerator = randint(1, bound) if RR.random_element(0, 1) < 0.5 else randint(-bound, -1)
        else:
            numerator = randint(-bound, bound)
        return QQ(numerator) / QQ(randint(1, bound)) if kind == "QQ" else numerator

    def _make_coefficient(self, ring: Any, value: Any) -> Any:
        # Coefficients are converted by the ring with the whole dict.
        return value

    def _from_dict(self, ring: Any, terms: dict[tuple[int, ...], Any]) -> Any:
        if self._multivariate:
            return ring(terms)
        return ring({exponents[0]: coeff for exponents, coeff in terms.items()})
