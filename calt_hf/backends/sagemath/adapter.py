"""The SageMath backend's value (passagemath): Sage polynomials as text, Sage matrices as rows, Singular's
algebra for the problem library, and the reseeding of Sage's random state before each sample.

Text: polynomials are written from their terms (``terms``: ``f.exponents()``, ``f.coefficients()``, already in
the ring's term order, so never sorted again) by the shared ``TermWriter``, so GF(7)'s 6 is written ``6`` (Sage
prints ``-1``) and the text equals the SymPy backend's for the same polynomial, field and order. Reals of 53 bits
use SymPy's decimal form.

Reseeding: every Sage ``random_element`` draws from the *current randstate*: GMP's Mersenne Twister
(``ZZ``, ``QQ``, ``RR``) and, through ``sage.misc.prandom``, a ``random.Random`` that the randstate
creates lazily from its GMP stream (``GF(p)``, the monomials of ``R.random_element()``); PARI, NTL, libc
and GAP are also seeded lazily from it on first use. ``set_random_seed(s)`` installs ``randstate(s)``,
whose cost is GMP's ``gmp_randseed``: it mangles the seed by a power modulo 2^19937 - 20023, whatever
the size of ``s``. Measured alternatives, per sample, on 128-bit sample seeds (this machine):

- ``set_random_seed(seed)``: 320 us. Correct.
- ``set_random_seed(0)``: 0.1 us (GMP's default state, no mangling), but the same stream for every sample.
- ``set_random_seed(0)`` + seeding only the randstate's ``random.Random``: 15 us, and ``ZZ``/``QQ``/``RR``
  draws (GMP) would repeat in every sample. Incorrect.
- ``set_random_seed(0)`` + writing the 624-word Mersenne Twister state directly, 2496 bytes of
  SHAKE-128(seed): 4.8 us. Correct: a fresh randstate per sample, as with ``set_random_seed``, so the
  lazy helpers re-derive from it, and the whole GMP state is a function of the sample's seed alone.

The last one is used: ``set_random_seed(0)`` makes a fresh randstate current, then ``ctypes`` overwrites
its MT state (the layout of Sage's ``randstate`` object and of GMP's MT state is checked once per process
by copying a ``randstate(s)``'s state into a ``randstate(0)`` and comparing their draws; if any check
fails, ``set_random_seed(seed)`` is used instead). The streams differ from ``set_random_seed(seed)``'s
(and ``initial_seed()`` reads 0): what is guaranteed is that each sample's draws depend on its seed only.
A generator that draws through ``sage.misc.prandom`` (``GF(p).random_element()``, ``R.random_element()``)
also pays about 12 us for the fresh randstate's lazily created ``random.Random``, as with ``set_random_seed``.
"""

from __future__ import annotations

import ctypes
import hashlib
from fractions import Fraction
from collections.abc import Iterable
from typing import Any

try:
    from sage.all__sagemath_singular import QQ, RR, ZZ, set_random_seed
except ModuleNotFoundError as error:  # pragma: no cover - exercised in a subprocess without Sage
    if not (error.name or "").startswith("sage"):
        raise
    raise ImportError(
        'The SageMath backend needs passagemath: pip install "calt_hf[sage]" (or pip install passagemath-singular)'
    ) from error
from sage.misc.randstate import current_randstate, randstate
from sage.rings.polynomial.multi_polynomial import MPolynomial
from sage.rings.polynomial.polydict import ETuple
from sage.rings.polynomial.polynomial_element import Polynomial
from sage.rings.real_mpfr import RealNumber
from sage.structure.element import Matrix, Vector
from sage.structure.parent import Parent

from calt_hf.backends import Backend, Terms
from calt_hf.conversion import (
    CoefficientFormatter,
    TermWriter,
    generic_coefficient,
    integer_coefficient,
    modular_coefficient,
    per_ring,
    rational_coefficient,
    real_coefficient,
    unsupported_coefficients,
)

__all__ = ["MT_STATE_WRITABLE", "SAGEMATH", "element_to_str", "poly_to_str", "reseed_sage", "terms"]


# --- text ---------------------------------------------------------------------------------------------
def _sage_rational(value: Any) -> tuple[bool, str, bool]:
    # Sage's numerator/denominator are methods; the shared formatter reads attributes.
    return rational_coefficient(Fraction(int(value.numerator()), int(value.denominator())))


def _sage_real(value: Any) -> tuple[bool, str, bool]:
    # 53-bit reals in SymPy's form (0.5, not 0.500000000000000): the same number, the same text. SymPy is
    # imported here, for real rings only: a worker of any other ring need not load it (~0.3 s).
    from sympy import RR as SYMPY_RR

    return real_coefficient(SYMPY_RR(float(value)))


