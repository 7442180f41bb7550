"""Random polynomials with a prescribed degree and number of terms, shared by the SymPy and Sage samplers.

The samplers draw from Python's ``random`` (which the core reseeds before each sample), so a generator
that uses them is reproducible. Monomials are drawn by rank (stars and bars), never by listing every
monomial, and under ``strictly_conditioned`` a polynomial with exactly the drawn degree and number of
terms is built directly (one monomial of the top degree, non-zero coefficients) instead of by rejection.
Backends supply only the field, the ring and how a ``{exponents: coefficient}`` dict becomes a polynomial.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sympy import isprime

FIELD_CHOICES = "QQ, RR, ZZ, GF(p) or GFp with p prime (e.g. GF(7), GF7)"
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
                if isprime(p):  # Baillie-PSW: instant for GF(2^127-1), where trial division never ends
                    return FieldSpec("GF", p)
                raise ValueError(f"field_str={field_str!r} is not allowed: GF(n) needs n prime (prime fields only), got n={p}")
    raise ValueError(f"field_str={field_str!r} is not supported; use {FIELD_CHOICES}")


def check_symbols(symbols: Any) -> None:
    """Variable names of a ring: a string such as ``"x, y"`` of distinct identifiers, separated by commas or
    spaces (``"x, x"`` or ``"x, 1y"`` would write wrong mathematics)."""
    names = re.split(r"[,\s]+", symbols.strip(" ,")) if isinstance(symbols, str) else []
    bad = [name for name in names if not name.isidentifier()]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if not names or not names[0] or bad or repeated:
        reason = f": {bad[0]!r} is not a name" if bad else f": {repeated[0]!r} appears twice" if repeated else ""
        raise ValueError(
            f"symbols={symbols!r} is not allowed{reason}; use distinct variable names (letters, digits, _; not "
            "starting with a digit) separated by commas, such as 'x, y'"
        )


def check_choice(name: str, value: Any, choices: tuple) -> None:
    if value not in choices:
        raise ValueError(f"{name}={value!r} is not allowed; use one of {', '.join(map(repr, choices))}")


def check_int(name: str, value: Any, minimum: int, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        extra = " or None" if allow_none else ""
        raise ValueError(f"{name}={value!r} is not allowed; use an integer >= {minimum}{extra}")


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


def unrank_monomial_upto(n: int, degree: int, rank: int) -> tuple[int, ...]:
    """The ``rank``-th monomial of total degree at most ``degree`` (by degree, then as ``unrank_monomial``)."""
    for d in range(degree + 1):
        size = count_monomials(n, d)
        if rank < size:
            return unrank_monomial(n, d, rank)
        rank -= size
    raise IndexError("monomial rank out of range")


def random_monomials(n: int, degree: int, terms: int, choose_degree: bool) -> list[tuple[int, ...]]:
    """``terms`` distinct monomials of degree at most ``degree``.

    Uniform over all such monomials, or (``choose_degree``) each one by a uniform degree first, then a
    uniform monomial of that degree.
    """
    total = count_monomials_upto(n, degree)
    terms = min(terms, total)
    if not choose_degree or terms > total // 2:
        return [unrank_monomial_upto(n, degree, r) for r in random.sample(range(total), terms)]
    chosen: dict[tuple[int, ...], None] = {}
    while len(chosen) < terms:
        d = random.randint(0, degree)
        chosen[unrank_monomial(n, d, random.randrange(count_monomials(n, d)))] = None
    return list(chosen)


def strict_monomials(n: int, degree: int, terms: int) -> list[tuple[int, ...]]:
    """``terms`` distinct monomials of degree at most ``degree``, at least one of degree exactly ``degree``."""
    top = unrank_monomial(n, degree, random.randrange(count_monomials(n, degree)))
    total = count_monomials_upto(n, degree)
    others = [m for m in (unrank_monomial_upto(n, degree, r) for r in random.sample(range(total), min(terms, total))) if m != top]
    return [top] + others[: terms - 1]


# --- coefficients -----------------------------------------------------------------------------------
def _check_range(low: float, high: float, non_zero: bool) -> None:
    if low > high:
        raise ValueError(f"min={low} must be <= max={high}")
    if non_zero and low == high == 0:
        raise ValueError("cannot draw a non-zero coefficient with min=0 and max=0")


def _until_non_zero(draw: Callable[[], Any], non_zero: bool) -> Any:
    while True:
        value = draw()
        if value or not non_zero:
            return value


def random_number(spec: FieldSpec, non_zero: bool, low: float, high: float, num_bound: int) -> Any:
    """A random coefficient as a plain Python value: int (ZZ, GF), (numerator, denominator) (QQ), float (RR)."""
    if spec.kind == "GF":
        return random.randint(1 if non_zero else 0, spec.characteristic - 1)
    if spec.kind == "QQ":
        if num_bound <= 0:
            raise ValueError(f"num_bound={num_bound} must be > 0")
        return _until_non_zero(lambda: random.randint(-num_bound, num_bound), non_zero), random.randint(1, num_bound)
    _check_range(low, high, non_zero)
    if spec.kind == "ZZ":
        return _until_non_zero(lambda: random.randint(int(low), int(high)), non_zero)
    return _until_non_zero(lambda: random.uniform(low, high), non_zero)


class PolynomialSamplerBase:
    """The backend-independent part of ``PolynomialSampler``: checks, degree/term choice, matrices.

    A backend subclass implements ``get_field``, ``get_ring``, ``_ring_ngens``, ``_make_coefficient``
    and ``_from_dict``; the ring is built once and reused.
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
        check_int("max_degree", max_degree, 0)
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

    #: Attributes rebuilt in each process rather than pickled (SymPy's GF(p) rings do not pickle).
    _process_local: tuple[str, ...] = ("_ring",)

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        for name in self._process_local:
            state[name] = None
        return state

    @property
    def field_spec(self) -> FieldSpec:
        raise NotImplementedError

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
    def total_degree(self, poly: Any) -> int:
        """Total degree of a polynomial (0 for the zero polynomial)."""
        raise NotImplementedError

    def num_terms(self, poly: Any) -> int:
        """Number of terms of a polynomial."""
        raise NotImplementedError

    def _coefficient_range(self) -> tuple[float, float, int]:
        bound = self.max_coeff if self.max_coeff is not None else 10
        return -bound, bound, self.num_bound if self.num_bound is not None else 10

    def _draw(self, ring: Any, monomials: list[tuple[int, ...]], non_zero: bool) -> Any:
        spec = self.field_spec
        low, high, num_bound = self._coefficient_range()
        return self._from_dict(
            ring,
            {m: self._make_coefficient(ring, random_number(spec, non_zero, low, high, num_bound)) for m in monomials},
        )

    def _sample_polynomial(self) -> Any:
        ring = self.get_ring()
        n = self._ring_ngens(ring)
        degree = random.randint(self.min_degree, self.max_degree) if self.degree_sampling == "uniform" else self.max_degree
        possible = count_monomials_upto(n, degree)
        max_terms = possible if self.max_num_terms is None else min(self.max_num_terms, possible)
        num_terms = random.randint(1, max_terms) if self.term_sampling == "uniform" else max_terms
        choose_degree = self.degree_sampling == "uniform"
        for _ in range(self.max_attempts):
            if self.strictly_conditioned:
                # Exact degree and term count by construction: a top-degree monomial, non-zero coefficients.
                poly = self._draw(ring, strict_monomials(n, degree, num_terms), non_zero=True)
                if self.field_spec.kind != "RR":  # exact arithmetic: nothing left to check
                    return poly
            else:
                monomials = random_monomials(n, degree, num_terms, choose_degree)
                poly = self._draw(ring, monomials, non_zero=self.nonzero_coeff)
            if self.nonzero_instance and poly == 0:
                continue
            if self.total_degree(poly) < self.min_degree:
                continue
            if self.strictly_conditioned and (self.total_degree(poly) != degree or self.num_terms(poly) != num_terms):
                continue  # only RR rounding can get here
            return poly
        raise RuntimeError(
            f"no polynomial of degree {degree} with {num_terms} terms over {self.field_str} met the sampler's "
            f"conditions in max_attempts={self.max_attempts} attempts (nonzero_instance={self.nonzero_instance}, "
            f"min_degree={self.min_degree}); loosen them or raise max_attempts"
        )

    def _sample_matrix(self, size: tuple[int, int], density: float, matrix_type: str | None) -> list[list[Any]]:
        rows, cols = size
        entries = []
        for _ in range(rows * cols):
            poly = self._sample_polynomial()
            entries.append(poly if random.random() < density else self._zero_like(poly))
        matrix = [entries[r * cols : (r + 1) * cols] for r in range(rows)]
        if matrix_type == "unimodular_upper_triangular":
            ring = self.get_ring()
            one = self._from_dict(ring, {(0,) * self._ring_ngens(ring): self._make_coefficient(ring, 1)})
            zero = self._zero_like(one)
            for r in range(rows):
                for c in range(min(r + 1, cols)):
                    matrix[r][c] = one if r == c else zero
        return matrix

    def _check_sample_args(self, num_samples: Any, size: Any, density: Any, matrix_type: Any) -> None:
        check_int("num_samples", num_samples, 1)
        if size is not None and not (
            isinstance(size, (tuple, list)) and len(size) == 2 and all(isinstance(s, int) and s > 0 for s in size)
        ):
            raise ValueError(f"size={size!r} is not allowed; use None or a (rows, cols) pair of positive integers")
        if not isinstance(density, (int, float)) or not 0.0 <= density <= 1.0:
            raise ValueError(f"density={density!r} is not allowed; use a number in [0, 1]")
        check_choice("matrix_type", matrix_type, MATRIX_TYPES)
