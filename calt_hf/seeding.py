"""Per-sample seeds and the reseeding of global random generators.

A sample's seed depends on the root seed, the split name and the sample's index in its split, nothing
else, so the output does not depend on how the work is chunked or scheduled. The derivation is the one
CALT uses, so a generator ported from CALT yields the same samples.
"""

from __future__ import annotations

import hashlib
import importlib.util
import random
from collections.abc import Callable

#: A function that reseeds one random generator from a sample's seed (a backend may add one, e.g. Sage).
Reseeder = Callable[[int], None]


def derive_seed(root_seed: int, split: str, index: int) -> int:
    """The 128-bit seed of sample ``index`` of ``split``: the first 16 bytes of a SHA-256, as CALT does."""
    digest = hashlib.sha256(f"{root_seed}_{split}_{index}".encode()).digest()
    return int.from_bytes(digest[:16], "big")


def _reseed_python(seed: int) -> None:
    random.seed(seed)


def _numpy_reseeder() -> Reseeder | None:
    """Reseed numpy's legacy global generator (32-bit seeds only), if numpy is installed.

    numpy is imported here, once per process, rather than on first use by a generator: otherwise the
    first sample of each worker would draw from an unseeded generator.
    """
    if importlib.util.find_spec("numpy") is None:
        return None
    import numpy as np

    def reseed_numpy(seed: int) -> None:
        np.random.seed(seed & 0xFFFFFFFF)

    return reseed_numpy


def _sympy_reseeder() -> Reseeder:
    """Reseed ``sympy.core.random.rng``, what randprime, random_poly and friends draw from.

    SymPy is imported here, when a run's generator needs reseeding, not when this module is: a SageMath
    worker running the problem library (which seeds itself) then never imports SymPy (~0.3 s a worker)."""
    import sympy.core.random as sympy_random

    def reseed_sympy(seed: int) -> None:
        sympy_random.rng.seed(seed)

    return reseed_sympy


def default_reseeders() -> tuple[Reseeder, ...]:
    """The generators every backend reseeds before each sample: Python's, SymPy's and numpy's."""
    numpy_reseeder = _numpy_reseeder()
    base: tuple[Reseeder, ...] = (_reseed_python, _sympy_reseeder())
    return base + ((numpy_reseeder,) if numpy_reseeder else ())
