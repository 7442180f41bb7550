"""The backward samplers over FLINT's multivariate polynomial rings (python-flint), drawing exactly as the SymPy
backend's: the same seed gives the same polynomials, and ``backend=flint`` writes the bytes ``backend=sympy``
writes.

The draws are the SymPy backend's: the FLINT ``PolynomialSampler`` draws as SymPy's, and the sizes, permutations
and points come from Python's ``random`` (``PythonRandomSource``), the order ideals from numpy's global generator
(``calt_hf.ideals.border``). The arithmetic is FLINT's, in C: the transforms' matrix products are where it helps
most. A ring is a FLINT context over GF(p) or QQ (a calt_hf ``PolynomialSampler``'s ``get_ring()``, or
``nmod_mpoly_ctx.get(("x", "y"), modulus=7, ordering="lex")``); a border basis's evaluation matrix is solved with
FLINT's ``fmpz_mod_mat`` and ``fmpq_mat``.
"""

from __future__ import annotations

from typing import Any

import flint

from calt_hf.backends.flint.adapter import FLINT
from calt_hf.backends.flint.sampler import PolynomialSampler, _spec_of_context, coefficient_field, context
from calt_hf.ideals import bind
from calt_hf.ideals.common import field_name
from calt_hf.ideals.operations import IdealOperations, PythonRandomSource
from calt_hf.sampling import FieldSpec

__all__ = ["GroebnerBasisSampler", "GroebnerIdealTransformer", "BorderBasisSampler", "BorderIdealTransformer"]


class FlintIdealOperations(PythonRandomSource, IdealOperations):
    """FLINT's contexts and polynomials (the working polynomials too), Python's ``random``, FLINT's matrices."""

    def field_spec(self, ring: Any) -> FieldSpec:
        if not FLINT.owns(ring):
            raise ValueError(f"ring={ring!r} is not a FLINT polynomial context; give e.g. sampler.get_ring() or "
                             "nmod_mpoly_ctx.get(('x', 'y'), modulus=7, ordering='lex')")
        return _spec_of_context(ring)

    def gens(self, ring: Any) -> tuple:
        return ring.gens()

    def polynomial_sampler(self, ring: Any, **options: Any) -> PolynomialSampler:
        sampler = PolynomialSampler(", ".join(ring.names()), field_name(self.field_spec(ring)), order=ring.ordering().value, **options)
        if sampler.get_ring() != ring:
            raise ValueError(f"ring={ring} is not allowed: it is not the context PolynomialSampler builds (use its .get())")
        return sampler

    def univariate_ring(self, ring: Any) -> Any:
        return context(self.field_spec(ring), ring.names()[-1:], "lex")

    def embed(self, poly: Any, ring: Any) -> Any:
        before = (0,) * (ring.nvars() - 1)
        return ring.from_dict({before + tuple(monomial): c for monomial, c in poly.to_dict().items()})

    def monic(self, ring: Any, poly: Any) -> Any:
        return FLINT.monic(poly) if poly else poly

    def height(self, ring: Any, poly: Any) -> Any:
        coefficients = poly.coeffs()
        if not coefficients:
            return 0
        return int(max(max(abs(c.p), c.q) for c in coefficients))  # QQ: the only bounded field FLINT has

    def from_terms(self, ring: Any, terms: dict[tuple[int, ...], Any]) -> Any:
        return ring.from_dict(terms)  # ints and the field's elements alike; zero coefficients dropped

    def solve(self, ring: Any, square: list[list[Any]], right: list[list[Any]]) -> list[list[Any]] | None:
        spec = self.field_spec(ring)
        if spec.kind == "GF":
            field = coefficient_field(spec)
            lhs, rhs = flint.fmpz_mod_mat(square, field), flint.fmpz_mod_mat(right, field)
        else:
            lhs, rhs = flint.fmpq_mat(square), flint.fmpq_mat(right)
        if lhs.rank() < lhs.nrows():
            return None
        solution = lhs.solve(rhs)
        return [[solution[i, j] for j in range(solution.ncols())] for i in range(solution.nrows())]

    def coefficient_vector(self, ring: Any, values: list[Any]) -> Any:
        field = self._field_element(ring)
        return [field(value) for value in values]

    def _field_element(self, ring: Any) -> Any:
        return coefficient_field(self.field_spec(ring))


FLINT_IDEALS = FlintIdealOperations()


GroebnerBasisSampler, GroebnerIdealTransformer, BorderBasisSampler, BorderIdealTransformer = bind(FLINT_IDEALS, __name__)
