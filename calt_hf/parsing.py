"""Reading answers: text in the usual polynomial notation, turned into a ring's polynomials without ``eval``.

A model's answer is untrusted input, so it is never handed to Python or to a computer algebra system's
parser (SymPy's ``parse_expr`` runs code). A small tokenizer and a recursive descent parser read the
grammar below into ``{exponents: coefficient}`` terms with exact arithmetic of the ring's coefficients
(GF(p) as residues, QQ and ZZ as fractions), and the ring's backend makes the ring's polynomial of them (``Backend.from_terms``)::

    polynomial := product (("+" | "-") product)*
    product    := factor (("*" | "/") factor)*         "/" by a non-zero constant only
    factor     := ("+" | "-")* power
    power      := atom (("^" | "**") exponent)?        exponent: a non-negative integer, maybe in parentheses
    atom       := integer | variable | "(" polynomial ")"

So the dataset's text form reads, and so do ``**``, parentheses, terms in any order, repeated terms,
products left unexpanded and, over GF(p), any representative of a coefficient (``8*x`` is ``x`` in
GF(7)). Anything else (an unknown name, a call, a decimal, a division by a polynomial, a coefficient
outside ZZ over ZZ) raises ``Unreadable``, and so does an answer too large to read: total degree above
``DEGREE_LIMIT``, more than ``WORK_LIMIT`` term products to expand, parentheses nested deeper than
``DEPTH_LIMIT``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from fractions import Fraction
from typing import Any

from calt_hf.backends import backend_of
from calt_hf.sampling import FieldSpec
from calt_hf.writer import DatasetWriter

#: The coefficient fields whose answers are read (exactly): GF(p), QQ, ZZ (``FieldSpec.kind``).
EXACT_FIELDS = ("GF", "QQ", "ZZ")
DEGREE_LIMIT = 10_000
WORK_LIMIT = 1_000_000
DEPTH_LIMIT = 50  # five Python frames a level: far below the interpreter's recursion limit

_TOKEN = re.compile(r"\s*(?:([0-9]+)|([A-Za-z_][A-Za-z0-9_]*)|(\*\*|[-+*/^()]))")
_INTEGER = re.compile(r"\s*([-+]?[0-9]+)\s*")
#: How a text answer's lists are split: the dataset's separators, whatever the spaces around them.
_OUTER = re.compile(r"\s*" + re.escape(DatasetWriter.OUTER_SEP.strip()) + r"\s*")
_INNER = re.compile(r"\s*" + re.escape(DatasetWriter.INNER_SEP.strip()) + r"\s*")

Terms = dict[tuple[int, ...], Any]


class Unreadable(ValueError):
    """An answer that is not a value of the expected kind (a polynomial of the ring, an integer, a list)."""


def shaped(answer: Any, solution: Any) -> str | list:
    """``answer`` in the nesting of ``solution`` (a string, a list of strings, a list of lists of strings):
    a text answer is split at the dataset's separators (`` | `` inside, `` || `` between lists), a JSON
    answer must have the nesting already (a JSON integer stands for its digits). Unreadable otherwise."""
    if isinstance(answer, int) and not isinstance(answer, bool):
        answer = str(answer)
    if isinstance(solution, str):
        if not isinstance(answer, str):
            raise Unreadable(f"{type(answer).__name__} where one value is expected: {answer!r}")
        return answer
    deep = any(isinstance(item, list) for item in solution)
    if isinstance(answer, str):
        if not answer.strip():
            return []
        if deep:
            return [_INNER.split(part.strip()) for part in _OUTER.split(answer.strip())]
        if _OUTER.search(answer):
            raise Unreadable(f"a list of lists where a list is expected: {answer!r}")
        return _INNER.split(answer.strip())
    if not isinstance(answer, list):
        raise Unreadable(f"{type(answer).__name__} where a list is expected: {answer!r}")
    return [shaped(item, solution_item) for item, solution_item in zip(answer, _items_like(solution, len(answer), deep))]


def _items_like(solution: list, count: int, deep: bool) -> list:
    """What each of ``count`` answer items should look like: the solution's items, and beyond them (a longer
    answer) a list of strings in a list of lists, else a string."""
    filler = [[""]] if deep else [""]
    return (list(solution) + filler * count)[:count]


def leaves(value: Any, read: Callable[[str], Any]) -> Any:
    """``value`` (a string, a list, a list of lists) with every string read by ``read``."""
    if isinstance(value, str):
        return read(value)
    return [leaves(item, read) for item in value]


class AnswerReader:
    """Reads answers as values of one ring: polynomials of ``ring`` (coefficients in ``field``), integers.

    A reader without a ring reads integers only (the integer problems)."""

    def __init__(self, ring: Any = None, field: FieldSpec | None = None) -> None:
        if ring is not None and (field is None or field.kind not in EXACT_FIELDS):
            raise ValueError(f"answers are read exactly over GF(p), QQ or ZZ only, not over {field}")
        self.ring = ring
        self.field = field
        self.backend = backend_of(ring) if ring is not None else None
        self.names = {name: i for i, name in enumerate(self.backend.variable_names(ring))} if ring is not None else {}
        self.count = self.backend.ngens(ring) if ring is not None else 0

    def polynomial(self, text: str) -> Any:
        """The polynomial of the ring that ``text`` writes; Unreadable if it writes none."""
        if self.ring is None:
            raise Unreadable("this dataset has no polynomial ring")
        terms = _Parser(text, self.names, self.count, _Coefficients(self.field)).read()
        if self.field.kind == "ZZ" and any(c.denominator != 1 for c in terms.values()):
            raise Unreadable(f"a coefficient outside ZZ: {text!r}")
        if self.field.kind != "QQ":
            terms = {m: int(c) for m, c in terms.items()}
        try:
            return self.backend.from_terms(self.ring, terms)
        except (ArithmeticError, ValueError, TypeError) as error:  # e.g. Singular's exponent bound
            raise Unreadable(f"not a polynomial of the ring ({error}): {text!r}") from None

    def polynomials(self, value: Any) -> Any:
        return leaves(value, self.polynomial)

    @staticmethod
    def integer(text: str) -> int:
        """An integer written in decimal digits (a sign and spaces around allowed); Unreadable otherwise."""
        match = _INTEGER.fullmatch(text)
        try:
            if match:
                return int(match.group(1))
        except ValueError:  # beyond Python's digit limit for int()
            pass
        raise Unreadable(f"not an integer: {text[:80]!r}")

    def integers(self, value: Any) -> Any:
        return leaves(value, self.integer)

    @staticmethod
    def fields(value: Any, *reads: Callable[[str], Any]) -> list:
        """A list of exactly ``len(reads)`` texts, each read by its own reader (``[factor, multiplicity]``)."""
        if not isinstance(value, list) or len(value) != len(reads) or not all(isinstance(item, str) for item in value):
            raise Unreadable(f"not a list of {len(reads)} values: {value!r}")
        return [read(item) for read, item in zip(reads, value)]


class _Coefficients:
    """Exact arithmetic of the coefficients while reading: residues modulo p over GF(p), fractions otherwise."""

    def __init__(self, field: FieldSpec) -> None:
        self.p = field.characteristic if field.kind == "GF" else 0

    def number(self, digits: str) -> Any:
        try:
            value = int(digits)
        except ValueError:  # beyond Python's digit limit for int()
            raise Unreadable(f"a number of {len(digits)} digits") from None
        return value % self.p if self.p else Fraction(value)

    def reduce(self, value: Any) -> Any:
        return value % self.p if self.p else value

    def inverse(self, value: Any) -> Any:
        if not value:
            raise Unreadable("a division by zero")
        return pow(value, -1, self.p) if self.p else 1 / value


class _Parser:
    """One answer's tokens, read by recursive descent into terms (see the module's grammar)."""

    def __init__(self, text: str, names: dict[str, int], count: int, coefficients: _Coefficients) -> None:
        self.tokens = _tokens(text)
        self.text, self.names, self.count, self.k = text, names, count, coefficients
        self.position = self.depth = self.work = 0

    def read(self) -> Terms:
        if not self.tokens:
            raise Unreadable("an empty answer")
        terms = self.polynomial()
        if self.position < len(self.tokens):
            raise self.error(f"unexpected {self.tokens[self.position][1]!r}")
        return terms

    def error(self, reason: str) -> Unreadable:
        return Unreadable(f"{reason} in {self.text[:200]!r}")

    def peek(self) -> str | None:
        return self.tokens[self.position][1] if self.position < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        if self.position == len(self.tokens):
            raise self.error("an unfinished expression")
        self.position += 1
        return self.tokens[self.position - 1]

    def polynomial(self) -> Terms:
        terms = self.product()
        while self.peek() in ("+", "-"):
            sign = self.take()[1]
            other = self.product()
            terms = self.add(terms, other if sign == "+" else self.negate(other))
        return terms

    def product(self) -> Terms:
        terms = self.factor()
        while self.peek() in ("*", "/"):
            operator = self.take()[1]
            other = self.factor()
            terms = self.multiply(terms, other) if operator == "*" else self.divide(terms, other)
        return terms

    def factor(self) -> Terms:
        negative = False
        while self.peek() in ("+", "-"):
            negative ^= self.take()[1] == "-"
        terms = self.power()
        return self.negate(terms) if negative else terms

    def power(self) -> Terms:
        base = self.atom()
        if self.peek() not in ("^", "**"):
            return base
        self.take()
        parenthesised = self.peek() == "("
        if parenthesised:
            self.take()
        kind, digits = self.take()
        if kind != "number":
            raise self.error(f"the exponent {digits!r} (a non-negative integer is allowed)")
        if parenthesised and self.take()[1] != ")":
            raise self.error("an unclosed exponent")
        if len(digits.lstrip("0")) > len(str(DEGREE_LIMIT)) or int(digits) > DEGREE_LIMIT:
            raise self.error(f"an exponent above {DEGREE_LIMIT}")
        return self.raise_to(base, int(digits))

    def atom(self) -> Terms:
        kind, token = self.take()
        if kind == "number":
            value = self.k.number(token)
            return {(0,) * self.count: value} if value else {}
        if kind == "name":
            if token not in self.names:
                raise self.error(f"{token!r}, not a variable of the ring ({', '.join(self.names) or 'none'})")
            exponents = [0] * self.count
            exponents[self.names[token]] = 1
            return {tuple(exponents): self.k.number("1")}
        if token != "(":
            raise self.error(f"unexpected {token!r}")
        self.depth += 1
        if self.depth > DEPTH_LIMIT:
            raise self.error(f"parentheses nested deeper than {DEPTH_LIMIT}")
        terms = self.polynomial()
        if self.take()[1] != ")":
            raise self.error("an unclosed parenthesis")
        self.depth -= 1
        return terms

    # -- arithmetic on terms -----------------------------------------------------------------------
    def add(self, a: Terms, b: Terms) -> Terms:
        total = dict(a)
        for m, c in b.items():
            value = self.k.reduce(total.get(m, 0) + c)
            if value:
                total[m] = value
            else:
                total.pop(m, None)
        return total

    def negate(self, a: Terms) -> Terms:
        return {m: self.k.reduce(-c) for m, c in a.items()}

    def multiply(self, a: Terms, b: Terms) -> Terms:
        self.work += len(a) * len(b)
        if self.work > WORK_LIMIT:
            raise self.error(f"more than {WORK_LIMIT} term products to expand")
        product: Terms = {}
        for ma, ca in a.items():
            for mb, cb in b.items():
                m = tuple(x + y for x, y in zip(ma, mb))
                product[m] = product.get(m, 0) + ca * cb
        if product and max(map(sum, product)) > DEGREE_LIMIT:
            raise self.error(f"a total degree above {DEGREE_LIMIT}")
        return {m: c for m, c in ((m, self.k.reduce(c)) for m, c in product.items()) if c}

    def divide(self, a: Terms, b: Terms) -> Terms:
        if any(any(m) for m in b):
            raise self.error("a division by a polynomial (only a constant may divide)")
        inverse = self.k.inverse(b.get((0,) * self.count, 0))
        return {m: self.k.reduce(c * inverse) for m, c in a.items()}

    def raise_to(self, base: Terms, exponent: int) -> Terms:
        result: Terms = {(0,) * self.count: self.k.number("1")}
        while exponent:
            if exponent & 1:
                result = self.multiply(result, base)
            exponent >>= 1
            if exponent:
                base = self.multiply(base, base)
        return result


def _tokens(text: str) -> list[tuple[str, str]]:
    """``(kind, text)`` pairs: ``number``, ``name`` or ``operator``; Unreadable at any other character."""
    tokens, position, end = [], 0, len(text.rstrip())
    while position < end:
        match = _TOKEN.match(text, position)
        if match is None:
            raise Unreadable(f"unexpected {text[position:].lstrip()[:1]!r} in {text[:200]!r}")
        number, name, operator = match.groups()
        tokens.append(("number", number) if number else ("name", name) if name else ("operator", operator))
        position = match.end()
    return tokens
