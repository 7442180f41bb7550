"""Same samples as CALT: our samplers against calt-x 1.5.0's own, draw for draw, on both backends.

calt-x is a test dependency (scripts/test.sh installs it with --no-deps). Its package ``__init__`` imports
torch and wandb, so its modules are loaded here by file path under a private package name, ``_caltx``,
without running any ``__init__``. Its Sage module imports ``sage.all``, which passagemath-singular
spells ``sage.all__sagemath_singular``: the test lends it that name while the module loads.

The contract matched is calt-x's: the SymPy sampler draws from Python's ``random`` (a CALT generator
calls ``random.seed(seed)``), the Sage sampler from Sage's randstate (``set_random_seed(seed)``).
"""

from __future__ import annotations

import importlib
import importlib.util
import random
import sys
import types
from functools import partial
from pathlib import Path

import pytest

from calt_hf import sympy as ours_sympy

if importlib.util.find_spec("calt") is None:  # pragma: no cover - scripts/test.sh installs it
    pytest.skip("calt-x is not installed (pip install --no-deps calt-x==1.5.0)", allow_module_level=True)

CALT_DIR = Path(importlib.util.find_spec("calt").submodule_search_locations[0])


def load_calt(relative: str) -> types.ModuleType:
    """One calt-x module by its path under ``calt/``, its parent packages registered empty (no ``__init__``)."""
    *parts, stem = relative.removesuffix(".py").split("/")
    for depth in range(len(parts) + 1):
        name = ".".join(["_caltx", *parts[:depth]])
        if name not in sys.modules:
            package = types.ModuleType(name)
            package.__path__ = [str(CALT_DIR.joinpath(*parts[:depth]))]
            sys.modules[name] = package
    return importlib.import_module(".".join(["_caltx", *parts, stem]))


def load_calt_sage(relative: str) -> types.ModuleType:
    """A calt-x Sage module, with passagemath's ``sage.all__sagemath_singular`` standing in for ``sage.all``."""
    previous = sys.modules.get("sage.all")
    sys.modules["sage.all"] = importlib.import_module("sage.all__sagemath_singular")
    try:
        return load_calt(relative)
    finally:
        if previous is None:
            del sys.modules["sage.all"]
        else:
            sys.modules["sage.all"] = previous


calt_sympy = load_calt("dataset/sympy/utils/polynomial_sampler.py")
calt_single = load_calt("dataset/sympy/utils/single_polynomial_sampler.py")

FIELDS = ["GF(7)", "GF(32003)", "QQ", "ZZ", "RR"]
#: name -> (symbols, options); every option calt-x has, each variable count 1..4, several per branch of
#: its monomial choice (few terms: distinct draws; many terms: strike out or take out of a full listing).
OPTION_SETS = {
    "defaults": ("x, y", {}),
    "small": ("x, y, z", {"max_degree": 3, "max_num_terms": 4}),
    "univariate": ("x", {"max_degree": 6, "max_num_terms": 4}),
    "all_terms_fixed": ("x, y", {"degree_sampling": "fixed", "term_sampling": "fixed", "max_degree": 2, "max_num_terms": None}),
    "many_terms_uniform_degree": ("x, y", {"term_sampling": "fixed", "max_num_terms": 20, "max_degree": 3}),
    "fixed_degree": ("a, b, c, d", {"degree_sampling": "fixed", "max_degree": 4, "max_num_terms": 6}),
    "loose_zero_allowed": ("x, y", {"strictly_conditioned": False, "nonzero_instance": False, "min_degree": 2, "max_degree": 4}),
    "strict_zero_coefficients": ("x, y, z", {"nonzero_instance": False, "max_degree": 3, "max_num_terms": 5}),
    "min_degree": ("x, y", {"min_degree": 3, "max_degree": 4, "max_num_terms": 3}),
    "bounds": ("x, y", {"strictly_conditioned": False, "max_coeff": 3, "num_bound": 4, "max_degree": 3}),
    "constants": ("x, y", {"max_degree": 0}),
}
#: Sage's sampler alone has nonzero_coeff (default True in calt-x 1.x).
SAGE_ONLY = {
    "zero_coefficients": ("x, y", {"nonzero_coeff": False, "max_degree": 3, "max_num_terms": 5}),
    "zero_coefficients_loose": ("x", {"nonzero_coeff": False, "strictly_conditioned": False, "max_degree": 4}),
}
SEEDS = range(20)
PER_SEED = 3


