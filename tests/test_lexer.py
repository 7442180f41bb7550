"""The shipped ``lexer.yaml``: CALT 1.5's own IOPipeline builds train and test from a packaged run with token
validation on both, as text and as the expanded form of its ExpandedFormLoadPreprocessor, and CALT's tokenizer
encodes every lexed line.

CALT's modules are loaded by file path (``calt/__init__`` imports its trainer, which needs accelerate).
CALT's validator swallows lexer errors, so every text is also lexed here (strict: an unknown character raises).
Our pickles hold strings; the pickles of polynomial objects CALT's expanded form needs are parsed back from
the (exact) JSON Lines, in a ring of the run's field and order.
"""

from __future__ import annotations

import json
import re
from fractions import Fraction

import pytest
from test_calt_parity import load_calt
from test_cli import run_cli

from calt_hf.hf.description import DatasetDescription
from calt_hf.hf.hub import HUB_FILES
from calt_hf.hf.lexer import LEXER_FILE
from calt_hf.pickling import dumps
from calt_hf.problems import (
    GCDProblem,
    GroebnerProblem,
    IntegerFactorizationProblem,
    PolynomialProductProblem,
    PolynomialSumProblem,
)
from calt_hf.sympy import DatasetGenerator, PolynomialSampler

pipeline_module = load_calt("io/pipeline.py")
expanded_module = load_calt("io/preprocessor/load_preprocessors/expanded_form.py")


def calt_build(save_dir, **data) -> dict:
    """CALT's IOPipeline on ``save_dir``'s lexer.yaml, validating both splits; then every text lexes (strict)
    and CALT's tokenizer encodes its tokens, each one a known id. Returns the pipeline's io_dict."""
    config = {"lexer_config": str(save_dir / LEXER_FILE), "validate_train_tokens": True, "validate_test_tokens": True, **data}
    pipeline = pipeline_module.IOPipeline.from_config(config)
    io = pipeline.build()
    tokenizer = io["tokenizer"]
    vocabulary = set(tokenizer.get_vocab())
    for dataset in (io["train_dataset"], io["test_dataset"]):
        assert len(dataset) > 0
        for text in dataset.input_texts + dataset.target_texts:
            tokens = pipeline.preprocessor.tokenize(text)
            assert set(tokens) <= vocabulary, (text, set(tokens) - vocabulary)
            ids = tokenizer(" ".join(tokens))["input_ids"]
            assert len(ids) == len(tokens) + 2 and None not in ids
            assert tokenizer.convert_ids_to_tokens(ids[1:-1]) == tokens
    return io


def calt_build_text(save_dir) -> dict:
    return calt_build(save_dir, train_dataset_path=str(save_dir / "train_raw.txt"), test_dataset_path=str(save_dir / "test_raw.txt"))


def sympy_parser(symbols: str, field: str, order: str):
    from sympy import GF, QQ, ZZ, ring, sympify

    domain = GF(int(field[2:])) if field.startswith("GF") else {"QQ": QQ, "ZZ": ZZ}[field]
    polynomial_ring = ring(symbols, domain, order)[0]
    return lambda text: polynomial_ring.from_expr(sympify(text.replace("^", "**")))


def text_terms(text: str, names: list[str]) -> dict[tuple[int, ...], Fraction]:
    """Our text form of a polynomial read back: exponents -> exact coefficient (``3*x^2*y - 7/2``)."""
    terms = {}
    for sign, term in re.findall(r"(^-?|[+-] )([^+-]+?)(?= [+-] |$)", text):
        coefficient, exponents = Fraction(-1 if "-" in sign else 1), [0] * len(names)
        for factor in term.strip().split("*"):
            name, _, power = factor.partition("^")
            if name in names:
                exponents[names.index(name)] = int(power or 1)
            else:
                coefficient *= Fraction(factor)
        terms[tuple(exponents)] = coefficient
    return {exponents: c for exponents, c in terms.items() if c}


def sage_parser(symbols: str, field: str, order: str):
    """Sage's own string parsing needs sage_eval, which passagemath-singular lacks: built from the terms."""
    from sage.all__sagemath_singular import GF, QQ, ZZ, PolynomialRing

    base = GF(int(field[2:])) if field.startswith("GF") else {"QQ": QQ, "ZZ": ZZ}[field]
    polynomial_ring = PolynomialRing(base, symbols, order=order)
    names = list(polynomial_ring.variable_names())
    return lambda text: polynomial_ring({e: base(c.numerator) / base(c.denominator) for e, c in text_terms(text, names).items()})


def objects(save_dir, split: str, parse) -> list[tuple]:
    """A split as CALT's pickle of polynomial objects: the JSON Lines' texts parsed, nesting kept."""
    def convert(value):
        return [convert(item) for item in value] if isinstance(value, list) else parse(value)

    rows = [json.loads(line) for line in (save_dir / f"{split}_data.jsonl").read_text().splitlines()]
    return [(convert(row["problem"]), convert(row["solution"])) for row in rows]


