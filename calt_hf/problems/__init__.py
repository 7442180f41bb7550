"""The problem library: picklable, seed-taking generators built from a sampler (or, for the integer tasks,
from their own parameters alone).

Each problem is a small class: constructed from a backend's ``PolynomialSampler`` (and its own
parameters), called with a seed, returning ``(problem, solution)``. The same class serves every backend
it runs on (``backends``, derived from the registry and what it ``needs``): it uses arithmetic every
backend's polynomials share, and its backend's operations (``calt_hf.backends.Backend``) for the rest.
"""

from __future__ import annotations

from calt_hf.problems.base import IntegerProblem, IntegerStatistics, PolynomialStatistics, Problem
from calt_hf.problems.border_basis import BorderBasisProblem
from calt_hf.problems.digit_product import DigitProductProblem
from calt_hf.problems.factor import FactorProblem, FactorStatistics
from calt_hf.problems.gcd import GCDProblem
from calt_hf.problems.groebner import GroebnerProblem
from calt_hf.problems.groebner_backward import GroebnerBackwardProblem
from calt_hf.problems.integer_factorization import IntegerFactorizationProblem
from calt_hf.problems.integer_sum import IntegerSumProblem
from calt_hf.problems.partial_product import PartialProductProblem
from calt_hf.problems.partial_sum import PartialSumProblem
from calt_hf.problems.polysum import PolynomialSumProblem
from calt_hf.problems.product import PolynomialProductProblem
from calt_hf.problems.reduction import ReductionProblem

#: Problem name (the ``problem=`` config option) -> class.
PROBLEMS: dict[str, type[Problem]] = {
    problem.name: problem
    for problem in (
        GCDProblem,
        PolynomialSumProblem,
        PartialSumProblem,
        PolynomialProductProblem,
        PartialProductProblem,
        FactorProblem,
        GroebnerProblem,
        GroebnerBackwardProblem,
        BorderBasisProblem,
        ReductionProblem,
        IntegerSumProblem,
        IntegerFactorizationProblem,
        DigitProductProblem,
    )
}

__all__ = [
    "PROBLEMS",
    "Problem",
    "IntegerProblem",
    "PolynomialStatistics",
    "IntegerStatistics",
    "FactorStatistics",
    "GCDProblem",
    "PolynomialSumProblem",
    "PartialSumProblem",
    "PolynomialProductProblem",
    "PartialProductProblem",
    "FactorProblem",
    "GroebnerProblem",
    "GroebnerBackwardProblem",
    "BorderBasisProblem",
    "ReductionProblem",
    "IntegerSumProblem",
    "IntegerFactorizationProblem",
    "DigitProductProblem",
]
