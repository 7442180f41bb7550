"""``groebner``: polynomials generating a zero-dimensional ideal -> its reduced Gröbner basis (Sage only)."""

from __future__ import annotations

import random
from typing import Any

from calt_hf.problems.base import Problem
from calt_hf.sampling import check_int


class GroebnerProblem(Problem):
    """Problem: ``min_count`` .. ``max_count`` random polynomials generating a zero-dimensional ideal;
    solution: the ideal's reduced Gröbner basis under the sampler's term order (monic, sorted by
    decreasing leading monomial, as Sage and SymPy both return it).

    The number of generators is drawn first (uniformly), then tuples of that many polynomials are drawn
    until one generates a zero-dimensional ideal: not the unit ideal (no common zero at all) and with a
    pure power of every variable among the leading monomials of its basis (finitely many common zeros).
    After ``max_tries`` rejected tuples the sample fails with a RuntimeError naming the way out. Fewer
    generators than variables can never give a zero-dimensional ideal (Krull), so ``min_count`` defaults
    to the number of variables and ``max_count`` to one more. Exact fields only: QQ or GF(p).
    """

    name = "groebner"
    backends = ("sagemath",)
    nesting = ("list", "list")
    problem_text = (
        "random polynomials (min_count to max_count of them) generating a zero-dimensional ideal "
        "(redrawn until they do, at most max_tries times)"
    )
    solution_text = "the reduced Gröbner basis of that ideal under the sampler's term order, monic, by decreasing leading monomial"

    def __init__(self, sampler: Any, min_count: int | None = None, max_count: int | None = None, max_tries: int = 1000) -> None:
        ring = sampler.get_ring()
        if not callable(getattr(ring, "ideal", None)) or not hasattr(ring, "term_order"):
            raise ValueError("problem=groebner needs a multivariate Sage ring: use backend=sagemath and two or more symbols")
        if sampler.field_spec.kind not in ("QQ", "GF"):
            raise ValueError(
                f"field_str={sampler.field_str or ring.base_ring()} is not allowed for problem=groebner: "
                "use QQ or GF(p) (reduced Gröbner bases over ZZ or RR are not the ones meant here)"
            )
        if sampler.max_degree < 1:
            raise ValueError("max_degree=0 is not allowed for problem=groebner: constants only generate the unit ideal")
        n = ring.ngens()
        min_count = n if min_count is None else min_count
        max_count = max(n + 1, min_count) if max_count is None else max_count
        check_int("min_count", min_count, n)
        check_int("max_count", max_count, min_count)
        check_int("max_tries", max_tries, 1)
        super().__init__(sampler, min_count=min_count, max_count=max_count, max_tries=max_tries)
        self.min_count, self.max_count, self.max_tries = min_count, max_count, max_tries

    def generate(self) -> tuple[list, list]:
        ring = self.sampler.get_ring()
        count = random.randint(self.min_count, self.max_count)
        for _ in range(self.max_tries):
            generators = self.sampler.sample(count)
            if any(f.is_constant() and f != 0 for f in generators):
                continue  # a unit: the whole ring, no Gröbner basis needed to say so
            basis = ring.ideal(generators).groebner_basis("libsingular:std")  # reduced; ~3x faster than the default
            if _zero_dimensional(basis, ring.ngens()):
                return generators, list(basis)
        raise RuntimeError(
            f"no zero-dimensional ideal among {self.max_tries} draws of {count} polynomials in {ring.ngens()} "
            f"variables over {ring.base_ring()}: raise problem.max_tries, lower problem.max_count, or draw "
            "less degenerate polynomials (e.g. sampler.min_degree=1)"
        )


def _zero_dimensional(basis: Any, ngens: int) -> bool:
    """A Gröbner basis of a proper ideal with a pure power of every variable among its leading monomials."""
    pure: set[int] = set()
    for g in basis:
        if g.is_constant():
            return False  # the unit ideal (or the zero ideal)
        positions = g.lm().exponents()[0].nonzero_positions()
        if len(positions) == 1:
            pure.add(positions[0])
    return len(pure) == ngens
