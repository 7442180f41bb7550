"""The backward samplers over Sage polynomial rings, drawing exactly as calt-x 1.5.0's.

The same seeds give the same polynomials as calt-x's classes: Sage's randstate for the polynomials (through
``PolynomialSampler``, which draws as calt-x's), the sizes, permutations and points (``sage.misc.prandom``,
``MatrixSpace.random_element``), numpy's and Python's global generators for the order ideals. The
transforms' products are taken entry by entry rather than as Sage matrices, so over RR the roundings may
differ from calt-x's in the last bits (GF(p) and QQ are exact: the same polynomials).
"""

from __future__ import annotations

from typing import Any

from sage.all__sagemath_singular import QQ, RR, MatrixSpace, PolynomialRing, matrix, vector
from sage.misc.prandom import randint, random, sample

from calt_hf.backends.sagemath.sampler import PolynomialSampler, _is_polynomial_ring, _spec_of
from calt_hf.ideals import bind
from calt_hf.ideals.operations import POINT_NUM_BOUND, IdealOperations, LowerUnimodular
from calt_hf.sampling import FieldSpec

__all__ = ["GroebnerBasisSampler", "GroebnerIdealTransformer", "BorderBasisSampler", "BorderIdealTransformer"]


class SageIdealOperations(IdealOperations):
    """Sage's rings, ``sage.misc.prandom`` and Sage's matrices; calt-x's draws of matrices and points."""

    def field_spec(self, ring: Any) -> FieldSpec:
        if not _is_polynomial_ring(ring):
            raise ValueError(f"ring={ring!r} is not a Sage polynomial ring")
        return _spec_of(ring.base_ring())

    def gens(self, ring: Any) -> tuple:
        return ring.gens()

    def polynomial_sampler(self, ring: Any, **options: Any) -> PolynomialSampler:
        return PolynomialSampler(ring=ring, **options)

    def univariate_ring(self, ring: Any) -> Any:
        return PolynomialRing(ring.base_ring(), names=[ring.variable_names()[-1]], order="lex")

    def embed(self, poly: Any, ring: Any) -> Any:
        return ring(poly)

    def monic(self, ring: Any, poly: Any) -> Any:
        return poly / poly.lc()  # calt-x's division (over RR, monic() would round otherwise)

    def height(self, ring: Any, poly: Any) -> Any:
        coefficients = poly.coefficients()
        if not coefficients:
            return 0
        if poly.base_ring() is RR:
            return max(abs(c) for c in coefficients)
        return max(max(abs(c.numerator()), abs(c.denominator())) for c in coefficients)

    def from_terms(self, ring: Any, terms: dict[tuple[int, ...], Any]) -> Any:
        return ring(terms)

    def randint(self, low: int, high: int) -> int:
        return randint(low, high)

    def sample(self, population: range, k: int) -> list:
        return sample(population, k)

    def random(self) -> float:
        return random()

    def solve(self, ring: Any, square: list[list[Any]], right: list[list[Any]]) -> list[list[Any]] | None:
        field = ring.base_ring()
        lhs = matrix(field, square)
        if lhs.rank() < lhs.nrows():
            return None
        return [list(row) for row in lhs.solve_right(matrix(field, right)).rows()]

    def points_record(self, ring: Any, points: list[list[Any]]) -> Any:
        return matrix(ring.base_ring(), points)

    def coefficient_vector(self, ring: Any, values: list[Any]) -> Any:
        return vector(ring.base_ring(), values)

    def lower_unimodular(self, sampler: Any, rows: int, cols: int, density: float) -> LowerUnimodular:
        """calt-x's: a whole ``rows x cols`` matrix drawn, then ones put on the diagonal and zeros above it."""
        drawn = sampler.sample(1, size=(rows, cols), density=density)[0]
        return [[(j, drawn[i, j]) for j in range(min(i, cols)) if drawn[i, j]] for i in range(rows)]

    def random_points(self, ring: Any, count: int) -> tuple[list[list[Any]], Any]:
        """calt-x's: a random ``count x n`` matrix of Sage's ``MatrixSpace`` (QQ: ``num_bound=10``)."""
        field = ring.base_ring()
        drawn = MatrixSpace(field, count, ring.ngens()).random_element(**({"num_bound": POINT_NUM_BOUND} if field is QQ else {}))
        return [list(row) for row in drawn.rows()], drawn


SAGE_IDEALS = SageIdealOperations()


GroebnerBasisSampler, GroebnerIdealTransformer, BorderBasisSampler, BorderIdealTransformer = bind(SAGE_IDEALS, __name__)
