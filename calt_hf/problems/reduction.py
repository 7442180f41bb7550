"""``reduction``: a polynomial and a Gröbner basis -> the polynomial's normal form modulo the ideal."""

from __future__ import annotations

from typing import Any

from calt_hf.problems.base import Problem
from calt_hf.problems.groebner import GroebnerProblem


class ReductionProblem(GroebnerProblem):
    """Problem: ``[f, g_1, ..., g_k]``: a random polynomial ``f`` (from the sampler), then the reduced
    Gröbner basis ``g_1, ..., g_k`` of a random zero-dimensional ideal, drawn as ``groebner`` draws it (same
    parameters, same restrictions). Solution: the normal form of ``f`` modulo that ideal, i.e. the
    remainder of ``f`` on division by the basis, in which no term is divisible by a leading monomial of
    the basis (unique, because the basis is a Gröbner basis).

    Verifier (``verify``): the same normal form: the answer equals the solution as a polynomial (terms in any
    order, any notation)."""

    name = "reduction"
    order_free = None  # f comes first; the basis after it is canonical already (by decreasing leading monomial)
    nesting = ("list", "string")
    problem_text = (
        "[f, g_1, ..., g_k]: a random polynomial f, then the reduced Gröbner basis of a random zero-dimensional "
        "ideal (of min_count to max_count random generators)"
    )
    solution_text = "the normal form of f modulo that ideal (the remainder of f on division by g_1, ..., g_k)"

    verify = Problem.verify  # the normal form is unique: equality (not groebner's basis comparison)
    partial_credit = Problem.partial_credit

    def generate(self) -> tuple[list, Any]:
        _, basis = self.draw_ideal()
        f = self.sampler.sample(1)[0]
        return [f, *basis], self.backend.normal_form(f, basis)
