"""The FLINT backend's value (python-flint): FLINT's multivariate polynomials as text and as terms, straight
from FLINT, never through SymPy; FLINT's algebra for the problem library (gcd, factorization in any number of
variables over GF(p), ZZ and QQ), except Gröbner bases and reduction modulo them, which FLINT has no algorithm
for: SymPy computes them on converted polynomials (the bases and remainders ``backend=sympy`` gives).

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

from calt_hf.backends import Backend, Terms
from calt_hf.conversion import (
    CoefficientFormatter,
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


def _terms(poly: Any) -> Any:
    """The polynomial's (exponents, coefficient) pairs in the ring's order, zero coefficients left out: python-flint
    0.9's ``from_dict`` keeps a term whose coefficient is a multiple of p (``{(3, 0): 7}`` over GF(7) prints as
    ``0*x^3``), which FLINT's arithmetic then carries along."""
    coeffs = poly.coeffs()
    if 0 in coeffs:
        return [(m, c) for m, c in zip(poly.monoms(), coeffs) if c != 0]
    return zip(poly.monoms(), coeffs)


def poly_to_str(poly: Any) -> str:
    """``3*x^2*y + x + 6``: terms in the ring's order, GF(p) coefficients in 0..p-1 (the SymPy backend's text)."""
    return _writer(poly.context()).write_ordered(_terms(poly))


def element_to_str(obj: Any) -> str:
    """One FLINT object (a polynomial, a number) or any other value as text."""
    return poly_to_str(obj) if isinstance(obj, POLYNOMIAL_TYPES) else str(obj)


def _fraction(value: Any) -> Fraction:
    return Fraction(int(value.p), int(value.q))


def exact_terms(obj: Any) -> Terms | None:
    """A FLINT polynomial's terms in its ring's order, leading term first: GF(p) and ZZ coefficients as ints,
    QQ's as fractions (the SymPy backend's ``terms`` for the same polynomial; the exponents are FLINT's
    ``fmpz``, equal to and written as the ints)."""
    if not isinstance(obj, POLYNOMIAL_TYPES):
        return None
    convert = _fraction if isinstance(obj, flint.fmpq_mpoly) else int
    return [(monomial, convert(c)) for monomial, c in _terms(obj)]


def matrix_rows(obj: Any) -> list | None:
    """FLINT's matrices as lists of rows."""
    return obj.tolist() if isinstance(obj, _MATRIX_TYPES) else None


# --- pickling ------------------------------------------------------------------------------------------
# python-flint 0.9 pickles its integers and rationals (fmpz, fmpq), but not its polynomial contexts, polynomials,
# GF(p) numbers (nmod, fmpz_mod) or fmpz_mod contexts. A context is rebuilt with ``get``, which FLINT caches (the
# worker gets the context it would have built itself), a polynomial from its terms. With python-flint installed,
# SymPy's own GF(p) elements are nmod too (its "flint" ground types).
_CONTEXT_TYPES = tuple(_COEFFICIENTS)


def _rebuild_context(kind: type, names: tuple[str, ...], ordering: str, modulus: int | None) -> Any:
    if modulus is None:
        return kind.get(names, ordering=ordering)
    return kind.get(names, modulus=modulus, ordering=ordering)


def _rebuild_polynomial(context: Any, terms: dict[tuple[int, ...], Any]) -> Any:
    return context.from_dict(terms)


def _rebuild_fmpz_mod(modulus: int, value: int) -> Any:
    return flint.fmpz_mod_ctx(modulus)(value)


def reduce(obj: Any) -> tuple | None:
    """FLINT's contexts, polynomials and GF(p) numbers, rebuilt from what defines them."""
    kind = type(obj)
    if kind in _CONTEXT_TYPES:
        modulus = int(obj.modulus()) if hasattr(obj, "modulus") else None
        return _rebuild_context, (kind, obj.names(), obj.ordering().value, modulus)
    if kind in POLYNOMIAL_TYPES:
        return _rebuild_polynomial, (obj.context(), obj.to_dict())
    if kind is flint.nmod:
        return flint.nmod, (int(obj), obj.modulus())
    if kind is flint.fmpz_mod_ctx:
        return flint.fmpz_mod_ctx, (int(obj.modulus()),)
    if kind is flint.fmpz_mod:  # its modulus is only in its repr, "fmpz_mod(3, 7)"
        return _rebuild_fmpz_mod, (int(obj.repr().rpartition(",")[2].rstrip(")")), int(obj))
    return None


# --- Gröbner bases through SymPy ----------------------------------------------------------------------
#: FLINT's orderings -> SymPy's.
_SYMPY_ORDERS = {"lex": "lex", "deglex": "grlex", "degrevlex": "grevlex"}


