"""Random polynomials with a prescribed degree and number of terms, shared by the SymPy, FLINT and Sage samplers.

The samplers draw exactly as calt-x 1.5.0's do, so a generator ported from CALT gives the same
polynomials for the same seed: SymPy's and FLINT's from Python's ``random``, by the monomial and coefficient
rules below (``PythonRandomSampler``: the same polynomials on both); Sage's from Sage's randstate
(``set_random_seed``), through Sage's own ``random_element``. The core reseeds both before each sample. As in CALT, ``strictly_conditioned`` rejects candidates until one has
exactly the drawn degree and number of terms. Backends supply the random source, the candidate draw,
the ring and how a ``{exponents: coefficient}`` dict becomes a polynomial.
"""
from __future__ import annotations

import functools
import math
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np


FIELD_CHOICES = "QQ, RR, ZZ, GF(p) or GFp with p prime (e.g. GF(7), GF7)"
#: Bounds on what a sampler may be asked for, far beyond any dataset's needs but finite: drawing a monomial
#: as CALT does costs time in proportion to the degree (10,000: tens of milliseconds a polynomial; 10^9 would
#: never end), and a polynomial may get up to as many terms as there are monomials, all of them listed when
#: it gets most (a million: seconds a polynomial, hundreds of MB).
MAX_DEGREE = 10_000
MAX_TERMS = 1_000_000
SAMPLING_CHOICES = ("uniform", "fixed")
MATRIX_TYPES = (None, "unimodular_upper_triangular")


@dataclass(frozen=True)
class FieldSpec:
    """A parsed ``field_str``: its kind (QQ, RR, ZZ, GF) and, for GF, the prime."""

    kind: str
    characteristic: int = 0


def parse_field(field_str: Any) -> FieldSpec:
    """``"QQ"``, ``"RR"``, ``"ZZ"``, ``"GF(p)"`` or ``"GFp"`` (p prime), else a ValueError saying what is allowed."""
    if isinstance(field_str, str):
        text = field_str.replace(" ", "")
        if text in ("QQ", "RR", "ZZ"):
            return FieldSpec(text)
        if text.startswith("GF"):
            digits = text[3:-1] if text.startswith("GF(") and text.endswith(")") else text[2:]
            if digits.isdigit():
                p = int(digits)
                from sympy import isprime  # here: a SageMath worker unpickling its sampler need not import SymPy

                if isprime(p):  # Baillie-PSW: instant for GF(2^127-1), where trial division never ends
                    return FieldSpec("GF", p)
                raise ValueError(f"field_str={field_str!r} is not allowed: GF(n) needs n prime (prime fields only), got n={p}")
    raise ValueError(f"field_str={field_str!r} is not supported; use {FIELD_CHOICES}")


def symbol_names(symbols: str) -> list[str]:
    """The names in ``symbols``, separated by commas or spaces (``"x, y"``, ``"x y"``; ``"x,,y"`` has an empty
    one between its commas)."""
    return re.split(r"\s*,\s*|\s+", symbols.strip(" ,"))


def check_symbols(symbols: Any) -> list[str]:
    """Variable names of a ring: a string such as ``"x, y"`` of distinct identifiers, separated by commas or
    spaces (``"x, x"``, ``"x, 1y"`` or ``"x,,y"`` would write wrong mathematics or none); returns the names."""
    names = symbol_names(symbols) if isinstance(symbols, str) else []
    bad = [name for name in names if not name.isidentifier()]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if not names or bad or repeated:
        if bad:
            reason = f": {bad[0]!r} is not a name" if bad[0] or len(names) == 1 else ": a name is missing between two commas"
        else:
            reason = f": {repeated[0]!r} appears twice" if repeated else ""
        raise ValueError(
            f"symbols={symbols!r} is not allowed{reason}; use distinct variable names (letters, digits, _; not "
            "starting with a digit) separated by commas, such as 'x, y'"
        )
    return names


def check_choice(name: str, value: Any, choices: tuple) -> None:
    if value not in choices:
        raise ValueError(f"{name}={value!r} is not allowed; use one of {', '.join(map(repr, choices))}")


def check_int(name: str, value: Any, minimum: int, allow_none: bool = False, maximum: int | None = None) -> None:
    if value is None and allow_none:
        return
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum or (maximum is not None and value > maximum):
        extra = " or None" if allow_none else ""
        bounds = f">= {minimum}" if maximum is None else f"from {minimum} to {maximum:,}"
        raise ValueError(f"{name}={value!r} is not allowed; use an integer {bounds}{extra}")


