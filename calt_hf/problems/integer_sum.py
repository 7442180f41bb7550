"""``integer_sum``: a few random integers -> their sum."""

from __future__ import annotations

import random

from calt_hf.problems.base import IntegerProblem, check_range


class IntegerSumProblem(IntegerProblem):
    """Problem: ``min_count`` .. ``max_count`` integers, each uniform in ``min_value .. max_value``
    (negative bounds allowed); solution: their sum. CALT's documented first example, as a library task.

    Verifier (``verify``): the same integer."""

    name = "integer_sum"
    order_free = "a list and any reordering of it count as one problem: addition is commutative"
    nesting = ("list", "string")
    problem_text = "a list of random integers (min_count to max_count of them, each from min_value to max_value)"
    solution_text = "their sum"

    def __init__(self, min_count: int = 2, max_count: int = 6, min_value: int = 0, max_value: int = 1000) -> None:
        check_range("min_count", min_count, "max_count", max_count, 1)
        check_range("min_value", min_value, "max_value", max_value, None)
        super().__init__(min_count=min_count, max_count=max_count, min_value=min_value, max_value=max_value)
        self.min_count, self.max_count, self.min_value, self.max_value = min_count, max_count, min_value, max_value

    def generate(self) -> tuple[list[int], int]:
        numbers = [random.randint(self.min_value, self.max_value) for _ in range(random.randint(self.min_count, self.max_count))]
        return numbers, sum(numbers)
