"""Objects to strings: the nesting of problems and solutions, and the text form of polynomials.

A backend (``calt_hf.backends.Backend``) says how one of its objects becomes a string and how its containers
(matrices) become lists; everything else (nesting, errors, polynomial layout) is shared, so every backend writes
the same text for the same mathematics: ``3*x^2*y - x + 6``, terms in the ring's order, ``^`` for powers, GF(p)
coefficients as 0..p-1.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from operator import itemgetter
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from calt_hf.backends import Backend

T = TypeVar("T")
#: ``coefficient -> (is_negative, magnitude text, magnitude is one)``, chosen once per coefficient ring.
CoefficientFormatter = Callable[[Any], tuple[bool, str, bool]]


def _as_list(obj: Any, backend: Backend) -> list | None:
    if isinstance(obj, (list, tuple)):
        return list(obj)
    if type(obj).__module__ == "numpy" and hasattr(obj, "tolist"):  # numpy arrays (e.g. sampled matrices)
        value = obj.tolist()
        return value if isinstance(value, list) else None
    return backend.as_rows(obj)


#: Values without a reproducible text form: a set's order changes from process to process (string hashing), and
#: a mapping's or bytes' ``str()`` is Python's repr, not the data. A sample holding one fails (``on_error`` decides).
_NO_TEXT_FORM = (set, frozenset, dict, bytes, bytearray, memoryview)


def _element_text(obj: Any, backend: Backend, what: str) -> str:
    """A leaf the backend writes (a number, an expression), refusing the values without a text form."""
    if isinstance(obj, _NO_TEXT_FORM):
        shown = repr(obj)
        raise ValueError(
            f"{what} holds a {type(obj).__name__} ({shown[:60]}{'...' if len(shown) > 60 else ''}), which has no "
            "reproducible text form (a set's order changes between runs); return strings, polynomials or lists "
            "instead (a set as sorted(...), bytes decoded)"
        )
    return backend.element_to_str(obj)


def to_strings(obj: Any, backend: Backend, what: str) -> str | list:
    """Convert a problem or solution: a leaf, a list of leaves, or a list mixing leaves and lists of leaves.

    Tuples, numpy arrays and backend matrices count as lists. ``None`` anywhere, or a third level of
    nesting, is a ValueError that names ``what``.
    """
    leaf_types, leaf_to_str = backend.leaf_types, backend.leaf_to_str
    if isinstance(obj, leaf_types):
        return leaf_to_str(obj)
    if obj is None:
        raise ValueError(f"{what} is None; a generator must return (problem, solution) objects")
    if isinstance(obj, str):
        return obj
    outer = _as_list(obj, backend)
    if outer is None:
        return _element_text(obj, backend, what)
    converted: list = []
    for item in outer:
        if isinstance(item, leaf_types):
            converted.append(leaf_to_str(item))
            continue
        inner = None if isinstance(item, str) or item is None else _as_list(item, backend)
        if inner is None:
            converted.append(_leaf(item, backend, what))
            continue
        converted.append([_leaf(leaf, backend, what) for leaf in inner])
    return converted


def _leaf(obj: Any, backend: Backend, what: str) -> str:
    if isinstance(obj, backend.leaf_types):
        return backend.leaf_to_str(obj)
    if obj is None:
        raise ValueError(f"{what} contains None")
    if isinstance(obj, str):
        return obj
    if _as_list(obj, backend) is not None:
        raise ValueError(f"{what} is nested deeper than 2 levels (lists of lists at most)")
    return _element_text(obj, backend, what)


class TermWriter:
    """Writes polynomials of one ring: ``3*x^2*y - x + 6``, terms in the ring's term order.

    Each (exponents, coefficient) pair is rendered once and cached with its sort key, as it reads first
    (``-3*x^2``) and after another term (`` - 3*x^2``), so a polynomial costs one dictionary look-up per
    term and a join (plus a sort in ``write``). ``order_key`` maps exponents to a key that sorts terms
    ascending in the ring's order; None means exponents already sort that way (lex).
    """

    _CACHE_LIMIT = 1 << 17

    def __init__(
        self, names: tuple[str, ...], coefficient: CoefficientFormatter, order_key: Callable[[tuple], Any] | None
    ) -> None:
        self.names = names
        self.coefficient = coefficient
        self.order_key = order_key
        self._terms = _TermCache(self._term, self._CACHE_LIMIT)

    def _term(self, term: tuple[tuple[int, ...], Any]) -> tuple[Any, str, str]:
        """``(sort key, text as the first term, text after another term)`` of one (exponents, coefficient)."""
        exponents, coeff = tuple(term[0]), term[1]
        negative, magnitude, is_one = self.coefficient(coeff)
        monomial = "*".join(name if e == 1 else f"{name}^{e}" for name, e in zip(self.names, exponents) if e)
        if not monomial:
            body = magnitude
        elif is_one:
            body = monomial
        else:
            body = f"{magnitude}*{monomial}"
        key = exponents if self.order_key is None else self.order_key(exponents)
        return key, "-" + body if negative else body, (" - " if negative else " + ") + body

    def write(self, terms: Iterable[tuple[tuple[int, ...], Any]]) -> str:
        """The text of the polynomial with these (exponents, coefficient) terms, in any order; ``0`` for none."""
        entries = list(map(self._terms.__getitem__, terms))
        entries.sort(key=_sort_key, reverse=True)
        return _joined(iter(entries))

    def write_ordered(self, terms: Iterable[tuple[tuple[int, ...], Any]]) -> str:
        """As ``write``, for terms already in the ring's order, leading term first (no sort)."""
        return _joined(map(self._terms.__getitem__, terms))


