"""The FLINT backend (python-flint) on real FLINT objects: the SymPy sampler's draws, the SymPy backend's text,
statistics and terms from FLINT, pickling, user scripts, and whole runs byte-equal to SymPy's."""

import os
import pickle
import random
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import yaml

flint = pytest.importorskip("flint")

from sympy import GF, QQ, ZZ, nextprime  # noqa: E402
from sympy.polys.rings import ring  # noqa: E402

from calt_hf import flint as flint_api  # noqa: E402
from calt_hf import sympy as sympy_api  # noqa: E402
from calt_hf.backends.flint.adapter import FLINT  # noqa: E402
from calt_hf.backends.sympy.adapter import SYMPY  # noqa: E402
from calt_hf.conversion import to_strings  # noqa: E402
from calt_hf.expanded import to_expanded  # noqa: E402
from calt_hf.pickling import dumps  # noqa: E402
from calt_hf.problems import PolynomialStatistics  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
BIG_PRIME = nextprime(2**64)  # past a machine word: fmpz_mod_mpoly
FIELDS = ["GF(7)", "GF(31)", "GF(32003)", f"GF({BIG_PRIME})", "ZZ", "QQ"]
ORDERS = ["grevlex", "lex", "grlex"]
#: Sampler options over the shapes a user meets: sizes, fixed/uniform draws, loose conditions, bounds.
OPTIONS = [
    {"max_degree": 3, "max_num_terms": 4},
    {"max_degree": 5, "max_num_terms": None, "min_degree": 2},
    {"max_degree": 2, "max_num_terms": 6, "degree_sampling": "fixed", "term_sampling": "fixed"},
    {"max_degree": 4, "max_num_terms": 3, "strictly_conditioned": False, "nonzero_instance": False},
    {"max_degree": 3, "max_num_terms": 5, "nonzero_coeff": False, "max_coeff": 3, "num_bound": 4},
    {"max_degree": 0, "max_num_terms": 2},
]
OUTPUTS = ("train_raw.txt", "train_data.jsonl", "train_data.pkl", "test_raw.txt", "test_data.jsonl", "test_data.pkl")


def _texts(obj, backend):
    return to_strings(obj, backend, "sample")


# --- the sampler: SymPy's draws ------------------------------------------------------------------------
@pytest.mark.parametrize("field_str", FIELDS)
@pytest.mark.parametrize("order", ORDERS)
def test_sampler_draws_sympys_polynomials(field_str, order):
    """For every field, order, variable count and option: the same polynomials (as text) and the same number of
    draws from ``random`` as the SymPy sampler, single polynomials and matrices alike."""
    for symbols in ("x", "x, y", "x, y, z"):
        for seed, options in enumerate(OPTIONS):
            ours = flint_api.PolynomialSampler(symbols, field_str, order, **options)
            theirs = sympy_api.PolynomialSampler(symbols, field_str, order, **options)
            for kwargs in ({"num_samples": 8}, {"num_samples": 2, "size": (2, 3), "density": 0.6},
                           {"num_samples": 1, "size": (3, 3), "matrix_type": "unimodular_upper_triangular"}):
                drawn = []
                for sampler, backend in ((ours, FLINT), (theirs, SYMPY)):
                    random.seed(seed)
                    samples = sampler.sample(**kwargs)
                    drawn.append(([_texts(s, backend) for s in samples], random.random()))
                assert drawn[0] == drawn[1], (symbols, options, kwargs)


def test_rings_by_field_and_order():
    cases = {
        "GF7": flint.nmod_mpoly, f"GF({2**64 - 59})": flint.nmod_mpoly,  # the largest prime of one word
        f"GF({BIG_PRIME})": flint.fmpz_mod_mpoly, "ZZ": flint.fmpz_mpoly, "QQ": flint.fmpq_mpoly,
    }
    for field_str, kind in cases.items():
        sampler = flint_api.PolynomialSampler("x, y", field_str)
        ctx = sampler.get_ring()
        assert ctx is sampler.get_ring() and ctx.names() == ("x", "y")
        (poly,) = sampler.sample(1)
        assert type(poly) is kind and poly.context() is ctx
    assert flint_api.PolynomialSampler("x y", "GF7").get_ring().names() == ("x", "y")
    for order, name in {"grevlex": "degrevlex", "degrevlex": "degrevlex", "grlex": "deglex", "deglex": "deglex",
                        "lex": "lex", None: "degrevlex", flint.Ordering.deglex: "deglex"}.items():
        sampler = flint_api.PolynomialSampler("x, y", "GF7", order)
        assert sampler.order == name and sampler.get_ring().ordering().value == name
    assert flint_api.PolynomialSampler("x, y", "GF7").order == "degrevlex"  # calt-x's default, grevlex


