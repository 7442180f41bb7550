"""The expanded encoding (``encoding="expanded"``): each polynomial as coefficient and exponent tokens.

``C3 E2 E1 + C1 E0 E1``: one ``C<coefficient>`` and one ``E<exponent>`` per variable for each term, terms
joined by `` + ``, the zero polynomial ``C0``, the form CALT's ``ExpandedFormLoadPreprocessor`` and the
Gröbner papers train on. It is written from the polynomial objects in the worker (a backend's ``terms``
hook: the terms in the order CALT reads them, SymPy's ``terms()``, Sage's ``dict()``), into the extra
Parquet columns ``problem_expanded`` and ``solution_expanded``, so users need neither Sage nor CALT.

Equal to CALT's output for integer coefficients (ZZ, GF(p) as 0..p-1). A non-integer rational is written
exactly, ``C-7/2``, where CALT writes ``int(c)`` (``C-3``: truncated, so its QQ data is lossy). A list is
joined with `` || `` as CALT does; a list of lists (factor: ``[[g, e], ...]``, which CALT cannot expand)
has `` | `` inside and `` || `` between, and integers in it (multiplicities) are written as numbers.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from calt_hf.backends import Backend
from calt_hf.formats import INNER_SEP, OUTER_SEP

ENCODINGS = ("text", "expanded")
EXPANDED_COLUMNS = ("problem_expanded", "solution_expanded")


def check_encoding(encoding: Any, key: str, problem: Any = None, packaged: bool = True, field: Any = None) -> str:
    """Refuse, before any work, what the expanded encoding cannot write: no Parquet, integers, reals."""
    from calt_hf.problems.base import IntegerProblem
    from calt_hf.sampling import check_choice

    check_choice(key, encoding, ENCODINGS)
    if encoding == "text":
        return encoding
    if not packaged:
        raise ValueError(f"{key}='expanded' needs the Hugging Face dataset (hf.package=true, hf_dataset=True): "
                         "the expanded form is written as Parquet columns")
    if isinstance(problem, IntegerProblem):
        raise ValueError(f"{key}='expanded' is not allowed for {type(problem).__name__}: its samples are integers, "
                         "not polynomials; use encoding 'text'")
    if str(field or "").upper().startswith("RR"):
        raise ValueError(f"{key}='expanded' is not allowed with field_str={field!r}: coefficient tokens need exact "
                         "coefficients; use QQ, ZZ or GF(p)")
    return encoding


def coefficient_token(value: int | Fraction) -> str:
    """``C3``, ``C-7/2``: the integer as CALT writes it, a fraction exactly (CALT would truncate it)."""
    if isinstance(value, Fraction) and value.denominator != 1:
        return f"C{value.numerator}/{value.denominator}"
    return f"C{int(value)}"


def polynomial_to_expanded(terms: list[tuple[tuple[int, ...], int | Fraction]]) -> str:
    """The expanded form of one polynomial from its (exponents, coefficient) terms, in the given order."""
    if not terms:
        return "C0"
    return " + ".join(" ".join([coefficient_token(c), *(f"E{e}" for e in exponents)]) for exponents, c in terms)


def _leaf(obj: Any, backend: Backend, what: str) -> str:
    terms = backend.terms(obj)
    if terms is not None:
        return polynomial_to_expanded(terms)
    if isinstance(obj, int) or type(obj).__name__ == "Integer":  # Python's, gmpy2's or Sage's integers
        return str(int(obj))
    raise ValueError(f"encoding 'expanded' needs polynomials, but {what} holds a {type(obj).__name__} ({str(obj)[:40]!r}); "
                     "use encoding 'text'")


def to_expanded(obj: Any, backend: Backend, what: str) -> str:
    """A problem or solution (a polynomial, a list of them, or a list of lists) in the expanded form."""
    if not isinstance(obj, (list, tuple)):
        return _leaf(obj, backend, what)
    parts = []
    for item in obj:
        if isinstance(item, (list, tuple)):
            parts.append(INNER_SEP.join(_leaf(inner, backend, what) for inner in item))
        else:
            parts.append(_leaf(item, backend, what))
    return OUTER_SEP.join(parts)