class _TermCache(dict):
    """term -> its ``TermWriter`` entry, rendered on first look-up; emptied when it reaches ``limit``."""

    def __init__(self, render: Callable[[tuple], tuple[Any, str, str]], limit: int) -> None:
        super().__init__()
        self.render, self.limit = render, limit

    def __missing__(self, term: tuple) -> tuple[Any, str, str]:
        if len(self) >= self.limit:
            self.clear()
        entry = self[term] = self.render(term)
        return entry


_sort_key = itemgetter(0)
_continued = itemgetter(2)


def _joined(entries: Iterator[tuple[Any, str, str]]) -> str:
    first = next(entries, None)
    if first is None:
        return "0"
    return first[1] + "".join(map(_continued, entries))


def per_ring(build: Callable[[Any], T]) -> Callable[[Any], T]:
    """``build(ring)`` made once per ring object and found again by ``id(ring)``: hashing a ring is a Python
    method in SymPy and costs 0.6 us in Sage, ``id`` nothing. Each entry keeps its ring, so that id is never
    reused while the entry exists; the table is emptied past 256 rings."""
    built: dict[int, tuple[Any, T]] = {}

    def for_ring(ring: Any) -> T:
        entry = built.get(id(ring))
        if entry is None or entry[0] is not ring:
            if len(built) >= 256:
                built.clear()
            entry = built[id(ring)] = (ring, build(ring))
        return entry[1]

    return for_ring


def unsupported_coefficients(ring: Any) -> ValueError:
    return ValueError(f"encoding 'expanded' needs coefficients in ZZ, QQ or GF(p), not in {ring}; use encoding 'text'")


def integer_coefficient(value: Any) -> tuple[bool, str, bool]:
    """Integers (Python, gmpy2, Sage): sign and absolute value."""
    number = int(value)
    return number < 0, str(abs(number)), abs(number) == 1


def modular_coefficient(value: Any) -> tuple[bool, str, bool]:
    """GF(p) elements: the representative in 0..p-1, never negative, no ``mod p``."""
    number = int(value)
    return False, str(number), number == 1


def rational_coefficient(value: Any) -> tuple[bool, str, bool]:
    """Rationals as ``n/d`` (or ``n`` when d is 1)."""
    numerator, denominator = int(value.numerator), int(value.denominator)
    magnitude = str(abs(numerator)) if denominator == 1 else f"{abs(numerator)}/{denominator}"
    return numerator < 0, magnitude, abs(numerator) == 1 and denominator == 1


def real_coefficient(value: Any) -> tuple[bool, str, bool]:
    """Reals in the backend's own decimal form."""
    negative = value < 0
    magnitude = -value if negative else value
    return bool(negative), str(magnitude), magnitude == 1


def generic_coefficient(value: Any) -> tuple[bool, str, bool]:
    """Any other coefficient ring: its text, parenthesised when it is a sum."""
    text = str(value)
    if any(sign in text.lstrip("-") for sign in "+- "):
        return False, f"({text})", False
    return text.startswith("-"), text.lstrip("-"), text.lstrip("-") == "1"