def test_refusals_name_the_value_and_the_choices():
    with pytest.raises(ValueError, match=r"field_str=RR is not allowed .*on backend=flint: FLINT has no polynomials over floating-point reals; use a field other than RR or backend=sympy or backend=sagemath"):
        flint_api.PolynomialSampler("x, y", "RR")
    with pytest.raises(ValueError, match="order='revlex' is not supported; use one of lex, grlex"):
        flint_api.PolynomialSampler("x, y", "GF7", "revlex")
    with pytest.raises(ValueError, match="GF.n. needs n prime"):
        flint_api.PolynomialSampler("x, y", "GF(8)")
    with pytest.raises(ValueError, match="symbols='x, x' is not allowed"):
        flint_api.PolynomialSampler("x, x", "QQ")
    with pytest.raises(ValueError, match="max_degree=-1"):
        flint_api.PolynomialSampler("x", "QQ", max_degree=-1)
    with pytest.raises(ValueError, match="not a FLINT coefficient field"):
        flint_api.SinglePolynomialSampler().random_coeff(QQ)


def test_single_polynomial_sampler_draws_as_sympys():
    ours, theirs = flint_api.SinglePolynomialSampler(), sympy_api.SinglePolynomialSampler()
    for field_str in ("GF7", f"GF({BIG_PRIME})", "ZZ", "QQ"):
        ctx = flint_api.PolynomialSampler("x, y, z", field_str, "lex").get_ring()
        sympy_ring = sympy_api.PolynomialSampler("x, y, z", field_str, "lex").get_ring()
        field = flint_api.PolynomialSampler("x", field_str).get_field()
        for seed, (degree, terms, choose, non_zero) in enumerate(
            [(0, None, False, True), (1, 10, False, False), (3, None, True, True), (3, 8, False, False), (2, 0, True, True)]
        ):
            kwargs = {"num_bound": 3, "min": -2, "max": 5}
            drawn = []
            for sampler, R, F, backend in ((ours, ctx, field, FLINT), (theirs, sympy_ring, sympy_ring.domain, SYMPY)):
                random.seed(seed)
                poly = sampler.random_element(R, degree, terms, choose, non_zero, **kwargs)
                coefficient = sampler.random_coeff(F, non_zero, **kwargs)
                drawn.append((_texts(poly, backend), str(int(coefficient) if field_str.startswith("GF") else coefficient)))
            assert drawn[0] == drawn[1], (field_str, degree, terms)
        assert type(ours.random_coeff(field)) is {"GF": flint.fmpz_mod, "ZZ": flint.fmpz, "QQ": flint.fmpq}[field_str[:2]]


# --- text, terms and statistics straight from FLINT -------------------------------------------------------
EDGE_TERMS = [
    {},  # zero
    {(0, 0, 0): 1}, {(0, 0, 0): -1}, {(0, 0, 0): 5},  # constants
    {(1, 0, 0): 1, (0, 1, 0): -1, (0, 0, 0): -1},  # coefficients 1 and -1
    {(2, 1, 0): -3, (0, 0, 3): 1, (1, 1, 1): 2, (0, 0, 0): 6},
    {(5, 0, 0): 10**40, (0, 7, 0): -(10**30) - 1, (0, 0, 1): 3},  # big coefficients
    {(0, 2, 2): (-7, 2), (1, 0, 0): (1, 3), (0, 0, 0): (-5, 4), (3, 0, 0): (-1, 1)},  # rationals, signs
]


