"""The SageMath backend on real Sage objects: sampler, text, reseeding, Gröbner task, CLI, missing extra."""

import os
import pickle
import random
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

sage_all = pytest.importorskip("sage.all__sagemath_singular")
GF, QQ, RR, ZZ = sage_all.GF, sage_all.QQ, sage_all.RR, sage_all.ZZ
PolynomialRing, matrix, set_random_seed = sage_all.PolynomialRing, sage_all.matrix, sage_all.set_random_seed

from sage.misc.randstate import current_randstate  # noqa: E402
from sage.rings.polynomial.multi_polynomial_libsingular import MPolynomial_libsingular  # noqa: E402

from calt_hf import sagemath as sage_api  # noqa: E402
from calt_hf import sympy as sympy_api  # noqa: E402
from calt_hf.backends.sagemath import adapter as backend  # noqa: E402
from calt_hf.backends.sympy.adapter import poly_to_str as sympy_poly_to_str  # noqa: E402
from calt_hf.conversion import to_strings  # noqa: E402
from calt_hf.problems import GCDProblem, GroebnerProblem, PolynomialStatistics  # noqa: E402
from calt_hf.sagemath import DatasetGenerator, PolynomialSampler  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
OUTPUTS = ("train_raw.txt", "train_data.jsonl", "train_data.pkl", "test_raw.txt", "test_data.jsonl", "test_data.pkl")


# --- generators (module level, so loky workers can unpickle them) --------------------------------------
def unseeded_sage_generator(seed: int):
    """Draws from every Sage random source without seeding anything: the core must have seeded Sage."""
    R = PolynomialRing(GF(7), "x, y", order="degrevlex")
    f = R.random_element(degree=3, terms=4)
    numbers = [GF(101).random_element(), ZZ.random_element(10**6), QQ.random_element(), RR.random_element()]
    return [f, *numbers], f * PolynomialRing(ZZ, "x, y").random_element()


def self_seeding_sage_generator(seed: int):
    set_random_seed(seed)
    return unseeded_sage_generator(seed)


def _files(directory: Path) -> dict[str, bytes]:
    return {name: (directory / name).read_bytes() for name in OUTPUTS}


# --- sampler ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("field_str", ["QQ", "ZZ", "RR", "GF(7)", "GF31"])
@pytest.mark.parametrize("order", ["lex", "grevlex", "deglex"])
def test_sampler_constraints(field_str, order):
    sampler = PolynomialSampler("x, y, z", field_str, order, max_num_terms=5, max_degree=4, min_degree=2)
    ring = sampler.get_ring()
    assert ring is sampler.get_ring() and sampler.get_field() is ring.base_ring()
    expected_field = {"QQ": QQ, "ZZ": ZZ, "RR": RR}.get(field_str) or GF(int(field_str.strip("GF()")))
    assert ring.base_ring() is expected_field
    assert ring.term_order().name() == {"grevlex": "degrevlex"}.get(order, order)
    random.seed(0)
    for poly in sampler.sample(150):
        assert poly.parent() is ring and poly != 0
        assert 2 <= sampler.total_degree(poly) <= 4
        assert 1 <= poly.number_of_terms() <= 5
        if field_str != "RR":
            assert isinstance(poly, MPolynomial_libsingular)


def test_fixed_and_non_strict_sampling():
    fixed = PolynomialSampler("x, y", "GF7", "degrevlex", max_num_terms=6, max_degree=3, degree_sampling="fixed", term_sampling="fixed")
    assert all(fixed.total_degree(p) == 3 and p.number_of_terms() == 6 for p in fixed.sample(100))
    loose = PolynomialSampler("x", "ZZ", "lex", max_num_terms=3, max_degree=5, max_coeff=2, strictly_conditioned=False, nonzero_coeff=True)
    for poly in loose.sample(100):
        assert poly != 0 and poly.number_of_terms() <= 3 and loose.total_degree(poly) <= 5
        assert all(1 <= abs(c) <= 2 for c in poly.coefficients())
    bounded = PolynomialSampler("x, y", "QQ", "lex", num_bound=3)
    assert all(abs(c.numerator()) <= 3 and c.denominator() <= 3 for p in bounded.sample(100) for c in p.coefficients())


def test_order_defaults_to_degrevlex_and_is_kept_under_sages_name():
    for order, sage_name in ((None, "degrevlex"), ("grevlex", "degrevlex"), ("grlex", "deglex"), ("lex", "lex")):
        sampler = PolynomialSampler("x, y", "GF7", order) if order else PolynomialSampler("x, y", "GF7")
        assert sampler.order == sage_name == sampler.settings()["order"] == sampler.get_ring().term_order().name()


