"""The backends' public modules (``calt_hf.sympy``, ``calt_hf.sagemath``, ``calt_hf.flint``), built from the registry.

Each is CALT's ``calt.dataset_generator.<backend>`` API on calt_hf's core: ``DatasetGenerator`` (the engine's, with the
backend's value as ``cas``), ``DatasetWriter`` and ``BaseStatisticsCalculator`` from the core, the samplers of the
backend package's ``sampler`` module and, where the package has an ``ideals`` module, the backward samplers of
Gröbner and border bases. ``PUBLIC_NAMES`` lists them once; a public module is its docstring and one call
(``exports``), so a new backend's module adds no list of its own and a new public name reaches every backend.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any

from calt_hf import backends, engine
from calt_hf.statistics import BaseStatisticsCalculator
from calt_hf.writer import DatasetWriter

#: CALT's public names and where each comes from: the core (None) or a module of the backend's package; a package
#: without that module, or a module without that name, does not export it (SageMath has no SinglePolynomialSampler,
#: FLINT no ideals module).
PUBLIC_NAMES: dict[str, str | None] = {
    "DatasetGenerator": None,
    "DatasetWriter": None,
    "PolynomialSampler": "sampler",
    "SinglePolynomialSampler": "sampler",
    "BaseStatisticsCalculator": None,
    "GroebnerBasisSampler": "ideals",
    "GroebnerIdealTransformer": "ideals",
    "BorderBasisSampler": "ideals",
    "BorderIdealTransformer": "ideals",
}
_CORE = {"DatasetWriter": DatasetWriter, "BaseStatisticsCalculator": BaseStatisticsCalculator}


def exports(name: str, module: str) -> dict[str, Any]:
    """The names the public module ``module`` of backend ``name`` defines, with its ``__all__`` (importing the
    backend's algebra system: without it, the adapter's ImportError says what to install)."""
    value = backends.backend(name)
    generator = type("DatasetGenerator", (engine.DatasetGenerator,), {
        "__module__": module, "__qualname__": "DatasetGenerator", "__doc__": engine.DatasetGenerator.__doc__, "cas": value,
    })
    found: dict[str, Any] = {"DatasetGenerator": generator, **_CORE}
    for public, source in PUBLIC_NAMES.items():
        if source is None:
            continue
        where = f"{backends.__name__}.{name}.{source}"
        if importlib.util.find_spec(where) is not None and hasattr(importlib.import_module(where), public):
            found[public] = getattr(importlib.import_module(where), public)
    names = [public for public in PUBLIC_NAMES if public in found]
    return {**{public: found[public] for public in names}, "__all__": names}