def _sympy_draws(sampler, seed: int) -> list[dict]:
    random.seed(seed)
    drawn = [dict(p) for p in sampler.sample(PER_SEED)]
    return drawn + [random.random()]  # and the generator is left where calt-x leaves it


@pytest.mark.parametrize("option_set", sorted(OPTION_SETS))
@pytest.mark.parametrize("field_str", FIELDS)
def test_sympy_sampler_draws_as_calt(field_str, option_set):
    symbols, options = OPTION_SETS[option_set]
    ours = ours_sympy.PolynomialSampler(symbols, field_str, **options)
    theirs = calt_sympy.PolynomialSampler(symbols, field_str, **options)
    assert ours.order == theirs.order == "grevlex"
    for seed in SEEDS:
        assert _sympy_draws(ours, seed) == _sympy_draws(theirs, seed), (seed, field_str, options)


@pytest.mark.parametrize("field_str", ["GF(7)", "QQ", "RR"])
def test_sympy_matrices_draw_as_calt(field_str):
    ours = ours_sympy.PolynomialSampler("x, y", field_str, max_degree=2, max_num_terms=3)
    theirs = calt_sympy.PolynomialSampler("x, y", field_str, max_degree=2, max_num_terms=3)
    for seed in range(10):
        for kwargs in ({"size": (2, 3), "density": 0.6}, {"size": (3, 3), "matrix_type": "unimodular_upper_triangular"}):
            random.seed(seed)
            mine = ours.sample(2, **kwargs)
            random.seed(seed)
            reference = theirs.sample(2, **kwargs)
            assert [m.tolist() for m in mine] == [m.tolist() for m in reference]


def test_sympy_single_polynomial_sampler_draws_as_calt():
    ours, theirs = ours_sympy.SinglePolynomialSampler(), calt_single.SinglePolynomialSampler()
    from sympy import GF, QQ, RR, ZZ
    from sympy.polys.rings import ring

    cases = []
    for domain in (GF(7), GF(32003), QQ, ZZ, RR):
        for symbols in ("x", "x, y", "x, y, z"):
            R = ring(symbols, domain, "grevlex")[0]
            for degree in (0, 1, 3):
                for terms in (None, 1, 3, 8, 30):
                    for choose_degree in (False, True):
                        for non_zero in (False, True):
                            cases.append((R, degree, terms, choose_degree, non_zero))
    bounds = {QQ: {"num_bound": 3}, ZZ: {"min": -2, "max": 5}, RR: {"min": -1.5, "max": 0.5}}
    for seed, (R, degree, terms, choose_degree, non_zero) in enumerate(cases):
        for kwargs in ({}, bounds.get(R.domain, {})):
            drawn = []
            for sampler in (ours, theirs):
                random.seed(seed)
                poly = sampler.random_element(R, degree, terms, choose_degree, non_zero, **kwargs)
                coeff = sampler.random_coeff(R.domain, non_zero, **kwargs)
                drawn.append((dict(poly), coeff, random.random()))
            assert drawn[0] == drawn[1], (R, degree, terms, choose_degree, non_zero, kwargs)


# --- Sage ----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sage():
    sage_all = pytest.importorskip("sage.all__sagemath_singular")
    from calt_hf import sagemath as ours_sage

    return sage_all, ours_sage, load_calt_sage("dataset/sagemath/utils/polynomial_sampler.py")


def _sage_draws(sage_all, sampler, seed: int, **kwargs) -> list:
    sage_all.set_random_seed(seed)
    drawn = sampler.sample(PER_SEED, **kwargs)
    drawn = [m.list() for m in drawn] if kwargs else [(p.parent(), p.dict()) for p in drawn]
    return drawn + [sage_all.randint(0, 2**30), sage_all.RR.random_element()]  # both of Sage's streams


