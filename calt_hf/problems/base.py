"""What every problem shares: seeding, the sampler it draws from, default statistics, parameter checks."""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from typing import Any, Callable, ClassVar

from calt_hf import backends as registry
from calt_hf.sampling import check_int


class _RegisteredBackends:
    """``Problem.backends``: the registered backends that compute what the problem ``needs`` over some field."""

    def __get__(self, instance: Any, owner: type[Problem]) -> tuple[str, ...]:
        return tuple(
            name for name in registry.names()
            if any(all(registry.about(name).limit(need, field, 1) is None for need in owner.needs)
                   for field in registry.FIELD_WORDS)
        )


class Problem:
    """Base of the problem library: ``problem(seed) -> (problem, solution)``.

    ``name`` is the config option, ``needs`` what it asks of its backend beyond arithmetic (``backend``: the
    ``Backend`` that owns the sampler's ring; an unsupported pair is refused on construction, by
    ``calt_hf.backends.check_supported``), ``backends`` the backends it runs on (derived from the registry),
    ``nesting`` the shape of the problem and of the solution (``"string"``, ``"list"`` or ``"list of lists"``). The call seeds
    Python's ``random`` and the sampler's own source (Sage's randstate) itself, so a problem is
    reproducible outside the core too. A problem with
    ``uses_sampler`` is built as ``Problem(sampler, **parameters)``; one without (the integer tasks) as
    ``Problem(**parameters)``, and the command line then ignores the ``sampler`` group.
    """

    name: ClassVar[str]
    #: Operations of ``calt_hf.backends.OPERATIONS`` the problem needs of its backend.
    needs: ClassVar[tuple[str, ...]] = ()
    backends = _RegisteredBackends()
    #: The call seeds Python's ``random`` and the sampler's sources, the only generators a library problem
    #: draws from (the algebra it then does is deterministic), so the core need not reseed anything before it. A problem whose
    #: algebra draws from other generators (SymPy's factorization does) sets it to False.
    seeds_itself: ClassVar[bool] = True
    uses_sampler: ClassVar[bool] = True
    nesting: ClassVar[tuple[str, str]]
    #: The problem and the solution in words, for the dataset card.
    problem_text: ClassVar[str]
    solution_text: ClassVar[str]
    #: Whether the order of the problem's (top-level) list does not matter, as the sentence the card says of it
    #: (its solution is the same for every order); None where it matters or there is no list. When set, the data
    #: quality report also counts repeats and overlaps with each problem's list sorted (calt_hf/quality.py).
    order_free: ClassVar[str | None] = None
    #: How the samples are drawn, when the card should say it (a method from the literature).
    method: ClassVar[str | None] = None
    #: Papers the card cites for this problem, as (arXiv id, citation), beside calt_hf's own references.
    references: ClassVar[tuple[tuple[str, str], ...]] = ()
    #: The term order the problem's ring must have (None: any); the command line gives it to an unset sampler.order.
    term_order: ClassVar[str | None] = None
    #: Per backend, the run's defaults for this problem on the command line (``sample_timeout``, ``on_error``):
    #: the problem's config repeats them as ``run_defaults``, which ``conf/config.yaml`` reads.
    run_defaults: ClassVar[dict[str, dict[str, Any]]] = {}

    def __init__(self, sampler: Any = None, **parameters: Any) -> None:
        self.sampler = sampler
        self.parameters = parameters
        self.backend = self.supporting_backend(sampler) if sampler is not None else None

    @classmethod
    def supporting_backend(cls, sampler: Any) -> Any:
        """The sampler's backend, refused by the registry's one rule where it lacks what the problem needs."""
        backend = registry.backend_of(sampler.get_ring())
        for need in cls.needs:
            registry.check_supported(backend.name, need, sampler, f"problem={cls.name}")
        return backend

    def describe(self) -> dict[str, Any]:
        """What the dataset card says of this problem: its name, the task in words, its settings."""
        sampler_settings = self.sampler.settings() if callable(getattr(self.sampler, "settings", None)) else {}
        pretty_name = self.name
        if self.sampler is not None:
            pretty_name += f" over {sampler_settings.get('field_str') or 'its field'}"
        through = registry.described_through(self.backend.name, self.needs) if self.backend is not None else []
        return {
            "pretty_name": pretty_name,
            "problem": self.problem_text,
            "solution": "; ".join([self.solution_text, *through]),
            "order_free": self.order_free,
            "method": self.method,
            "references": list(self.references),
            "settings": {"problem": self.name, **self.parameters, **sampler_settings},
        }

    def default_statistics(self) -> Callable[[Any, Any], Any] | None:
        """The per-sample statistics a run computes unless told otherwise (``statistics.target``)."""
        return PolynomialStatistics(self.sampler) if self.sampler is not None else None

    def __call__(self, seed: int) -> tuple[Any, Any]:
        random.seed(seed)
        if self.sampler is not None:
            self.sampler.reseed_sources(seed)
        return self.generate()

    def generate(self) -> tuple[Any, Any]:
        """Draw one (problem, solution) pair from the already seeded generators."""
        raise NotImplementedError

    # -- judging answers (calt_hf.evaluate) --------------------------------------------------------
    def read_problem(self, value: Any, reader: Any) -> Any:
        """A problem as the dataset writes it (a text, a list or a list of lists of texts) as the objects
        ``generate`` made, read by ``reader`` (``calt_hf.parsing.AnswerReader``): polynomials of the ring."""
        return reader.polynomials(value)

    def read_solution(self, value: Any, reader: Any) -> Any:
        """A solution, or an answer in the solution's nesting, as objects (``Unreadable`` if it is none)."""
        return reader.polynomials(value)

    def verify(self, problem: Any, solution: Any, prediction: Any) -> bool:
        """Equality: the same polynomials (or integers) as the solution, in the same order.

        ``prediction`` is a readable answer, read as the solution is; a problem whose answers may be right in
        another form than its solution's overrides this, and its first docstring line says what is right."""
        return prediction == solution

    def partial_credit(self, problem: Any, solution: Any, prediction: Any) -> dict[str, bool]:
        """Properties of a readable answer that the evaluation counts beside ``verify`` (by name); none here."""
        return {}