def test_ring_argument_and_its_value_errors():
    R = PolynomialRing(GF(5), "a, b, c", order="lex")
    sampler = PolynomialSampler(ring=R, max_degree=2)
    assert sampler.get_ring() is R and sampler.get_field() is GF(5) and sampler.field_spec.characteristic == 5
    assert all(p.parent() is R for p in sampler.sample(10))
    assert sampler.order == "lex" and PolynomialSampler(ring=R, order="lex").order == "lex"
    for kwargs in ({"ring": R, "symbols": "x"}, {"ring": R, "field_str": "QQ"}):
        with pytest.raises(ValueError, match="Cannot specify both ring and symbols/field_str"):
            PolynomialSampler(**kwargs)
    with pytest.raises(ValueError, match="order='deglex' contradicts ring=.*whose order is 'lex'"):
        PolynomialSampler(ring=R, order="deglex")
    for kwargs in ({}, {"symbols": "x, y"}, {"field_str": "QQ"}):
        with pytest.raises(ValueError, match="Must specify either ring or both symbols and field_str"):
            PolynomialSampler(**kwargs)
    with pytest.raises(ValueError, match="not supported"):
        PolynomialSampler(ring=PolynomialRing(GF(4), "x, y"))
    with pytest.raises(ValueError, match="not a Sage polynomial ring"):
        PolynomialSampler(ring=QQ)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"field_str": "GF(8)"}, "needs n prime"),
        ({"field_str": "CC"}, "QQ, RR, ZZ, GF"),
        ({"order": "revlex"}, "order='revlex' is not supported"),
        ({"symbols": "x, 1y"}, "symbols="),
        ({"symbols": ""}, "symbols=''"),
        ({"min_degree": 4, "max_degree": 2}, "min_degree=4 is above max_degree=2"),
        ({"max_num_terms": 0}, "max_num_terms=0"),
    ],
)
def test_bad_values_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        PolynomialSampler(**{"symbols": "x, y", "field_str": "GF7", "order": "grevlex", **kwargs})


def test_univariate_and_pickling():
    univariate = PolynomialSampler("t", "QQ", "lex", max_degree=4)
    assert all(univariate.total_degree(p) <= 4 and p != 0 for p in univariate.sample(20))
    sampler = PolynomialSampler("x, y", "GF7", "grevlex")
    clone = pickle.loads(pickle.dumps(sampler))  # Sage rings pickle to the same (cached) ring
    assert clone.get_ring() is sampler.get_ring()
    sampler.reseed_sources(3)  # the draws come from Sage's randstate
    first = sampler.sample(5)
    random.seed(3)
    clone.reseed_sources(3)
    assert clone.sample(5) == first


def test_matrices():
    sampler = PolynomialSampler("x, y", "GF7", "grevlex", max_degree=2)
    ring = sampler.get_ring()
    (m,) = sampler.sample(1, size=(3, 3), matrix_type="unimodular_upper_triangular")
    assert m.parent() is matrix(ring, 3, 3).parent() and m.is_square()
    assert all(m[i, i] == 1 for i in range(3)) and all(m[i, j] == 0 for i in range(3) for j in range(i))
    assert all(e == 0 for sparse in sampler.sample(4, size=(2, 3), density=0.0) for e in sparse.list())
    rows = to_strings(m, backend.SAGEMATH, "m")
    assert len(rows) == 3 and rows[0][0] == "1" and rows[2][:2] == ["0", "0"]
    assert to_strings(m.row(0), backend.SAGEMATH, "v") == rows[0]
    with pytest.raises(ValueError, match="size="):
        sampler.sample(1, size=(0, 2))


# --- text ---------------------------------------------------------------------------------------------
def _to_sympy(poly, sympy_sampler):
    domain = sympy_sampler.get_ring().domain
    field = sympy_sampler.field_spec.kind

    def coefficient(c):
        if field == "QQ":
            return domain(int(c.numerator()), int(c.denominator()))
        return domain(float(c)) if field == "RR" else domain(int(c))

    return sympy_sampler.get_ring().from_dict({tuple(e): coefficient(c) for e, c in poly.dict().items()})


