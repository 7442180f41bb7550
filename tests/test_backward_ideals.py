"""Ideals drawn backwards (``calt_hf.ideals``), on every backend, verified mathematically.

Per backend, field (GF(p), QQ) and variable count (2..5), a few samples each (FLINT's converted to SymPy's for
the checks, which are SymPy's):

- ``G`` is the reduced lex Gröbner basis of the ideal of ``F``, recomputed independently: Singular on Sage, SymPy's
  ``groebner`` on SymPy (the generator computes none);
- a border basis vanishes on its points, its order ideal is one (closed under divisors) and a basis of the quotient
  of the zero-dimensional ideal ``G`` generates, ``G`` is its border's prebasis, ``F`` lies in that ideal and, with
  ``identity_block``, generates all of it (Gröbner bases of the same library).

Then the problems as the command line builds them: the lex ring, the parameter groups, the errors, the card.
The draws against calt-x's own: tests/test_calt_parity.py; every problem's data: tests/test_problems.py.
"""

from __future__ import annotations

import hashlib
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from sympy import GF, QQ, ZZ
from sympy.polys.groebnertools import groebner as sympy_groebner
from sympy.polys.matrices import DomainMatrix
from sympy.polys.orderings import grevlex, lex
from sympy.polys.rings import ring as sympy_ring

from calt_hf import flint as ours_flint
from calt_hf import sympy as ours_sympy
from calt_hf.backends.flint.adapter import _sympy_ring, _to_sympy

sage_all = pytest.importorskip("sage.all__sagemath_singular")

from test_cli import compose_config  # noqa: E402

from calt_hf import sagemath as ours_sage  # noqa: E402
from calt_hf.config import build_job  # noqa: E402
from calt_hf.problems.groebner_backward import kera_density  # noqa: E402

BACKENDS = {"sympy": ours_sympy, "sagemath": ours_sage, "flint": ours_flint}


def polynomial_ring(backend: str, field: str, n: int, order: str):
    names = [f"x{i}" for i in range(n)]
    if backend == "flint":
        return ours_flint.PolynomialSampler(", ".join(names), field, order=order).get_ring()
    if backend == "sympy":
        domain = QQ if field == "QQ" else GF(int(field[3:-1]))
        return sympy_ring(",".join(names), domain, {"lex": lex, "grevlex": grevlex}[order])[0]
    base = sage_all.QQ if field == "QQ" else sage_all.GF(int(field[3:-1]))
    return sage_all.PolynomialRing(base, names, order={"lex": "lex", "grevlex": "degrevlex"}[order])


def checked(R, polys: list) -> tuple:
    """The ring and polynomials as the checks read them: FLINT's as SymPy's, the others as they are."""
    if not ours_flint.DatasetGenerator.cas.owns(R):
        return R, list(polys)
    S = _sympy_ring(R)
    return S, [_to_sympy(f, S) for f in polys]


def checked_point(R, point) -> tuple:
    """A point as the checks read it: FLINT's numbers (fmpz_mod, fmpq) as SymPy's, the others as they are."""
    if not ours_flint.DatasetGenerator.cas.owns(R):
        return tuple(point)
    domain = checked(R, [])[0].domain
    return tuple(domain(int(c.p), int(c.q)) if hasattr(c, "q") else domain(int(c)) for c in point)


def reduced_groebner_basis(R, polys: list) -> list:
    """The library's own reduced Gröbner basis under the ring's order, by decreasing leading monomial (zeros dropped)."""
    polys = [f for f in polys if f != 0]
    if hasattr(R, "domain"):  # SymPy's PolyRing
        return sympy_groebner(polys, R)
    return sorted(R.ideal(polys).groebner_basis(), key=lambda g: g.lm(), reverse=True)


def exponents(poly) -> list[tuple[int, ...]]:
    return [tuple(m) for m in poly.monoms()] if hasattr(poly, "monoms") else [tuple(e) for e in poly.exponents()]


def coefficient(poly, monomial: tuple[int, ...]):
    return poly.coeff(poly.ring.from_dict({monomial: 1})) if hasattr(poly, "ring") else poly.monomial_coefficient(poly.parent().monomial(*monomial))


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    sage_all.set_random_seed(seed)