@pytest.mark.parametrize("option_set", sorted({**OPTION_SETS, **SAGE_ONLY}))
@pytest.mark.parametrize("field_str", FIELDS)
def test_sage_sampler_draws_as_calt(sage, field_str, option_set):
    sage_all, ours_sage, calt_sage = sage
    symbols, options = {**OPTION_SETS, **SAGE_ONLY}[option_set]
    ours = ours_sage.PolynomialSampler(symbols, field_str, **options)
    theirs = calt_sage.PolynomialSampler(symbols, field_str, **options)
    assert ours.order == theirs.order == "degrevlex"
    for seed in SEEDS:
        assert _sage_draws(sage_all, ours, seed) == _sage_draws(sage_all, theirs, seed), (seed, field_str, options)


def test_sage_matrices_rings_and_orders_draw_as_calt(sage):
    sage_all, ours_sage, calt_sage = sage
    R = sage_all.PolynomialRing(sage_all.GF(11), "a, b, c", order="lex")
    pairs = [
        (ours_sage.PolynomialSampler(ring=R, max_degree=3), calt_sage.PolynomialSampler(ring=R, order=None, max_degree=3)),
        (ours_sage.PolynomialSampler("x, y", "QQ", "grevlex"), calt_sage.PolynomialSampler("x, y", "QQ", "grevlex")),
        (ours_sage.PolynomialSampler("x, y", "ZZ", "deglex"), calt_sage.PolynomialSampler("x, y", "ZZ", "deglex")),
    ]
    for ours, theirs in pairs:
        for seed in range(10):
            assert _sage_draws(sage_all, ours, seed) == _sage_draws(sage_all, theirs, seed)
    ours = ours_sage.PolynomialSampler("x, y", "GF(7)", max_degree=2, max_num_terms=3)
    theirs = calt_sage.PolynomialSampler("x, y", "GF(7)", max_degree=2, max_num_terms=3)
    for seed in range(10):
        for kwargs in ({"size": (2, 3), "density": 0.6}, {"size": (3, 3), "matrix_type": "unimodular_upper_triangular"}):
            assert _sage_draws(sage_all, ours, seed, **kwargs) == _sage_draws(sage_all, theirs, seed, **kwargs)


# --- a ported generator writes CALT's lines -------------------------------------------------------------
def _sum_instance(sampler, seed_sage, seed):
    random.seed(seed)
    if seed_sage is not None:
        seed_sage(seed)
    polys = sampler.sample(num_samples=random.randint(2, 3))
    return polys, sum(polys[1:], polys[0])


#: Sage's lines match CALT's only where calt_hf's text form agrees with Sage's ``str``: CALT writes GF(p)
#: coefficients of multivariate polynomials as Singular prints them (-2 for 5 in GF(7)) and RR with 15
#: digits, calt_hf as 0..p-1 and the shortest digits on both backends. The samples themselves are equal.
PORTED = [("sympy", "GF(7)", "x, y"), ("sympy", "GF(32003)", "x, y, z"), ("sympy", "QQ", "x, y"), ("sympy", "ZZ", "x"),
          ("sympy", "RR", "x, y"), ("sagemath", "QQ", "x, y"), ("sagemath", "ZZ", "x, y, z"), ("sagemath", "GF(7)", "x")]