@pytest.mark.parametrize("field_str", ["GF(7)", f"GF({BIG_PRIME})", "ZZ", "QQ"])
@pytest.mark.parametrize("order", ORDERS)
def test_text_terms_and_statistics_equal_the_sympy_backends(field_str, order):
    ours = flint_api.PolynomialSampler("x, y, z", field_str, order)
    theirs = sympy_api.PolynomialSampler("x, y, z", field_str, order)
    ctx, R = ours.get_ring(), theirs.get_ring()
    as_qq = field_str == "QQ"
    polys = []
    for terms in EDGE_TERMS:
        if not as_qq and any(isinstance(c, tuple) for c in terms.values()):
            continue
        exact = {m: (c if isinstance(c, tuple) else (c, 1)) for m, c in terms.items()}
        polys.append((
            ctx.from_dict({m: flint.fmpq(*c) if as_qq else c[0] for m, c in exact.items()}),
            R.from_dict({m: R.domain(*c) if as_qq else R.domain(c[0]) for m, c in exact.items()}),
        ))
    for mine, reference in polys:
        assert _texts(mine, FLINT) == _texts(reference, SYMPY)
        assert FLINT.terms(mine) == SYMPY.terms(reference)
        assert ours.total_degree(mine) == theirs.total_degree(reference)
        assert ours.num_terms(mine) == theirs.num_terms(reference)
    problem, solution = [p for p, _ in polys], [[p, p * p] for p, _ in polys[:3]]
    reference = ([r for _, r in polys], [[r, r * r] for _, r in polys[:3]])
    assert _texts(problem, FLINT) == _texts(reference[0], SYMPY) and _texts(solution, FLINT) == _texts(reference[1], SYMPY)
    assert to_expanded(problem, FLINT, "p") == to_expanded(reference[0], SYMPY, "p")
    statistics = PolynomialStatistics(ours)(problem, polys[-1][0])
    assert statistics == PolynomialStatistics(theirs)(reference[0], polys[-1][1])
    assert all(type(value) is int for part in statistics.values() for value in part.values())


def test_the_four_kinds_mixed_and_flint_containers():
    kinds = [flint_api.PolynomialSampler("a, b", field).get_ring() for field in ("GF5", f"GF({BIG_PRIME})", "ZZ", "QQ")]
    polys = [ctx.from_dict({(1, 0): -1, (0, 2): 2}) for ctx in kinds]
    assert _texts(polys, FLINT) == ["2*b^2 + 4*a", f"2*b^2 + {BIG_PRIME - 1}*a", "2*b^2 - a", "2*b^2 - a"]
    assert _texts([polys[:2], [polys[3], "t"], polys[2]], FLINT) == [["2*b^2 + 4*a", f"2*b^2 + {BIG_PRIME - 1}*a"],
                                                                     ["2*b^2 - a", "t"], "2*b^2 - a"]
    array = np.empty((1, 2), dtype=object)  # np.array([[...]]) would read a polynomial as a sequence of terms
    array[0, 0], array[0, 1] = polys[2], polys[3]
    assert _texts(array, FLINT) == [["2*b^2 - a", "2*b^2 - a"]]
    assert _texts(flint.nmod_mat([[1, 2], [3, 4]], 3), FLINT) == [["1", "2"], ["0", "1"]]
    assert _texts([flint.fmpq(-7, 2), flint.fmpz(10**30), flint.nmod(9, 7)], FLINT) == ["-7/2", str(10**30), "2"]
    assert to_expanded([polys[3], [polys[0], 2]], FLINT, "p") == "C2 E0 E2 + C-1 E1 E0 || C2 E0 E2 + C4 E1 E0 | 2"
    with pytest.raises(ValueError, match="nested deeper than 2 levels"):
        _texts([[[polys[0]]]], FLINT)


def test_terms_whose_coefficient_is_a_multiple_of_p_are_not_written():
    """python-flint 0.9's from_dict keeps {(3, 0): 7} over GF(7) as a term 0*x^3 (and arithmetic carries it): a user's
    polynomial built so is written, and its terms given, as the SymPy backend's without it."""
    for field_str, p in (("GF7", 7), (f"GF({BIG_PRIME})", BIG_PRIME)):
        ctx = flint_api.PolynomialSampler("x, y", field_str).get_ring()
        R = sympy_api.PolynomialSampler("x, y", field_str).get_ring()
        poly = ctx.from_dict({(3, 0): p, (1, 1): -p, (1, 0): 2}) + 1
        reference = R.from_dict({(1, 0): R.domain(2), (0, 0): R.domain(1)})
        assert _texts([poly, poly * poly], FLINT) == _texts([reference, reference * reference], SYMPY) == ["2*x + 1", "4*x^2 + 4*x + 1"]
        assert FLINT.terms(poly) == SYMPY.terms(reference) == [((1, 0), 2), ((0, 0), 1)]
        flint_sampler, sympy_sampler = flint_api.PolynomialSampler("x, y", field_str), sympy_api.PolynomialSampler("x, y", field_str)
        for f, g in ((poly, reference), (poly - 2 * ctx.gens()[0] - 1, R.zero)):  # its statistics count the terms written
            assert (flint_sampler.num_terms(f), flint_sampler.total_degree(f)) == (sympy_sampler.num_terms(g), sympy_sampler.total_degree(g))


