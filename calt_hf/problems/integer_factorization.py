"""``integer_factorization``: a product of random primes -> its prime factors."""

from __future__ import annotations

import math
import random

from calt_hf.problems.base import IntegerProblem, check_range


class IntegerFactorizationProblem(IntegerProblem):
    """Problem: ``n = p_1 * ... * p_k``, ``min_count <= k <= max_count`` primes, each uniform among the
    primes in ``min_prime .. max_prime`` (repeats allowed); solution: ``[p_1, ..., p_k]`` sorted
    increasingly, each prime as often as it divides ``n``.

    Primes are drawn by rejection from Python's ``random`` with SymPy's deterministic ``isprime``
    (``randprime`` would draw from SymPy's own generator and is not uniform over the primes).

    Verifier (``verify``): the same primes with the same multiplicities, in any order.
    """

    name = "integer_factorization"
    order_free = None  # the problem is one integer, no list
    nesting = ("string", "list")
    problem_text = "a product of min_count to max_count random primes from min_prime to max_prime (repeats allowed)"
    solution_text = "its prime factors, increasing, each as often as it divides the product"

    def __init__(self, min_count: int = 1, max_count: int = 4, min_prime: int = 2, max_prime: int = 1000) -> None:
        check_range("min_count", min_count, "max_count", max_count, 1)
        check_range("min_prime", min_prime, "max_prime", max_prime, 2)
        from sympy import nextprime  # SymPy here and in _prime: importing the problem library does not load it

        if nextprime(min_prime - 1) > max_prime:
            raise ValueError(f"max_prime={max_prime} is not allowed: no prime lies from min_prime={min_prime} to it")
        super().__init__(min_count=min_count, max_count=max_count, min_prime=min_prime, max_prime=max_prime)
        self.min_count, self.max_count, self.min_prime, self.max_prime = min_count, max_count, min_prime, max_prime

    def _prime(self) -> int:
        from sympy import isprime

        while True:
            candidate = random.randint(self.min_prime, self.max_prime)
            if isprime(candidate):
                return candidate

    def generate(self) -> tuple[int, list[int]]:
        primes = sorted(self._prime() for _ in range(random.randint(self.min_count, self.max_count)))
        return math.prod(primes), primes

    def verify(self, problem: int, solution: list[int], prediction: list[int]) -> bool:
        """The same primes with the same multiplicities, in any order."""
        return sorted(prediction) == sorted(solution)
