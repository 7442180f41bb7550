"""Shared fixtures: small, real generators (module-level, so worker processes can unpickle them)."""

from __future__ import annotations

import random

import pytest

from calt_hf.sympy import PolynomialSampler


def integer_sum_generator(seed: int) -> tuple[list[int], int]:
    """CALT's documented example generator: seeds itself, integers only."""
    random.seed(seed)
    problem = [random.randint(1, 1000) for _ in range(random.randint(1, 10))]
    return problem, sum(problem)


def unseeded_generator(seed: int) -> tuple[list[str], str]:
    """Draws from random, SymPy's generator and numpy's without seeding: the core must have seeded them."""
    import numpy as np
    from sympy import randprime

    return [str(random.random()), str(randprime(10, 10**6))], str(np.random.randint(0, 10**9))


@pytest.fixture
def gf7_sampler() -> PolynomialSampler:
    return PolynomialSampler("x, y", "GF7", "grevlex", max_degree=3, max_num_terms=4)


def nested_generator(seed: int) -> tuple[list[list[str]], list[str]]:
    """A list of lists (inner lists sometimes empty) and a list that is sometimes empty."""
    rng = random.Random(seed)
    problem = [[str(rng.randint(0, 9)) for _ in range(rng.randint(0, 2))] for _ in range(rng.randint(1, 3))]
    return problem, [str(len(inner)) for inner in problem if inner]


def mixed_generator(seed: int) -> tuple[list, str]:
    """A problem that mixes strings and lists at one level in some samples (needs the Json feature)."""
    rng = random.Random(seed)
    if rng.random() < 0.3:
        return ["a", ["b", "c"]], "mixed"
    return ["a", "b"], "flat"
