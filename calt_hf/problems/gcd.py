"""``gcd``: two polynomials sharing a random common factor -> their normalised gcd."""

from __future__ import annotations

from typing import Any

from calt_hf.problems.algebra import leading_coefficient, monic
from calt_hf.problems.base import Problem


def normalized_gcd(f: Any, g: Any, field_kind: str) -> Any:
    """The gcd of ``f`` and ``g``: monic over a field; over ZZ with a positive leading coefficient (the content
    of the gcd included: gcd(2x, 4x) = 2x in ZZ[x], unique up to sign)."""
    h = f.gcd(g)
    if h == 0:
        return h
    if field_kind == "ZZ":
        return -h if leading_coefficient(h) < 0 else h
    return monic(h)


class GCDProblem(Problem):
    """Problem ``[f, g]`` with ``f = h*a``, ``g = h*b`` for random ``h``, ``a``, ``b``; solution ``gcd(f, g)``.

    ``h`` is a non-constant factor in most samples (the sampler may draw a constant), so most pairs
    share a non-trivial factor. The solution is monic (over ZZ: with a positive leading coefficient, its
    content included). RR is refused: a gcd of floating-point polynomials is not well defined.
    """

    name = "gcd"
    nesting = ("list", "string")
    problem_text = "two polynomials f = h*a and g = h*b, with h, a and b random (a common factor h in most samples)"
    solution_text = "gcd(f, g), monic (over ZZ: with a positive leading coefficient, content included)"

    def __init__(self, sampler: Any) -> None:
        if sampler.field_spec.kind == "RR":
            raise ValueError("field_str=RR is not allowed for problem=gcd: a gcd needs an exact field; use QQ, ZZ or GF(p)")
        super().__init__(sampler)

    def generate(self) -> tuple[list, Any]:
        h, a, b = self.sampler.sample(3)
        f, g = h * a, h * b
        return [f, g], normalized_gcd(f, g, self.sampler.field_spec.kind)
