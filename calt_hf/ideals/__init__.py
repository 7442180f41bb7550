"""Ideals drawn backwards: the answer first, then a question that has it as its answer.

Computing a Gröbner basis of random generators is slow and heavy-tailed; Kera et al. draw the basis ``G``
first and transform it into generators ``F`` of the same ideal, which costs about a millisecond:

- ``shape``: reduced lex Gröbner bases in shape position and the transform ``F = U·P·A·G`` (Kera, Ishihara,
  Kambe, Vaccon, Yokoyama, "Learning to Compute Gröbner Bases", NeurIPS 2024, arXiv 2311.12904);
- ``border``: border bases of the ideals of random points, from a random order ideal, and ``F = A·G``
  (Kera, Pelleriti, Ishihara, Zimmer, Pokutta, "Computational Algebra with Attention: Transformer Oracles
  for Border Basis Algorithms", arXiv 2505.23696).

The mathematics is written once, as the ``*Base`` classes, which carry calt-x 1.5.0's constructor
signatures, defaults and methods. A backend binds the few operations that differ (``IdealOperations``:
its rings, random sources and linear algebra) in ``calt_hf/backends/*/ideals.py``, where ``bind`` makes the
public ``GroebnerBasisSampler``, ``GroebnerIdealTransformer``, ``BorderBasisSampler`` and
``BorderIdealTransformer`` of ``calt_hf.sympy`` and ``calt_hf.sagemath``. On Sage the draws are calt-x's own
(the same seeds give the same polynomials); elsewhere they are ours (``IdealOperations``).
"""

from __future__ import annotations

from calt_hf.ideals.border import BorderBasisSamplerBase, BorderIdealTransformerBase
from calt_hf.ideals.operations import IdealOperations
from calt_hf.ideals.shape import GroebnerBasisSamplerBase, GroebnerIdealTransformerBase

__all__ = ["IdealOperations", "bind"]

_BASES = (GroebnerBasisSamplerBase, GroebnerIdealTransformerBase, BorderBasisSamplerBase, BorderIdealTransformerBase)


def bind(ops: IdealOperations, module: str) -> tuple[type, ...]:
    """The public classes over a backend's operations, as calt-x names them: ``GroebnerBasisSampler``,
    ``GroebnerIdealTransformer``, ``BorderBasisSampler``, ``BorderIdealTransformer``, made for ``module``, which
    must bind them under those names (so that they pickle by name)."""
    classes = []
    for base in _BASES:
        name = base.__name__.removesuffix("Base")
        classes.append(type(name, (base,), {"ops": ops, "__module__": module, "__qualname__": name, "__doc__": base.__doc__}))
    return tuple(classes)
