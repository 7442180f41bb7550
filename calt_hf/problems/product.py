"""``product``: a few random polynomials -> their product."""

from __future__ import annotations

import operator
from functools import reduce
from typing import Any

from calt_hf.problems.base import PolynomialListProblem


class PolynomialProductProblem(PolynomialListProblem):
    """Problem: ``min_count`` .. ``max_count`` random polynomials; solution: their product.

    Fewer factors by default than ``sum`` adds: degrees add up, and the number of terms grows fast.

    Verifier (``verify``): polynomial equality with the solution (terms in any order, any notation).
    """

    name = "product"
    order_free = "a list and any reordering of it count as one problem: multiplication is commutative"
    nesting = ("list", "string")
    problem_text = "a list of random polynomials (min_count to max_count of them)"
    solution_text = "their product, expanded"

    def __init__(self, sampler: Any, min_count: int = 2, max_count: int = 3) -> None:
        super().__init__(sampler, min_count, max_count)

    def solve(self, polys: list) -> Any:
        return reduce(operator.mul, polys)