def test_writing_leaks_no_memory():
    """python-flint 0.9's str() of a polynomial never frees FLINT's C string (about 2 KB a call for this one): the
    backend writes from the terms instead, so millions of samples cost no memory."""
    import psutil

    x, y, z = flint.nmod_mpoly_ctx.get(("x", "y", "z"), modulus=32003, ordering="degrevlex").gens()
    poly = (x + 2 * y + 3 * z + 1) ** 6
    write = FLINT.leaf_to_str
    assert write(poly) == str(poly) and len(write(poly)) > 1000
    process = psutil.Process()
    before = process.memory_info().rss
    for _ in range(6_000):  # str() would keep 10 MB
        write(poly)
    assert process.memory_info().rss - before < 4 << 20


# --- pickling --------------------------------------------------------------------------------------------
def test_flint_objects_pickle_for_the_workers():
    contexts = [flint.nmod_mpoly_ctx.get(("x", "y"), modulus=7, ordering="lex"),
                flint.fmpz_mod_mpoly_ctx.get(("x", "y"), modulus=BIG_PRIME, ordering="deglex"),
                flint.fmpz_mpoly_ctx.get(("u",), ordering="degrevlex"),
                flint.fmpq_mpoly_ctx.get(("x", "y", "z"), ordering="degrevlex")]
    polys = [(ctx.gens()[0] - 3) ** 3 * 5 + 1 for ctx in contexts]
    scalars = [flint.nmod(5, 11), flint.fmpz_mod_ctx(BIG_PRIME), flint.fmpz_mod_ctx(BIG_PRIME)(-1)]
    clone = pickle.loads(dumps([contexts, polys, scalars]))
    assert all(a is b for a, b in zip(clone[0], contexts))  # FLINT's cached contexts: the same objects
    assert clone[1] == polys and all(a.context() is b.context() for a, b in zip(clone[1], polys))
    assert [str(s) for s in clone[2]] == [str(s) for s in scalars] and clone[2][2] == scalars[2]
    sampler = flint_api.PolynomialSampler("x, y", "GF7")
    sampler.get_ring()
    copy = pickle.loads(pickle.dumps(sampler))  # the context stays behind, rebuilt on first use
    assert copy._ring is None and copy.get_ring() is sampler.get_ring()
    # SymPy's GF(p) elements are FLINT's nmod under its flint ground types (python-flint installed)
    R, x, y = ring("x, y", GF(7), "grevlex")
    assert pickle.loads(dumps([3 * x - 1, R.domain(3)])) == [3 * x - 1, R.domain(3)]


# --- whole runs ------------------------------------------------------------------------------------------
class ProductGenerator:
    """A user's generator written against a backend's sampler: polynomials and a matrix, with their products."""

    def __init__(self, api, field_str: str) -> None:
        self.sampler = api.PolynomialSampler("x, y", field_str, max_degree=2, max_num_terms=3)

    def __call__(self, seed: int):
        polys = self.sampler.sample(random.randint(2, 3))
        (matrix,) = self.sampler.sample(1, size=(2, 2), density=0.7)
        product = polys[0]
        for poly in polys[1:]:
            product = product * poly
        return [polys, list(matrix.flat)], [product, list((matrix @ matrix).flat)]


class FlatStatistics(PolynomialStatistics):
    """The default statistics (degrees and term counts, from the backend's sampler) of both lists of a sample."""

    def __call__(self, problem, solution):
        return super().__call__([*problem[0], *problem[1]], [solution[0], *solution[1]])