@pytest.mark.parametrize("backend, field_str, symbols", PORTED)
def test_a_ported_generator_writes_calts_lines(tmp_path, backend, field_str, symbols):
    """The same generator, on CALT's sampler and generator and on ours, writes the same train_raw.txt."""
    options = {"max_num_terms": 3, "max_degree": 2}
    if backend == "sympy":
        calt_generator = load_calt("dataset/sympy/dataset_generator.py")
        theirs, seed_sage = calt_sympy.PolynomialSampler(symbols, field_str, **options), None
        ours = ours_sympy.PolynomialSampler(symbols, field_str, **options)
        from calt_hf.sympy import DatasetGenerator
    else:
        sage_all = pytest.importorskip("sage.all__sagemath_singular")
        from calt_hf import sagemath as ours_sage
        from calt_hf.sagemath import DatasetGenerator

        calt_generator = load_calt_sage("dataset/sagemath/dataset_generator.py")
        calt_sage = load_calt_sage("dataset/sagemath/utils/polynomial_sampler.py")
        theirs = calt_sage.PolynomialSampler(symbols, field_str, **options)
        ours, seed_sage = ours_sage.PolynomialSampler(symbols, field_str, **options), sage_all.set_random_seed
    calt_generator.DatasetGenerator(n_jobs=1, verbose=False, root_seed=5).run(
        {"train": 40}, partial(_sum_instance, theirs, seed_sage), save_dir=str(tmp_path / "calt"), save_json=False
    )
    DatasetGenerator(n_jobs=1, verbose=False, root_seed=5).run(
        {"train": 40}, partial(_sum_instance, ours, seed_sage), save_dir=tmp_path / "ours", save_json=False
    )
    calt_lines = (tmp_path / "calt" / "train_raw.txt").read_text()
    assert len(calt_lines.splitlines()) == 40
    assert (tmp_path / "ours" / "train_raw.txt").read_text() == calt_lines


# --- ideals drawn backwards: Gröbner bases in shape position, border bases (calt-x has them on Sage only) ------
IDEAL_FIELDS = ["GF(7)", "GF(31)", "QQ"]
IDEAL_CLASSES = ("GroebnerBasisSampler", "GroebnerIdealTransformer", "BorderBasisSampler", "BorderIdealTransformer")
#: name -> (GroebnerBasisSampler's options, GroebnerIdealTransformer's besides max_size = n + 2)
SHAPE_OPTIONS = {
    "calt_defaults": ({}, {}),
    "kera": ({"max_degree": 5, "max_num_terms": 5, "max_coeff": 5, "num_bound": 5},
             {"max_degree": 3, "max_num_terms": 2, "max_coeff": 5, "num_bound": 5, "density": 0.6}),
    "fixed_sparse": ({"min_degree": 2, "max_degree": 3, "max_num_terms": 2, "degree_sampling": "fixed", "term_sampling": "fixed"},
                     {"max_degree": 2, "min_degree": 0, "density": 0.2, "strictly_conditioned": False, "coeff_bound": 20, "max_iter": 3}),
}
#: name -> (random_border_basis's arguments for n variables, BorderIdealTransformer's options besides max_size = n, or
#: None: no transform (calt-x draws a polynomial in about a millisecond, and F = A·G would need |G|^2 of them)
BORDER_OPTIONS = {
    "boxes": (lambda n: {"degree_bounds": [2] * n}, None),
    "lower_bounds": (lambda n: {"degree_bounds": [3] + [2] * (n - 1), "degree_lower_bounds": 1, "max_sampling": 3}, None),
    "total_degree": (lambda n: {"degree_bounds": [3] * n, "total_degree_bound": 3},
                     {"max_num_terms": 2, "density": 0.7, "coeff_bound": 10**9}),
    "identity_block": (lambda n: {"degree_bounds": [2] * n, "total_degree_bound": 3}, {"identity_block": True, "max_degree": 0}),
}


@pytest.fixture(scope="module")
def calt_ideals(sage):
    return {
        name: getattr(load_calt_sage(f"dataset/sagemath/utils/{package}/{module}.py"), name)
        for name, package, module in (
            ("GroebnerBasisSampler", "ideal_sampler", "groebner"),
            ("GroebnerIdealTransformer", "ideal_invariant_transformer", "groebner"),
            ("BorderBasisSampler", "ideal_sampler", "border"),
            ("BorderIdealTransformer", "ideal_invariant_transformer", "border"),
        )
    }


def _streams_after(sage_all) -> tuple:
    """Where calt-x leaves each generator it draws from: Sage's randstate (both streams), Python's, numpy's."""
    import numpy as np

    return sage_all.randint(0, 2**30), sage_all.RR.random_element(), random.random(), int(np.random.randint(2**30))


def _seed_all(sage_all, seed: int) -> None:
    import numpy as np

    sage_all.set_random_seed(seed)
    random.seed(seed)
    np.random.seed(seed)


