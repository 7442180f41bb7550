"""The FLINT backend adapter (python-flint): FLINT's multivariate polynomials as text and as terms, straight
from FLINT, never through SymPy.

Text: FLINT's own ``str()`` is our text form, byte for byte (``3*x^2*y - x + 6``: terms in the ring's order,
``^`` for powers, a coefficient 1 or -1 left out, GF(p) coefficients as 0..p-1, rationals as ``n/d``), so it is
used as it is (tests/test_flint_backend.py checks it against the SymPy backend's text over every field and
order). Terms for the expanded encoding come from ``terms()``, in the ring's order as SymPy's ``terms()``.
FLINT's matrices (``fmpz_mat``, ``nmod_mat``, ...) are written as lists of rows. FLINT draws nothing at random
here, so there is nothing of its own to reseed.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

try:
    import flint
except ModuleNotFoundError as error:  # pragma: no cover - exercised in a subprocess without python-flint
    if error.name != "flint":
        raise
    raise ImportError(
        'The FLINT backend needs python-flint: pip install "calt_hf[flint]" (or pip install python-flint)'
    ) from error

from calt_hf.conversion import Backend, Terms

__all__ = ["FLINT", "POLYNOMIAL_TYPES", "exact_terms", "poly_to_str"]

#: FLINT's multivariate polynomials: over GF(p) (word-size p, and past it), ZZ and QQ.
POLYNOMIAL_TYPES = (flint.nmod_mpoly, flint.fmpz_mod_mpoly, flint.fmpz_mpoly, flint.fmpq_mpoly)
_MATRIX_TYPES = (flint.fmpz_mat, flint.fmpq_mat, flint.nmod_mat, flint.fmpz_mod_mat)


def poly_to_str(poly: Any) -> str:
    """``3*x^2*y + x + 6``: FLINT's own text, which is the SymPy backend's for the same polynomial and order."""
    return str(poly)


def _fraction(value: Any) -> Fraction:
    return Fraction(int(value.p), int(value.q))


def exact_terms(obj: Any) -> Terms | None:
    """A FLINT polynomial's terms in its ring's order, leading term first: GF(p) and ZZ coefficients as ints,
    QQ's as fractions (the SymPy backend's ``terms`` for the same polynomial; the exponents are FLINT's
    ``fmpz``, equal to and written as the ints)."""
    if isinstance(obj, flint.fmpq_mpoly):
        return [(monomial, _fraction(c)) for monomial, c in obj.terms()]
    if isinstance(obj, POLYNOMIAL_TYPES):
        return [(monomial, int(c)) for monomial, c in obj.terms()]
    return None


def matrix_rows(obj: Any) -> list | None:
    """FLINT's matrices as lists of rows."""
    return obj.tolist() if isinstance(obj, _MATRIX_TYPES) else None


FLINT = Backend(
    name="flint",
    element_to_str=str,
    as_rows=matrix_rows,
    leaf_types=POLYNOMIAL_TYPES,
    leaf_to_str=poly_to_str,
    terms=exact_terms,
)
