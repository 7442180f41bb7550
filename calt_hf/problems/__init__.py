"""The problem library: picklable, seed-taking generators built from a sampler.

Each problem is a small class: constructed from a backend's ``PolynomialSampler`` (and its own
parameters), called with a seed, returning ``(problem, solution)``. The same class serves every backend
it names in ``backends``: it only uses arithmetic both SymPy and Sage polynomials share.
"""

from __future__ import annotations

from calt_hf.problems.base import Problem, PolynomialStatistics
from calt_hf.problems.gcd import GCDProblem
from calt_hf.problems.groebner import GroebnerProblem
from calt_hf.problems.polysum import PolynomialSumProblem

#: Problem name (the ``problem=`` config option) -> class.
PROBLEMS: dict[str, type[Problem]] = {
    GCDProblem.name: GCDProblem,
    PolynomialSumProblem.name: PolynomialSumProblem,
    GroebnerProblem.name: GroebnerProblem,
}

__all__ = ["PROBLEMS", "Problem", "PolynomialStatistics", "GCDProblem", "GroebnerProblem", "PolynomialSumProblem"]
