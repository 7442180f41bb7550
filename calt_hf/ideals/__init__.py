"""Ideals drawn backwards: the answer first, then a question that has it as its answer.

Computing a Gröbner basis of random generators is slow and heavy-tailed; Kera et al. draw the basis ``G``
first and transform it into generators ``F`` of the same ideal, which costs about a millisecond:

- ``shape``: reduced lex Gröbner bases in shape position and the transform ``F = U·P·A·G`` (Kera, Ishihara,
  Kambe, Vaccon, Yokoyama, "Learning to Compute Gröbner Bases", NeurIPS 2024, arXiv 2311.12904);
- ``border``: border bases of the ideals of random points, from a random order ideal, and ``F = A·G``
  (Kera, Pelleriti, Ishihara, Zimmer, Pokutta, "Computational Algebra with Attention: Transformer Oracles
  for Border Basis Algorithms", arXiv 2505.23696).

The mathematics is written once here, as the ``*Base`` classes, which carry calt-x 1.5.0's constructor
signatures, defaults and methods. A backend binds the few operations that differ (``IdealOperations``:
its rings, random sources and linear algebra) in ``calt_hf/backends/*/ideals.py``, which is where the public
``GroebnerBasisSampler``, ``GroebnerIdealTransformer``, ``BorderBasisSampler`` and
``BorderIdealTransformer`` of ``calt_hf.sympy`` and ``calt_hf.sagemath`` come from. On Sage the draws are
calt-x's own (the same seeds give the same polynomials); elsewhere they are ours (``IdealOperations``).
"""

from calt_hf.ideals.operations import IdealOperations

__all__ = ["IdealOperations"]