@pytest.mark.parametrize("field_str", ["QQ", "ZZ", "RR", "GF7"])
@pytest.mark.parametrize("order", ["lex", "grlex", "grevlex"])
def test_text_equals_the_sympy_backends(field_str, order):
    sampler = PolynomialSampler("x, y, z", field_str, order, max_degree=4, max_num_terms=8, strictly_conditioned=False)
    sympy_sampler = sympy_api.PolynomialSampler("x, y, z", field_str, order)
    random.seed(11)
    for poly in sampler.sample(150):
        assert backend.element_to_str(poly) == sympy_poly_to_str(_to_sympy(poly, sympy_sampler))


@pytest.mark.parametrize("field", [GF(7), GF(101), QQ, ZZ], ids=str)
@pytest.mark.parametrize(
    "order", ["lex", "deglex", "degrevlex", "invlex", "neglex", "negdegrevlex", "degrevlex(2),lex(1)", "wdegrevlex", None]
)
def test_text_from_singulars_terms_is_sages_own_text(field, order):
    """Terms are read in Singular's order, unsorted: the text is Sage's own (coefficients lifted to 0..p-1 for
    GF(p)) under every term order, weighted and block orders included, and for univariate rings (None)."""
    if order is None:
        ring = PolynomialRing(field, "t")
    else:
        term_order = sage_all.TermOrder("wdegrevlex", (2, 1, 3)) if order == "wdegrevlex" else order
        ring = PolynomialRing(field, "x, y, z", order=term_order)
    set_random_seed(5)
    for _ in range(150):
        poly = ring.random_element(degree=5) if order is None else ring.random_element(degree=5, terms=6)
        lifted = poly.change_ring(ZZ) if field.characteristic() else poly
        assert backend.element_to_str(poly) == str(lifted)


@pytest.mark.parametrize("order", ["lex", "degrevlex", "wdegrevlex"])
def test_total_degree_is_the_standard_degree(order):
    term_order = sage_all.TermOrder("wdegrevlex", (2, 1)) if order == "wdegrevlex" else order
    sampler = PolynomialSampler(ring=PolynomialRing(GF(7), "x, y", order=term_order))
    x, y = sampler.get_ring().gens()
    assert [sampler.total_degree(p) for p in (x**3 + x * y**5, y + 1, sampler.get_ring()(3), sampler.get_ring()(0))] == [6, 1, 0, 0]


def test_text_of_sage_objects():
    R = PolynomialRing(GF(7), "x, y", order="degrevlex")
    x, y = R.gens()
    f = 6 * x**2 * y + 3 * x - 1
    assert str(f) == "-x^2*y + 3*x - 1"  # what Sage prints; we write 0..p-1
    assert backend.element_to_str(f) == "6*x^2*y + 3*x + 6"
    assert backend.element_to_str(y**3 + x) == "y^3 + x"
    a, b = PolynomialRing(ZZ, "x, y", order="lex").gens()
    assert backend.element_to_str(b**3 + a) == "x + y^3"
    assert backend.element_to_str(R(0)) == "0"
    t = PolynomialRing(GF(7), "t").gen()
    assert backend.element_to_str(6 * t**2 + 1) == "6*t^2 + 1"
    a, b = PolynomialRing(QQ, "x, y").gens()
    assert backend.element_to_str(QQ((3, 4)) * a - b) == "3/4*x - y"
    assert backend.element_to_str(GF(7)(-1)) == "6"
    assert backend.element_to_str(RR(0.5)) == "0.5" and backend.element_to_str(RR(-2)) == "-2.0"
    assert to_strings(([x, y], (6 * x,)), backend.SAGEMATH, "p") == [["x", "y"], ["6*x"]]


def test_gcd_datasets_depend_on_the_seeds_alone(tmp_path):
    """The problem seeds Sage's randstate itself (the core skips reseeding for it): any schedule, same bytes."""
    sampler = sage_api.PolynomialSampler("x, y", "GF7", max_degree=3, max_num_terms=4)
    for name, n_jobs, batch_size in (("one", 1, 1000), ("two", 2, 7)):
        sage_api.DatasetGenerator(n_jobs=n_jobs, verbose=False).run(
            {"train": 150, "test": 10}, GCDProblem(sampler), PolynomialStatistics(sampler),
            save_dir=tmp_path / name, batch_size=batch_size,
        )
    for file in ("train_raw.txt", "train_data.jsonl", "test_data.jsonl"):
        assert (tmp_path / "one" / file).read_bytes() == (tmp_path / "two" / file).read_bytes()


