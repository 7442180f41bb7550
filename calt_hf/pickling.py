"""Pickling a run's task for the workers: cloudpickle, plus reducers for what it cannot pickle alone.

Users write generators in scripts and notebooks (``__main__``), with a ring built at module level, a
helper wrapped in ``functools.cache``, or a cache that already holds a ring because they tried the
generator once. cloudpickle ships ``__main__`` functions by value together with the globals they use, but
SymPy 1.14's rings, GF(p) domains and their elements do not pickle at all, nor do python-flint's polynomial
contexts, polynomials and GF(p) numbers, and an ``lru_cache`` wrapper
pickles by name, which a worker's ``__main__`` does not have. Each backend rebuilds its own objects from
what defines them (``Backend.reduce``: a ring from its symbols, domain and order, a polynomial from its terms),
and a cache wrapper is rebuilt here around the function it wraps (with an empty cache). A generator from a script therefore gives the same samples, byte for byte,
as the same generator imported from a module.
"""

from __future__ import annotations

import functools
import io
import pickle
from collections.abc import Callable
from typing import Any

import cloudpickle

from calt_hf import backends

__all__ = ["dumps"]


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


class _TaskPickler(cloudpickle.CloudPickler):
    def __init__(self, file: io.BytesIO, protocol: int) -> None:
        super().__init__(file, protocol=protocol)
        self.reducers = (backends.reducers(), _reduce_cache)

    def reducer_override(self, obj: Any) -> Any:
        for reduce in self.reducers:
            reduction = reduce(obj)
            if reduction is not None:
                return reduction
        return super().reducer_override(obj)


def dumps(obj: Any) -> bytes:
    """``obj`` pickled for another process: cloudpickle with the reducers above."""
    buffer = io.BytesIO()
    _TaskPickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(obj)
    return buffer.getvalue()
