"""Backends as values, and the registry that lists them.

A computer algebra system is a ``Backend``: how its objects become text (and terms, and rows), how its random
state is reseeded and a sample timed out, and the algebra the problem library needs beyond ``+`` and ``*``
(normalisation, factorization, Gröbner bases, reduction, the ring's variables), each an operation of the value,
so that a problem is one class for every backend and asks its backend (``backend_of``) instead of telling
backends apart by type.

The registry is the command line's config group: a backend is ``conf/backend/NAME.yaml`` (its name and public
module) plus the package ``calt_hf/backends/NAME/``, whose ``__init__`` says, without importing the algebra
system, what is known of it before it is loaded (``About``: its PyPI distribution, the module that defines its
objects, what it cannot compute); its ``adapter`` module holds the ``Backend`` value (``BACKEND``). Adding a
backend is that package and that file. A problem declares what it needs (``Problem.needs``), and an unsupported
pair is refused by one rule (``check_supported``), naming the field, the value and what is allowed.
"""

from __future__ import annotations

import functools
import importlib
import importlib.resources
import pkgutil
import sys
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

import yaml

from calt_hf.seeding import Reseeder
from calt_hf.timeouts import signal_time_limit

#: A polynomial's terms for the expanded encoding: (exponents, coefficient as int or Fraction).
Terms = list[tuple[tuple[int, ...], Any]]
#: The config group that lists the backends, and the primary config that names the default one.
CONFIG_PACKAGE, GROUP = "calt_hf.conf", "backend"
#: What a problem may need of its backend (``Problem.needs``), with the words a refusal uses for it.
OPERATIONS = {
    "polynomials": "polynomials",
    "factorization": "factorization",
    "groebner": "Gröbner bases",
    "ideals": "ideals drawn backwards (Gröbner and border bases)",
}
#: Field kinds (``FieldSpec.kind``) as a refusal names them.
FIELD_WORDS = {"GF": "GF(p)", "QQ": "QQ", "ZZ": "ZZ", "RR": "RR"}


@dataclass(frozen=True)
class Limit:
    """A backend computes ``operation`` over ``field`` (a ``FieldSpec`` kind) in at most ``variables`` variables
    (0: not at all); ``reason`` says why, as a clause (``"SymPy factors over GF(p) in one variable only"``)."""

    operation: str
    field: str
    variables: int
    reason: str


@dataclass(frozen=True)
class About:
    """What is known of a backend before its algebra system is imported.

    ``distribution``: its PyPI distribution (the card lists its version); ``objects_module``: the module that
    defines its objects (none of them exists before it is imported, so pickling looks at a backend only then);
    ``limits``: what it cannot compute; ``through``: operations it computes through another system, in words
    (said where the problem is described)."""

    distribution: str
    objects_module: str
    limits: tuple[Limit, ...] = ()
    through: tuple[tuple[str, str], ...] = ()

    def limit(self, operation: str, field: str, variables: int) -> Limit | None:
        """The limit that ``operation`` over ``field`` in ``variables`` variables exceeds, if any."""
        return next(
            (limit for limit in self.limits
             if (limit.operation, limit.field) == (operation, field) and variables > limit.variables),
            None,
        )