class IntegerProblem(Problem):
    """A task on Python integers: no sampler, and the same integers (and text) on every backend."""

    uses_sampler = False

    def __init__(self, **parameters: Any) -> None:
        super().__init__(None, **parameters)

    def default_statistics(self) -> Callable[[Any, Any], Any] | None:
        return IntegerStatistics()

    def read_problem(self, value: Any, reader: Any) -> Any:
        return reader.integers(value)

    def read_solution(self, value: Any, reader: Any) -> Any:
        return reader.integers(value)


class PolynomialListProblem(Problem):
    """Problems on ``min_count`` .. ``max_count`` random polynomials; a subclass says what to compute."""

    def __init__(self, sampler: Any, min_count: int = 2, max_count: int = 6) -> None:
        check_range("min_count", min_count, "max_count", max_count, 1)
        super().__init__(sampler, min_count=min_count, max_count=max_count)
        self.min_count, self.max_count = min_count, max_count

    def generate(self) -> tuple[list, Any]:
        polys = self.sampler.sample(random.randint(self.min_count, self.max_count))
        return polys, self.solve(polys)

    def solve(self, polys: list) -> Any:
        raise NotImplementedError


def check_range(low_name: str, low: Any, high_name: str, high: Any, minimum: int | None) -> None:
    """Two integer parameters ``minimum <= low <= high`` (no lower bound for None), else a ValueError
    naming the first bad one."""
    for name, value in ((low_name, low), (high_name, high)):
        if minimum is not None:
            check_int(name, value, minimum)
        elif not isinstance(value, int) or isinstance(value, bool):
            raise ValueError(f"{name}={value!r} is not allowed; use an integer")
    if low > high:
        raise ValueError(f"{low_name}={low} is above {high_name}={high}")


class PolynomialStatistics:
    """Default statistics: for problem and solution, the number of polynomials, their total number of
    terms and their largest total degree (works for a polynomial or a list of them, on any backend)."""

    def __init__(self, sampler: Any) -> None:
        self.sampler = sampler

    def _describe(self, obj: Any) -> dict[str, int]:
        polys = obj if isinstance(obj, (list, tuple)) else (obj,)
        return self.summary(polys, map(self.sampler.total_degree, polys))

    def summary(self, polys: Sequence[Any], degrees: Iterable[int]) -> dict[str, int]:
        """The statistics of some polynomials whose total degrees are known (a subclass may need them too)."""
        return {
            "num_polynomials": len(polys),
            "num_terms": sum(map(self.sampler.num_terms, polys)),
            "total_degree": max(degrees, default=0),
        }

    def __call__(self, problem: Any, solution: Any) -> dict[str, dict[str, int]]:
        return {"problem": self._describe(problem), "solution": self._describe(solution)}


class IntegerStatistics:
    """Statistics of the integer tasks: for problem and solution, how many integers, and the most digits."""

    @staticmethod
    def _describe(obj: Any) -> dict[str, int]:
        numbers = obj if isinstance(obj, (list, tuple)) else (obj,)
        return {"num_integers": len(numbers), "max_digits": max((len(str(abs(n))) for n in numbers), default=0)}

    def __call__(self, problem: Any, solution: Any) -> dict[str, dict[str, int]]:
        return {"problem": self._describe(problem), "solution": self._describe(solution)}