def coefficient_formatter(base: Any) -> CoefficientFormatter:
    """How coefficients of a Sage base ring are written."""
    if base is ZZ:
        return integer_coefficient
    if base is QQ:
        return _sage_rational
    if base is RR:
        return _sage_real
    if base.is_finite() and base.is_prime_field():
        return modular_coefficient
    if not base.is_exact():  # reals of other precisions: Sage's own decimal form
        return real_coefficient
    return generic_coefficient


class _SortKey:
    """The ring's own term order as a key on exponent tuples (ascending), for ``TermWriter``."""

    def __init__(self, sortkey: Any) -> None:
        self.sortkey = sortkey

    def __call__(self, exponents: tuple[int, ...]) -> Any:
        return self.sortkey(ETuple(exponents))


def _writer_for(ring: Any) -> TermWriter:
    names = tuple(str(name) for name in ring.variable_names())
    base = coefficient_formatter(ring.base_ring())
    if not isinstance(ring.gen(), MPolynomial):
        return TermWriter(names, base, None)
    order = ring.term_order()
    return TermWriter(names, base, None if order.name() == "lex" else _SortKey(order.sortkey))


_writer = per_ring(_writer_for)


def terms(poly: Any) -> Iterable[tuple[tuple[int, ...], Any]]:
    """The (exponents tuple, coefficient) pairs of a Sage polynomial, leading term first in its ring's order.

    Multivariate: ``exponents(as_ETuples=False)`` and ``coefficients()``, both in the ring's order (Singular's
    term list, or polydict's sort by the order's key), 1 us each for 3 terms, where ``dict()`` costs 6 us and
    ``str()`` 14 us; plain tuples hash faster than ETuples. Univariate: ``dict()``, highest degree first.
    """
    if isinstance(poly, MPolynomial):
        return zip(poly.exponents(as_ETuples=False), poly.coefficients())
    return sorted((((e,), c) for e, c in poly.dict().items()), reverse=True, key=_degree)


def _degree(term: tuple[tuple[int], Any]) -> int:
    return term[0][0]


def poly_to_str(poly: Any) -> str:
    """``3*x^2*y + x + 6``: terms in the ring's order, GF(p) coefficients in 0..p-1, no regex over ``str()``."""
    return _writer(poly.parent()).write_ordered(terms(poly))


def element_to_str(obj: Any) -> str:
    """One Sage object (polynomial, number) or any other value as text."""
    if isinstance(obj, (MPolynomial, Polynomial)):
        return poly_to_str(obj)
    if isinstance(obj, RealNumber) and obj.prec() == 53:
        negative, magnitude, _ = _sage_real(obj)
        return "-" + magnitude if negative else magnitude
    return str(obj)


def _fraction(value: Any) -> Fraction:
    return Fraction(int(value.numerator()), int(value.denominator()))


def exact_terms(obj: Any) -> Terms | None:
    """A polynomial's ``dict()`` items, nonzero, in their order (what CALT's expanded form reads): GF(p) and
    ZZ as ints, QQ as fractions; exponents as tuples (an ``ETuple``, or a univariate ring's int)."""
    if not isinstance(obj, (MPolynomial, Polynomial)):
        return None
    base = obj.base_ring()
    if base is QQ:
        convert: Any = _fraction
    elif base is ZZ or (base.is_finite() and base.is_prime_field()):
        convert = int
    else:
        raise unsupported_coefficients(base)
    return [(tuple(int(e) for e in exponents) if isinstance(exponents, ETuple) else (int(exponents),), convert(c))
            for exponents, c in obj.dict().items() if c != 0]


def matrix_rows(obj: Any) -> list | None:
    """Sage matrices as lists of rows, Sage vectors as lists."""
    if isinstance(obj, Matrix):
        return [list(row) for row in obj.rows()]
    if isinstance(obj, Vector):
        return list(obj)
    return None


# --- reseeding ----------------------------------------------------------------------------------------
_MT_WORDS = 624  # GMP's gmp_rand_mt_struct: uint32 mt[624]; int mti
_MT_BYTES = 4 * _MT_WORDS + 4
#: mti = 624: the next draw first regenerates the whole buffer from the state written (as after MT seeding).
_MTI_FULL = _MT_WORDS.to_bytes(4, "little", signed=True)
#: randstate is a Cython object: PyObject header, vtable pointer, then gmp_randstate_t, whose first member
#: is an mpz (int alloc, int size, limb pointer); for the MT algorithm the limb pointer holds the MT state.
_GMP_STATE_OFFSET = object.__basicsize__ + ctypes.sizeof(ctypes.c_void_p)
_MT_POINTER_OFFSET = _GMP_STATE_OFFSET + 8