@pytest.mark.parametrize("field_str", ["GF(31)", "QQ"])
def test_runs_write_the_same_bytes_as_sympys(tmp_path, field_str):
    from datasets import load_dataset

    for name, api in (("flint", flint_api), ("sympy", sympy_api)):
        generator = ProductGenerator(api, field_str)
        api.DatasetGenerator(n_jobs=2, verbose=False, root_seed=5).run(
            {"train": 40, "test": 8}, generator, FlatStatistics(generator.sampler),
            save_dir=tmp_path / name, hf_dataset=True,
        )
    for name in OUTPUTS:
        assert (tmp_path / "flint" / name).read_bytes() == (tmp_path / "sympy" / name).read_bytes(), name
    for split in ("train", "test"):
        stats = [yaml.safe_load((tmp_path / name / f"{split}_stats.yaml").read_text()) for name in ("flint", "sympy")]
        assert [s["problem_stats"] for s in stats][0] == stats[1]["problem_stats"]
        assert stats[0]["solution_stats"] == stats[1]["solution_stats"]
    loaded = load_dataset(str(tmp_path / "flint"))
    assert loaded["train"].num_rows == 40 and loaded["test"].num_rows == 8
    assert loaded["train"]["problem"] == load_dataset(str(tmp_path / "sympy"))["train"]["problem"]
    assert "x" in loaded["train"][0]["solution"][0]


USER_SCRIPT = textwrap.dedent(
    """
    import random
    import sys

    import flint

    from calt_hf.flint import DatasetGenerator

    R = flint.nmod_mpoly_ctx.get(("x", "y"), modulus=7, ordering="degrevlex")
    Q = flint.fmpq_mpoly_ctx.get(("u", "v"), ordering="lex")
    x, y = R.gens()
    u, v = Q.gens()
    SHIFT = flint.nmod(3, 7)

    def generate(seed):
        random.seed(seed)
        f = R.from_dict({(random.randint(0, 3), random.randint(0, 3)): random.randint(1, 6) for _ in range(3)})
        g = x + SHIFT * y + random.randint(0, 6)
        h = Q.from_dict({(random.randint(0, 2), 1): flint.fmpq(random.randint(-5, 5), random.randint(1, 4))}) + u
        return [f, g, h], [f * g, h * h]

    def run_all(out, schedules=(("multiprocessing", None), ("loky", 2), ("multiprocessing", 2))):
        for backend, n_jobs in schedules:
            options = {} if n_jobs is None else {"backend": backend, "n_jobs": n_jobs}
            DatasetGenerator(root_seed=3, verbose=False, **options).run(
                {"train": 60, "test": 10}, generate, save_dir=f"{out}/{backend}_{n_jobs}")
    """
)


def test_a_script_with_flint_rings_at_module_level(tmp_path):
    """``python script.py`` with FLINT contexts, polynomials and an nmod at module level: the default workers,
    loky and n_jobs=2 write the same bytes as the same code imported from a module."""
    (tmp_path / "script.py").write_text(USER_SCRIPT + 'if __name__ == "__main__":\n    run_all(sys.argv[1])\n')
    (tmp_path / "shapes.py").write_text(USER_SCRIPT)
    for command in ([sys.executable, "script.py", "as_script"],
                    [sys.executable, "-c", "import shapes; shapes.run_all('imported', [('multiprocessing', None)])"]):
        done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]
    runs = {run.parent.name + "/" + run.name: {name: (run / name).read_bytes() for name in OUTPUTS}
            for run in sorted(tmp_path.glob("*/*_*"))}
    assert len(runs) == 4
    first = next(iter(runs.values()))
    assert all(files == first for files in runs.values())
    assert "x^" in first["train_raw.txt"].decode() and "/" in first["train_raw.txt"].decode()


BLOCK_FLINT = textwrap.dedent(
    """
    import sys

    class _NoFlint:
        def find_spec(self, name, path=None, target=None):
            if name == "flint" or name.startswith("flint."):
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)

    sys.meta_path.insert(0, _NoFlint())
    """
)


