"""Gröbner bases drawn backwards (Kera et al., NeurIPS 2024): a reduced lex basis in shape position, then
generators of its ideal.

An ideal of ``K[x_0, ..., x_{n-1}]`` is in shape position when its reduced Gröbner basis under lex
(``x_0 > ... > x_{n-1}``) is ``G = [x_0 + g_1, ..., x_{n-2} + g_{n-1}, h]`` with ``h`` monic in ``x_{n-1}``
alone and every ``g_i`` in ``x_{n-1}`` alone, of degree below ``h``'s. Each leading monomial (``x_i``, then
``x_{n-1}^deg h``) divides no other term, so any such ``G`` is a reduced Gröbner basis: nothing to compute.
``F = U·P·A·G`` with ``A`` an ``m x n`` and ``U`` an ``m x m`` lower unimodular polynomial matrix (ones on
the diagonal, zeros above it: both have a left inverse) and ``P`` a permutation matrix then generates the same
ideal, and is, in general, no Gröbner basis: a training pair ``(F, G)``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from calt_hf.ideals.common import IdealTransformerBase, check_field, polynomial_options
from calt_hf.ideals.operations import IdealOperations, LowerUnimodular
from calt_hf.sampling import check_int

#: The fields the shape position is drawn over (h is made monic).
FIELD_KINDS = ("GF", "QQ", "RR")


def apply(ops: IdealOperations, ring: Any, rows: LowerUnimodular, columns: list) -> list:
    """The lower unimodular matrix ``rows`` times the column ``columns`` (its length: the matrix's columns), in
    working polynomials of ``ring``."""
    mul, add = ops.mul, ops.add
    out = []
    for i, entries in enumerate(rows):
        total = columns[i] if i < len(columns) else None
        for j, entry in entries:
            product = mul(ring, entry, columns[j])
            total = product if total is None else add(ring, total, product)
        out.append(ops.zero(ring, columns[0]) if total is None else total)
    return out


class GroebnerBasisSamplerBase:
    """Random reduced lex Gröbner bases in shape position (calt-x's ``GroebnerBasisSampler``).

    ``h`` is drawn monic of degree ``min_degree`` .. ``max_degree`` in the last variable, then each ``g_i`` of
    degree below ``deg h`` (constants included), by ``PolynomialSampler``s with these options (never the
    zero polynomial). ``ring`` is a multivariate polynomial ring over a field (GF(p), QQ, RR) under lex;
    ``sample(k)`` returns ``k`` bases, each a list of ``n`` ring elements in decreasing leading monomial.
    """

    ops: ClassVar[IdealOperations]

    def __init__(
        self,
        ring: Any,
        max_degree: int = 5,
        min_degree: int = 1,
        max_num_terms: int | None = None,
        max_coeff: int | None = None,
        num_bound: int | None = None,
        degree_sampling: str = "uniform",
        term_sampling: str = "uniform",
        strictly_conditioned: bool = True,
    ) -> None:
        check_field(self.ops, ring, FIELD_KINDS, "shape position needs a field (h is made monic)")
        check_int("min_degree", min_degree, 1)  # h of degree 0 would be a unit: the whole ring
        self.ring, self.max_degree, self.min_degree = ring, max_degree, min_degree
        self._options = polynomial_options(max_num_terms, max_coeff, num_bound, degree_sampling, term_sampling, strictly_conditioned)
        self._univariate = self.ops.univariate_ring(ring)
        self._h = self._univariate_sampler(max_degree, min_degree)  # checks the options
        self._tails: dict[int, Any] = {}  # the g_i's sampler by their degree bound, built on first use
        self._leading = self.ops.gens(ring)[:-1]

    def _univariate_sampler(self, max_degree: int, min_degree: int) -> Any:
        return self.ops.polynomial_sampler(self._univariate, max_degree=max_degree, min_degree=min_degree, **self._options)

    def _tail_sampler(self, degree: int) -> Any:
        if degree not in self._tails:
            self._tails[degree] = self._univariate_sampler(degree, 0)
        return self._tails[degree]

    def _sample_one(self) -> list:
        """One basis, in working polynomials."""
        ops, ring = self.ops, self.ring
        h = ops.monic(self._univariate, self._h.sample(1)[0])
        if not self._leading:
            return [ops.embed(h, ring)]
        tails = self._tail_sampler(max(0, self._h.total_degree(h) - 1)).sample(1, size=(len(self._leading), 1))[0]
        return [ops.add(ring, x, ops.embed(tails[i, 0], ring)) for i, x in enumerate(self._leading)] + [ops.embed(h, ring)]

    def sample(self, num_samples: int = 1) -> list[list]:
        """``num_samples`` Gröbner bases, each a list of ring elements."""
        check_int("num_samples", num_samples, 1)
        return [self.ops.to_ring(self.ring, self._sample_one()) for _ in range(num_samples)]


class GroebnerIdealTransformerBase(IdealTransformerBase):
    """Generators ``F = U·P·A·G`` of the ideal of ``G`` (calt-x's ``GroebnerIdealTransformer``).

    ``F`` has ``m`` polynomials, ``m`` uniform in ``len(G)`` .. ``max_size``. The entries below the diagonal
    of ``A`` and ``U`` are random polynomials of the ``PolynomialSampler`` options given, each non-zero with
    probability ``density``. Over QQ and RR the whole draw is repeated while ``F`` exceeds ``coeff_bound``
    (``IdealTransformerBase``).
    """

    def __init__(
        self,
        ring: Any,
        max_size: int,
        max_degree: int = 1,
        min_degree: int = 1,
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
        # F holds at least the n polynomials of G
        self._setup(ring, max_size, len(self.ops.gens(ring)), (max_degree, min_degree), options, density, coeff_bound, max_iter)

    def transform(self, G: list) -> list:
        """A generating set ``F`` (a list of ring elements) of the ideal of ``G``."""
        G = list(G)
        if not 1 <= len(G) <= self.max_size:
            raise ValueError(f"G has {len(G)} polynomials; this transformer takes 1 to max_size={self.max_size}")
        return self._bounded_draws(self._draw, G)

    def _draw(self, G: list) -> list:
        ops, n = self.ops, len(G)
        m = ops.randint(0, self.max_size - n) + n
        A = ops.lower_unimodular(self._sampler, m, n, self.density)
        U = ops.lower_unimodular(self._sampler, m, m, self.density)
        order = ops.sample(range(m), m)  # P sends row j of A·G to row order[j] (Sage's matrix of the permutation)
        permuted = [G[0]] * m
        for j, row in enumerate(apply(ops, self.ring, A, G)):
            permuted[order[j]] = row
        return apply(ops, self.ring, U, permuted)
