"""``PolynomialSampler`` and ``SinglePolynomialSampler`` over FLINT's multivariate polynomial rings.

The draws are calt-x 1.5.0's SymPy draws (``calt_hf.sampling.PythonRandomSampler``, shared with the SymPy
sampler), so for every seed, field and option the polynomials are the SymPy backend's, and so is their text.
This module only builds FLINT's contexts and polynomials: ``nmod_mpoly`` over GF(p) for p of one machine word,
``fmpz_mod_mpoly`` past it, ``fmpz_mpoly`` over ZZ, ``fmpq_mpoly`` over QQ. FLINT has no polynomials over
floating-point reals: RR is refused, naming the backends that have them.
"""

from __future__ import annotations

from typing import Any

import flint

from calt_hf.backends import refuse_unsupported
from calt_hf.sampling import FieldSpec, PythonRandomSampler, SinglePolynomialSamplerBase, symbol_names

#: Term orders by name (SymPy's and Sage's names both) -> FLINT's name.
ORDERS = {"lex": "lex", "grlex": "deglex", "grevlex": "degrevlex", "deglex": "deglex", "degrevlex": "degrevlex"}
#: ``nmod_mpoly`` takes a modulus of one unsigned machine word (64 bits on every platform FLINT has wheels for).
WORD_BITS = 64
#: A context kind per field kind (GF: the word-size one; ``context`` switches to ``fmpz_mod_mpoly_ctx`` past it).
CONTEXTS = {"GF": flint.nmod_mpoly_ctx, "ZZ": flint.fmpz_mpoly_ctx, "QQ": flint.fmpq_mpoly_ctx}


def context(spec: FieldSpec, names: tuple[str, ...], ordering: str) -> Any:
    """FLINT's context of the polynomial ring over ``spec`` (FLINT caches them: one object per ring)."""
    if spec.kind == "GF":
        kind = CONTEXTS["GF"] if spec.characteristic.bit_length() <= WORD_BITS else flint.fmpz_mod_mpoly_ctx
        return kind.get(names, modulus=spec.characteristic, ordering=ordering)
    return CONTEXTS[spec.kind].get(names, ordering=ordering)


def _spec_of_context(ctx: Any) -> FieldSpec:
    if isinstance(ctx, (flint.nmod_mpoly_ctx, flint.fmpz_mod_mpoly_ctx)):
        return FieldSpec("GF", int(ctx.modulus()))
    return FieldSpec("ZZ" if isinstance(ctx, flint.fmpz_mpoly_ctx) else "QQ")


def coefficient_field(spec: FieldSpec) -> Any:
    """FLINT's coefficients: ``fmpz_mod_ctx(p)`` for GF(p) (its elements multiply polynomials of both GF(p)
    kinds), the types ``fmpz`` and ``fmpq`` for ZZ and QQ; each makes its elements when called."""
    if spec.kind == "GF":
        return flint.fmpz_mod_ctx(spec.characteristic)
    return {"ZZ": flint.fmpz, "QQ": flint.fmpq}[spec.kind]


def _spec_of_field(field: Any) -> FieldSpec:
    if isinstance(field, flint.fmpz_mod_ctx):
        return FieldSpec("GF", int(field.modulus()))
    if field is flint.fmpz or field is flint.fmpq:
        return FieldSpec("ZZ" if field is flint.fmpz else "QQ")
    raise ValueError(f"field={field!r} is not a FLINT coefficient field; use fmpz_mod_ctx(p), fmpz or fmpq "
                     "(what PolynomialSampler.get_field() returns)")


def _coefficient(value: Any) -> Any:
    """A coefficient ``from_dict`` takes, from a plain value of ``random_numbers``: ints, QQ's pairs as ``fmpq``."""
    return flint.fmpq(*value) if isinstance(value, tuple) else value


