"""``factor``: a product of random irreducible polynomials -> its factors with their multiplicities."""

from __future__ import annotations

import random
from typing import Any

from calt_hf.problems.base import PolynomialStatistics, Problem, check_range
from calt_hf.sampling import check_int


class FactorProblem(Problem):
    """Problem: ``f = g_1^e_1 * ... * g_k^e_k``, expanded; solution: ``[[g_1, e_1], ..., [g_k, e_k]]``.

    The ``g_i`` are ``k`` distinct irreducible polynomials (``min_count <= k <= max_count``) drawn from
    the sampler and normalised: monic over a field (leading coefficient 1 under the term order), over ZZ
    primitive with a positive leading coefficient. So ``f`` is normalised too and its factorization has no
    unit and no content: the list is all of it. Multiplicities ``e_i`` are uniform in
    ``1 .. max_multiplicity``. The list is sorted by increasing total degree of ``g_i``, then by the text
    of ``g_i`` (string order; the text is the same on both backends), so it is canonical.

    A draw that is constant or reducible (tested by factoring it) or repeats a factor is redrawn, at
    most ``max_tries`` times per sample. Exact rings only (QQ, ZZ, GF(p)); SymPy factors over GF(p) in
    one variable only. SymPy's factorization draws from SymPy's random generator, so the core reseeds the
    generators before each sample (``seeds_itself = False``), although the factors do not depend on it.

    Verifier (``verify``): the same irreducible factors with the same multiplicities, the pairs in any order,
    each factor up to a unit (times any non-zero constant over a field, times 1 or -1 over ZZ); a factor
    listed twice counts with both multiplicities, and a constant entry or a multiplicity below 1 is wrong.
    """

    name = "factor"
    needs = ("factorization",)
    order_free = None  # the problem is one polynomial, no list
    seeds_itself = False
    nesting = ("string", "list of lists")
    problem_text = (
        "a product f of min_count to max_count distinct random irreducible polynomials, each normalised (monic; "
        "over ZZ primitive with a positive leading coefficient) and raised to a power from 1 to max_multiplicity, expanded"
    )
    solution_text = (
        "the factorization of f as [factor, multiplicity] pairs, by increasing total degree of the factor, then by its text"
    )

    def __init__(
        self, sampler: Any, min_count: int = 1, max_count: int = 3, max_multiplicity: int = 2, max_tries: int = 1000
    ) -> None:
        kind = sampler.field_spec.kind
        if kind == "RR":
            raise ValueError(f"field_str={sampler.field_str} is not allowed for problem=factor: use QQ, ZZ or GF(p)")
        if sampler.max_degree < 1:
            raise ValueError("max_degree=0 is not allowed for problem=factor: constants have no irreducible factors")
        check_range("min_count", min_count, "max_count", max_count, 1)
        check_int("max_multiplicity", max_multiplicity, 1)
        check_int("max_tries", max_tries, 1)
        super().__init__(
            sampler, min_count=min_count, max_count=max_count, max_multiplicity=max_multiplicity, max_tries=max_tries
        )
        self.min_count, self.max_count = min_count, max_count
        self.max_multiplicity, self.max_tries = max_multiplicity, max_tries

    def generate(self) -> tuple[Any, list[list]]:
        kind, backend = self.sampler.field_spec.kind, self.backend
        count = random.randint(self.min_count, self.max_count)
        factors: dict[str, Any] = {}  # text -> factor: the text both identifies and sorts it
        for _ in range(self.max_tries):
            g = self.sampler.sample(1)[0]
            if backend.is_constant(g):
                continue
            g = backend.normalize(g, kind)
            key = backend.leaf_to_str(g)
            if key in factors or not backend.is_irreducible(g, kind):
                continue
            factors[key] = g
            if len(factors) == count:
                break
        else:
            raise RuntimeError(
                f"only {len(factors)} of {count} distinct irreducible factors in {self.max_tries} draws: raise "
                "problem.max_tries or lower problem.max_count"
            )
        pairs = sorted(
            ([g, random.randint(1, self.max_multiplicity)] for g in factors.values()),
            key=lambda pair: (self.sampler.total_degree(pair[0]), backend.leaf_to_str(pair[0])),
        )
        f = pairs[0][0] ** pairs[0][1]
        for g, e in pairs[1:]:
            f = f * g**e
        return f, pairs

    def default_statistics(self) -> FactorStatistics:
        return FactorStatistics(self.sampler)

    def read_solution(self, value: Any, reader: Any) -> list[list]:
        """``[[factor, multiplicity], ...]``: polynomials of the ring with integer multiplicities."""
        return [reader.fields(pair, reader.polynomial, reader.integer) for pair in value]

    def verify(self, problem: Any, solution: list[list], prediction: list[list]) -> bool:
        """The same factors with the same multiplicities, in any order, each factor up to a unit."""
        return self._multiplicities(prediction) == self._multiplicities(solution)

    def _multiplicities(self, pairs: list[list]) -> dict[str, int] | None:
        """Each factor's unit normal (by its text) with its total multiplicity; None if an entry is no factor."""
        kind, backend, counted = self.sampler.field_spec.kind, self.backend, {}
        for g, e in pairs:
            if backend.is_constant(g) or e < 1:
                return None
            key = backend.leaf_to_str(backend.unit_normal(g, kind))
            counted[key] = counted.get(key, 0) + e
        return counted


class FactorStatistics(PolynomialStatistics):
    """``PolynomialStatistics`` of ``f`` and of the factors, plus the number of factors with multiplicity."""

    def __call__(self, problem: Any, solution: list[list]) -> dict[str, dict[str, int]]:
        factors = self._describe([g for g, _ in solution])
        factors["num_factors_with_multiplicity"] = sum(e for _, e in solution)
        return {"problem": self._describe(problem), "solution": factors}