class Backend:
    """The operations that differ between computer algebra systems; a backend's adapter subclasses it once
    and makes one value (``BACKEND``). Operations are static: a value pickles by reference to its class.

    Text: ``element_to_str`` turns one leaf object (a polynomial, a number, anything) into a string;
    ``as_rows`` returns a container of this backend (e.g. a matrix) as a list of lists, or None; ``leaf_types``
    are types known to be leaves (polynomials), converted without probing for containers first, by
    ``leaf_to_str``; ``terms`` returns a polynomial's terms as exact integers or fractions, in the order CALT's
    expanded form reads them (None for anything that is not a polynomial of this backend). Running:
    ``reseeders`` reseed the backend's own random state before each sample; ``time_limit`` is a context
    manager factory that raises ``SampleTimeout`` when a sample outlives ``sample_timeout``; ``reduce`` pickles
    what the backend's objects cannot pickle themselves (``calt_hf.pickling``). Algebra (``ring_types``: the
    rings it ``owns``): the rest.
    """

    name: str
    leaf_types: tuple[type, ...] = ()
    reseeders: tuple[Reseeder, ...] = ()

    @property
    def about(self) -> About:
        return about(self.name)

    # --- text ------------------------------------------------------------------------------------------
    @staticmethod
    def element_to_str(obj: Any) -> str:
        return str(obj)

    @staticmethod
    def leaf_to_str(obj: Any) -> str:
        raise NotImplementedError

    @staticmethod
    def as_rows(obj: Any) -> list | None:
        return None

    @staticmethod
    def terms(obj: Any) -> Terms | None:
        return None

    # --- running -------------------------------------------------------------------------------------
    @staticmethod
    def time_limit(seconds: float) -> AbstractContextManager:
        return signal_time_limit(seconds)

    @staticmethod
    def reduce(obj: Any) -> tuple | None:
        """How to pickle ``obj`` if it is an object of this backend that does not pickle itself, else None."""
        return None

    # --- the ring --------------------------------------------------------------------------------------
    @staticmethod
    def owns(ring: Any) -> bool:
        """Whether ``ring`` is one of this backend's polynomial rings."""
        return False

    @staticmethod
    def ngens(ring: Any) -> int:
        raise NotImplementedError

    @staticmethod
    def variable_names(ring: Any) -> tuple[str, ...]:
        raise NotImplementedError

    @staticmethod
    def from_terms(ring: Any, terms: dict[tuple[int, ...], Any]) -> Any:
        """The polynomial of ``ring`` with these ``{exponents: coefficient}`` terms; coefficients as Python ints
        (GF(p), ZZ) or ``fractions.Fraction`` (QQ)."""
        raise NotImplementedError

    def ideal_samplers(self) -> Any:
        """The module of this backend's backward samplers (``GroebnerBasisSampler``, ``GroebnerIdealTransformer``,
        ``BorderBasisSampler``, ``BorderIdealTransformer``): ``calt_hf/backends/NAME/ideals.py``, imported on first
        use (it imports the adapter). A backend without one declares a limit on ``ideals``."""
        return importlib.import_module(f"{_package(self.name)}.ideals")

    # --- polynomials -------------------------------------------------------------------------------------
    @staticmethod
    def is_constant(f: Any) -> bool:
        raise NotImplementedError

    @staticmethod
    def leading_coefficient(f: Any) -> Any:
        """The coefficient of the leading term under the ring's term order."""
        raise NotImplementedError

    @staticmethod
    def leading_exponents(f: Any) -> tuple[int, ...]:
        """The exponents of the leading monomial under the ring's term order."""
        raise NotImplementedError

    @staticmethod
    def monic(f: Any) -> Any:
        """``f`` divided by its leading coefficient (over a field)."""
        raise NotImplementedError

    @staticmethod
    def primitive(f: Any) -> Any:
        """A non-zero ``f`` over ZZ divided by its content."""
        raise NotImplementedError

    @staticmethod
    def factor_pairs(f: Any) -> list[tuple[Any, int]]:
        """The factors of ``f`` with their multiplicities, as the system gives them (units and content included)."""
        raise NotImplementedError

    @staticmethod
    def groebner_basis(generators: list, ring: Any) -> list:
        """The reduced Gröbner basis of the ideal the generators span, under the ring's term order: monic, by
        decreasing leading monomial."""
        raise NotImplementedError

    @staticmethod
    def normal_form(f: Any, basis: list) -> Any:
        """The remainder of ``f`` on division by a Gröbner basis: its unique normal form modulo the ideal."""
        raise NotImplementedError

    # --- what the problem library computes from the operations above, the same on every backend -------------
    def unit_normal(self, f: Any, field_kind: str) -> Any:
        """The representative of ``f`` among its unit multiples: monic over a field, over ZZ (whose units are
        1 and -1) with a positive leading coefficient. Zero stays zero. Two polynomials are associates (each a
        unit multiple of the other) exactly when their unit normals are equal."""
        if f == 0:
            return f
        if field_kind != "ZZ":
            return self.monic(f)
        return -f if self.leading_coefficient(f) < 0 else f

    def normalize(self, f: Any, field_kind: str) -> Any:
        """The representative of ``f`` up to units and, over ZZ, its content: monic over a field; over ZZ
        primitive with a positive leading coefficient. Zero stays zero."""
        if f != 0 and field_kind == "ZZ":
            f = self.primitive(f)
        return self.unit_normal(f, field_kind)

    def factor_list(self, f: Any, field_kind: str) -> list[tuple[Any, int]]:
        """The non-constant irreducible factors of ``f``, each normalised, with their multiplicities (the unit
        and, over ZZ, the content are left out). In the backend's order: sort them for a canonical list."""
        return [(self.normalize(g, field_kind), int(e)) for g, e in self.factor_pairs(f) if not self.is_constant(g)]

    def is_irreducible(self, f: Any, field_kind: str) -> bool:
        """Whether a normalised ``f`` is irreducible: not constant, and its only factor is itself, once."""
        return not self.is_constant(f) and [e for _, e in self.factor_list(f, field_kind)] == [1]

    def is_groebner_basis(self, candidates: list, basis: list) -> bool:
        """Whether ``candidates`` are a Gröbner basis (under the ring's order) of the ideal that the Gröbner basis
        ``basis`` spans: each lies in the ideal (normal form 0), and each leading monomial of ``basis`` is a
        multiple of one of theirs (so theirs generate the ideal's leading monomials; no basis is computed)."""
        nonzero = [g for g in candidates if g != 0]
        if any(self.normal_form(g, basis) != 0 for g in nonzero):
            return False
        leading = [self.leading_exponents(g) for g in nonzero]
        return all(
            any(all(a <= b for a, b in zip(monomial, target)) for monomial in leading)
            for target in map(self.leading_exponents, basis)
        )

    def __repr__(self) -> str:
        return f"<backend {self.name}>"