def calt_build_expanded(save_dir, parse) -> dict:
    """CALT trains on the pickled objects through its ExpandedFormLoadPreprocessor, with our lexer.yaml."""
    for split in ("train", "test"):
        (save_dir / f"{split}_objects.pkl").write_bytes(dumps(objects(save_dir, split, parse)))  # SymPy rings need its reducers
    return calt_build(save_dir, train_dataset_pickle=str(save_dir / "train_objects.pkl"), test_dataset_pickle=str(save_dir / "test_objects.pkl"),
                      dataset_load_preprocessor=expanded_module.ExpandedFormLoadPreprocessor())


def generate(tmp_path, problem, sizes=(60, 15), number_tokens: str = "auto", field: str = ""):
    DatasetGenerator(n_jobs=1, verbose=False).run({"train": sizes[0], "test": sizes[1]}, problem, save_dir=tmp_path, hf_dataset=True,
                                                  description=DatasetDescription(number_tokens=number_tokens, settings={"field_str": field}))
    return tmp_path


CASES = {  # name -> (problem factory, field, number_tokens)
    "gcd_gf7": (lambda s: GCDProblem(s), "GF7", "auto"),
    "gcd_gf7_digits": (lambda s: GCDProblem(s), "GF7", "digits"),
    "gcd_qq": (lambda s: GCDProblem(s), "QQ", "auto"),
    "sum_zz": (lambda s: PolynomialSumProblem(s, 2, 4), "ZZ", "auto"),
    "sum_qq_whole": (lambda s: PolynomialSumProblem(s, 2, 3), "QQ", "whole"),
    "product_zz": (lambda s: PolynomialProductProblem(s), "ZZ", "auto"),
    "groebner_gf7": (lambda s: GroebnerProblem(s), "GF7", "auto"),
}


@pytest.mark.parametrize("name", CASES)
def test_calt_trains_on_the_text_and_the_expanded_form_with_the_shipped_lexer(tmp_path, name):
    make, field, number_tokens = CASES[name]
    sampler = PolynomialSampler("x, y", field, "grevlex", max_degree=3, max_num_terms=4)
    save_dir = generate(tmp_path, make(sampler), number_tokens=number_tokens, field=field)
    lexer = (save_dir / LEXER_FILE).read_text()
    digits = number_tokens == "digits" or (number_tokens == "auto" and field != "GF7")
    assert f"digit_group: {3 if digits else 0}" in lexer
    text = calt_build_text(save_dir)
    assert len(text["train_dataset"]) == 60 and len(text["test_dataset"]) == 15
    expanded = calt_build_expanded(save_dir, sympy_parser("x, y", field, "grevlex"))
    first = expanded["train_dataset"].input_texts[0]
    assert first.startswith("C") and " E" in first


def test_a_sage_gcd_run_trains_in_calt_as_text_and_expanded(tmp_path):
    from calt_hf.sagemath import DatasetGenerator as SageGenerator
    from calt_hf.sagemath import PolynomialSampler as SageSampler

    sampler = SageSampler("x, y", "GF7", "degrevlex", max_degree=6, max_num_terms=5)
    SageGenerator(n_jobs=1, verbose=False).run({"train": 50, "test": 10}, GCDProblem(sampler), save_dir=tmp_path, hf_dataset=True)
    calt_build_text(tmp_path)
    io = calt_build_expanded(tmp_path, sage_parser("x, y", "GF7", "degrevlex"))
    exponents = {token for text in io["train_dataset"].input_texts for token in text.split() if token.startswith("E")}
    assert "E6" in exponents  # CALT's shipped example lexer stops before E6


def test_integer_problems_get_a_lexer_without_expanded_tokens(tmp_path):
    save_dir = generate(tmp_path, IntegerFactorizationProblem(max_prime=100_000))
    lexer = (save_dir / LEXER_FILE).read_text()
    assert "coefficients" not in lexer and "exponents" not in lexer and "digit_group: 3" in lexer
    calt_build_text(save_dir)


def test_a_factor_run_from_the_command_line_trains_in_calt(tmp_path):
    """Nested lists (`` || ``, which CALT's example lexers lack) and coefficients past the range size limit."""
    save_dir = tmp_path / "factor"
    result = run_cli("problem=factor", "sampler.field_str=QQ", "dataset_sizes={train: 40, test: 10}", "parallel.n_jobs=1",
                     "verbose=false", "data_quality=false", f"save_dir={save_dir}", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert " || " in (save_dir / "train_raw.txt").read_text()
    io = calt_build_text(save_dir)
    lexed = [io["train_dataset"].preprocessor.tokenize(text) for text in io["train_dataset"].target_texts]
    assert any("||" in tokens for tokens in lexed)


def test_rr_floats_lex_with_both_number_modes(tmp_path):
    sampler = PolynomialSampler("x, y", "RR", "grevlex", max_degree=2, max_num_terms=3)
    save_dir = generate(tmp_path, PolynomialSumProblem(sampler, 2, 3), sizes=(20, 5), field="RR")
    assert "allow_float: true" in (save_dir / LEXER_FILE).read_text()
    calt_build_text(save_dir)
    from calt_hf.hf.package import package_dataset

    package_dataset(save_dir, DatasetDescription(number_tokens="whole"))
    assert "digit_group: 0" in (save_dir / LEXER_FILE).read_text()
    calt_build_text(save_dir)


def test_the_lexer_goes_to_the_hub():
    assert LEXER_FILE in HUB_FILES
