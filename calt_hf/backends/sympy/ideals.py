"""The backward samplers over SymPy's sparse polynomial rings (``sympy.polys.rings``).

There is no calt-x to match here: the draws are ours (``IdealOperations``), from Python's ``random`` (the
polynomials, sizes, permutations and points) and, for the order ideals, numpy's global generator as on
Sage, so a seed gives the same order ideal on both backends. A ring is a ``PolyRing`` (a calt_hf
``PolynomialSampler``'s ``get_ring()``, or ``ring("x, y", GF(7), lex)[0]``).
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
from sympy.polys.matrices import DomainMatrix
from sympy.polys.orderings import lex
from sympy.polys.rings import PolyRing, ring as sympy_ring

from calt_hf.backends.sympy.sampler import PolynomialSampler, _spec_of
from calt_hf.ideals import bind
from calt_hf.ideals.common import field_name
from calt_hf.ideals.operations import IdealOperations
from calt_hf.sampling import FieldSpec

__all__ = ["GroebnerBasisSampler", "GroebnerIdealTransformer", "BorderBasisSampler", "BorderIdealTransformer"]


class SymPyIdealOperations(IdealOperations):
    """SymPy's rings, Python's ``random`` and ``DomainMatrix``."""

    def field_spec(self, ring: Any) -> FieldSpec:
        if not isinstance(ring, PolyRing):
            raise ValueError(f"ring={ring!r} is not a SymPy PolyRing; give e.g. sampler.get_ring() or ring('x, y', GF(7), lex)[0]")
        try:
            return _spec_of(ring.domain)
        except NotImplementedError as error:
            raise ValueError(f"ring={ring} is not allowed: {error}") from error

    def gens(self, ring: Any) -> tuple:
        return ring.gens

    def polynomial_sampler(self, ring: Any, **options: Any) -> PolynomialSampler:
        symbols = ", ".join(str(symbol) for symbol in ring.symbols)
        sampler = PolynomialSampler(symbols, field_name(self.field_spec(ring)), order=ring.order, **options)
        if sampler.get_ring() != ring:
            raise ValueError(f"ring={ring} is not allowed: its domain {ring.domain} is not one PolynomialSampler builds")
        return sampler

    def univariate_ring(self, ring: Any) -> Any:
        return sympy_ring(str(ring.symbols[-1]), ring.domain, lex)[0]

    def embed(self, poly: Any, ring: Any) -> Any:
        before = (0,) * (ring.ngens - 1)
        return ring.dtype({before + monomial: coefficient for monomial, coefficient in poly.items()})

    def monic(self, poly: Any) -> Any:
        return poly.monic()

    def height(self, poly: Any) -> Any:
        if not poly:
            return 0
        # int(): with python-flint installed SymPy's QQ and ZZ hold FLINT numbers, which do not compare with floats
        if poly.ring.domain.is_QQ:
            return int(max(max(abs(c.numerator), c.denominator) for c in poly.values()))
        if poly.ring.domain.is_ZZ:
            return int(max(abs(c) for c in poly.values()))
        return max(abs(c) for c in poly.values())

    def from_terms(self, ring: Any, terms: dict[tuple[int, ...], Any]) -> Any:
        return ring.from_dict(terms)

    def randint(self, low: int, high: int) -> int:
        return random.randint(low, high)

    def sample(self, population: range, k: int) -> list:
        return random.sample(population, k)

    def random(self) -> float:
        return random.random()

    def solve(self, ring: Any, square: list[list[Any]], right: list[list[Any]]) -> list[list[Any]] | None:
        size, width = len(square), len(right[0])
        augmented = DomainMatrix([a + b for a, b in zip(square, right)], (size, size + width), ring.domain)
        reduced, pivots = augmented.rref()
        if tuple(pivots[:size]) != tuple(range(size)):
            return None
        return [row[size:] for row in reduced.to_list()]

    def points_record(self, ring: Any, points: list[list[Any]]) -> Any:
        record = np.empty((len(points), ring.ngens), dtype=object)  # as the sampler's matrix mode gives matrices
        for i, point in enumerate(points):
            for k, coordinate in enumerate(point):
                record[i, k] = coordinate
        return record

    def coefficient_vector(self, ring: Any, values: list[Any]) -> Any:
        return [ring.domain.convert(value) for value in values]

    def _field_element(self, ring: Any) -> Any:
        return ring.domain


SYMPY_IDEALS = SymPyIdealOperations()


GroebnerBasisSampler, GroebnerIdealTransformer, BorderBasisSampler, BorderIdealTransformer = bind(SYMPY_IDEALS, __name__)
