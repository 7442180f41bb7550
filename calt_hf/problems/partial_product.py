"""``partial_product``: a few random polynomials -> their running products."""

from __future__ import annotations

import operator
from itertools import accumulate

from calt_hf.problems.product import PolynomialProductProblem


class PartialProductProblem(PolynomialProductProblem):
    """Problem: ``[p_1, ..., p_k]``, ``min_count <= k <= max_count`` random polynomials; solution:
    ``[p_1, p_1*p_2, ..., p_1*...*p_k]``, expanded (as many running products as polynomials).

    Verifier (``verify``): polynomial equality, product by product, in the list's order."""

    name = "partial_product"
    order_free = None  # the running products follow the list's order (its product order-free: see product)
    nesting = ("list", "list")
    problem_text = "a list of random polynomials p_1, ..., p_k (k from min_count to max_count)"
    solution_text = "their running products p_1, p_1*p_2, ..., p_1*...*p_k, expanded"

    def solve(self, polys: list) -> list:
        return list(accumulate(polys, operator.mul))