# --- monomials by rank --------------------------------------------------------------------------------
def count_monomials(n: int, degree: int) -> int:
    """Monomials of total degree exactly ``degree`` in ``n`` variables."""
    return math.comb(degree + n - 1, n - 1) if n > 0 else int(degree == 0)


def count_monomials_upto(n: int, degree: int) -> int:
    """Monomials of total degree at most ``degree`` in ``n`` variables."""
    return math.comb(degree + n, n)


def unrank_monomial(n: int, degree: int, rank: int) -> tuple[int, ...]:
    """The ``rank``-th monomial of total degree exactly ``degree`` (first variable's exponent descending)."""
    exponents = []
    remaining = degree
    for i in range(n - 1):
        for e in range(remaining, -1, -1):
            completions = count_monomials(n - i - 1, remaining - e)
            if rank < completions:
                exponents.append(e)
                remaining -= e
                break
            rank -= completions
    exponents.append(remaining)
    return tuple(exponents)


def monomials_of_degree(n: int, degree: int) -> tuple[tuple[int, ...], ...]:
    """Every monomial of total degree ``degree``, first variable's exponent descending (CALT's listing)."""
    return _kept_listing(n, degree) or _listing(n, degree)


def _listing(n: int, degree: int) -> tuple[tuple[int, ...], ...]:
    return tuple(unrank_monomial(n, degree, r) for r in range(count_monomials(n, degree)))


#: Degrees with at most this many monomials have their listing built once and kept (a draw then costs a look-up,
#: not an unranking: SymPy's polynomial draws 30% faster); larger ones are unranked each time.
_LISTED_MONOMIALS = 4096


@functools.lru_cache(maxsize=None)
def _kept_listing(n: int, degree: int) -> tuple[tuple[int, ...], ...] | None:
    return _listing(n, degree) if count_monomials(n, degree) <= _LISTED_MONOMIALS else None


#: ``random``'s source of bits (the module-level generator that ``random.seed`` seeds, as ``random.randint``'s).
_getrandbits = random.getrandbits


def randbelow(n: int) -> int:
    """``random.randrange(n)`` (``random.randint(a, b)`` is ``a + randbelow(b - a + 1)``) for an int ``n >= 1``:
    the same bits of ``random`` taken the same way, CPython's rejection sampling of ``n.bit_length()`` bits
    (unchanged since Python 3.2), without randint's checks and calls, which cost more than the draw itself."""
    k = n.bit_length()
    r = _getrandbits(k)
    while r >= n:
        r = _getrandbits(k)
    return r


def random_monomials(n: int, degree: int, terms: int, choose_degree: bool) -> list[tuple[int, ...]]:
    """``terms`` distinct monomials of degree at most ``degree`` (``terms`` capped at how many there are),
    drawn from ``random`` exactly as calt-x's SymPy ``SinglePolynomialSampler.random_element`` draws them.

    Uniform over all such monomials, or (``choose_degree``) each one by a uniform degree first. Few terms
    (under half of all monomials): draw monomials until ``terms`` distinct ones are found, returned in the
    iteration order of the set they were collected in, as CALT pairs them with coefficients. Many terms:
    list every monomial (by degree, then as ``monomials_of_degree``) and either strike out random ones
    until ``terms`` remain, or (``choose_degree``) take random ones out, a non-empty degree class first.
    """
    total = count_monomials_upto(n, degree)
    terms = min(terms, total)
    if 2 * terms < total:
        return list(_distinct_monomials(_MonomialTable.of(n, degree), terms, choose_degree))
    if not choose_degree:
        pool = [m for d in range(degree + 1) for m in monomials_of_degree(n, d)]
        for _ in range(total - terms):
            pool.pop(randbelow(len(pool)))
        return pool
    classes = [list(monomials_of_degree(n, d)) for d in range(degree + 1)]
    picked = []
    for _ in range(terms):
        c = randbelow(len(classes))
        picked.append(classes[c].pop(randbelow(len(classes[c]))))
        if not classes[c]:
            classes.pop(c)
    return picked


