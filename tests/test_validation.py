"""Bad input that used to slip through: each is refused before any work with a message naming the field,
the value and what is allowed (or, for a sample, its split, index and seed), through the API and the CLI."""

from __future__ import annotations

import subprocess
import sys

import pytest

from calt_hf.engine import EmptySplitError, SampleGenerationError
from calt_hf.sympy import DatasetGenerator, PolynomialSampler

MERSENNE_127 = 2**127 - 1


def run_cli(*overrides: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "calt_hf.generate", *overrides], cwd=cwd, capture_output=True,
                          text=True, timeout=120)


def test_a_huge_prime_field_is_recognised_at_once(tmp_path):
    """GF(2^127-1) used to hang validation (trial division); the subprocess's timeout is the guard."""
    code = (
        "from calt_hf.sympy import PolynomialSampler\n"
        f"s = PolynomialSampler('x, y', 'GF({MERSENNE_127})', 'grevlex', max_degree=2, max_num_terms=3)\n"
        "import random; random.seed(1); print(len(s.sample(5)), s.get_field().characteristic())\n"
        f"try:\n    PolynomialSampler('x', 'GF({MERSENNE_127 + 2})', 'grevlex')\nexcept ValueError as e:\n    print(e)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    sampled, refusal = result.stdout.splitlines()
    assert sampled == f"5 {MERSENNE_127}"
    assert f"GF(n) needs n prime" in refusal and str(MERSENNE_127 + 2) in refusal


@pytest.mark.parametrize("symbols, reason", [("x, x", "'x' appears twice"), ("x, 1y", "'1y' is not a name"), (" , ", "is not a name"),
                                             ("x,,y", "a name is missing between two commas")])
def test_symbols_that_would_write_wrong_mathematics_are_refused(tmp_path, symbols, reason):
    with pytest.raises(ValueError, match=reason):
        PolynomialSampler(symbols, "GF7", "grevlex")
    result = run_cli(f"sampler.symbols='{symbols}'", f"save_dir={tmp_path / 'out'}", cwd=tmp_path)
    assert result.returncode == 2 and reason in result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("timeout", ["inf", "nan", "-1"])
def test_a_sample_timeout_must_be_finite_and_positive(tmp_path, timeout):
    from conftest import integer_sum_generator

    with pytest.raises(ValueError, match="sample_timeout=.* is not allowed; use a positive, finite number"):
        DatasetGenerator(n_jobs=1, verbose=False).run({"train": 2}, integer_sum_generator, save_dir=tmp_path / "api",
                                                      sample_timeout=float(timeout))
    result = run_cli(f"sample_timeout={timeout}", f"save_dir={tmp_path / 'out'}", cwd=tmp_path)
    assert result.returncode == 2 and f"sample_timeout={timeout}" in result.stderr
    assert not (tmp_path / "api").exists() and not (tmp_path / "out").exists()


def returns_a_string(seed):
    return "ab"


def returns_a_dict(seed):
    return {"problem": 1, "solution": 2}


def returns_bytes(seed):
    return b"ab"


@pytest.mark.parametrize("generator, shown", [(returns_a_string, "str 'ab'"), (returns_a_dict, "dict {'problem'"), (returns_bytes, "bytes b'ab'")])
def test_a_generator_must_return_a_pair(tmp_path, generator, shown):
    with pytest.raises(SampleGenerationError, match=rf"sample 0 of split 'train' \(seed \d+\) failed: .*returned {shown}"):
        DatasetGenerator(n_jobs=1, verbose=False).run({"train": 3}, generator, save_dir=tmp_path)
    assert not (tmp_path / "train_raw.txt").exists()


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\x85", "\x0b", "\x1e"])
def test_characters_that_end_a_line_are_refused_in_the_text_format(tmp_path, separator):
    def generator(seed):
        return f"a{separator}b", "c"

    with pytest.raises(SampleGenerationError, match="line break"):
        DatasetGenerator(backend="sequential", n_jobs=1, verbose=False).run({"train": 2}, generator, save_dir=tmp_path / "t")
    DatasetGenerator(backend="sequential", n_jobs=1, verbose=False).run(
        {"train": 2}, generator, save_dir=tmp_path / "j", save_text=False
    )  # JSON Lines and the pickle keep any string
    assert (tmp_path / "j" / "train_data.jsonl").read_text().count("\n") == 2


def always_fails(seed):
    raise RuntimeError("no sample today")


def test_a_split_left_empty_fails_clearly_and_leaves_nothing_that_looks_complete(tmp_path):
    with pytest.raises(EmptySplitError, match=r"split 'train' is empty: all 4 samples tried failed .*no sample today"):
        DatasetGenerator(n_jobs=1, verbose=False).run({"train": 2}, always_fails, save_dir=tmp_path, on_error="skip",
                                                      hf_dataset=True)
    assert not list(tmp_path.glob("train_*")) and not (tmp_path / "README.md").exists()
    module = tmp_path / "mod"
    module.mkdir()
    (module / "failing.py").write_text("def gen(seed):\n    raise RuntimeError('no sample today')\n")
    result = subprocess.run(
        [sys.executable, "-m", "calt_hf.generate", "problem=custom", "problem.target=failing.gen", "on_error=skip",
         "dataset_sizes={train: 5}", "save_dir=out", "verbose=false"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, env={**__import__("os").environ, "PYTHONPATH": str(module)},
    )
    assert result.returncode == 1 and "split 'train' is empty" in result.stderr and "Traceback" not in result.stderr
    assert not list((tmp_path / "out").glob("train_*")) and not (tmp_path / "out" / "README.md").exists()


def test_a_sampler_that_could_never_finish_is_refused_and_says_the_bound():
    """A degree of 10^9 (CALT's monomial draw walks every degree) or every monomial of degree 2000 as terms
    would never end; CALT-compatible calls, every monomial of a small degree included, still build."""
    from calt_hf.sagemath import PolynomialSampler as SagePolynomialSampler

    for sampler in (PolynomialSampler, SagePolynomialSampler):
        with pytest.raises(ValueError, match=r"max_degree=1000000000 is not allowed; use an integer from 0 to 10,000"):
            sampler("x, y", "GF7", max_degree=10**9)
        with pytest.raises(ValueError, match=r"max_num_terms=None is not allowed with max_degree=2000 in 2 variables: a "
                                             r"polynomial could get 2,003,001 terms .* set max_num_terms to 1,000,000 or fewer"):
            sampler("x, y", "GF7", max_degree=2000, max_num_terms=None)
        sampler("x, y, z", "GF7", max_degree=10, max_num_terms=None)
        sampler("x, y", "GF7", max_degree=10_000, max_num_terms=10)