def _ideal_ring(sage_all, field_str: str, n: int, order: str):
    base = sage_all.QQ if field_str == "QQ" else sage_all.GF(int(field_str[3:-1]))
    return sage_all.PolynomialRing(base, [f"x{i}" for i in range(n)], order=order)


def test_the_backward_classes_have_calt_x_signatures_on_every_backend(sage, calt_ideals):
    import inspect

    from calt_hf import flint as ours_flint
    from calt_hf import sagemath as ours_sage

    def shape(callable_) -> list:
        return [(p.name, p.default, p.kind) for p in inspect.signature(callable_).parameters.values()]

    for name in IDEAL_CLASSES:
        theirs = calt_ideals[name]
        methods = ["__init__"] + [m for m in ("sample", "transform", "random_border_basis") if hasattr(theirs, m)]
        for backend in (ours_sympy, ours_sage, ours_flint):
            ours = getattr(backend, name)
            assert [m for m in ("sample", "transform", "random_border_basis") if hasattr(ours, m)] == methods[1:]
            for method in methods:
                assert shape(getattr(ours, method)) == shape(getattr(theirs, method)), (backend.__name__, name, method)


@pytest.mark.parametrize("option_set", sorted(SHAPE_OPTIONS))
@pytest.mark.parametrize("n", [2, 3, 4, 5])
@pytest.mark.parametrize("field_str", IDEAL_FIELDS)
def test_sage_groebner_bases_and_transforms_draw_as_calt(sage, calt_ideals, field_str, n, option_set):
    sage_all, ours_sage, _ = sage
    from calt_hf import sagemath as ours_api

    if (field_str, option_set) == ("QQ", "calt_defaults") and n > 3:
        pytest.skip("calt-x's defaults over QQ redraw F up to 100 times, a second each in calt-x from 4 variables on")
    R = _ideal_ring(sage_all, field_str, n, "lex")
    basis_options, transform_options = SHAPE_OPTIONS[option_set]
    pairs = [
        (api_sampler(R, **basis_options), api_transformer(R, max_size=n + 2, **transform_options))
        for api_sampler, api_transformer in (
            (ours_api.GroebnerBasisSampler, ours_api.GroebnerIdealTransformer),
            (calt_ideals["GroebnerBasisSampler"], calt_ideals["GroebnerIdealTransformer"]),
        )
    ]
    for seed in range(3):
        drawn = []
        for sampler, transformer in pairs:
            _seed_all(sage_all, seed)
            bases = sampler.sample(2)
            drawn.append((bases, transformer.transform(bases[0]), _streams_after(sage_all)))
        assert drawn[0] == drawn[1], (seed, field_str, n, option_set)


@pytest.mark.parametrize("option_set", sorted(BORDER_OPTIONS))
@pytest.mark.parametrize("n", [2, 3, 4, 5])
@pytest.mark.parametrize("field_str", IDEAL_FIELDS)
def test_sage_border_bases_and_transforms_draw_as_calt(sage, calt_ideals, field_str, n, option_set):
    sage_all, _, _ = sage
    from calt_hf import sagemath as ours_api

    R = _ideal_ring(sage_all, field_str, n, "degrevlex")
    arguments, transform_options = BORDER_OPTIONS[option_set]
    samplers = (ours_api.BorderBasisSampler(R), calt_ideals["BorderBasisSampler"](R))
    transformers = (None, None) if transform_options is None else (
        ours_api.BorderIdealTransformer(R, max_size=n, **transform_options),
        calt_ideals["BorderIdealTransformer"](R, max_size=n, **transform_options),
    )
    for seed in range(3):
        drawn = []
        for sampler, transformer in zip(samplers, transformers):
            _seed_all(sage_all, seed)
            record = sampler.random_border_basis(**arguments(n))
            record["order_coeff"] = None if record["order_coeff"] is None else [list(v) for v in record["order_coeff"]]
            F = transformer.transform(record["basis"]) if transformer and record["success"] else None
            drawn.append((record, F, _streams_after(sage_all)))
        assert drawn[0] == drawn[1], (seed, field_str, n, option_set)
        assert drawn[0][0]["success"] or field_str == "GF(7)"