# --- reseeding ----------------------------------------------------------------------------------------
def test_reseeder_resets_every_sage_source_per_seed():
    assert backend.MT_STATE_WRITABLE  # the ~5 us path, not set_random_seed's ~0.3 ms
    python_state = random.getstate()
    backend.reseed_sage(12345)
    first = unseeded_sage_generator(0)
    unseeded_sage_generator(0)  # advance every state, create the lazy python_random
    backend.reseed_sage(12345)
    assert unseeded_sage_generator(0) == first
    backend.reseed_sage(12346)
    assert unseeded_sage_generator(0) != first
    assert random.getstate() == python_state  # Python's own generator is left alone
    assert current_randstate() is not None


def test_unseeded_sage_draws_are_byte_identical_across_schedules(tmp_path):
    runs = {"a": ("loky", 1, 1000), "b": ("loky", 2, 7), "c": ("loky", 2, 1000), "d": ("threading", 2, 5)}
    for name, (joblib_backend, n_jobs, batch_size) in runs.items():
        DatasetGenerator(backend=joblib_backend, n_jobs=n_jobs, verbose=False).run(
            {"train": 60, "test": 12}, unseeded_sage_generator, save_dir=tmp_path / name, batch_size=batch_size
        )
    files = {name: _files(tmp_path / name) for name in runs}
    assert files["a"] == files["b"] == files["c"] == files["d"]
    lines = (tmp_path / "a" / "train_raw.txt").read_text().splitlines()
    assert len(set(lines)) == 60  # every sample drew from its own state, not a shared one


def test_reseed_backend_switch(tmp_path):
    # Generators that seed Sage themselves stay reproducible without the core's reseeding ...
    for name, n_jobs in (("a", 1), ("b", 2)):
        DatasetGenerator(n_jobs=n_jobs, verbose=False, reseed_backend=False).run(
            {"train": 30, "test": 5}, self_seeding_sage_generator, save_dir=tmp_path / name, batch_size=8
        )
    assert _files(tmp_path / "a") == _files(tmp_path / "b")
    # ... while unseeded ones then draw from Sage's state as the worker found it, not from their seeds.
    for name, reseed in (("c", False), ("d", True)):
        DatasetGenerator(n_jobs=1, verbose=False, reseed_backend=reseed).run(
            {"train": 10, "test": 2}, unseeded_sage_generator, save_dir=tmp_path / name
        )
    assert (tmp_path / "c" / "train_raw.txt").read_bytes() != (tmp_path / "d" / "train_raw.txt").read_bytes()


# --- Gröbner ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("field_str, symbols", [("GF7", "x, y"), ("QQ", "x, y"), ("GF32003", "x, y, z")])
def test_groebner_solution_is_the_reduced_basis_of_the_same_ideal(field_str, symbols):
    sampler = PolynomialSampler(symbols, field_str, "grevlex", max_degree=3, max_num_terms=4)
    problem = GroebnerProblem(sampler)
    R = sampler.get_ring()
    n = R.ngens()
    counts = set()
    for seed in range(12):
        generators, basis = problem(seed)
        counts.add(len(generators))
        ideal = R.ideal(generators)
        assert ideal.dimension() == 0
        assert R.ideal(basis) == ideal and R.ideal(basis).basis_is_groebner()
        for g in basis:  # reduced: monic, and no term divisible by another element's leading monomial
            assert g.lc() == 1
            assert not any(R.monomial_divides(h.lm(), m) for h in basis if h is not g for m in g.monomials())
        assert basis == list(ideal.groebner_basis())  # Sage's default algorithm agrees, order included
        assert problem(seed) == (generators, basis)
    assert counts <= {n, n + 1} and len(counts) == 2


def test_groebner_refusals_and_the_rejection_bound():
    for field_str in ("ZZ", "RR"):
        with pytest.raises(ValueError, match="QQ or GF"):
            GroebnerProblem(PolynomialSampler("x, y", field_str, "grevlex"))
    with pytest.raises(ValueError, match="two or more variables"):
        GroebnerProblem(PolynomialSampler("x", "QQ", "lex"))
    with pytest.raises(ValueError, match="two or more variables"):
        GroebnerProblem(sympy_api.PolynomialSampler("x", "QQ", "lex"))
    with pytest.raises(ValueError, match="max_degree=0"):
        GroebnerProblem(PolynomialSampler("x, y", "QQ", "lex", max_degree=0))
    with pytest.raises(ValueError, match="min_count=1"):
        GroebnerProblem(PolynomialSampler("x, y", "QQ", "lex"), min_count=1)
    problem = GroebnerProblem(PolynomialSampler("x, y", "GF7", "grevlex", max_degree=3), max_tries=1)
    messages = []
    for seed in range(30):
        try:
            problem(seed)
        except RuntimeError as error:
            messages.append(str(error))
    assert messages and "max_tries" in messages[0] and "1 draws" in messages[0]


