"""``digit_product``: a random number -> the product of its decimal digits."""

from __future__ import annotations

import random

from calt_hf.problems.base import IntegerProblem, check_range


class DigitProductProblem(IntegerProblem):
    """Problem: a non-negative integer with ``min_digits`` .. ``max_digits`` decimal digits (the number of
    digits uniform, then the number uniform among those with that many digits, no leading zero); solution:
    the product of its digits (0 as soon as one digit is 0, so more often for longer numbers).

    Verifier (``verify``): the same integer."""

    name = "digit_product"
    order_free = None  # the problem is one integer, no list
    nesting = ("string", "string")
    problem_text = "a random non-negative integer of min_digits to max_digits decimal digits"
    solution_text = "the product of its decimal digits"

    def __init__(self, min_digits: int = 1, max_digits: int = 8) -> None:
        check_range("min_digits", min_digits, "max_digits", max_digits, 1)
        super().__init__(min_digits=min_digits, max_digits=max_digits)
        self.min_digits, self.max_digits = min_digits, max_digits

    def generate(self) -> tuple[int, int]:
        digits = random.randint(self.min_digits, self.max_digits)
        number = random.randint(0 if digits == 1 else 10 ** (digits - 1), 10**digits - 1)
        product, rest = 1, number
        while True:  # the digits by arithmetic, the last one first (a number's text is not needed)
            product *= rest % 10
            rest //= 10
            if rest == 0:
                return number, product