class _MonomialTable:
    """What drawing monomials of degree at most ``degree`` in ``n`` variables looks up: each degree's number of
    monomials and its bit length (``randbelow``'s), and its CALT listing, built on first use where it is kept."""

    __slots__ = ("n", "degree", "total", "counts", "bits", "listings")

    def __init__(self, n: int, degree: int) -> None:
        self.n, self.degree, self.total = n, degree, count_monomials_upto(n, degree)
        self.counts = [count_monomials(n, d) for d in range(degree + 1)]
        self.bits = [count.bit_length() for count in self.counts]
        self.listings: list = [None] * (degree + 1)

    @staticmethod
    @functools.lru_cache(maxsize=256)
    def of(n: int, degree: int) -> _MonomialTable:
        return _MonomialTable(n, degree)

    def monomial(self, d: int, index: int) -> tuple[int, ...]:
        """The ``index``-th monomial of degree ``d`` in CALT's numbering (last variable's exponent descending)."""
        listing = self.listings[d]
        if listing is None:
            listing = self.listings[d] = _kept_listing(self.n, d) or ()
        if listing:
            return listing[-1 - index]
        return unrank_monomial(self.n, d, self.counts[d] - 1 - index)


def _distinct_monomials(table: _MonomialTable, terms: int, choose_degree: bool) -> set[tuple[int, ...]]:
    """Monomials drawn until ``terms`` distinct ones are found (``randbelow`` inlined: this loop is most of a
    polynomial's draw)."""
    getrandbits, counts, bits, monomial = _getrandbits, table.counts, table.bits, table.monomial
    chosen: set[tuple[int, ...]] = set()
    if choose_degree:
        degrees = table.degree + 1
        k = degrees.bit_length()
        while len(chosen) < terms:
            d = getrandbits(k)
            while d >= degrees:
                d = getrandbits(k)
            count, k_index = counts[d], bits[d]
            index = getrandbits(k_index)
            while index >= count:
                index = getrandbits(k_index)
            chosen.add(monomial(d, index))
        return chosen
    while len(chosen) < terms:
        index, d = randbelow(table.total), 0
        while index >= counts[d]:
            index -= counts[d]
            d += 1
        chosen.add(monomial(d, index))
    return chosen


# --- coefficients -----------------------------------------------------------------------------------
def _check_range(low: float, high: float, non_zero: bool) -> None:
    if low > high:
        raise ValueError(f"min={low} must be <= max={high}")
    if non_zero and low == high == 0:
        raise ValueError("cannot draw a non-zero coefficient with min=0 and max=0")


def _integer_draw(low: Any, high: Any) -> Callable[[], int]:
    """``random.randint(low, high)`` as a function of no arguments: through ``randbelow`` for int bounds (those
    of every sampler), through ``randint`` itself otherwise (its conversions and errors)."""
    if isinstance(low, int) and isinstance(high, int) and low <= high:
        width = high - low + 1
        return lambda: low + randbelow(width)
    return lambda: random.randint(low, high)


def random_numbers(spec: FieldSpec, count: int, non_zero: bool, low: float, high: float, num_bound: int) -> list:
    """``count`` random coefficients as plain Python values: ints (ZZ, GF), (numerator, denominator) pairs (QQ),
    floats (RR).

    Drawn from ``random`` as calt-x's SymPy ``random_coeff`` draws each: a zero is redrawn whole (for QQ,
    numerator and denominator both) when ``non_zero``.
    """
    if spec.kind == "GF":  # the hot path (the default job's field): randbelow inlined
        p = spec.characteristic
        k = p.bit_length()
        values = []
        for _ in range(count):
            value = _getrandbits(k)
            while value >= p or (non_zero and not value):
                value = _getrandbits(k)
            values.append(value)
        return values
    if spec.kind == "QQ":
        if num_bound <= 0:
            raise ValueError(f"num_bound={num_bound} must be > 0")
        numerator, denominator = _integer_draw(-num_bound, num_bound), _integer_draw(1, num_bound)
        draw: Callable[[], Any] = lambda: (numerator(), denominator())  # noqa: E731
        is_zero: Callable[[Any], bool] = lambda v: v[0] == 0  # noqa: E731
    else:
        _check_range(low, high, non_zero)
        draw = _integer_draw(low, high) if spec.kind == "ZZ" else (lambda: random.uniform(low, high))
        is_zero = lambda v: v == 0  # noqa: E731
    values = []
    for _ in range(count):
        value = draw()
        while non_zero and is_zero(value):
            value = draw()
        values.append(value)
    return values


