"""``border_basis``: polynomials of a zero-dimensional ideal -> a border basis of it, drawn backwards as Kera
et al. draw it (``calt_hf.ideals.border``): the basis of the ideal of random points first, then the polynomials."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, List, Optional

import numpy as np

from calt_hf.problems.backward import KERA_BORDER, BackwardProblem, within


@dataclass
class BorderBasisOptions:
    """``BorderBasisSampler.sample``'s parameters (``problem.basis.*``), by default Kera et al.'s
    configuration: ``degree_bounds`` None is 4 for each variable up to 3 variables, 2 from 4 on."""

    degree_bounds: Optional[List[int]] = None
    total_degree_bound: Optional[int] = 4
    max_sampling: int = 100

    def for_variables(self, n: int) -> dict[str, Any]:
        values = asdict(self)
        if self.degree_bounds is None:
            values["degree_bounds"] = [4 if n <= 3 else 2] * n
        return values


@dataclass
class BorderTransformOptions:
    """``BorderIdealTransformer``'s parameters (``problem.transform.*``), by default Kera et al.'s
    configuration: ``max_size`` None is 2n."""

    max_size: Optional[int] = None
    identity_block: bool = False
    max_degree: int = 1
    min_degree: int = 0
    max_num_terms: Optional[int] = 10
    max_coeff: Optional[int] = 5
    num_bound: Optional[int] = 10
    degree_sampling: str = "uniform"
    term_sampling: str = "uniform"
    strictly_conditioned: bool = True
    density: float = 1.0
    coeff_bound: float = 100
    max_iter: int = 100

    def for_variables(self, n: int) -> dict[str, Any]:
        values = asdict(self)
        values["max_size"] = 2 * n if self.max_size is None else self.max_size
        return values


class BorderBasisProblem(BackwardProblem):
    """Problem: ``F = A·G``, ``m`` polynomials (``len(G) + 1`` to ``max(transform.max_size, len(G)) + 1``) of the
    ideal of ``G``; solution: ``G``, the border basis of the ideal of ``|O|`` random points for a random order
    ideal ``O`` (``g_b = b - (a combination of O)`` for each ``b`` of the border of ``O``, by decreasing degree of
    ``b``, then as calt-x lists them). ``<F>`` lies in ``<G>`` and equals it when ``A`` has a left inverse: always
    with ``transform.identity_block`` (``G`` itself first in ``F``), for most draws otherwise. The ring is the
    sampler group's, in two or more variables over GF(p) or QQ; the parameters are calt-x's classes', defaulting
    to Kera et al.'s configuration (``max_size`` counts from ``len(G)``, as calt-x's transformer does, where
    their own code counted from n: ``F`` has ``len(G) + 1`` polynomials with the defaults). The order ideals
    draw from numpy's global generator, which the problem seeds too.

    Verifier (``verify``): the border basis of the same ideal for the same order ideal, each polynomial up to a
    non-zero constant (for one order ideal it is unique once each is scaled so its border term has coefficient 1,
    as the solution's are), in any order.
    """

    name = "border_basis"
    fields_allowed = (("GF", "QQ"), "the points' evaluation matrix must be inverted exactly")
    problem_text = (
        "F = A·G: len(G) + 1 to max(transform.max_size, len(G)) + 1 polynomials combining G with a random polynomial "
        "matrix A (G itself first with transform.identity_block); they generate the ideal of G when A has a left inverse"
    )
    solution_text = (
        "G, the border basis of the ideal of |O| random points for a random order ideal O: for each monomial b of the "
        "border of O, b minus the combination of O that agrees with b at the points"
    )
    method = (
        "drawn backwards, as Kera et al. (arXiv 2505.23696) draw it: a random order ideal, points at which its monomials "
        "are independent, the border basis of their ideal, then F from G"
    )
    references = (KERA_BORDER,)

    min_variables = 2
    basis_options, transform_options = BorderBasisOptions, BorderTransformOptions

    def __init__(
        self, sampler: Any, basis: BorderBasisOptions = BorderBasisOptions(), transform: BorderTransformOptions = BorderTransformOptions()
    ) -> None:
        super().__init__(sampler, basis, transform)

    def build(self, ideals: Any, ring: Any, basis: dict[str, Any], transform: dict[str, Any]) -> tuple[Any, Any]:
        basis_sampler = ideals.BorderBasisSampler(ring)
        with within("basis"):
            basis_sampler.check_bounds(**basis)
        with within("transform"):
            return basis_sampler, ideals.BorderIdealTransformer(ring, **transform)

    def __call__(self, seed: int) -> tuple[Any, Any]:
        np.random.seed(seed & 0xFFFFFFFF)  # the order ideal's draws (numpy's legacy generator takes 32 bits)
        return super().__call__(seed)

    def generate(self) -> tuple[list, list]:
        basis = self.basis_sampler.sample(1, **self.parameters["basis"])[0]
        return self.transformer.transform(basis), basis

    def verify(self, problem: Any, solution: list, prediction: list) -> bool:
        """The solution's polynomials, in any order, each up to a non-zero constant: the border basis of the
        ideal for the same order ideal."""
        # Two polynomials are multiples of each other exactly when their monic forms are equal: no need to find
        # which term of an answer is its border term.
        kind, backend = self.sampler.field_spec.kind, self.backend
        return sorted(backend.leaf_to_str(backend.unit_normal(g, kind)) for g in prediction) == sorted(
            backend.leaf_to_str(backend.unit_normal(g, kind)) for g in solution
        )