# --- Gröbner bases in shape position -------------------------------------------------------------------------
@pytest.mark.parametrize("n", [2, 3, 4, 5])
@pytest.mark.parametrize("field", ["GF(7)", "QQ"])
@pytest.mark.parametrize("backend", ["sympy", "sagemath", "flint"])
def test_G_is_the_reduced_lex_groebner_basis_of_F(backend, field, n):
    R = polynomial_ring(backend, field, n, "lex")
    api = BACKENDS[backend]
    basis = dict(max_degree=3, max_num_terms=3, max_coeff=5, num_bound=5)
    transform = dict(max_size=n + 2, max_degree=2, max_num_terms=2, max_coeff=5, num_bound=5, density=kera_density(n))
    sampler, transformer = api.GroebnerBasisSampler(R, **basis), api.GroebnerIdealTransformer(R, **transform)
    S = checked(R, [])[0]
    gens = list(S.gens() if callable(S.gens) else S.gens)
    drawn = []
    for seed in range(3):
        seed_everything(seed)
        G = sampler.sample(1)[0]
        F = transformer.transform(G)
        drawn.append((G, F))
        assert n <= len(F) <= n + 2
        (_, G), (_, F) = checked(R, G), checked(R, F)
        assert reduced_groebner_basis(S, F) == G  # so <F> = <G>, and G is reduced, monic, in shape position:
        h = G[-1]
        assert all(e[:-1] == (0,) * (n - 1) for e in exponents(h)) and coefficient(h, max(exponents(h))) == 1
        for x, g in zip(gens, G[:-1]):
            tail = g - x
            assert all(e[:-1] == (0,) * (n - 1) and e[-1] < max(exponents(h))[-1] for e in exponents(tail))
    seed_everything(1)  # the same seed, the same draws
    G = sampler.sample(1)[0]
    assert (G, transformer.transform(G)) == drawn[1]
    assert len({str(G) for G, _ in drawn}) == 3
    if backend == "flint":  # and they are the SymPy backend's draws
        sampler, transformer = (ours_sympy.GroebnerBasisSampler(S, **basis), ours_sympy.GroebnerIdealTransformer(S, **transform))
        seed_everything(1)
        G = sampler.sample(1)[0]
        assert (G, transformer.transform(G)) == tuple(checked(R, polys)[1] for polys in drawn[1])


# --- border bases ---------------------------------------------------------------------------------------------
def standard_monomials(leading: list[tuple[int, ...]], n: int) -> set[tuple[int, ...]]:
    """The monomials no leading monomial divides (finite: the ideal is zero-dimensional, checked on the way)."""
    seen, frontier = set(), [(0,) * n]
    while frontier:
        m = frontier.pop()
        if m in seen or any(all(a >= b for a, b in zip(m, lm)) for lm in leading):
            continue
        assert max(m) < 50, "not zero-dimensional"
        seen.add(m)
        frontier += [m[:i] + (m[i] + 1,) + m[i + 1 :] for i in range(n)]
    return seen


def normal_form(f, basis):
    return f.rem(basis) if hasattr(f, "rem") else f.reduce(basis)


def rank(R, rows: list[list]) -> int:
    if hasattr(R, "domain"):
        return DomainMatrix(rows, (len(rows), len(rows[0])), R.domain).rank()
    return sage_all.matrix(R.base_ring(), rows).rank()


#: Per variable count: degree bounds and total degree bound, small enough for SymPy's Gröbner bases.
BORDER_BOUNDS = {2: ([4, 3], None), 3: ([3, 3, 2], 4), 4: ([2, 2, 2, 2], 4), 5: ([2, 2, 2, 2, 2], 3)}


