"""``partial_sum``: a few random polynomials -> their running sums."""

from __future__ import annotations

import operator
from itertools import accumulate

from calt_hf.problems.base import PolynomialListProblem


class PartialSumProblem(PolynomialListProblem):
    """Problem: ``[p_1, ..., p_k]``, ``min_count <= k <= max_count`` random polynomials; solution:
    ``[p_1, p_1 + p_2, ..., p_1 + ... + p_k]`` (as many running sums as polynomials).

    Verifier (``verify``): polynomial equality, sum by sum, in the list's order."""

    name = "partial_sum"
    order_free = None  # the running sums follow the list's order
    nesting = ("list", "list")
    problem_text = "a list of random polynomials p_1, ..., p_k (k from min_count to max_count)"
    solution_text = "their running sums p_1, p_1 + p_2, ..., p_1 + ... + p_k"

    def solve(self, polys: list) -> list:
        return list(accumulate(polys, operator.add))
