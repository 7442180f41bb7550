"""What the backward samplers and transforms share: their checks, the options of the ``PolynomialSampler``s
they draw with, and the transforms' redraws under a coefficient bound."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from calt_hf.ideals.operations import IdealOperations
from calt_hf.sampling import FieldSpec, check_int


def field_name(spec: FieldSpec) -> str:
    """``GF(7)``, ``QQ``, ..."""
    return f"GF({spec.characteristic})" if spec.kind == "GF" else spec.kind


def check_field(ops: IdealOperations, ring: Any, allowed: tuple[str, ...], reason: str) -> None:
    kind = ops.field_spec(ring).kind
    if kind not in allowed:
        names = ", ".join("GF(p)" if k == "GF" else k for k in allowed)
        raise ValueError(f"ring={ring} is not allowed: {reason}; use a ring over {names}")


def check_density(density: Any) -> None:
    if isinstance(density, bool) or not isinstance(density, (int, float)) or not 0.0 <= density <= 1.0:
        raise ValueError(f"density={density!r} is not allowed; use a number in [0, 1]")


def check_positive(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"{name}={value!r} is not allowed; use a positive number")


def polynomial_options(max_num_terms: int | None, max_coeff: int | None, num_bound: int | None, degree_sampling: str,
                       term_sampling: str, strictly_conditioned: bool) -> dict[str, Any]:
    """The ``PolynomialSampler`` options calt-x's classes pass on, besides the degrees (never the zero polynomial)."""
    return {"max_num_terms": max_num_terms, "max_coeff": max_coeff, "num_bound": num_bound, "degree_sampling": degree_sampling,
            "term_sampling": term_sampling, "strictly_conditioned": strictly_conditioned, "nonzero_instance": True}


class IdealTransformerBase:
    """A transform of a basis ``G`` into generators ``F``: its random entries' ``PolynomialSampler``, and over QQ
    and RR the whole draw repeated, up to ``max_iter`` times, while a coefficient of ``F`` exceeds ``coeff_bound``
    in size (a numerator or denominator; an absolute value); the last draw is kept."""

    ops: ClassVar[IdealOperations]

    def _setup(self, ring: Any, max_size: int, least_size: int, degrees: tuple[int, int], options: dict[str, Any],
               density: float, coeff_bound: float, max_iter: int) -> None:
        check_field(self.ops, ring, ("GF", "QQ", "RR"), "the transform needs a field")
        check_int("max_size", max_size, least_size)
        check_density(density)
        check_positive("coeff_bound", coeff_bound)
        check_int("max_iter", max_iter, 1)
        self.ring, self.max_size, self.density, self.coeff_bound, self.max_iter = ring, max_size, density, coeff_bound, max_iter
        self._sampler = self.ops.polynomial_sampler(ring, max_degree=degrees[0], min_degree=degrees[1], **options)
        self._bounded = self.ops.field_spec(ring).kind != "GF"

    def _bounded_draws(self, draw: Callable[[list], list], G: list) -> list:
        """``draw(G)`` on ``G``'s working polynomials, repeated under the bound; ``F`` as the ring's polynomials."""
        ops = self.ops
        G = ops.from_ring(self.ring, G)
        for _ in range(self.max_iter):
            F = draw(G)
            if not self._bounded or max(ops.height(self.ring, f) for f in F) <= self.coeff_bound:
                break
        return ops.to_ring(self.ring, F)
