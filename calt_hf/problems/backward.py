"""What the problems drawn backwards share: a basis sampler and a transformer of the sampler group's backend,
built from two groups of calt-x's parameters (``problem.basis.*``, ``problem.transform.*``)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import fields
from typing import Any, ClassVar

from calt_hf import backends as registry
from calt_hf.ideals.common import field_name
from calt_hf.problems.base import Problem

KERA_GROEBNER = ("2311.12904", "Kera, Ishihara, Kambe, Vaccon, Yokoyama, Learning to compute Gröbner bases (NeurIPS 2024)")
KERA_BORDER = (
    "2505.23696",
    "Kera, Pelleriti, Ishihara, Zimmer, Pokutta, Computational algebra with attention: transformer oracles for border basis algorithms",
)


def options(kind: type, value: Any, group: str) -> Any:
    """A group's options as its dataclass, from the dataclass or a mapping (the command line's); an unknown
    key is refused naming it and the group's keys."""
    if isinstance(value, kind):
        return value
    if not isinstance(value, Mapping):
        raise ValueError(f"{group}={value!r} is not allowed; give a mapping of {kind.__name__}'s keys")
    known = [f.name for f in fields(kind)]
    unknown = [key for key in value if key not in known]
    if unknown:
        raise ValueError(f"{group}.{unknown[0]}={value[unknown[0]]!r} is not a parameter of {group}; its keys: {', '.join(known)}")
    return kind(**value)


@contextmanager
def within(group: str) -> Iterator[None]:
    """A ValueError raised inside names its key within the group (``max_degree=0`` -> ``basis.max_degree=0``)."""
    try:
        yield
    except ValueError as error:
        message = str(error)
        key = message.split("=", 1)[0]
        if "=" in message and key.isidentifier():
            raise ValueError(f"{group}.{message}") from error
        raise ValueError(f"{group}: {message}") from error


class BackwardProblem(Problem):
    """A problem drawn backwards: ``generate`` draws the basis ``G`` with ``basis_sampler`` and returns
    ``(transformer.transform(G), G)``. Only the sampler group's ring is used (symbols, field, order).

    A subclass names its groups' option classes (each with ``for_variables(n)``, the keyword arguments for ``n``
    variables), the fields and least number of variables it is drawn over, and ``build``s its two objects."""

    needs = ("ideals",)
    nesting = ("list", "list")
    order_free = "generators in any order count as one problem: they span the same ideal, with the same basis"
    basis_options: ClassVar[type]
    transform_options: ClassVar[type]
    #: The fields the problem is drawn over (``FieldSpec`` kinds) and why no other.
    fields_allowed: ClassVar[tuple[tuple[str, ...], str]]
    min_variables: ClassVar[int] = 1

    def __init__(self, sampler: Any, basis: Any, transform: Any) -> None:
        ring = sampler.get_ring()
        backend = self.supporting_backend(sampler)
        self.check_ring(sampler)
        n = backend.ngens(ring)
        basis = options(self.basis_options, basis, "basis").for_variables(n)
        transform = options(self.transform_options, transform, "transform").for_variables(n)
        self.basis_sampler, self.transformer = self.build(backend.ideal_samplers(), ring, basis, transform)
        super().__init__(sampler, basis=basis, transform=transform)

    def build(self, ideals: Any, ring: Any, basis: dict[str, Any], transform: dict[str, Any]) -> tuple[Any, Any]:
        """The basis sampler and the transformer, from the backend's module of them (errors named ``basis.*``, ...)."""
        raise NotImplementedError

    @classmethod
    def check_ring(cls, sampler: Any) -> None:
        """The sampler group's field, variables and order, refused with the reason where the problem cannot use them."""
        allowed, reason = cls.fields_allowed
        spec = sampler.field_spec
        if spec.kind not in allowed:
            names = ", ".join("GF(p)" if kind == "GF" else kind for kind in allowed)
            raise ValueError(f"field_str={sampler.field_str or field_name(spec)} is not allowed for problem={cls.name}: {reason}; use {names}")
        if registry.backend_of(sampler.get_ring()).ngens(sampler.get_ring()) < cls.min_variables:
            raise ValueError(f"symbols={sampler.symbols!r} is not allowed for problem={cls.name}: it needs {cls.min_variables} or more variables")
        if cls.term_order is not None and str(sampler.order) != cls.term_order:
            raise ValueError(
                f"order={sampler.order!r} is not allowed for problem={cls.name}: the basis is a {cls.term_order} Gröbner "
                f"basis, so the ring's order is {cls.term_order}; leave sampler.order unset (or give {cls.term_order})"
            )

    def generate(self) -> tuple[list, list]:
        basis = self.basis_sampler.sample(1)[0]
        return self.transformer.transform(basis), basis

    def describe(self) -> dict[str, Any]:
        """The card's description: the ring (the sampler's only settings used here), each group's keys."""
        told = super().describe()
        ring = {key: told["settings"][key] for key in ("symbols", "field_str", "order")}
        settings = {"problem": self.name, **ring}
        for group, values in self.parameters.items():
            settings.update({f"{group}.{key}": value for key, value in values.items()})
        return {**told, "settings": settings}
