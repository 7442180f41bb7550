"""Border bases drawn backwards (Kera, Pelleriti, Ishihara, Zimmer, Pokutta, arXiv 2505.23696).

An order ideal ``O`` is a finite set of monomials closed under taking divisors; its border ``B`` holds the
monomials ``x_i·o`` (``o`` in ``O``) outside ``O``. Take ``|O|`` points at which the monomials of ``O`` are
linearly independent (their evaluation matrix is invertible): every ``b`` in ``B`` then agrees at the points
with exactly one combination of ``O``, and ``g_b = b - (that combination)`` vanishes on them. The ``g_b``
form the ``O``-border basis of the ideal of the points, which is zero-dimensional with ``O`` as a basis of
its quotient. ``F = A·G`` with a random polynomial matrix ``A`` lies in that ideal, and generates all of it
when ``A`` has a left inverse (always with ``identity_block``, which puts ``G`` itself first).

The order ideal is drawn as the reference implementation grows a random staircase: corners are taken in
turn, each pushed out to a random far corner within the room its walls leave, the box between them added,
and new corners opened where the box meets the walls; the axes up to the bounds always belong to it. Its
draws come from numpy's global generator and Python's ``random`` on every backend, so the same seeds give
the same order ideal on both.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from itertools import product
from typing import Any, ClassVar

import numpy as np

from calt_hf.ideals.common import IdealTransformerBase, check_field, polynomial_options
from calt_hf.ideals.operations import IdealOperations
from calt_hf.sampling import check_int

Monomial = tuple[int, ...]


def grevlex_key(exponents: Monomial) -> tuple[int, ...]:
    """The reference's listing order of monomials: higher total degree first, then by the last exponent,
    the one before it, ..., ascending."""
    return (-sum(exponents), *reversed(exponents))


def partitions(total: int, max_length: int, max_part: int) -> list[list[int]]:
    """The partitions of ``total`` into at most ``max_length`` parts of at most ``max_part``, in decreasing
    lexicographic order (Sage's ``Partitions`` order)."""

    def descend(rest: int, length: int, largest: int) -> Iterator[list[int]]:
        if rest == 0:
            yield []
            return
        if length == 0:
            return
        for first in range(min(rest, largest), 0, -1):
            for tail in descend(rest - first, length - 1, first):
                yield [first, *tail]

    return list(descend(total, max_length, max_part))


def border(order_ideal: Sequence[Monomial]) -> list[Monomial]:
    """The border of an order ideal (exponent tuples), in ``grevlex_key`` order."""
    inside = set(order_ideal)
    n = len(order_ideal[0])
    above = {o[:i] + (o[i] + 1,) + o[i + 1 :] for o in order_ideal for i in range(n)}
    return sorted(above - inside, key=grevlex_key)


class _Corner:
    """A corner of the staircase that may still grow: its point and its ``n`` walls (boxes given by their
    lower and upper ends). Along each axis it may grow up to ``cap``: the nearest upper end among the walls
    that are not its own along that axis."""

    __slots__ = ("point", "lower", "upper", "cap")

    def __init__(self, point: Monomial, lower: list[Monomial], upper: list[Monomial]) -> None:
        self.point, self.lower, self.upper = point, lower, upper
        n = len(point)
        self.cap = tuple(min(upper[j][k] for j in range(n) if j != k) for k in range(n))

    def open(self) -> bool:
        """Whether it has room along two axes or more, and more than one step along one of them."""
        gaps = [c - p for c, p in zip(self.cap, self.point)]
        return sum(gap != 0 for gap in gaps) > 1 and any(gap > 1 for gap in gaps)

    def draw_far_corner(self) -> Monomial:
        """A random point between the corner and its cap (the corner's own coordinate where there is no room)."""
        free = [k for k, (p, c) in enumerate(zip(self.point, self.cap)) if p <= c]
        far = list(self.point)
        if free:
            drawn = np.random.randint([self.point[k] for k in free], [self.cap[k] + 1 for k in free])
            for k, value in zip(free, drawn):
                far[k] = int(value)
        return tuple(far)

    def split(self, far: Monomial) -> list[_Corner]:
        """The corners that the box from this corner to ``far`` opens, one along each axis, open ones only."""
        n = len(self.point)
        children = []
        for i in range(n):
            lower, upper = [], []
            for j in range(n):
                if j == i:
                    lower.append(self.point)
                    upper.append(far)
                    continue
                moved = self.lower[j][:j] + (far[j],) + self.lower[j][j + 1 :]
                lower.append(tuple(map(min, moved, self.upper[j])))
                upper.append(tuple(map(max, moved, self.upper[j])))
            child = _Corner(self.point[:i] + (far[i],) + self.point[i + 1 :], lower, upper)
            if child.open():
                children.append(child)
        return children


def staircase(bounds: Sequence[int], max_iters: int = 100) -> list[Monomial]:
    """A random order ideal with exponents up to ``bounds`` (one a variable), in ``grevlex_key`` order."""
    n = len(bounds)
    origin = (0,) * n
    walls = [tuple(0 if k == i else int(bounds[k]) for k in range(n)) for i in range(n)]
    pending = [_Corner(origin, [origin] * n, walls)]
    monomials = {origin[:i] + (t,) + origin[i + 1 :] for i in range(n) for t in range(int(bounds[i]) + 1)}
    for step in range(max_iters):
        if step == max_iters - 1 or not pending:
            break
        corner = pending.pop()
        far = corner.draw_far_corner()
        children = corner.split(far)
        monomials.update(product(*(range(low, high + 1) for low, high in zip(corner.point, far))))
        pending.extend(children)
        random.shuffle(pending)
    return sorted(monomials, key=grevlex_key)


def evaluate(monomials: Sequence[Monomial], points: Sequence[Sequence[Any]]) -> list[list[Any]]:
    """The values of the monomials (columns) at the points (rows)."""
    degree = max(max(m) for m in monomials)
    rows = []
    for point in points:
        powers = []
        for coordinate in point:
            column = [coordinate**0]
            for _ in range(degree):
                column.append(column[-1] * coordinate)
            powers.append(column)
        row = []
        for monomial in monomials:
            value = powers[0][monomial[0]]
            for k in range(1, len(monomial)):
                value = value * powers[k][monomial[k]]
            row.append(value)
        rows.append(row)
    return rows


def combine(ops: IdealOperations, ring: Any, matrix: Any, rows: int, columns: list) -> list:
    """The polynomial matrix ``matrix`` (indexed ``[i, j]``, ``rows x len(columns)``) times the column ``columns``,
    in working polynomials of ``ring``."""
    out = []
    for i in range(rows):
        total = None
        for j, g in enumerate(columns):
            if matrix[i, j]:
                product = ops.mul(ring, matrix[i, j], g)
                total = product if total is None else ops.add(ring, total, product)
        out.append(ops.zero(ring, columns[0]) if total is None else total)
    return out


class BorderBasisSamplerBase:
    """Random border bases of zero-dimensional ideals (calt-x's ``BorderBasisSampler``).

    ``ring``: a polynomial ring in two or more variables over GF(p) or QQ. ``random_border_basis`` draws an
    order ideal ``O`` (exponents below ``degree_bounds``, one a variable; with ``total_degree_bound``, the
    staircase's extent along the axes is a random partition of a total below it instead), its border ``B``,
    then up to ``max_sampling - 1`` times ``|O|`` random points until ``O``'s evaluation matrix is invertible.
    """

    ops: ClassVar[IdealOperations]

    def __init__(self, ring: Any) -> None:
        check_field(self.ops, ring, ("GF", "QQ"), "border bases are drawn over exact fields (an evaluation matrix must be invertible)")
        self.ring = ring
        self.n = len(self.ops.gens(ring))
        if self.n < 2:
            raise ValueError(f"ring={ring} is not allowed: the order ideals are drawn in two or more variables")

    def check_bounds(self, degree_bounds: Any, total_degree_bound: Any = None, max_sampling: Any = 100,
                     degree_lower_bounds: Any = None) -> None:
        """A ValueError naming the first of ``random_border_basis``'s arguments that it cannot draw with."""
        if not isinstance(degree_bounds, Sequence) or len(degree_bounds) != self.n:
            raise ValueError(f"degree_bounds={degree_bounds!r} is not allowed; give one bound for each of the {self.n} variables")
        for bound in degree_bounds:
            check_int("degree_bounds", bound, 1)
        if total_degree_bound is not None:
            check_int("total_degree_bound", total_degree_bound, 2)
            if max(degree_bounds) < 2:
                raise ValueError(f"degree_bounds={list(degree_bounds)} is not allowed with total_degree_bound: one bound must be 2 or more")
        if degree_lower_bounds is not None:
            lows = [degree_lower_bounds] * self.n if isinstance(degree_lower_bounds, int) else degree_lower_bounds
            if not isinstance(lows, Sequence) or len(lows) != self.n or not all(
                isinstance(low, int) and 0 <= low < bound for low, bound in zip(lows, degree_bounds)
            ):
                raise ValueError(f"degree_lower_bounds={degree_lower_bounds!r} is not allowed; use integers 0 <= low < degree_bounds")
        check_int("max_sampling", max_sampling, 2)

    def random_order_ideal(self, degree_bounds: Sequence[int], total_degree_bound: int | None = None,
                           degree_lower_bounds: Any = None) -> list[Monomial]:
        """A random order ideal with exponents up to ``degree_bounds`` (exponent tuples, ``grevlex_key`` order)."""
        if total_degree_bound is None:
            lows = 0 if degree_lower_bounds is None else degree_lower_bounds
            extent = [int(e) for e in np.random.randint(lows, [int(b) + 1 for b in degree_bounds])]
        else:
            total = int(np.random.randint(1, total_degree_bound + 1))
            extent = random.choice(partitions(total, self.n, max(degree_bounds)))
            extent = extent + [0] * (self.n - len(extent))
            random.shuffle(extent)
        return staircase(extent)

    def random_border_basis(self, degree_bounds: Sequence[int], max_sampling: int = 100,
                            total_degree_bound: int | None = None, degree_lower_bounds: Any = None) -> dict[str, Any]:
        """One draw: ``{"basis": G, "order_coeff": kernel vectors, "border": B, "order": O, "points": points,
        "success": bool}``; ``G`` (ordered as ``B``) and the vectors are empty and None if no points were found."""
        self.check_bounds(degree_bounds, total_degree_bound, max_sampling, degree_lower_bounds)
        ops, ring = self.ops, self.ring
        order = self.random_order_ideal([b - 1 for b in degree_bounds],
                                        None if total_degree_bound is None else total_degree_bound - 1, degree_lower_bounds)
        outside = border(order)
        solution = record = None
        for _ in range(max_sampling - 1):
            points, record = ops.random_points(ring, len(order))
            solution = ops.solve(ring, evaluate(order, points), evaluate(outside, points))
            if solution is not None:
                break
        basis, vectors = [], None
        if solution is not None:
            vectors = []
            for b, monomial in enumerate(outside):
                column = [-solution[o][b] for o in range(len(order))]
                basis.append(ops.from_terms(ring, {monomial: 1, **dict(zip(order, column))}))
                vectors.append(ops.coefficient_vector(ring, [int(c == b) for c in range(len(outside))] + column))
        return {
            "basis": ops.to_ring(ring, basis),
            "order_coeff": vectors,
            "border": ops.to_ring(ring, [ops.from_terms(ring, {m: 1}) for m in outside]),
            "order": ops.to_ring(ring, [ops.from_terms(ring, {m: 1}) for m in order]),
            "points": record,
            "success": solution is not None,
        }

    def sample(self, num_samples: int, degree_bounds: Sequence[int], total_degree_bound: int | None = None,
               max_sampling: int = 100) -> list[list]:
        """``num_samples`` border bases, each a list of ring elements; a draw without points is drawn again."""
        check_int("num_samples", num_samples, 1)
        bases: list[list] = []
        while len(bases) < num_samples:
            drawn = self.random_border_basis(degree_bounds, max_sampling=max_sampling, total_degree_bound=total_degree_bound)
            if drawn["success"]:
                bases.append(drawn["basis"])
        return bases


class BorderIdealTransformerBase(IdealTransformerBase):
    """Generators ``F = A·G`` of polynomials of the ideal of ``G`` (calt-x's ``BorderIdealTransformer``).

    ``F`` has ``m`` polynomials, ``m`` uniform in ``len(G) + 1`` .. ``max(max_size, len(G)) + 1``; ``A`` is an
    ``m x len(G)`` matrix of random polynomials of the ``PolynomialSampler`` options given, each non-zero with
    probability ``density``, or (``identity_block``) the identity on top of ``m - len(G)`` such rows, so that
    ``F`` holds ``G`` itself. Over QQ and RR the whole draw is repeated while ``F`` exceeds ``coeff_bound``
    (``IdealTransformerBase``).
    """

    def __init__(
        self,
        ring: Any,
        max_size: int,
        identity_block: bool = False,
        max_degree: int = 1,
        min_degree: int = 0,
        max_num_terms: int | None = None,
        max_coeff: int | None = None,
        num_bound: int | None = None,
        degree_sampling: str = "uniform",
        term_sampling: str = "uniform",
        strictly_conditioned: bool = True,
        density: float = 1.0,
        coeff_bound: int = 100,
        max_iter: int = 100,
    ) -> None:
        options = polynomial_options(max_num_terms, max_coeff, num_bound, degree_sampling, term_sampling, strictly_conditioned)
        self._setup(ring, max_size, 1, (max_degree, min_degree), options, density, coeff_bound, max_iter)
        self.identity_block = identity_block

    def transform(self, G: list) -> list:
        """``F`` (a list of ring elements): combinations of ``G``; ``G`` itself first with ``identity_block``."""
        G = list(G)
        if not G:
            raise ValueError("G is empty; give the basis to transform")
        return self._bounded_draws(self._draw, G)

    def _draw(self, G: list) -> list:
        ops, n = self.ops, len(G)
        m = ops.randint(0, max(0, self.max_size - n)) + n + 1
        if self.identity_block:
            return G + combine(ops, self.ring, self._sampler.sample(1, size=(m - n, n), density=self.density)[0], m - n, G)
        return combine(ops, self.ring, self._sampler.sample(1, size=(m, n), density=self.density)[0], m, G)