class PolynomialSamplerBase:
    """The backend-independent part of ``PolynomialSampler``: checks, degree/term choice, matrices.

    A backend subclass implements ``get_field``, ``get_ring``, ``_ring_ngens``, ``_make_coefficient``,
    ``_from_dict`` and ``_matrix``, and sets ``_spec``; the ring is built once and reused.
    """

    def _init_common(
        self,
        field_str: Any,
        max_num_terms: int | None,
        max_degree: int,
        min_degree: int,
        degree_sampling: str,
        term_sampling: str,
        max_coeff: int | None,
        num_bound: int | None,
        strictly_conditioned: bool,
        nonzero_instance: bool,
        nonzero_coeff: bool,
        max_attempts: int,
    ) -> None:
        check_int("max_degree", max_degree, 0, maximum=MAX_DEGREE)
        check_int("min_degree", min_degree, 0)
        if min_degree > max_degree:
            raise ValueError(f"min_degree={min_degree} is above max_degree={max_degree}; need min_degree <= max_degree")
        check_int("max_num_terms", max_num_terms, 1, allow_none=True)
        check_choice("degree_sampling", degree_sampling, SAMPLING_CHOICES)
        check_choice("term_sampling", term_sampling, SAMPLING_CHOICES)
        check_int("max_coeff", max_coeff, 1, allow_none=True)
        check_int("num_bound", num_bound, 1, allow_none=True)
        check_int("max_attempts", max_attempts, 1)
        self.field_str = field_str
        self.max_num_terms = max_num_terms
        self.max_degree = max_degree
        self.min_degree = min_degree
        self.degree_sampling = degree_sampling
        self.term_sampling = term_sampling
        self.max_coeff = max_coeff
        self.num_bound = num_bound
        self.strictly_conditioned = strictly_conditioned
        self.nonzero_instance = nonzero_instance
        self.nonzero_coeff = nonzero_coeff
        self.max_attempts = max_attempts
        self._ring = None

    def _check_terms(self, variables: int) -> None:
        """Refuse settings that let a polynomial of ``variables`` variables get more than ``MAX_TERMS`` terms."""
        possible = count_monomials_upto(variables, self.max_degree)
        most = possible if self.max_num_terms is None else min(self.max_num_terms, possible)
        if most > MAX_TERMS:
            raise ValueError(
                f"max_num_terms={self.max_num_terms!r} is not allowed with max_degree={self.max_degree} in {variables} "
                f"variables: a polynomial could get {most:,} terms (every monomial of degree <= {self.max_degree}), "
                f"and at most {MAX_TERMS:,} can be sampled; set max_num_terms to {MAX_TERMS:,} or fewer"
            )

    #: Attributes rebuilt in each process rather than pickled (SymPy's GF(p) rings do not pickle).
    _process_local: tuple[str, ...] = ("_ring",)

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        for name in self._process_local:
            state[name] = None
        return state

    @property
    def field_spec(self) -> FieldSpec:
        """The kind of field (and characteristic) the polynomials' coefficients lie in."""
        return self._spec

    def _ring_ngens(self, ring: Any) -> int:
        raise NotImplementedError

    def _make_coefficient(self, ring: Any, value: Any) -> Any:
        raise NotImplementedError

    def _from_dict(self, ring: Any, terms: dict[tuple[int, ...], Any]) -> Any:
        raise NotImplementedError

    def _zero_like(self, poly: Any) -> Any:
        return poly * 0

    def get_ring(self) -> Any:
        raise NotImplementedError

    def settings(self) -> dict[str, Any]:
        """The sampler's parameters, as a dataset card reports them."""
        names = ("symbols", "field_str", "order", "max_num_terms", "max_degree", "min_degree", "degree_sampling",
                 "term_sampling", "max_coeff", "num_bound", "strictly_conditioned", "nonzero_instance",
                 "nonzero_coeff", "max_attempts")
        return {name: getattr(self, name, None) for name in names}

    # -- shared sampling ---------------------------------------------------------------------------
    # calt-x's two backends share the outline below and differ in the random source (Python's ``random``
    # for SymPy, Sage's randstate for Sage), in how a candidate is drawn and in the zero polynomial's degree.
    def total_degree(self, poly: Any) -> int:
        """Total degree of a polynomial (0 for the zero polynomial)."""
        raise NotImplementedError

    def num_terms(self, poly: Any) -> int:
        """Number of terms of a polynomial."""
        raise NotImplementedError

    def reseed_sources(self, seed: int) -> None:
        """Seed the random sources the sampler draws from besides Python's ``random`` (none for SymPy)."""

    def _randint(self, low: int, high: int) -> int:
        """A uniform integer in [low, high] from the backend's random source."""
        raise NotImplementedError

    def _random_unit(self) -> float:
        """A uniform number in [0, 1) from the backend's random source (matrix density)."""
        raise NotImplementedError

    def _candidate(self, ring: Any, degree: int, num_terms: int) -> Any:
        """One random polynomial of degree at most ``degree`` with at most ``num_terms`` terms."""
        raise NotImplementedError

    def _candidate_degree(self, poly: Any) -> int:
        """The degree that the acceptance test compares (the backends disagree on the zero polynomial)."""
        return self.total_degree(poly)

    def _target_shape(self, ngens: int) -> tuple[int, int]:
        """The degree and number of terms a polynomial is drawn for (the first draws of each polynomial)."""
        degree = self._randint(self.min_degree, self.max_degree) if self.degree_sampling == "uniform" else self.max_degree
        possible = count_monomials_upto(ngens, degree)
        max_terms = possible if self.max_num_terms is None else min(self.max_num_terms, possible)
        return degree, self._randint(1, max_terms) if self.term_sampling == "uniform" else max_terms

    def _accepts(self, is_zero: bool, poly_degree: int, poly_terms: int, degree: int, num_terms: int) -> bool:
        """Whether a candidate meets the sampler's conditions (as calt-x's samplers test them)."""
        if (self.nonzero_instance and is_zero) or poly_degree < self.min_degree:
            return False
        return not self.strictly_conditioned or (poly_degree == degree and poly_terms == num_terms)

    def _exhausted(self, degree: int, num_terms: int) -> RuntimeError:
        return RuntimeError(
            f"no polynomial of degree {degree} with {num_terms} terms over {self.field_str} met the sampler's "
            f"conditions in max_attempts={self.max_attempts} attempts (nonzero_instance={self.nonzero_instance}, "
            f"min_degree={self.min_degree}, strictly_conditioned={self.strictly_conditioned}); loosen them or "
            f"raise max_attempts"
        )

    def _sample_polynomial(self) -> Any:
        """Draw a target degree and number of terms, then candidates until one meets the conditions."""
        ring = self.get_ring()
        degree, num_terms = self._target_shape(self._ring_ngens(ring))
        for _ in range(self.max_attempts):
            poly = self._candidate(ring, degree, num_terms)
            # ``not poly``, not ``== 0``: Sage coerces the 0 first
            if self._accepts(not poly, self._candidate_degree(poly), self.num_terms(poly), degree, num_terms):
                return poly
        raise self._exhausted(degree, num_terms)

    def _sample_matrix(self, size: tuple[int, int], density: float, matrix_type: str | None) -> list[list[Any]]:
        rows, cols = size
        entries = []
        for _ in range(rows * cols):
            poly = self._sample_polynomial()
            entries.append(poly if self._random_unit() < density else self._zero_like(poly))
        matrix = [entries[r * cols : (r + 1) * cols] for r in range(rows)]
        if matrix_type == "unimodular_upper_triangular":
            ring = self.get_ring()
            one = self._from_dict(ring, {(0,) * self._ring_ngens(ring): self._make_coefficient(ring, 1)})
            zero = self._zero_like(one)
            for r in range(rows):
                for c in range(min(r + 1, cols)):
                    matrix[r][c] = one if r == c else zero
        return matrix

    def sample(
        self,
        num_samples: int = 1,
        size: tuple[int, int] | None = None,
        density: float = 1.0,
        matrix_type: str | None = None,
    ) -> list[Any]:
        """``num_samples`` polynomials, or (with ``size``) matrices of polynomials, the backend's own (numpy object
        arrays on SymPy and FLINT, Sage matrices on Sage).

        ``density`` is the probability that an entry is non-zero; ``matrix_type="unimodular_upper_triangular"``
        puts ones on the diagonal and zeros below it.
        """
        self._check_sample_args(num_samples, size, density, matrix_type)
        if size is None:
            return [self._sample_polynomial() for _ in range(num_samples)]
        return [self._matrix(self._sample_matrix(tuple(size), density, matrix_type)) for _ in range(num_samples)]

    def _matrix(self, rows: list[list[Any]]) -> Any:
        """The backend's matrix of these rows of polynomials."""
        raise NotImplementedError

    def _check_sample_args(self, num_samples: Any, size: Any, density: Any, matrix_type: Any) -> None:
        check_int("num_samples", num_samples, 1)
        if size is not None and not (
            isinstance(size, (tuple, list)) and len(size) == 2 and all(isinstance(s, int) and s > 0 for s in size)
        ):
            raise ValueError(f"size={size!r} is not allowed; use None or a (rows, cols) pair of positive integers")
        if not isinstance(density, (int, float)) or not 0.0 <= density <= 1.0:
            raise ValueError(f"density={density!r} is not allowed; use a number in [0, 1]")
        check_choice("matrix_type", matrix_type, MATRIX_TYPES)