# --- the registry ------------------------------------------------------------------------------------
def _config_files() -> dict[str, Any]:
    return {path.name.removesuffix(".yaml"): path
            for path in (importlib.resources.files(CONFIG_PACKAGE) / GROUP).iterdir() if path.name.endswith(".yaml")}


@functools.cache
def _configs() -> dict[str, dict[str, str]]:
    """Each backend's config file (its ``name`` and public ``module``), the default backend first, then by name."""
    files = _config_files()
    primary = yaml.safe_load((importlib.resources.files(CONFIG_PACKAGE) / "config.yaml").read_text())
    default = next(entry[GROUP] for entry in primary["defaults"] if isinstance(entry, dict) and GROUP in entry)
    return {name: yaml.safe_load(files[name].read_text()) for name in sorted(files, key=lambda name: (name != default, name))}


def names() -> tuple[str, ...]:
    """The backends' names: the default one (``conf/config.yaml``'s) first, then by name."""
    return tuple(_configs())


def check_name(name: Any, key: str = "backend") -> str:
    """``name`` if it names a backend, else a ValueError naming ``key``, the value and the backends."""
    if name not in _configs():
        raise ValueError(f"{key}={name!r} is not allowed; use one of {', '.join(map(repr, names()))}")
    return name


def public_module(name: str) -> str:
    """The backend's public, CALT-compatible module (``calt_hf.sympy``), as its config file names it."""
    return _configs()[check_name(name)]["module"]


@functools.cache
def packages() -> tuple[str, ...]:
    """Every backend package (``calt_hf/backends/NAME/``): those of the command line (``names``), and any that
    only Python reaches (its public module, without a config file)."""
    return tuple(sorted(module.name for module in pkgutil.iter_modules(__path__) if module.ispkg))