@pytest.mark.parametrize("n", [2, 3, 4, 5])
@pytest.mark.parametrize("field", ["GF(31)", "QQ"])
@pytest.mark.parametrize("backend", ["sympy", "sagemath", "flint"])
def test_a_border_basis_vanishes_on_its_points_and_its_order_ideal_is_a_basis_of_the_quotient(backend, field, n):
    R = polynomial_ring(backend, field, n, "grevlex")
    api = BACKENDS[backend]
    bounds, total = BORDER_BOUNDS[n]
    sampler = api.BorderBasisSampler(R)
    combining = api.BorderIdealTransformer(R, max_size=2 * n, max_num_terms=2, coeff_bound=10**9)
    keeping = api.BorderIdealTransformer(R, max_size=2 * n, identity_block=True, max_num_terms=2, coeff_bound=10**9)
    sizes = []
    for seed in range(2):
        seed_everything(seed)
        record = sampler.random_border_basis(bounds, total_degree_bound=total)
        assert record["success"]
        (S, G), (_, order_polys), (_, border_polys) = (checked(R, record[key]) for key in ("basis", "order", "border"))
        order, border = [exponents(o)[0] for o in order_polys], [exponents(b)[0] for b in border_polys]
        points = [checked_point(R, point) for point in record["points"]]
        sizes.append(len(order))
        # O is an order ideal within the bounds, B its border
        assert (0,) * n in order and all(o[k] < bounds[k] for o in order for k in range(n))
        assert all(o[:k] + (o[k] - 1,) + o[k + 1 :] in order for o in order for k in range(n) if o[k])
        assert set(border) == {o[:k] + (o[k] + 1,) + o[k + 1 :] for o in order for k in range(n)} - set(order)
        # g_b = b - (a combination of O), vanishing on the |O| points
        for b, g in zip(border, G):
            assert set(exponents(g)) <= set(order) | {b} and coefficient(g, b) == 1
        assert len(points) == len(order) == len(set(points))
        assert all(g(*point) == 0 for g in G for point in points)
        # <G> is zero-dimensional and O is a basis of its quotient
        basis = reduced_groebner_basis(S, G)
        standard = standard_monomials([exponents(g)[0] for g in basis], n)
        assert len(standard) == len(order)
        forms = [normal_form(o, basis) for o in order_polys]
        rows = [[coefficient(form, m) for m in sorted(standard)] for form in forms]
        assert rank(S, rows) == len(order)
        # F lies in <G>; with G kept in F (identity_block), F generates all of it
        F = checked(R, combining.transform(record["basis"]))[1]
        assert len(G) < len(F) <= max(2 * n, len(G)) + 1 and all(normal_form(f, basis) == 0 for f in F)
        F = checked(R, keeping.transform(record["basis"]))[1]
        assert F[: len(G)] == G and reduced_groebner_basis(S, F) == basis
    assert len(set(sizes)) > 1 or n == 2 or sizes[0] > 1  # not one trivial order ideal


def test_bad_arguments_are_refused_before_any_draw():
    R = polynomial_ring("sagemath", "GF(7)", 2, "lex")
    S = sympy_ring("x, y", GF(7), lex)[0]
    Z = sympy_ring("x, y", ZZ, lex)[0]
    cases = [
        (lambda: ours_sympy.GroebnerBasisSampler(Z), "shape position needs a field"),
        (lambda: ours_sympy.GroebnerBasisSampler(S, min_degree=0), "min_degree=0 is not allowed"),
        (lambda: ours_sympy.GroebnerBasisSampler("x, y"), "is not a SymPy PolyRing"),
        (lambda: ours_sage.GroebnerBasisSampler(S), "is not a Sage polynomial ring"),
        (lambda: ours_sage.GroebnerIdealTransformer(R, max_size=1), "max_size=1 is not allowed; use an integer >= 2"),
        (lambda: ours_sage.GroebnerIdealTransformer(R, max_size=3, density=1.5), "density=1.5 is not allowed"),
        (lambda: ours_sympy.GroebnerIdealTransformer(S, max_size=3, max_num_terms=0), "max_num_terms=0 is not allowed"),
        (lambda: ours_sage.BorderBasisSampler(sage_all.PolynomialRing(sage_all.RR, "x, y")), "over exact fields"),
        (lambda: ours_sympy.BorderBasisSampler(sympy_ring("x", GF(7), lex)[0]), "two or more variables"),
        (lambda: ours_sage.BorderBasisSampler(R).sample(1, [3]), "give one bound for each of the 2 variables"),
        (lambda: ours_sympy.BorderBasisSampler(S).sample(1, [1, 1], total_degree_bound=3), "one bound must be 2 or more"),
        (lambda: ours_sympy.BorderBasisSampler(S).sample(1, [3, 3], max_sampling=1), "max_sampling=1 is not allowed"),
    ]
    for call, message in cases:
        with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
            call()


# --- the problems on the command line -------------------------------------------------------------------------
@pytest.mark.parametrize("backend", ["sympy", "sagemath"])
def test_the_groebner_problems_ring_is_lex_and_another_order_is_refused_with_the_reason(backend):
    cfg = compose_config("problem=groebner_backward", f"backend={backend}")
    job = build_job(cfg)
    assert cfg.save_dir == f"datasets/{backend}_groebner_backward_GF7"  # the problem's defaults: the default folder, no suffix
    assert str(job.options.problem_generator.sampler.order) == "lex"
    assert job.options.description.settings["order"] == "lex"
    assert "order: lex" in job.config_text
    other = compose_config("problem=groebner_backward", f"backend={backend}", "problem.basis.max_degree=3")
    assert other.save_dir.startswith(f"datasets/{backend}_groebner_backward_GF7-")  # another configuration, its own folder
    build_job(compose_config("problem=groebner_backward", f"backend={backend}", "sampler.order=lex"))
    with pytest.raises(ValueError, match=r"sampler.order='(grevlex|degrevlex)' is not allowed for problem=groebner_backward: "
                                         r"the basis is a lex Gröbner basis, so the ring's order is lex; leave sampler.order unset"):
        build_job(compose_config("problem=groebner_backward", f"backend={backend}", "sampler.order=grevlex"))
    border = build_job(compose_config("problem=border_basis", f"backend={backend}"))  # any order: it only sets the text
    assert str(border.options.problem_generator.sampler.order) in ("grevlex", "degrevlex")