def test_missing_extra_says_how_to_install_it():
    code = BLOCK_FLINT + textwrap.dedent(
        """
        import calt_hf.sympy, calt_hf.pickling, calt_hf.config
        try:
            import calt_hf.flint
        except ImportError as error:
            print(error)
        else:
            raise SystemExit("imported without python-flint")
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.returncode == 0, done.stderr
    assert 'pip install "calt_hf[flint]"' in done.stdout and "python-flint" in done.stdout


FOUR_KINDS_SCRIPT = textwrap.dedent(
    """
    import random
    import sys

    import flint

    from calt_hf.flint import DatasetGenerator, PolynomialSampler
    from calt_hf.problems import PolynomialStatistics

    NAMES = ("x", "y")
    RINGS = [flint.nmod_mpoly_ctx.get(NAMES, modulus=7, ordering="degrevlex"),
             flint.fmpz_mod_mpoly_ctx.get(NAMES, modulus=BIG_PRIME, ordering="degrevlex"),
             flint.fmpz_mpoly_ctx.get(NAMES, ordering="degrevlex"),
             flint.fmpq_mpoly_ctx.get(NAMES, ordering="degrevlex")]

    def generate(seed):
        random.seed(seed)
        polys = []
        for ring in RINGS:
            terms = {(random.randint(0, 3), random.randint(0, 2)): random.randint(-9, 9) for _ in range(3)}
            if isinstance(ring, flint.fmpq_mpoly_ctx):
                terms = {m: flint.fmpq(c, random.randint(1, 4)) for m, c in terms.items()}
            polys.append(ring.from_dict(terms) + 1)
        return polys, [p * p for p in polys]

    if __name__ == "__main__":
        statistics = PolynomialStatistics(PolynomialSampler("x, y", "QQ"))  # FLINT's degrees and term counts, any kind
        DatasetGenerator(root_seed=11, n_jobs=2, verbose=False).run({"train": 30}, generate, statistics, save_dir=sys.argv[1])
    """
).replace("BIG_PRIME", str(BIG_PRIME))


def test_a_users_generator_of_the_four_kinds_runs(tmp_path):
    """``python script.py`` returning polynomials of all four FLINT kinds (GF(p) of a word and past it, ZZ, QQ) to
    two workers: each line is the SymPy backend's text of the same polynomials, the statistics FLINT's degrees and
    term counts."""
    from calt_hf.seeding import derive_seed

    (tmp_path / "four_kinds.py").write_text(FOUR_KINDS_SCRIPT)
    done = subprocess.run([sys.executable, "four_kinds.py", "out"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    sys.path.insert(0, str(tmp_path))
    try:
        import four_kinds
    finally:
        sys.path.remove(str(tmp_path))
    sympy_rings = [ring("x, y", domain, "grevlex")[0] for domain in (GF(7), GF(BIG_PRIME), ZZ, QQ)]
    lines = (tmp_path / "out" / "train_raw.txt").read_text().splitlines()
    degrees = []
    for index, line in enumerate(lines):
        problem, solution = four_kinds.generate(derive_seed(11, "train", index))
        converted = [R.from_dict({tuple(map(int, m)): R.domain(int(c.p), int(c.q)) if R.domain == QQ else R.domain(int(c))
                                  for m, c in p.terms()}) for R, p in zip(sympy_rings, problem)]
        assert line == " # ".join([" | ".join(_texts(converted, SYMPY)), " | ".join(_texts([p * p for p in converted], SYMPY))])
        degrees.append(max(max(map(sum, p.itermonoms())) for p in converted))
    stats = yaml.safe_load((tmp_path / "out" / "train_stats.yaml").read_text())
    assert len(lines) == 30 and stats["problem_stats"]["total_degree"]["max"] == max(degrees)
    assert stats["problem_stats"]["num_polynomials"]["mean"] == 4


def test_randbelow_takes_randoms_bits_as_randint():
    """The samplers draw through ``randbelow`` (CPython's rejection sampling, without randint's checks): the same
    numbers and the same state of ``random`` as ``random.randint`` for every width, 1 and past 64 bits included."""
    from calt_hf.sampling import randbelow

    widths = [1, 2, 3, 4, 7, 8, 31, 32, 33, 1000, 32003, 2**32, 2**32 + 1, BIG_PRIME, 2**127 - 1]
    drawn = []
    for draw in (lambda n: randbelow(n), lambda n: random.randint(0, n - 1)):
        random.seed(8)
        drawn.append(([draw(n) for n in widths * 20], random.random()))
    assert drawn[0] == drawn[1]
