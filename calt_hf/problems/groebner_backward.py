"""``groebner_backward``: generators of an ideal in shape position -> its reduced lex Gröbner basis, drawn
backwards as Kera et al. draw it (``calt_hf.ideals.shape``): the basis first, then the generators."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Optional

from calt_hf.problems.backward import KERA_GROEBNER, BackwardProblem, within
from calt_hf.problems.groebner import GroebnerProblem

#: Kera et al.'s density of the transform's matrices for n = 2, 3, 4, 5 variables (their published grid).
KERA_DENSITY = {2: 1.0, 3: 0.6, 4: 0.3, 5: 0.2}


def kera_density(n: int) -> float:
    """Kera et al.'s density for ``n`` variables: theirs for 2..5, the nearest of theirs beyond."""
    return KERA_DENSITY[min(max(n, 2), 5)]


@dataclass
class ShapeBasisOptions:
    """``GroebnerBasisSampler``'s parameters (``problem.basis.*``), by default Kera et al.'s configuration."""

    max_degree: int = 5
    min_degree: int = 1
    max_num_terms: Optional[int] = 5
    max_coeff: Optional[int] = 5
    num_bound: Optional[int] = 5
    degree_sampling: str = "uniform"
    term_sampling: str = "uniform"
    strictly_conditioned: bool = True

    def for_variables(self, n: int) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ShapeTransformOptions:
    """``GroebnerIdealTransformer``'s parameters (``problem.transform.*``), by default Kera et al.'s
    configuration: ``max_size`` None is n + 2, ``density`` None is ``kera_density(n)``."""

    max_size: Optional[int] = None
    max_degree: int = 3
    min_degree: int = 1
    max_num_terms: Optional[int] = 2
    max_coeff: Optional[int] = 5
    num_bound: Optional[int] = 5
    degree_sampling: str = "uniform"
    term_sampling: str = "uniform"
    strictly_conditioned: bool = True
    density: Optional[float] = None
    coeff_bound: float = 100
    max_iter: int = 100

    def for_variables(self, n: int) -> dict[str, Any]:
        """The transformer's keyword arguments for ``n`` variables, each None resolved."""
        values = asdict(self)
        values["max_size"] = n + 2 if self.max_size is None else self.max_size
        values["density"] = kera_density(n) if self.density is None else self.density
        return values


class GroebnerBackwardProblem(BackwardProblem):
    """Problem: ``F = U·P·A·G``, ``m`` generators (n to ``transform.max_size``) of the ideal of ``G``; solution:
    ``G``, the ideal's reduced Gröbner basis under lex, in shape position: ``[x_0 + g_1, ..., x_{n-2} + g_{n-1},
    h]``, ``h`` monic in the last variable, ``deg g_i < deg h`` (so, as ``groebner``'s, monic and by decreasing
    leading monomial). ``A`` and ``U`` are lower unimodular polynomial matrices, ``P`` a permutation: ``<F> =
    <G>`` always. No Gröbner basis is computed. The ring is the sampler group's, over GF(p), QQ or RR, under
    lex (an unset ``sampler.order`` becomes lex on the command line); the parameters are calt-x's classes',
    defaulting to Kera et al.'s configuration. A row of ``A·G`` may be zero (all its entries drawn zero), and
    so may a polynomial of ``F``, as in calt-x's and Kera et al.'s data.

    Verifier (``verify``): ``groebner``'s: the reduced Gröbner basis of the same ideal, its polynomials in any
    order. Reported apart (``partial_credit``, ``groebner_basis``): whether the answer is a Gröbner basis of the
    ideal at all, reduced or not.
    """

    name = "groebner_backward"
    term_order = "lex"
    fields_allowed = (("GF", "QQ", "RR"), "shape position needs a field (h is monic)")
    problem_text = (
        "F = U·P·A·G: n to transform.max_size generators of the ideal of G, with A (m x n) and U (m x m) random "
        "lower unimodular polynomial matrices and P a random permutation"
    )
    solution_text = (
        "G, the reduced Gröbner basis of that ideal under lex, in shape position: [x_0 + g_1, ..., x_{n-2} + g_{n-1}, h], "
        "h monic in the last variable x_{n-1}, each g_i in x_{n-1} of degree below h's"
    )
    method = (
        "drawn backwards, as Kera et al. (NeurIPS 2024) draw it: G first (h and the g_i random), then F from G; "
        "no Gröbner basis is computed"
    )
    references = (KERA_GROEBNER,)

    basis_options, transform_options = ShapeBasisOptions, ShapeTransformOptions

    def __init__(
        self, sampler: Any, basis: ShapeBasisOptions = ShapeBasisOptions(), transform: ShapeTransformOptions = ShapeTransformOptions()
    ) -> None:
        super().__init__(sampler, basis, transform)

    def build(self, ideals: Any, ring: Any, basis: dict[str, Any], transform: dict[str, Any]) -> tuple[Any, Any]:
        with within("basis"):
            basis_sampler = ideals.GroebnerBasisSampler(ring, **basis)
        with within("transform"):
            return basis_sampler, ideals.GroebnerIdealTransformer(ring, **transform)

    # The same answers are right as for the forward problem: the solution is the ideal's reduced lex basis.
    verify = GroebnerProblem.verify
    partial_credit = GroebnerProblem.partial_credit