@pytest.mark.parametrize(
    "overrides, expected",
    [
        (["problem=groebner_backward", "problem.transform.max_size=1"], "problem.transform.max_size=1 is not allowed; use an integer >= 2"),
        (["problem=groebner_backward", "problem.basis.min_degree=0"], "problem.basis.min_degree=0 is not allowed"),
        (["problem=groebner_backward", "problem.basis.max_degree=2", "problem.basis.min_degree=3"],
         "problem.basis.min_degree=3 is above max_degree=2"),
        (["problem=groebner_backward", "sampler.field_str=ZZ"],
         "sampler.field_str=ZZ is not allowed for problem=groebner_backward: shape position needs a field"),
        (["problem=border_basis", "sampler.field_str=RR", "backend=sagemath"], "sampler.field_str=RR is not allowed for problem=border_basis"),
        (["problem=border_basis", "sampler.symbols=x"], "sampler.symbols='x' is not allowed for problem=border_basis"),
        (["problem=border_basis", "problem.basis.degree_bounds=[2]"],
         "problem.basis.degree_bounds=[2] is not allowed; give one bound for each of the 2 variables"),
        (["problem=border_basis", "problem.transform.density=2"], "problem.transform.density=2.0 is not allowed"),
    ],
)
def test_a_bad_parameter_is_named_with_its_group_before_any_work(tmp_path, overrides, expected):
    with pytest.raises(ValueError) as caught:
        build_job(compose_config(*overrides, f"save_dir={tmp_path / 'out'}"))
    assert expected in str(caught.value)
    assert list(tmp_path.iterdir()) == []


def test_the_defaults_are_kera_et_al_s_for_the_ring():
    settings = {}
    for symbols in ("x, y", "x, y, z, t"):
        for name in ("groebner_backward", "border_basis"):
            job = build_job(compose_config(f"problem={name}", f"sampler.symbols='{symbols}'", "sampler.field_str=GF31"))
            settings[name, symbols] = job.options.description.settings
    two, four = settings["groebner_backward", "x, y"], settings["groebner_backward", "x, y, z, t"]
    assert (two["basis.max_degree"], two["basis.max_num_terms"], two["transform.max_degree"], two["transform.max_num_terms"]) == (5, 5, 3, 2)
    assert (two["transform.max_size"], two["transform.density"], four["transform.max_size"], four["transform.density"]) == (4, 1.0, 6, 0.3)
    assert two["transform.coeff_bound"] == 100 and two["basis.num_bound"] == two["basis.max_coeff"] == 5
    border_two, border_four = settings["border_basis", "x, y"], settings["border_basis", "x, y, z, t"]
    assert (border_two["basis.degree_bounds"], border_four["basis.degree_bounds"]) == ([4, 4], [2, 2, 2, 2])
    assert (border_four["basis.total_degree_bound"], border_four["transform.max_size"], border_four["transform.max_num_terms"]) == (4, 8, 10)
    assert "max_degree" not in two and "sampler.max_degree" not in two  # the sampler group gives the ring, nothing else


def _run_cli(tmp_path: Path, *overrides: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "calt_hf.generate", *overrides, "verbose=false"],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)


@pytest.mark.parametrize("problem, backend, ring, arxiv", [
    ("groebner_backward", "sympy", ["sampler.symbols='x, y, z'", "sampler.field_str=GF31"], ["2311.12904"]),
    ("border_basis", "sagemath", ["sampler.symbols='x, y, z'", "sampler.field_str=GF7"], ["2311.12904", "2505.23696"]),
])
def test_the_command_line_draws_the_problem_and_its_card_names_the_method_and_cites_the_papers(tmp_path, problem, backend, ring, arxiv):
    result = _run_cli(tmp_path, f"problem={problem}", f"backend={backend}", *ring, "dataset_sizes={train: 20, test: 4}",
                      "save_dir=out", "parallel.n_jobs=1", "data_quality=false")
    assert result.returncode == 0, result.stderr
    from datasets import load_dataset

    data = load_dataset(str(tmp_path / "out"))
    assert data["train"].num_rows == 20 and all(len(row["solution"]) >= 3 for row in data["train"])
    card = (tmp_path / "out" / "README.md").read_text()
    assert "| method | drawn backwards, as Kera et al." in card
    assert all(f"- arxiv:{number}" in card and f"arXiv:{number}](https://arxiv.org/abs/{number})" in card for number in arxiv)
    assert "| transform.density |" in card and "| transform.max_size |" in card  # the groups' parameters, as used