# --- command line and the optional extra ----------------------------------------------------------------
def _cli(tmp_path, *overrides):
    return subprocess.run(
        [sys.executable, "-m", "calt_hf.generate", *overrides, "verbose=false"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )


def test_cli(tmp_path):
    done = _cli(tmp_path, "backend=sagemath", "problem=gcd", "dataset_sizes.train=200", "dataset_sizes.test=20", "save_dir=gcd")
    assert done.returncode == 0, done.stderr + done.stdout
    assert len((tmp_path / "gcd" / "train_raw.txt").read_text().splitlines()) == 200
    assert len((tmp_path / "gcd" / "test_data.jsonl").read_text().splitlines()) == 20
    done = _cli(
        tmp_path, "backend=sagemath", "problem=groebner", "sampler.field_str=QQ", "dataset_sizes.train=40",
        "dataset_sizes.test=5", "save_dir=gb", "sampler.order=grevlex",
    )
    assert done.returncode == 0, done.stderr + done.stdout
    for run in ("gcd", "gb"):  # the default order and SymPy's name alike are recorded as Sage's degrevlex
        config = yaml.safe_load((tmp_path / run / "config.yaml").read_text())
        assert config["sampler"]["order"] == "degrevlex"
        assert "| order | `degrevlex` |" in (tmp_path / run / "README.md").read_text()  # the card's settings
    assert all(" || " not in line and " # " in line for line in (tmp_path / "gb" / "train_raw.txt").read_text().splitlines())


BLOCK_SAGE = textwrap.dedent(
    """
    import sys

    class BlockSage:
        def find_spec(self, name, path=None, target=None):
            if name == "sage" or name.startswith("sage."):
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)

    sys.meta_path.insert(0, BlockSage())
    """
)


def test_missing_extra_error_and_no_sage_for_sympy_users():
    code = BLOCK_SAGE + textwrap.dedent(
        """
        import calt_hf, calt_hf.sympy, calt_hf.config, calt_hf.problems
        assert not [m for m in sys.modules if m == "sage" or m.startswith("sage.")]
        try:
            import calt_hf.sagemath
        except ImportError as error:
            print(error)
        else:
            raise SystemExit("imported without Sage")
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert done.returncode == 0, done.stderr
    assert 'pip install "calt_hf[sage]"' in done.stdout and "passagemath-singular" in done.stdout
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    plain = subprocess.run(
        [sys.executable, "-c", "import sys, calt_hf.sympy, calt_hf.config; print(any(m.startswith('sage') for m in sys.modules))"],
        capture_output=True, text=True, env=env, timeout=60,
    )
    assert plain.stdout.strip() == "False", plain.stderr


class HardGroebner:
    """Gröbner bases that take far longer than the time limit on most seeds (Singular, in C)."""

    def __call__(self, seed: int):
        from sage.all__sagemath_singular import QQ, PolynomialRing

        ring = PolynomialRing(QQ, "x, y, z, w, u", order="degrevlex")
        rng = random.Random(seed)
        if rng.random() < 0.5:
            return [ring.gens()[0]], [ring.gens()[0]]
        gens = [ring.random_element(degree=6, terms=12) for _ in range(5)]
        return gens, list(ring.ideal(gens).groebner_basis("libsingular:std"))


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_sample_timeout_interrupts_singular(tmp_path, n_jobs):
    import time

    import yaml

    began = time.monotonic()
    DatasetGenerator(n_jobs=n_jobs, verbose=False).run(  # half the seeds are hard: the sixth easy one is index 18
        {"train": 6}, HardGroebner(), save_dir=tmp_path, on_error="skip", sample_timeout=0.3, max_index_factor=4
    )
    assert time.monotonic() - began < 60
    errors = yaml.safe_load((tmp_path / "train_stats.yaml").read_text())["errors"]
    assert errors["skipped"] >= 1 and errors["first_errors"][0]["error"].startswith("SampleTimeout")
    assert all(line == "x # x" for line in (tmp_path / "train_raw.txt").read_text().splitlines())
