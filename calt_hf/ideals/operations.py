"""What the backward samplers ask of a backend: its rings, its random sources, its linear algebra.

A backend subclasses ``IdealOperations`` once (``calt_hf/backends/*/ideals.py``) and the shared classes of
``shape`` and ``border`` call it through their ``ops`` attribute. Two draws are defined here, as ours: the
lower unimodular matrices of the Gröbner transform (only the entries that stay are drawn) and the points
of a border basis. Sage overrides both with calt-x's draws, which it matches.
"""

from __future__ import annotations

from typing import Any

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
        """The ring's variables, as polynomials, in the ring's order of variables."""
        raise NotImplementedError

    def polynomial_sampler(self, ring: Any, **options: Any) -> Any:
        """The backend's ``PolynomialSampler`` over ``ring`` with these options (which it checks)."""
        raise NotImplementedError

    def univariate_ring(self, ring: Any) -> Any:
        """The polynomial ring in the last variable of ``ring`` alone, over the same field."""
        raise NotImplementedError

    def embed(self, poly: Any, ring: Any) -> Any:
        """A polynomial of ``univariate_ring(ring)`` as an element of ``ring``."""
        raise NotImplementedError

    def monic(self, poly: Any) -> Any:
        """``poly`` divided by its leading coefficient."""
        raise NotImplementedError

    def height(self, poly: Any) -> Any:
        """The size of the largest coefficient: over QQ the largest numerator or denominator, over RR the
        largest absolute value (0 for the zero polynomial)."""
        raise NotImplementedError

    def from_terms(self, ring: Any, terms: dict[tuple[int, ...], Any]) -> Any:
        """The polynomial of ``ring`` with these ``{exponents: coefficient}`` (zero coefficients dropped)."""
        raise NotImplementedError

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
        """The points as ``random_border_basis`` returns them (one row a point)."""
        raise NotImplementedError

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
