"""Pickling a run's task for the workers: cloudpickle, plus reducers for what it cannot pickle alone.

Users write generators in scripts and notebooks (``__main__``), with a ring built at module level, a
helper wrapped in ``functools.cache``, or a cache that already holds a ring because they tried the
generator once. cloudpickle ships ``__main__`` functions by value together with the globals they use, but
SymPy 1.14's rings, GF(p) domains and their elements do not pickle at all, nor do python-flint's polynomial
contexts, polynomials and GF(p) numbers, and an ``lru_cache`` wrapper
pickles by name, which a worker's ``__main__`` does not have. The reducers here rebuild those objects from
what defines them: a ring from its symbols, domain and order (SymPy caches rings, so the worker gets the
ring it would have built itself), a polynomial from its terms, a cache wrapper around the function it
wraps (with an empty cache). A generator from a script therefore gives the same samples, byte for byte,
as the same generator imported from a module.
"""

from __future__ import annotations

import functools
import io
import pickle
import sys
from collections.abc import Callable
from typing import Any

import cloudpickle

__all__ = ["dumps"]


# --- SymPy ------------------------------------------------------------------------------------------
def _sympy_types() -> tuple[type, type, type, type] | None:
    try:
        from sympy.polys.domains.finitefield import FiniteField
        from sympy.polys.domains.modularinteger import ModularInteger
        from sympy.polys.rings import PolyElement, PolyRing
    except ImportError:  # pragma: no cover - SymPy is a dependency
        return None
    return PolyRing, PolyElement, FiniteField, ModularInteger


def _order_by_name(order: Any) -> Any:
    """A standard monomial order as its name (rebuilt as SymPy's own singleton), any other as it is."""
    from sympy.polys.orderings import monomial_key

    name = str(order)
    try:
        return name if monomial_key(name) == order else order
    except ValueError:
        return order


def _rebuild_ring(symbols: tuple, domain: Any, order: Any) -> Any:
    from sympy.polys.orderings import monomial_key
    from sympy.polys.rings import PolyRing

    return PolyRing(symbols, domain, monomial_key(order) if isinstance(order, str) else order)


def _rebuild_polynomial(ring: Any, terms: list[tuple[tuple[int, ...], Any]]) -> Any:
    return ring.from_dict(dict(terms))


def _rebuild_finite_field(modulus: int, symmetric: bool) -> Any:
    from sympy.polys.domains.finitefield import FiniteField

    return FiniteField(modulus, symmetric)


def _rebuild_modular_integer(modulus: int, symmetric: bool, value: int) -> Any:
    return _rebuild_finite_field(modulus, symmetric)(value)


def _reduce_sympy(obj: Any) -> tuple | None:
    types = _sympy_types()
    if types is None:
        return None
    ring_type, element_type, field_type, modular_type = types
    if isinstance(obj, ring_type):
        return _rebuild_ring, (obj.symbols, obj.domain, _order_by_name(obj.order))
    if isinstance(obj, element_type):
        return _rebuild_polynomial, (obj.ring, list(obj.items()))
    if isinstance(obj, field_type):
        return _rebuild_finite_field, (int(obj.mod), bool(obj.sym))
    if isinstance(obj, modular_type):
        return _rebuild_modular_integer, (int(obj.mod), bool(obj.sym), int(obj.val))
    return None


# --- FLINT (python-flint) ------------------------------------------------------------------------------
# python-flint 0.9 pickles its integers and rationals (fmpz, fmpq), but not its polynomial contexts, polynomials,
# GF(p) numbers (nmod, fmpz_mod) or fmpz_mod contexts. A context is rebuilt with ``get``, which FLINT caches (the
# worker gets the context it would have built itself), a polynomial from its terms. With python-flint installed,
# SymPy's own GF(p) elements are nmod too (its "flint" ground types).
def _rebuild_flint_context(kind: type, names: tuple[str, ...], ordering: str, modulus: int | None) -> Any:
    if modulus is None:
        return kind.get(names, ordering=ordering)
    return kind.get(names, modulus=modulus, ordering=ordering)


def _rebuild_flint_polynomial(context: Any, terms: dict[tuple[int, ...], Any]) -> Any:
    return context.from_dict(terms)


def _rebuild_fmpz_mod(modulus: int, value: int) -> Any:
    from flint import fmpz_mod_ctx

    return fmpz_mod_ctx(modulus)(value)


def _reduce_flint(obj: Any) -> tuple | None:
    flint = sys.modules.get("flint")  # never imported here: no FLINT object exists before it is
    if flint is None:
        return None
    kind = type(obj)
    if kind in (flint.nmod_mpoly_ctx, flint.fmpz_mod_mpoly_ctx, flint.fmpz_mpoly_ctx, flint.fmpq_mpoly_ctx):
        modulus = int(obj.modulus()) if hasattr(obj, "modulus") else None
        return _rebuild_flint_context, (kind, obj.names(), obj.ordering().value, modulus)
    if kind in (flint.nmod_mpoly, flint.fmpz_mod_mpoly, flint.fmpz_mpoly, flint.fmpq_mpoly):
        return _rebuild_flint_polynomial, (obj.context(), obj.to_dict())
    if kind is flint.nmod:
        return flint.nmod, (int(obj), obj.modulus())
    if kind is flint.fmpz_mod_ctx:
        return flint.fmpz_mod_ctx, (int(obj.modulus()),)
    if kind is flint.fmpz_mod:  # its modulus is only in its repr, "fmpz_mod(3, 7)"
        return _rebuild_fmpz_mod, (int(obj.repr().rpartition(",")[2].rstrip(")")), int(obj))
    return None


# --- functools caches -------------------------------------------------------------------------------
class _CachedFunction:
    """What a rebuilt cache wraps: the user's function, set once it is unpickled (it may refer back to
    the cache, e.g. a recursive helper, so the cache must exist first)."""

    function: Callable[..., Any]

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.function(*args, **kwargs)


def _empty_cache(maxsize: int | None, typed: bool) -> Any:
    return functools.lru_cache(maxsize=maxsize, typed=typed)(_CachedFunction())


def _fill_cache(cache: Any, function: Callable[..., Any]) -> None:
    cache.__wrapped__.function = function
    functools.update_wrapper(cache, function)  # name, docstring and __wrapped__ of the original


def _reduce_cache(obj: Any) -> tuple | None:
    """An ``lru_cache``/``cache`` wrapper that workers could not find by name (defined in ``__main__``, or in
    a module cloudpickle ships by value): rebuilt around its function."""
    if not isinstance(obj, functools._lru_cache_wrapper):
        return None
    module = getattr(obj, "__module__", None)
    if module != "__main__" and module not in cloudpickle.list_registry_pickle_by_value():
        return None
    parameters = obj.cache_parameters()
    return _empty_cache, (parameters["maxsize"], parameters["typed"]), obj.__wrapped__, None, None, _fill_cache


_REDUCERS: tuple[Callable[[Any], tuple | None], ...] = (_reduce_sympy, _reduce_flint, _reduce_cache)


class _TaskPickler(cloudpickle.CloudPickler):
    def reducer_override(self, obj: Any) -> Any:
        for reduce in _REDUCERS:
            reduction = reduce(obj)
            if reduction is not None:
                return reduction
        return super().reducer_override(obj)


def dumps(obj: Any) -> bytes:
    """``obj`` pickled for another process: cloudpickle with the reducers above."""
    buffer = io.BytesIO()
    _TaskPickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(obj)
    return buffer.getvalue()