def _package(name: str) -> str:
    if name not in packages():
        raise ValueError(f"backend={name!r} is not allowed; use one of {', '.join(map(repr, packages()))}")
    return f"{__name__}.{name}"


def about(name: str) -> About:
    """What is known of the backend without loading its algebra system (its package's ``ABOUT``)."""
    return importlib.import_module(_package(name)).ABOUT


def backend(name: str) -> Backend:
    """The backend's value (imports its algebra system)."""
    return importlib.import_module(f"{_package(name)}.adapter").BACKEND


def loaded() -> Iterable[Backend]:
    """The backends whose objects may exist in this process (their algebra system is imported)."""
    return (backend(name) for name in packages() if about(name).objects_module in sys.modules)


def backend_of(ring: Any) -> Backend:
    """The backend that owns ``ring`` (a sampler's ``get_ring()``); a ValueError if none does."""
    for candidate in loaded():
        if candidate.owns(ring):
            return candidate
    raise ValueError(f"ring={ring!r} is no polynomial ring of a backend ({', '.join(packages())})")


def distributions() -> tuple[str, ...]:
    """The PyPI distributions of every backend, in the registry's order."""
    return tuple(about(name).distribution for name in names())


def capable(operation: str, field: str, variables: int) -> tuple[str, ...]:
    """The backends that compute ``operation`` over ``field`` in ``variables`` variables."""
    return tuple(name for name in names() if about(name).limit(operation, field, variables) is None)


def check_supported(backend_name: str, operation: str, sampler: Any, subject: str) -> None:
    """The one rule: a ValueError if ``backend_name`` cannot do ``operation`` over the sampler's field in its
    number of variables, naming the field and symbols, why, and what is allowed (fewer symbols, another field,
    the backends that can). ``subject`` says what asks (``problem=factor``)."""
    spec, variables = sampler.field_spec, backend(backend_name).ngens(sampler.get_ring())
    refuse_unsupported(backend_name, operation, spec.kind, sampler.field_str, sampler.symbols, variables, subject)


def refuse_unsupported(
    backend_name: str, operation: str, field: str, field_str: Any, symbols: Any, variables: int, subject: str
) -> None:
    """``check_supported`` on the parts of a sampler: its field's kind (``GF``) and setting (``GF7``), its
    symbols and their number."""
    limit = about(backend_name).limit(operation, field, variables)
    if limit is None:
        return
    others = [name for name in capable(operation, field, variables) if name != backend_name]
    other_fields = [kind for kind in FIELD_WORDS if kind != field and about(backend_name).limit(operation, kind, variables) is None]
    allowed = [f"a field other than {FIELD_WORDS[field]}"] if other_fields else []
    if limit.variables:
        allowed.insert(0, f"at most {limit.variables} symbol{'s' if limit.variables > 1 else ''}")
    if others:
        allowed.append(" or ".join(f"backend={name}" for name in others))
    with_symbols = f" with symbols={symbols!r}" if limit.variables else ""
    raise ValueError(
        f"field_str={field_str or FIELD_WORDS[field]} is not allowed for {subject} on backend={backend_name}"
        f"{with_symbols}: {limit.reason}; use {', '.join(allowed[:-1])}{' or ' if len(allowed) > 1 else ''}{allowed[-1]}"
    )


def described_through(backend_name: str, operations: Iterable[str]) -> list[str]:
    """How the backend computes those of ``operations`` that it computes through another system, in words."""
    through = dict(about(backend_name).through)
    return [through[operation] for operation in operations if operation in through]


def reducers() -> Callable[[Any], tuple | None]:
    """A reducer for ``calt_hf.pickling``: the ``reduce`` of each backend loaded now, the first that applies."""
    present = tuple(loaded())

    def reduce(obj: Any) -> tuple | None:
        for candidate in present:
            reduction = candidate.reduce(obj)
            if reduction is not None:
                return reduction
        return None

    return reduce
