"""What every problem shares: seeding, the sampler it draws from, and default statistics."""

from __future__ import annotations

import random
from typing import Any, ClassVar


class Problem:
    """Base of the problem library: ``problem(seed) -> (problem, solution)``.

    ``name`` is the config option, ``backends`` the backends it runs on, ``nesting`` the shape of the
    problem and of the solution (``"string"``, ``"list"`` or ``"list of lists"``). The call seeds
    Python's ``random`` itself, so a problem is reproducible outside the core too.
    """

    name: ClassVar[str]
    backends: ClassVar[tuple[str, ...]] = ("sympy", "sagemath")
    #: The call seeds Python's ``random``, the only generator a library problem draws from (the algebra
    #: it then does is deterministic), so the core need not reseed anything before it.
    seeds_itself: ClassVar[bool] = True
    nesting: ClassVar[tuple[str, str]]
    #: The problem and the solution in words, for the dataset card.
    problem_text: ClassVar[str]
    solution_text: ClassVar[str]

    def __init__(self, sampler: Any, **parameters: Any) -> None:
        self.sampler = sampler
        self.parameters = parameters

    def describe(self) -> dict[str, Any]:
        """What the dataset card says of this problem: its name, the task in words, its settings."""
        sampler_settings = self.sampler.settings() if callable(getattr(self.sampler, "settings", None)) else {}
        field = sampler_settings.get("field_str") or "its field"
        return {
            "pretty_name": f"{self.name} over {field}",
            "problem": self.problem_text,
            "solution": self.solution_text,
            "settings": {"problem": self.name, **self.parameters, **sampler_settings},
        }

    def __call__(self, seed: int) -> tuple[Any, Any]:
        random.seed(seed)
        return self.generate()

    def generate(self) -> tuple[Any, Any]:
        """Draw one (problem, solution) pair from the already seeded ``random``."""
        raise NotImplementedError


class PolynomialStatistics:
    """Default statistics: for problem and solution, the number of polynomials, their total number of
    terms and their largest total degree (works for a polynomial or a list of them, on any backend)."""

    def __init__(self, sampler: Any) -> None:
        self.sampler = sampler

    def _describe(self, obj: Any) -> dict[str, int]:
        polys = obj if isinstance(obj, (list, tuple)) else (obj,)
        return {
            "num_polynomials": len(polys),
            "num_terms": sum(map(self.sampler.num_terms, polys)),
            "total_degree": max(map(self.sampler.total_degree, polys), default=0),
        }

    def __call__(self, problem: Any, solution: Any) -> dict[str, dict[str, int]]:
        return {"problem": self._describe(problem), "solution": self._describe(solution)}
