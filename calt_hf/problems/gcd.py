"""``gcd``: two polynomials sharing a random common factor -> their normalised gcd."""

from __future__ import annotations

from typing import Any

from calt_hf.backends import Backend
from calt_hf.problems.base import PolynomialStatistics, Problem

#: Draws per sample with ``exclude_degenerate`` before the sample fails (only a tiny ring runs out).
MAX_DRAWS = 100


def normalized_gcd(backend: Backend, f: Any, g: Any, field_kind: str) -> Any:
    """The gcd of ``f`` and ``g``: monic over a field; over ZZ with a positive leading coefficient (the content
    of the gcd included: gcd(2x, 4x) = 2x in ZZ[x], unique up to sign)."""
    return backend.unit_normal(f.gcd(g), field_kind)


class GCDProblem(Problem):
    """Problem ``[f, g]`` with ``f = h*a``, ``g = h*b`` for random ``h``, ``a``, ``b``; solution ``gcd(f, g)``.

    ``h`` is a non-constant factor in most samples (the sampler may draw a constant), so most pairs
    share a non-trivial factor. The solution is monic in the ring's term order (over ZZ: with a positive
    leading coefficient, its content included). RR is refused: a gcd of floating-point polynomials is not
    well defined. Degenerate pairs (gcd 1, a constant input, f = g) are what a small model gets right
    first; their shares are in the statistics (``degenerate``), and ``exclude_degenerate`` redraws them.

    Verifier (``verify``): an answer is right when it is a gcd of the pair, whatever unit it is normalised
    by: the solution times any non-zero constant over a field, times 1 or -1 over ZZ.
    """

    name = "gcd"
    order_free = "[f, g] and [g, f] count as one problem: gcd(f, g) = gcd(g, f)"
    nesting = ("list", "string")
    problem_text = "two polynomials f = h*a and g = h*b, with h, a and b random (a common factor h in most samples)"
    solution_text = "gcd(f, g), monic in the ring's term order (over ZZ: with a positive leading coefficient, content included)"

    def __init__(self, sampler: Any, exclude_degenerate: bool = False) -> None:
        if sampler.field_spec.kind == "RR":
            raise ValueError("field_str=RR is not allowed for problem=gcd: a gcd needs an exact field; use QQ, ZZ or GF(p)")
        if not isinstance(exclude_degenerate, bool):
            raise ValueError(f"exclude_degenerate={exclude_degenerate!r} is not allowed; use true or false")
        super().__init__(sampler, exclude_degenerate=exclude_degenerate)
        self.exclude_degenerate = exclude_degenerate

    def generate(self) -> tuple[list, Any]:
        for _ in range(MAX_DRAWS):
            h, a, b = self.sampler.sample(3)
            f, g = h * a, h * b
            solution = normalized_gcd(self.backend, f, g, self.sampler.field_spec.kind)
            if not (self.exclude_degenerate and any(degeneracies(self.sampler, f, g, solution).values())):
                return [f, g], solution
        raise ValueError(
            f"problem.exclude_degenerate=true: {MAX_DRAWS} draws in a row gave a degenerate pair (gcd 1, a constant "
            "input or f = g); the sampler's ring or degrees are too small for it"
        )

    def default_statistics(self) -> GCDStatistics:
        return GCDStatistics(self.sampler)

    def verify(self, problem: Any, solution: Any, prediction: Any) -> bool:
        """A gcd of the pair up to a unit: the solution times a non-zero constant (over ZZ: times 1 or -1)."""
        kind = self.sampler.field_spec.kind
        return self.backend.unit_normal(prediction, kind) == self.backend.unit_normal(solution, kind)


def degeneracies(sampler: Any, f: Any, g: Any, solution: Any) -> dict[str, int]:
    """Which degenerate kinds a pair is (1 or 0 each, so that their means are shares)."""
    return _degeneracies(f, g, solution, *map(sampler.total_degree, (f, g, solution)))


def _degeneracies(f: Any, g: Any, solution: Any, f_degree: int, g_degree: int, solution_degree: int) -> dict[str, int]:
    # bool(solution), not solution != 0: Sage coerces the 0 first (3.5 us).
    return {
        "gcd_is_one": int(bool(solution) and solution_degree == 0),
        "constant_input": int(f_degree == 0 or g_degree == 0),
        "equal_inputs": int(f == g),
    }


class GCDStatistics(PolynomialStatistics):
    """The default statistics, plus the ``degenerate`` shares of GCD pairs (each total degree computed once)."""

    def __call__(self, problem: Any, solution: Any) -> dict[str, dict[str, int]]:
        f, g = problem
        f_degree, g_degree, solution_degree = map(self.sampler.total_degree, (f, g, solution))
        return {
            "problem": self.summary(problem, (f_degree, g_degree)),
            "solution": self.summary((solution,), (solution_degree,)),
            "degenerate": _degeneracies(f, g, solution, f_degree, g_degree, solution_degree),
        }
