"""The FLINT backend adapter (python-flint): FLINT's multivariate polynomials as text and as terms, straight
from FLINT, never through SymPy.

Text: written from FLINT's terms (``monoms()``, ``coeffs()``, already in the ring's order, leading term first, so
never sorted again) by the shared ``TermWriter``, so it is the SymPy backend's text by construction. FLINT's own
``str()`` prints the same bytes and is faster (GCD over GF(7)[x, y]: 15.5 against 22.8 us a sample, CPU time
on a loaded machine), but python-flint 0.9 never frees the C string it decodes: 168 bytes lost a GCD sample,
1.7 GB over ten million samples (tests/test_flint_backend.py checks that writing leaks nothing). Terms for the
expanded encoding come from ``terms()`` too.

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

from calt_hf.conversion import (
    Backend,
    CoefficientFormatter,
    Terms,
    TermWriter,
    integer_coefficient,
    modular_coefficient,
    per_ring,
    rational_coefficient,
)

__all__ = ["FLINT", "POLYNOMIAL_TYPES", "element_to_str", "exact_terms", "poly_to_str"]

#: FLINT's multivariate polynomials: over GF(p) (word-size p, and past it), ZZ and QQ.
POLYNOMIAL_TYPES = (flint.nmod_mpoly, flint.fmpz_mod_mpoly, flint.fmpz_mpoly, flint.fmpq_mpoly)
_MATRIX_TYPES = (flint.fmpz_mat, flint.fmpq_mat, flint.nmod_mat, flint.fmpz_mod_mat)


#: How coefficients of each kind of FLINT polynomial are written.
_COEFFICIENTS: dict[type, CoefficientFormatter] = {
    flint.nmod_mpoly_ctx: modular_coefficient,
    flint.fmpz_mod_mpoly_ctx: modular_coefficient,
    flint.fmpz_mpoly_ctx: integer_coefficient,
    flint.fmpq_mpoly_ctx: rational_coefficient,
}


def _writer_for(context: Any) -> TermWriter:
    return TermWriter(context.names(), _COEFFICIENTS[type(context)], None)


_writer = per_ring(_writer_for)


def poly_to_str(poly: Any) -> str:
    """``3*x^2*y + x + 6``: terms in the ring's order, GF(p) coefficients in 0..p-1 (the SymPy backend's text)."""
    return _writer(poly.context()).write_ordered(zip(poly.monoms(), poly.coeffs()))


def element_to_str(obj: Any) -> str:
    """One FLINT object (a polynomial, a number) or any other value as text."""
    return poly_to_str(obj) if isinstance(obj, POLYNOMIAL_TYPES) else str(obj)


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
    element_to_str=element_to_str,
    as_rows=matrix_rows,
    leaf_types=POLYNOMIAL_TYPES,
    leaf_to_str=poly_to_str,
    terms=exact_terms,
)