def test_forward_groebner_stops_slow_samples_on_sympy_by_default_and_the_card_counts_them(tmp_path):
    def run_settings(*overrides):
        job = build_job(compose_config(*overrides))
        return job.options.sample_timeout, job.options.on_error

    assert run_settings("problem=groebner") == (10.0, "resample")
    assert run_settings("problem=groebner", "backend=sagemath") == (None, "raise")  # Singular has no such tail
    assert run_settings("problem=groebner", "sample_timeout=3", "on_error=skip") == (3.0, "skip")
    assert run_settings("problem=groebner_backward") == run_settings("problem=gcd") == (None, "raise")
    # A run with a timeout far below these samples' median (0.6 s; the default's 10 s would take minutes to show),
    # skipping what times out (and trying up to 50 indices a sample, so that the split fills): the stats and the
    # card count them.
    result = _run_cli(tmp_path, "problem=groebner", "sampler.symbols='x, y, z, t'", "sampler.field_str=GF31", "sampler.max_degree=5",
                      "sampler.max_num_terms=10", "sample_timeout=0.02", "on_error=skip", "max_index_factor=50",
                      "dataset_sizes={train: 2}", "save_dir=out", "parallel.n_jobs=1", "data_quality=false")
    assert result.returncode == 0, result.stderr
    saved = yaml.safe_load((tmp_path / "out" / "config.yaml").read_text())
    assert (saved["sample_timeout"], saved["on_error"]) == (0.02, "skip")
    errors = yaml.safe_load((tmp_path / "out" / "train_stats.yaml").read_text())["errors"]
    # How many of the first indices take longer than 0.02 s depends on the machine (1 to 4 seen): at least one does.
    assert errors["timed_out"] == errors["failed"] == errors["skipped"] >= 1  # every failure here is a timeout
    row = f"| 2 | {errors['failed']} | {errors['timed_out']} | {errors['resampled']} | {errors['skipped']} |"
    assert "| requested | failed attempts | of them timed out | resampled | skipped |" in (tmp_path / "out" / "README.md").read_text()
    assert row in (tmp_path / "out" / "README.md").read_text()


#: The first 20 samples' text of each problem, as SymPy draws them: their SHA-256, recorded on main at 6c04d91
#: (before SymPy's draws were computed on plain dicts; the same with and without python-flint's ground types).
#: FLINT draws SymPy's (no RR). A change that moves a SymPy draw changes every dataset already made: it fails here.
PINNED = [
    ("groebner_backward", "x, y, z", "GF31", {}, "2303c3801d50ee81"),
    ("groebner_backward", "x, y", "QQ", {}, "7bc7269b990219a4"),
    ("groebner_backward", "x, y", "RR", {}, "1d620f865b01b66a"),
    ("border_basis", "x, y", "GF7", {}, "c09252bc8c13a3b7"),
    ("border_basis", "x, y, z", "QQ", {"transform": {"identity_block": True, "coeff_bound": 10**6, "max_num_terms": 2}},
     "9882248246fcc648"),
]


@pytest.mark.parametrize(
    "backend, name, symbols, field, options, digest",
    [(backend, *case) for backend in ("sympy", "flint") for case in PINNED if (backend, case[2]) != ("flint", "RR")],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_the_sympy_draws_are_pinned_and_flint_draws_them(backend, name, symbols, field, options, digest):
    from calt_hf.conversion import to_strings
    from calt_hf.problems import PROBLEMS

    api = BACKENDS[backend]
    problem = PROBLEMS[name](api.PolynomialSampler(symbols, field, order="lex" if name == "groebner_backward" else "grevlex"), **options)
    texts = hashlib.sha256()
    for seed in range(20):
        F, G = problem(seed)
        texts.update(repr((to_strings(F, api.DatasetGenerator.cas, "F"), to_strings(G, api.DatasetGenerator.cas, "G"))).encode())
    assert texts.hexdigest()[:16] == digest
