"""What the backward samplers ask of a backend: its rings, its random sources, its linear algebra.

A backend subclasses ``IdealOperations`` once (``calt_hf/backends/*/ideals.py``) and the shared classes of
``shape`` and ``border`` call it through their ``ops`` attribute. Two draws are defined here, as ours: the
lower unimodular matrices of the Gröbner transform (only the entries that stay are drawn) and the points
of a border basis. Sage overrides both with calt-x's draws, which it matches.

The samplers compute on the backend's *working* polynomials: what its ``polynomial_sampler`` draws, multiplied and
added by ``mul`` and ``add``. They are the ring's own polynomials (the defaults here: Sage, FLINT), or, where the
ring's arithmetic is slow, a cheaper form that ``to_ring`` and ``from_ring`` convert once a sample (SymPy: plain
``{exponents: coefficient}`` dicts, GF(p) coefficients as ints).
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np

from calt_hf.sampling import FieldSpec

#: A lower unimodular matrix as its rows: row ``i`` is the unit vector ``e_i`` (none past the last column)
#: plus ``entry * e_j`` for each ``(j, entry)``, all ``j < i``.
LowerUnimodular = list[list[tuple[int, Any]]]

#: calt-x's bound on the numerators and denominators of random points over QQ (its Sage ``num_bound=10``).
POINT_NUM_BOUND = 10


class IdealOperations:
    """The backend's side of the backward samplers. Rings are the backend's polynomial rings; points are
    lists of field elements; matrices (for ``solve``) lists of rows."""

    # -- rings --------------------------------------------------------------------------------------
    def field_spec(self, ring: Any) -> FieldSpec:
        """The ring's coefficient field (a ValueError naming ``ring`` if it is no polynomial ring of this backend)."""
        raise NotImplementedError

    def gens(self, ring: Any) -> tuple:
        """The ring's variables, as working polynomials, in the ring's order of variables."""
        raise NotImplementedError

    def polynomial_sampler(self, ring: Any, **options: Any) -> Any:
        """A ``PolynomialSampler`` over ``ring`` with these options (which it checks), drawing as the backend's
        own and returning working polynomials."""
        raise NotImplementedError

    def univariate_ring(self, ring: Any) -> Any:
        """The polynomial ring in the last variable of ``ring`` alone, over the same field."""
        raise NotImplementedError

    def embed(self, poly: Any, ring: Any) -> Any:
        """A working polynomial of ``univariate_ring(ring)`` as one of ``ring``."""
        raise NotImplementedError

    def monic(self, ring: Any, poly: Any) -> Any:
        """A working polynomial of the univariate ``ring`` divided by its leading coefficient."""
        raise NotImplementedError

    def height(self, ring: Any, poly: Any) -> Any:
        """The size of a working polynomial's largest coefficient: over QQ the largest numerator or denominator,
        over RR the largest absolute value (0 for the zero polynomial)."""
        raise NotImplementedError

    def from_terms(self, ring: Any, terms: dict[tuple[int, ...], Any]) -> Any:
        """The working polynomial of ``ring`` with these ``{exponents: coefficient}`` (zero coefficients dropped;
        coefficients as ints or field elements)."""
        raise NotImplementedError

    # -- working polynomials ------------------------------------------------------------------------
    def mul(self, ring: Any, f: Any, g: Any) -> Any:
        """The product of two working polynomials of ``ring``."""
        return f * g

    def add(self, ring: Any, f: Any, g: Any) -> Any:
        """The sum of two working polynomials of ``ring``."""
        return f + g

    def zero(self, ring: Any, like: Any) -> Any:
        """The zero working polynomial of ``ring`` (``like`` is one of its working polynomials)."""
        return like * 0

    def to_ring(self, ring: Any, polys: list) -> list:
        """Working polynomials as the ring's own."""
        return polys

    def from_ring(self, ring: Any, polys: list) -> list:
        """The ring's polynomials as working ones."""
        return polys

    # -- random sources -----------------------------------------------------------------------------
    def randint(self, low: int, high: int) -> int:
        """A uniform integer in ``[low, high]`` from the backend's random source (the samplers' own)."""
        raise NotImplementedError

    def sample(self, population: range, k: int) -> list:
        """``k`` distinct elements of ``population`` in random order, from the backend's random source."""
        raise NotImplementedError

    def random(self) -> float:
        """A uniform number in ``[0, 1)`` from the backend's random source."""
        raise NotImplementedError

    # -- linear algebra over the field ----------------------------------------------------------------
    def solve(self, ring: Any, square: list[list[Any]], right: list[list[Any]]) -> list[list[Any]] | None:
        """``X`` with ``square · X = right`` over the ring's field, as rows; None if ``square`` is singular."""
        raise NotImplementedError

    def points_record(self, ring: Any, points: list[list[Any]]) -> Any:
        """The points as ``random_border_basis`` returns them (one row a point): a numpy object array, as the
        samplers' matrix mode gives matrices."""
        record = np.empty((len(points), len(points[0])), dtype=object)
        for i, point in enumerate(points):
            for k, coordinate in enumerate(point):
                record[i, k] = coordinate
        return record

    def coefficient_vector(self, ring: Any, values: list[Any]) -> Any:
        """A row of field elements as ``random_border_basis`` returns kernel vectors."""
        raise NotImplementedError

    # -- our draws (Sage overrides them with calt-x's) ------------------------------------------------
    def lower_unimodular(self, sampler: Any, rows: int, cols: int, density: float) -> LowerUnimodular:
        """A random ``rows x cols`` lower unimodular matrix: ones on the diagonal, zeros above it and, below
        it, a random polynomial with probability ``density``. The positions below the diagonal are drawn
        first (``random() < density``), then their entries, by the sampler's matrix mode as one row: only the
        polynomials that stay are drawn (calt-x draws a whole matrix, then overwrites or zeroes most of it)."""
        kept = [(i, j) for i in range(rows) for j in range(min(i, cols)) if self.random() < density]
        entries: LowerUnimodular = [[] for _ in range(rows)]
        if kept:
            drawn = sampler.sample(1, size=(1, len(kept)))[0]
            for t, (i, j) in enumerate(kept):
                entries[i].append((j, drawn[0, t]))
        return entries

    def random_points(self, ring: Any, count: int) -> tuple[list[list[Any]], Any]:
        """``count`` random points of the ring's affine space, as rows of field elements, and as
        ``points_record`` gives them. Coordinates are uniform in GF(p); over QQ a numerator in
        ``[-10, 10]`` over a denominator in ``[1, 10]``. From the backend's random source."""
        spec, n = self.field_spec(ring), len(self.gens(ring))
        coordinate = self._field_element(ring)
        if spec.kind == "GF":
            points = [[coordinate(self.randint(0, spec.characteristic - 1)) for _ in range(n)] for _ in range(count)]
        else:
            points = [
                [coordinate(self.randint(-POINT_NUM_BOUND, POINT_NUM_BOUND), self.randint(1, POINT_NUM_BOUND)) for _ in range(n)]
                for _ in range(count)
            ]
        return points, self.points_record(ring, points)

    def _field_element(self, ring: Any) -> Any:
        """A function ``(numerator[, denominator]) -> field element`` of the ring's field."""
        raise NotImplementedError


class PythonRandomSource:
    """The random sources of the backends whose samplers draw from Python's ``random`` (SymPy, FLINT)."""

    def randint(self, low: int, high: int) -> int:
        return random.randint(low, high)

    def sample(self, population: range, k: int) -> list:
        return random.sample(population, k)

    def random(self) -> float:
        return random.random()
