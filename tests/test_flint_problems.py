"""backend=flint on the command line's problems: the same bytes as backend=sympy wherever SymPy runs (raw text,
JSON Lines, Parquet, statistics; the ideals drawn backwards too, over n = 2..4 variables), factorization in several
variables over GF(p) verified by Sage, Gröbner bases through SymPy said in the card, RR refused naming the backends
that have it, and judging a flint folder."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

pytest.importorskip("flint")

from hydra import compose, initialize_config_module  # noqa: E402

from calt_hf.config import build_job, register_configs  # noqa: E402

#: (problem, overrides): every polynomial problem of the library over fields and options SymPy runs.
GRID = [
    ("gcd", []),
    ("gcd", ["sampler.field_str=QQ", "sampler.order=lex", "problem.exclude_degenerate=true"]),
    ("gcd", ["sampler.field_str=ZZ", "sampler.symbols='x, y, z'", "sampler.max_degree=3"]),
    ("sum", ["sampler.field_str=GF31"]),
    ("gcd", ["sampler.field_str=GF18446744073709551629"]),  # the first prime past a machine word: fmpz_mod_mpoly
    ("partial_sum", ["sampler.field_str=ZZ", "sampler.order=grlex"]),
    ("product", ["sampler.field_str=GF31", "sampler.max_degree=4"]),
    ("partial_product", ["sampler.field_str=QQ", "sampler.max_num_terms=3"]),
    ("factor", ["sampler.field_str=QQ"]),
    ("factor", ["sampler.field_str=GF32003", "sampler.max_degree=4"]),
    ("factor", ["sampler.field_str=ZZ", "sampler.symbols='x, y'", "sampler.max_degree=3"]),
    ("groebner", ["sampler.max_degree=2", "sampler.max_num_terms=3"]),
    ("reduction", ["sampler.field_str=QQ", "sampler.max_degree=2", "sampler.max_num_terms=2", "sampler.order=lex"]),
    ("integer_sum", []),
    ("groebner_backward", []),
    ("groebner_backward", ["sampler.symbols='x, y, z'", "sampler.field_str=GF31"]),
    ("groebner_backward", ["sampler.symbols='x, y, z, t'", "sampler.field_str=QQ", "problem.transform.density=1.0"]),
    ("groebner_backward", ["sampler.symbols='x, y, z'", "sampler.field_str=QQ", "problem.basis.degree_sampling=fixed",
                           "problem.transform.max_size=6", "problem.transform.coeff_bound=20"]),
    ("border_basis", []),
    ("border_basis", ["sampler.symbols='x, y, z'", "sampler.field_str=GF31", "problem.transform.identity_block=true"]),
    ("border_basis", ["sampler.symbols='x, y, z, t'", "sampler.order=lex"]),
    ("border_basis", ["sampler.field_str=QQ", "problem.transform.coeff_bound=1000000", "problem.transform.max_num_terms=3"]),
]
#: What each run writes and must be equal: the data files (Parquet shards included) and the statistics.
DATA = ("train_raw.txt", "train_data.jsonl", "train_data.pkl", "test_raw.txt", "test_data.jsonl")


def compose_config(*overrides: str):
    register_configs()
    with initialize_config_module(config_module="calt_hf.conf", version_base="1.3"):
        return compose(config_name="config", overrides=list(overrides))


def run(tmp_path: Path, backend: str, problem: str, overrides: list[str], train: int = 12) -> Path:
    save_dir = tmp_path / backend
    cfg = compose_config(
        f"backend={backend}", f"problem={problem}", f"dataset_sizes={{train: {train}, test: 4}}", "parallel.backend=sequential",
        "verbose=false", "data_quality=false", f"save_dir={save_dir}", *overrides,
    )
    build_job(cfg).run()
    return save_dir


def statistics(path: Path) -> dict:
    stats = yaml.safe_load(path.read_text())
    return {key: value for key, value in stats.items() if "time" not in key and key != "samples_per_second"}


@pytest.mark.parametrize("problem, overrides", GRID, ids=lambda v: "-".join(v) if isinstance(v, list) else v)
def test_flint_writes_sympys_bytes(tmp_path, problem, overrides):
    flint_dir, sympy_dir = (run(tmp_path, backend, problem, overrides) for backend in ("flint", "sympy"))
    for name in DATA:
        assert (flint_dir / name).read_bytes() == (sympy_dir / name).read_bytes(), name
    shards = sorted(path.relative_to(flint_dir) for path in (flint_dir / "data").glob("*.parquet"))
    assert shards and shards == sorted(path.relative_to(sympy_dir) for path in (sympy_dir / "data").glob("*.parquet"))
    for shard in shards:
        assert (flint_dir / shard).read_bytes() == (sympy_dir / shard).read_bytes(), shard
    for split in ("train", "test"):
        assert statistics(flint_dir / f"{split}_stats.yaml") == statistics(sympy_dir / f"{split}_stats.yaml")
    assert yaml.safe_load((flint_dir / "config.yaml").read_text())["backend"]["name"] == "flint"


def test_factor_in_several_variables_over_gf_p_is_right(tmp_path):
    """SymPy cannot (it is refused); FLINT factors, and Sage confirms: the product is the problem, each factor is
    irreducible and normalised (monic)."""
    sage = pytest.importorskip("sage.all__sagemath_singular")
    with pytest.raises(ValueError, match="SymPy factors over GF\\(p\\) in one variable only; use at most 1 symbol, "
                                         "a field other than GF\\(p\\) or backend=flint or backend=sagemath"):
        run(tmp_path, "sympy", "factor", ["sampler=default"])
    save_dir = run(tmp_path, "flint", "factor", ["sampler=default", "sampler.symbols='x, y, z'", "sampler.max_degree=3"], train=30)
    R = sage.PolynomialRing(sage.GF(7), "x, y, z", order="degrevlex")
    rows = [json.loads(line) for line in (save_dir / "train_data.jsonl").read_text().splitlines()]
    assert len(rows) == 30 and any(len(row["solution"]) > 1 for row in rows)
    for row in rows:
        product = R.one()
        for factor, multiplicity in row["solution"]:
            g = R(factor.replace("^", "**"))
            assert [e for _, e in g.factor()] == [1] and g.lc() == 1, factor  # irreducible, monic
            product *= g ** int(multiplicity)
        assert product == R(row["problem"].replace("^", "**"))


def test_factor_over_a_prime_past_a_machine_word(tmp_path):
    """fmpz_mod_mpoly's factors normalised (their leading coefficient comes as an fmpz): each factor monic and
    irreducible, their product the problem, checked by FLINT on the text read back. python-flint 0.9 cannot
    factor some of them (x^2 + 1): the sample fails naming the polynomial and what to do, and is skipped."""
    import flint

    from calt_hf.backends.flint.adapter import FLINT

    prime = 18446744073709551629
    ctx = flint.fmpz_mod_mpoly_ctx.get(("x", "y"), modulus=prime, ordering="degrevlex")
    with pytest.raises(ValueError, match=f"cannot factor x\\^2 \\+ 1 over GF\\({prime}\\) .*use a prime below 2\\^64 or on_error=skip"):
        FLINT.factor_list(ctx.from_dict({(2, 0): 1, (0, 0): 1}), "GF")
    save_dir = run(tmp_path, "flint", "factor", ["sampler=default", f"sampler.field_str=GF{prime}", "on_error=skip"], train=10)
    ctx = flint.fmpz_mod_mpoly_ctx.get(("x", "y"), modulus=prime, ordering="degrevlex")
    for row in map(json.loads, (save_dir / "train_data.jsonl").read_text().splitlines()):
        product = ctx.from_dict({(0, 0): 1})
        for factor, multiplicity in row["solution"]:
            g = flint.fmpz_mod_mpoly(factor, ctx)
            assert g.leading_coefficient() == 1 and [e for _, e in g.factor()[1]] == [1], factor
            product *= g ** int(multiplicity)
        assert product == flint.fmpz_mod_mpoly(row["problem"], ctx)


def test_groebner_through_sympy_is_said_and_rr_is_refused(tmp_path):
    save_dir = run(tmp_path, "flint", "groebner", ["sampler.max_degree=2", "sampler.max_num_terms=2"], train=4)
    card = (save_dir / "README.md").read_text()
    assert "Gröbner bases computed by SymPy on converted polynomials (FLINT has no algorithm for them)" in card
    with pytest.raises(ValueError, match="sampler.field_str=RR is not allowed for PolynomialSampler on backend=flint: "
                                         "FLINT has no polynomials over floating-point reals; use a field other than RR "
                                         "or backend=sympy or backend=sagemath"):
        run(tmp_path, "flint", "sum", ["sampler.field_str=RR"])


def test_evaluate_judges_a_flint_folder(tmp_path):
    save_dir = run(tmp_path, "flint", "factor", ["sampler=default", "sampler.max_degree=2"], train=6)
    rows = [json.loads(line) for line in (save_dir / "test_data.jsonl").read_text().splitlines()]
    predictions = tmp_path / "predictions.jsonl"
    # Right answers in another form: the pairs reversed (the verifier takes any order).
    predictions.write_text("".join(json.dumps({"prediction": row["solution"][::-1]}) + "\n" for row in rows))
    report_path = tmp_path / "report.json"
    result = subprocess.run(
        [sys.executable, "-m", "calt_hf.evaluate", str(save_dir), str(predictions), "--out", str(report_path)],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "GF(7)[x, y], order degrevlex, flint" in result.stdout
    report = json.loads(report_path.read_text())
    assert report["backend"] == "flint" and report["answers"] == 4
    assert report["correct"]["share"] == 1.0 and report["unreadable"]["count"] == 0