def _sympy_ring(context: Any) -> Any:
    """SymPy's ring with the context's variables, field and order (SymPy caches rings: one object per ring)."""
    from sympy import GF, QQ, ZZ
    from sympy.polys.rings import ring

    if isinstance(context, (flint.nmod_mpoly_ctx, flint.fmpz_mod_mpoly_ctx)):
        domain = GF(int(context.modulus()))
    else:
        domain = ZZ if isinstance(context, flint.fmpz_mpoly_ctx) else QQ
    return ring(", ".join(context.names()), domain, _SYMPY_ORDERS[context.ordering().value])[0]


def _to_sympy(poly: Any, sympy_ring: Any) -> Any:
    from calt_hf.backends.sympy.adapter import SYMPY

    convert = _fraction if isinstance(poly, flint.fmpq_mpoly) else int
    return SYMPY.from_terms(sympy_ring, {m: convert(c) for m, c in zip(poly.monoms(), poly.coeffs())})


def _from_sympy(poly: Any, context: Any) -> Any:
    from calt_hf.backends.sympy.adapter import SYMPY

    return from_terms(context, dict(SYMPY.terms(poly)))


def from_terms(context: Any, terms: dict[tuple[int, ...], Any]) -> Any:
    """The polynomial of ``context`` with these ``{exponents: coefficient}`` terms, coefficients as Python ints
    (GF(p), ZZ) or ``Fraction``s (QQ)."""
    return context.from_dict({m: flint.fmpq(c.numerator, c.denominator) if isinstance(c, Fraction) else c
                              for m, c in terms.items()})


def groebner_basis(generators: list, context: Any) -> list:
    """SymPy's reduced Gröbner basis of the converted generators, converted back (FLINT has none of its own)."""
    from calt_hf.backends.sympy.adapter import SYMPY

    sympy_ring = _sympy_ring(context)
    basis = SYMPY.groebner_basis([_to_sympy(g, sympy_ring) for g in generators], sympy_ring)
    return [_from_sympy(g, context) for g in basis]


def normal_form(f: Any, basis: list) -> Any:
    """SymPy's remainder of ``f`` on division by the basis, on converted polynomials, converted back."""
    from calt_hf.backends.sympy.adapter import SYMPY

    context = f.context()
    sympy_ring = _sympy_ring(context)
    remainder = SYMPY.normal_form(_to_sympy(f, sympy_ring), [_to_sympy(g, sympy_ring) for g in basis])
    return _from_sympy(remainder, context)


# --- the value -----------------------------------------------------------------------------------------
class FlintBackend(Backend):
    name = "flint"
    leaf_types = POLYNOMIAL_TYPES
    element_to_str = staticmethod(element_to_str)
    leaf_to_str = staticmethod(poly_to_str)
    as_rows = staticmethod(matrix_rows)
    terms = staticmethod(exact_terms)
    reduce = staticmethod(reduce)
    groebner_basis = staticmethod(groebner_basis)
    normal_form = staticmethod(normal_form)

    @staticmethod
    def owns(ring: Any) -> bool:
        return isinstance(ring, _CONTEXT_TYPES)

    @staticmethod
    def ngens(context: Any) -> int:
        return context.nvars()

    @staticmethod
    def variable_names(context: Any) -> tuple[str, ...]:
        return tuple(context.names())

    from_terms = staticmethod(from_terms)

    @staticmethod
    def is_constant(f: Any) -> bool:
        return f.is_constant()

    @staticmethod
    def leading_coefficient(f: Any) -> Any:
        return f.leading_coefficient()

    @staticmethod
    def leading_exponents(f: Any) -> tuple[int, ...]:
        return tuple(map(int, f.monoms()[0]))

    @staticmethod
    def monic(f: Any) -> Any:
        lead = f.leading_coefficient()
        if lead == 1:  # FLINT's gcds are monic already: no product for them
            return f
        if isinstance(f, flint.fmpz_mod_mpoly):  # its leading coefficient comes as an fmpz, not a residue
            return f * pow(int(lead), -1, int(f.context().modulus()))
        return f * (1 / lead)

    @staticmethod
    def primitive(f: Any) -> Any:
        return f.primitive()[1]

    @staticmethod
    def factor_pairs(f: Any) -> list[tuple[Any, int]]:
        try:
            factors = f.factor()[1]
        except OverflowError as error:  # python-flint 0.9's fmpz_mod_mpoly.factor, on x^2 + 1 over GF(2^64 + 13) too
            raise ValueError(
                f"python-flint {flint.__version__} cannot factor {poly_to_str(f)} over GF({int(f.context().modulus())}) "
                f"({error}): its factorization fails on some polynomials over primes past 2^64; use a prime below 2^64 "
                "or on_error=skip"
            ) from error
        return [(g, int(e)) for g, e in factors]


BACKEND = FLINT = FlintBackend()
