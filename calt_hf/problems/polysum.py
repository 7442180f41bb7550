"""``sum``: a few random polynomials -> their sum (the framework's cheapest polynomial task)."""

from __future__ import annotations

import operator
from functools import reduce
from typing import Any

from calt_hf.problems.base import PolynomialListProblem


class PolynomialSumProblem(PolynomialListProblem):
    """Problem: ``min_count`` .. ``max_count`` random polynomials; solution: their sum.

    Verifier (``verify``): polynomial equality with the solution (terms in any order, any notation)."""

    name = "sum"
    order_free = "a list and any reordering of it count as one problem: addition is commutative"
    nesting = ("list", "string")
    problem_text = "a list of random polynomials (min_count to max_count of them)"
    solution_text = "their sum"

    def solve(self, polys: list) -> Any:
        return reduce(operator.add, polys)
