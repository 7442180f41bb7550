"""``groebner``: polynomials generating a zero-dimensional ideal -> its reduced Gröbner basis."""

from __future__ import annotations

import random
from typing import Any

from calt_hf import backends as registry
from calt_hf.backends import Backend
from calt_hf.problems.base import Problem, check_range
from calt_hf.sampling import check_int


class GroebnerProblem(Problem):
    """Problem: ``min_count`` .. ``max_count`` random polynomials generating a zero-dimensional ideal;
    solution: the ideal's reduced Gröbner basis under the sampler's term order (monic, sorted by
    decreasing leading monomial, as Sage and SymPy both return it: the same text on both backends).

    The number of generators is drawn first (uniformly), then tuples of that many polynomials are drawn
    until one generates a zero-dimensional ideal: not the unit ideal (no common zero at all) and with a
    pure power of every variable among the leading monomials of its basis (finitely many common zeros).
    After ``max_tries`` rejected tuples the sample fails with a RuntimeError naming the way out. Fewer
    generators than variables can never give a zero-dimensional ideal (Krull), so ``min_count`` defaults
    to the number of variables and ``max_count`` to one more. Exact fields only: QQ or GF(p); two or more
    variables. SymPy runs Buchberger's algorithm in Python: expect it to be much slower than Singular, with a
    heavy tail (GF(31), four variables, degree 5: a median of 0.6 s, one sample in five over 10 s); on the
    command line a SymPy run therefore stops a sample after 10 s and draws it again (``run_defaults``).

    Verifier (``verify``): the reduced Gröbner basis of the same ideal, its polynomials in any order (each
    monic, as a reduced basis is: unique, so the solution's polynomials exactly). Reported apart
    (``partial_credit``, ``groebner_basis``): whether the answer is a Gröbner basis of the ideal at all,
    reduced or not (its polynomials lie in the ideal and their leading monomials generate the ideal's).
    """

    name = "groebner"
    needs = ("groebner",)
    run_defaults = {backend: {"sample_timeout": 10.0, "on_error": "resample"} for backend in ("sympy", "flint")}
    order_free = "generators in any order count as one problem: they span the same ideal, whose reduced basis is unique"
    nesting = ("list", "list")
    problem_text = (
        "random polynomials (min_count to max_count of them) generating a zero-dimensional ideal "
        "(redrawn until they do, at most max_tries times)"
    )
    solution_text = "the reduced Gröbner basis of that ideal under the sampler's term order, monic, by decreasing leading monomial"

    def __init__(self, sampler: Any, min_count: int | None = None, max_count: int | None = None, max_tries: int = 1000) -> None:
        ring = sampler.get_ring()
        n = registry.backend_of(ring).ngens(ring)
        if n < 2:
            raise ValueError(
                f"symbols={sampler.symbols!r} is not allowed for problem={self.name}: it needs two or more variables"
            )
        if sampler.field_spec.kind not in ("QQ", "GF"):
            raise ValueError(
                f"field_str={sampler.field_str or sampler.get_ring().base_ring()} is not allowed for problem={self.name}: "
                "use QQ or GF(p) (reduced Gröbner bases over ZZ or RR are not the ones meant here)"
            )
        if sampler.max_degree < 1:
            raise ValueError(f"max_degree=0 is not allowed for problem={self.name}: constants only generate the unit ideal")
        min_count = n if min_count is None else min_count
        max_count = max(n + 1, min_count) if max_count is None else max_count
        check_range("min_count", min_count, "max_count", max_count, n)
        check_int("max_tries", max_tries, 1)
        super().__init__(sampler, min_count=min_count, max_count=max_count, max_tries=max_tries)
        self.min_count, self.max_count, self.max_tries = min_count, max_count, max_tries

    def generate(self) -> tuple[list, list]:
        return self.draw_ideal()

    def draw_ideal(self) -> tuple[list, list]:
        """Generators of a random zero-dimensional ideal, and its reduced Gröbner basis."""
        ring, backend = self.sampler.get_ring(), self.backend
        count = random.randint(self.min_count, self.max_count)
        for _ in range(self.max_tries):
            generators = self.sampler.sample(count)
            if any(backend.is_constant(f) and f != 0 for f in generators):
                continue  # a unit: the whole ring, no Gröbner basis needed to say so
            basis = backend.groebner_basis(generators, ring)
            if _zero_dimensional(backend, basis, backend.ngens(ring)):
                return generators, basis
        raise RuntimeError(
            f"no zero-dimensional ideal among {self.max_tries} draws of {count} polynomials in {backend.ngens(ring)} "
            f"variables over {self.sampler.field_str}: raise problem.max_tries, lower problem.max_count, or draw "
            "less degenerate polynomials (e.g. sampler.min_degree=1)"
        )


    def verify(self, problem: Any, solution: list, prediction: list) -> bool:
        """The reduced Gröbner basis of the ideal: the solution's polynomials, in any order."""
        text = self.backend.leaf_to_str
        return sorted(map(text, prediction)) == sorted(map(text, solution))

    def partial_credit(self, problem: Any, solution: list, prediction: list) -> dict[str, bool]:
        """``groebner_basis``: whether the answer is a Gröbner basis of the ideal, reduced or not."""
        return {"groebner_basis": self.backend.is_groebner_basis(prediction, solution)}


def _zero_dimensional(backend: Backend, basis: list, ngens: int) -> bool:
    """A Gröbner basis of a proper ideal with a pure power of every variable among its leading monomials."""
    pure: set[int] = set()
    for g in basis:
        if backend.is_constant(g):
            return False  # the unit ideal (or the zero ideal)
        positions = [i for i, e in enumerate(backend.leading_exponents(g)) if e]
        if len(positions) == 1:
            pure.add(positions[0])
    return len(pure) == ngens