# --- samplers drawing from Python's random (SymPy, FLINT) -------------------------------------------
class SinglePolynomialSamplerBase:
    """calt-x's SymPy ``SinglePolynomialSampler``: random coefficients and polynomials in a given ring, drawn
    from ``random`` exactly as calt-x draws them. A backend says how to read its rings and build elements."""

    def random_coeff(self, field: Any, non_zero: bool = False, **kwargs: Any) -> Any:
        """A random element of ``field`` (ZZ, QQ, RR or GF(p)).

        ``min``/``max`` bound ZZ and RR (default -10..10), ``num_bound`` bounds QQ numerators and
        denominators (default 10); ``non_zero`` excludes zero.
        """
        spec = self._spec_of(field)
        low, high, num_bound = kwargs.get("min", -10), kwargs.get("max", 10), kwargs.get("num_bound", 10)
        return self._element(field, random_numbers(spec, 1, non_zero, low, high, num_bound)[0])

    def random_element(
        self,
        R: Any,
        degree: int = 2,
        terms: int | None = None,
        choose_degree: bool = False,
        non_zero_coeff: bool = False,
        **kwargs: Any,
    ) -> Any:
        """A random polynomial of ``R`` of degree at most ``degree`` with ``terms`` distinct monomials (default 5).

        Monomials are uniform among those of degree at most ``degree`` (so higher degrees, being more
        numerous, are likelier), or with ``choose_degree`` uniform in degree first. Each gets a random
        coefficient (zero allowed unless ``non_zero_coeff``); ``kwargs`` as for ``random_coeff``.
        """
        if terms is not None and terms < 0:
            raise ValueError(f"terms={terms} must be >= 0")
        if degree < 0:
            raise ValueError(f"degree={degree} must be >= 0")
        n = self._ngens(R)
        if terms == 0:
            return self._polynomial(R, {})
        field = self._field_of(R)
        if degree == 0:
            return self._polynomial(R, {(0,) * n: self.random_coeff(field, non_zero=non_zero_coeff, **kwargs)})
        count = min(5, count_monomials_upto(n, degree)) if terms is None else terms
        monomials = random_monomials(n, degree, count, choose_degree)
        # All monomials first, then one coefficient each in the same order: CALT's order of draws.
        coefficients = [self.random_coeff(field, non_zero=non_zero_coeff, **kwargs) for _ in monomials]
        return self._polynomial(R, dict(zip(monomials, coefficients)))

    def _spec_of(self, field: Any) -> FieldSpec:
        """Which kind of field a coefficient field of the backend is."""
        raise NotImplementedError

    def _element(self, field: Any, value: Any) -> Any:
        """The element of ``field`` of a plain value from ``random_numbers``."""
        raise NotImplementedError

    def _field_of(self, ring: Any) -> Any:
        raise NotImplementedError

    def _ngens(self, ring: Any) -> int:
        raise NotImplementedError

    def _polynomial(self, ring: Any, terms: dict[tuple[int, ...], Any]) -> Any:
        """The polynomial of ``ring`` with these terms (zero coefficients dropped)."""
        raise NotImplementedError