def _mt_address(state: randstate) -> int:
    return ctypes.c_void_p.from_address(id(state) + _MT_POINTER_OFFSET).value or 0


def _mt_layout_holds() -> bool:
    """Whether this process's Sage and GMP have the layout ``reseed_sage`` writes into (checked, not assumed)."""
    if ctypes.sizeof(ctypes.c_void_p) != 8 or randstate.__basicsize__ < _GMP_STATE_OFFSET + 32:
        return False
    seeded, blank, untouched = randstate(20240607), randstate(0), randstate(0)
    alloc = ctypes.c_int.from_address(id(blank) + _GMP_STATE_OFFSET).value
    algorithm = ctypes.c_int.from_address(id(blank) + _GMP_STATE_OFFSET + 16).value
    if alloc * 8 < _MT_BYTES or algorithm != 0 or not _mt_address(seeded) or not _mt_address(blank):
        return False
    ctypes.memmove(_mt_address(blank), ctypes.string_at(_mt_address(seeded), _MT_BYTES), _MT_BYTES)
    draws = []
    for state in (seeded, blank, untouched):
        with state:
            draws.append([ZZ.random_element(2**200) for _ in range(4)])
    return draws[0] == draws[1] != draws[2]


#: Whether this process reseeds by writing the MT state (else with ``set_random_seed``).
MT_STATE_WRITABLE = _mt_layout_holds()

if MT_STATE_WRITABLE:

    def reseed_sage(seed: int) -> None:
        """Make a fresh randstate current whose Mersenne Twister state is SHAKE-128 of the seed (~5 us)."""
        set_random_seed(0)
        state = hashlib.shake_128(seed.to_bytes((seed.bit_length() + 8) // 8, "big", signed=True)).digest(4 * _MT_WORDS)
        ctypes.memmove(_mt_address(current_randstate()), state + _MTI_FULL, _MT_BYTES)

else:  # pragma: no cover - only on a Sage or GMP whose layout differs

    def reseed_sage(seed: int) -> None:
        """Sage's own reseeding (about 0.3 ms): the layout check failed in this process."""
        set_random_seed(seed)


def _owns(ring: Any) -> bool:
    try:
        return isinstance(ring, Parent) and isinstance(ring.gen(0), (MPolynomial, Polynomial))
    except (AttributeError, IndexError, ValueError, TypeError):
        return False


class SageBackend(Backend):
    name = "sagemath"
    leaf_types = (MPolynomial, Polynomial)
    reseeders = (reseed_sage,)
    element_to_str = staticmethod(element_to_str)
    leaf_to_str = staticmethod(poly_to_str)
    as_rows = staticmethod(matrix_rows)
    terms = staticmethod(exact_terms)
    owns = staticmethod(_owns)

    @staticmethod
    def ngens(ring: Any) -> int:
        return ring.ngens()

    @staticmethod
    def variable_names(ring: Any) -> tuple[str, ...]:
        return tuple(map(str, ring.variable_names()))

    @staticmethod
    def from_terms(ring: Any, terms: dict[tuple[int, ...], Any]) -> Any:
        if ring.ngens() == 1:  # Sage's univariate ring takes degrees as keys
            return ring({m[0]: c for m, c in terms.items()})
        return ring(terms)

    @staticmethod
    def is_constant(f: Any) -> bool:
        return f.is_constant()

    @staticmethod
    def leading_coefficient(f: Any) -> Any:
        return f.lc()

    @staticmethod
    def leading_exponents(f: Any) -> tuple[int, ...]:
        return tuple(f.lm().exponents()[0])

    @staticmethod
    def monic(f: Any) -> Any:
        return f.monic() if hasattr(f, "monic") else f * (1 / f.lc())  # multivariate rings have no monic()

    @staticmethod
    def primitive(f: Any) -> Any:
        return f // f.content()

    @staticmethod
    def factor_pairs(f: Any) -> list[tuple[Any, int]]:
        return list(f.factor())

    @staticmethod
    def groebner_basis(generators: list, ring: Any) -> list:
        return list(ring.ideal(generators).groebner_basis("libsingular:std"))  # reduced; ~3x faster than the default

    @staticmethod
    def normal_form(f: Any, basis: list) -> Any:
        return f.reduce(basis)


BACKEND = SAGEMATH = SageBackend()