class SinglePolynomialSampler(SinglePolynomialSamplerBase):
    """Random coefficients (``random_coeff(field)``, ``field`` as ``PolynomialSampler.get_field()`` returns it) and
    random polynomials (``random_element(ctx)``, ``ctx`` a FLINT context) drawn as calt-x's SymPy sampler draws."""

    def _spec_of(self, field: Any) -> FieldSpec:
        return _spec_of_field(field)

    def _element(self, field: Any, value: Any) -> Any:
        return field(*value) if isinstance(value, tuple) else field(value)

    def _field_of(self, ring: Any) -> Any:
        return coefficient_field(_spec_of_context(ring))

    def _ngens(self, ring: Any) -> int:
        return ring.nvars()

    def _polynomial(self, ring: Any, terms: dict[tuple[int, ...], Any]) -> Any:
        return ring.from_dict(terms)


class PolynomialSampler(PythonRandomSampler):
    """Random polynomials (or numpy matrices of them) in a FLINT ring, with degree and term constraints, drawn
    as calt-x's SymPy sampler draws (the parameters and the draws: ``calt_hf.sampling.PythonRandomSampler``):
    the SymPy backend's polynomials for the same seed. Fields QQ, ZZ and GF(p) (any prime; RR is refused).
    ``order`` is kept under FLINT's name (``self.order == "degrevlex"`` for grevlex, ``"deglex"`` for grlex).
    """

    default_order = "degrevlex"
    single_sampler_class = SinglePolynomialSampler
    _process_local = ("_ring",)  # FLINT's contexts do not pickle (calt_hf.pickling rebuilds a user's)

    @classmethod
    def canonical_order(cls, order: Any) -> Any:
        """The order under FLINT's name (degrevlex for grevlex, deglex for grlex); None is the default, degrevlex."""
        if order is None:
            return cls.default_order
        if isinstance(order, flint.Ordering):
            return order.value
        return ORDERS.get(order, order) if isinstance(order, str) else order

    def _ring_order_of(self, order: Any) -> str:
        if isinstance(order, str) and order in ORDERS:
            return ORDERS[order]
        raise ValueError(f"order={order!r} is not supported; use one of {', '.join(ORDERS)}")

    def _check_field(self, spec: FieldSpec) -> FieldSpec:
        variables = len(symbol_names(self.symbols))
        refuse_unsupported("flint", "polynomials", spec.kind, self.field_str, self.symbols, variables, "PolynomialSampler")
        return spec

    def get_field(self) -> Any:
        """The coefficient field: ``fmpz_mod_ctx(p)`` for GF(p), the type ``fmpz`` or ``fmpq`` for ZZ or QQ."""
        return coefficient_field(self._spec)

    def get_ring(self) -> Any:
        """The ring's FLINT context, built on first use (in each process) and reused."""
        if self._ring is None:
            self._ring = context(self._spec, tuple(symbol_names(self.symbols)), self._ring_order)
        return self._ring

    def total_degree(self, poly: Any) -> int:
        """Total degree of a polynomial (0 for the zero polynomial; FLINT says -1), its terms with a coefficient that
        is a multiple of p left out (python-flint 0.9's ``from_dict`` keeps them, see ``adapter._terms``)."""
        coefficients = poly.coeffs()
        if 0 in coefficients:
            return max((sum(m) for m, c in zip(poly.monoms(), coefficients) if c != 0), default=0)
        degree = int(poly.total_degree())
        return degree if degree > 0 else 0

    def num_terms(self, poly: Any) -> int:
        """Terms of a polynomial, those with a coefficient that is a multiple of p left out (as in its text)."""
        coefficients = poly.coeffs()
        return len(coefficients) - coefficients.count(0)

    def _ring_ngens(self, ring: Any) -> int:
        return ring.nvars()

    def _make_coefficient(self, ring: Any, value: Any) -> Any:
        return _coefficient(value)

    def _from_dict(self, ring: Any, terms: dict[tuple[int, ...], Any]) -> Any:
        return ring.from_dict(terms)  # zero coefficients are dropped by FLINT

    def _from_values(self, ring: Any, terms: dict[tuple[int, ...], Any]) -> Any:
        # GF(p) and ZZ values are ints, which from_dict takes as they are: one call builds the polynomial.
        if self._spec.kind == "QQ":
            return ring.from_dict({m: flint.fmpq(*v) for m, v in terms.items()})
        return ring.from_dict(terms)
