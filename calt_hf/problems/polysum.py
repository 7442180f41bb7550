"""``sum``: a few random polynomials -> their sum (the framework's cheapest polynomial task)."""

from __future__ import annotations

import random
from typing import Any

from calt_hf.problems.base import Problem
from calt_hf.sampling import check_int


class PolynomialSumProblem(Problem):
    """Problem: ``min_count`` .. ``max_count`` random polynomials; solution: their sum."""

    name = "sum"
    nesting = ("list", "string")
    problem_text = "a list of random polynomials (min_count to max_count of them)"
    solution_text = "their sum"

    def __init__(self, sampler: Any, min_count: int = 2, max_count: int = 6) -> None:
        check_int("min_count", min_count, 1)
        check_int("max_count", max_count, 1)
        if min_count > max_count:
            raise ValueError(f"min_count={min_count} is above max_count={max_count}")
        super().__init__(sampler, min_count=min_count, max_count=max_count)
        self.min_count, self.max_count = min_count, max_count

    def generate(self) -> tuple[list, Any]:
        polys = self.sampler.sample(random.randint(self.min_count, self.max_count))
        total = polys[0]
        for poly in polys[1:]:
            total = total + poly
        return polys, total