class PythonRandomSampler(PolynomialSamplerBase):
    """Random polynomials (or matrices of them, as numpy object arrays) drawn from Python's ``random`` exactly
    as calt-x's SymPy sampler draws them, so ``random.seed(s)`` gives CALT's polynomials on every backend
    built on it (SymPy, FLINT): the same draws, the same polynomials, the same text.

    ``field_str``: QQ, RR, ZZ, GF(p) or GFp; ``order``: lex, grlex, grevlex (or Sage's deglex, degrevlex),
    kept under the backend's own name (``canonical_order``). Every value is checked here, so a bad
    configuration fails before any work. The ring is built once per process and reused. ``order`` defaults
    to grevlex, as in calt-x 1.x. ``nonzero_coeff`` (an addition to CALT's SymPy signature, as in its Sage
    one) excludes zero coefficients; None (the default) follows ``nonzero_instance``, which is what calt-x's
    SymPy sampler does. A backend implements the ring (``get_ring``, ``get_field``, ``_ring_order_of``),
    building polynomials (``_make_coefficient``, ``_from_dict``) and reading them (``total_degree``,
    ``num_terms``, ``_ring_ngens``).
    """

    default_order: ClassVar[str]
    #: The backend's ``SinglePolynomialSampler`` (calt-x's ``sampler.single_poly_sampler``).
    single_sampler_class: ClassVar[type[SinglePolynomialSamplerBase]]

    def __init__(
        self,
        symbols: str,
        field_str: str,
        order: Any = "grevlex",
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
        self._spec = self._check_field(parse_field(field_str))
        self._ring_order = self._ring_order_of(self.order)
        self.single_poly_sampler = self.single_sampler_class()

    @classmethod
    def canonical_order(cls, order: Any) -> Any:
        """The order under the backend's own name; None is the default."""
        raise NotImplementedError

    def _ring_order_of(self, order: Any) -> Any:
        """The order as the backend's ring takes it; a ValueError naming the choices for an unknown one."""
        raise NotImplementedError

    def _check_field(self, spec: FieldSpec) -> FieldSpec:
        """The field, or a ValueError if the backend has no rings over it."""
        return spec

    def _matrix(self, rows: list[list[Any]]) -> np.ndarray:
        """A numpy object array, filled entry by entry (``np.array`` would read a FLINT polynomial as a sequence)."""
        array = np.empty((len(rows), len(rows[0])), dtype=object)
        for r, row in enumerate(rows):
            for c, entry in enumerate(row):
                array[r, c] = entry
        return array

    def _randint(self, low: int, high: int) -> int:
        return low + randbelow(high - low + 1)

    def _random_unit(self) -> float:
        return random.random()

    def _sample_polynomial(self) -> Any:
        """calt-x's SymPy draw: a target degree and number of terms, then candidates (monomials, then a coefficient
        each, as ``SinglePolynomialSampler.random_element``) until one meets the conditions. Candidates are tested
        as plain ``{exponents: value}`` terms and only the accepted one becomes a polynomial of the ring: the same
        draws and the same polynomial as testing each built candidate, without building the rejected ones."""
        ring = self.get_ring()
        ngens = self._ring_ngens(ring)
        degree, num_terms = self._target_shape(ngens)
        spec, non_zero = self._spec, self.nonzero_coeff
        bound = self.max_coeff if self.max_coeff is not None else 10
        num_bound = self.num_bound if self.num_bound is not None else 10
        choose_degree = self.degree_sampling == "uniform"
        for _ in range(self.max_attempts):
            if degree == 0:  # a constant: CALT draws no monomial for it, only the coefficient
                monomials = [(0,) * ngens]
            else:
                monomials = random_monomials(ngens, degree, num_terms, choose_degree)
            values = random_numbers(spec, len(monomials), non_zero, -bound, bound, num_bound)
            terms = dict(zip(monomials, values))
            if not non_zero:  # the ring drops zero coefficients
                terms = {m: v for m, v in terms.items() if (v[0] if spec.kind == "QQ" else v)}
            poly_degree = max(map(sum, terms), default=0)
            if self._accepts(not terms, poly_degree, len(terms), degree, num_terms):
                return self._from_values(ring, terms)
        raise self._exhausted(degree, num_terms)

    def _from_values(self, ring: Any, terms: dict[tuple[int, ...], Any]) -> Any:
        """The polynomial with these non-zero terms, coefficients as plain values of ``random_numbers``."""
        return self._from_dict(ring, {m: self._make_coefficient(ring, v) for m, v in terms.items()})
