"""calt_hf: reproducible computer-algebra datasets for Transformers, packaged for the Hugging Face Hub.

Backends live in ``calt_hf.sympy`` and ``calt_hf.sagemath``; importing this package imports neither.
``calt_hf.DatasetPipeline`` is calt-x 1.x's ``calt.dataset.DatasetPipeline``; ``calt_hf.stream`` makes a
dataset's rows on the fly (``calt_hf.streaming``).
"""

from typing import Any

__version__ = "0.1.0"
__all__ = ["DatasetPipeline", "stream"]


def __getattr__(name: str) -> Any:
    if name == "DatasetPipeline":  # imported on first use, so ``import calt_hf`` stays light
        from calt_hf.pipeline import DatasetPipeline

        return DatasetPipeline
    if name == "stream":
        from calt_hf.streaming import stream

        return stream
    raise AttributeError(f"module 'calt_hf' has no attribute {name!r}")
