"""encoding="expanded": the extra Parquet columns equal CALT's ExpandedFormLoadPreprocessor on the same
polynomials (exact where CALT truncates: non-integer rationals), load with ``datasets``, have their own
lossless tokenizer, lex with the shipped lexer.yaml, and are byte-identical whatever n_jobs."""

from __future__ import annotations

import os
import re
from fractions import Fraction

import pytest
from test_cli import run_cli
from test_lexer import calt_build, expanded_module, objects, sage_parser, sympy_parser, text_terms

from calt_hf.checkpoint import SplitCheckpoint
from calt_hf.expanded import EXPANDED_COLUMNS
from calt_hf.hf.hub import _LOAD_LINE, HUB_FILES
from calt_hf.hf.package import load_dataset_dict
from calt_hf.problems import FactorProblem, GCDProblem, IntegerSumProblem, PolynomialSumProblem
from calt_hf.seeding import derive_seed
from calt_hf.sympy import DatasetGenerator, DatasetWriter, PolynomialSampler
from calt_hf.produce import SampleGenerationError

SIZES = {"train": 40, "test": 10}


def sage_api():
    from calt_hf import sagemath

    return sagemath.DatasetGenerator, sagemath.PolynomialSampler, "degrevlex", sage_parser


def sympy_api():
    return DatasetGenerator, PolynomialSampler, "grevlex", sympy_parser


def expanded_rows(save_dir) -> dict[str, list[tuple[str, str]]]:
    dataset = load_dataset_dict(save_dir)
    for split in dataset.values():
        assert set(EXPANDED_COLUMNS) <= set(split.column_names)
    return {name: list(zip(split[EXPANDED_COLUMNS[0]], split[EXPANDED_COLUMNS[1]])) for name, split in dataset.items()}


def truncated(text: str) -> str:
    """Our expanded text with every fraction as CALT writes it: int(c), truncated toward zero."""
    return re.sub(r"C(-?\d+)/(\d+)", lambda m: f"C{int(Fraction(int(m.group(1)), int(m.group(2))))}", text)


def terms_of(text: str) -> dict[tuple[int, ...], Fraction]:
    """An expanded polynomial read back: exponents -> exact coefficient."""
    terms = {}
    for term in text.split(" + "):
        coefficient, *exponents = term.split()
        terms[tuple(int(e[1:]) for e in exponents) or (0, 0)] = Fraction(coefficient[1:])
    return {exponents: c for exponents, c in terms.items() if c}


@pytest.mark.parametrize("api, field, problem", [
    (sympy_api, "GF7", "gcd"), (sympy_api, "QQ", "gcd"), (sympy_api, "ZZ", "sum"),
    (sage_api, "GF7", "gcd"), (sage_api, "QQ", "sum"),
])
def test_expanded_columns_are_calts_expanded_form_of_the_same_polynomials(tmp_path, api, field, problem):
    from transformers import AutoTokenizer

    generator, sampler_class, order, parser = api()
    sampler = sampler_class("x, y", field, order, max_degree=3, max_num_terms=4)
    made = GCDProblem(sampler) if problem == "gcd" else PolynomialSumProblem(sampler, 2, 3)
    generator(n_jobs=1, verbose=False).run(SIZES, made, save_dir=tmp_path, hf_dataset=True, encoding="expanded")
    rows = expanded_rows(tmp_path)
    dataset = load_dataset_dict(tmp_path)
    rows_text = {name: list(zip(split["problem"], split["solution"])) for name, split in dataset.items()}
    calt = expanded_module.ExpandedFormLoadPreprocessor()
    fractions = 0
    for split, size in SIZES.items():
        samples = objects(tmp_path, split, parser("x, y", field, order))
        assert len(rows[split]) == size == len(samples)
        for (problem_text, solution_text), (problem_obj, solution_obj) in zip(rows[split], samples):
            expected = calt.process_sample({"problem": problem_obj, "answer": solution_obj})
            assert (truncated(problem_text), truncated(solution_text)) == expected
            fractions += "/" in problem_text + solution_text
            texts = rows_text[split].pop(0)
            for expanded, text in zip(problem_text.split(" || ") + solution_text.split(" || "), leaves(texts[0]) + leaves(texts[1])):
                assert terms_of(expanded) == text_terms(text, ["x", "y"])  # exact, fractions included
    assert (fractions > 0) == (field == "QQ")
    tokenizer = AutoTokenizer.from_pretrained(str(tmp_path), subfolder="expanded")
    vocabulary = tokenizer.get_vocab()
    if field.startswith("GF"):  # every element of the field as a C token, seen or not
        assert {f"C{n}" for n in range(int(field[2:]))} <= set(vocabulary)
    largest = max(int(token[1:]) for token in vocabulary if token[:1] == "E" and token[1:].isdigit())
    assert {f"E{e}" for e in range(largest + 1)} <= set(vocabulary)  # and every exponent up to the largest
    for split in rows.values():
        for text in (text for row in split for text in row):
            ids = tokenizer(text)["input_ids"]
            assert tokenizer.unk_token_id not in ids and tokenizer.decode(ids, skip_special_tokens=True) == text
    for split in SIZES:  # CALT lexes the expanded columns with the shipped lexer.yaml
        (tmp_path / f"{split}_expanded.txt").write_text("".join(f"{p} # {s}\n" for p, s in rows[split]))
    calt_build(tmp_path, train_dataset_path=str(tmp_path / "train_expanded.txt"), test_dataset_path=str(tmp_path / "test_expanded.txt"))


def leaves(value) -> list[str]:
    return value if isinstance(value, list) else [value]


def test_factor_lists_of_lists_have_inner_and_outer_separators(tmp_path):
    sampler = PolynomialSampler("x, y", "QQ", "grevlex", max_degree=2, max_num_terms=3)
    DatasetGenerator(n_jobs=1, verbose=False).run(SIZES, FactorProblem(sampler), save_dir=tmp_path, hf_dataset=True, encoding="expanded")
    dataset = load_dataset_dict(tmp_path)["train"]
    for solution, expanded in zip(dataset["solution"], dataset[EXPANDED_COLUMNS[1]]):
        entries = expanded.split(" || ")
        assert len(entries) == len(solution)
        for (_, multiplicity), entry in zip(solution, entries):
            factor, written = entry.split(" | ")
            assert written == multiplicity and factor.startswith("C1 ")  # monic factors
    card = (tmp_path / "README.md").read_text()
    assert "`problem_expanded`" in card and 'from_pretrained("path/to/this/folder", subfolder="expanded")' in card
    pointed = _LOAD_LINE.sub(lambda m: f'{m.group(1)}"me/factor"{m.group(2)}', card)  # what a push writes
    assert 'from_pretrained("me/factor", subfolder="expanded")' in pointed and "path/to/this/folder" not in pointed
    assert "expanded/**" in HUB_FILES


def test_expanded_parquet_is_byte_identical_whatever_n_jobs(tmp_path):
    shards = []
    for n_jobs in (1, 2):
        sampler = PolynomialSampler("x, y", "GF7", "grevlex", max_degree=3, max_num_terms=4)
        save_dir = tmp_path / str(n_jobs)
        DatasetGenerator(n_jobs=n_jobs, verbose=False).run({"train": 300}, GCDProblem(sampler), save_dir=save_dir, hf_dataset=True,
                                                           encoding="expanded", batch_size=70 * n_jobs)
        shards.append([path.read_bytes() for path in sorted((save_dir / "data").glob("*.parquet"))])
    assert shards[0] == shards[1] and shards[0]


def test_expanded_is_refused_before_any_work(tmp_path):
    result = run_cli("hf.encoding=bytes", "dataset_sizes={train: 5}", f"save_dir={tmp_path / 'a'}", cwd=tmp_path)
    assert result.returncode == 2 and "hf.encoding='bytes' is not allowed; use one of 'text', 'expanded'" in result.stderr
    result = run_cli("problem=integer_sum", "hf.encoding=expanded", "dataset_sizes={train: 5}", f"save_dir={tmp_path / 'b'}", cwd=tmp_path)
    assert result.returncode == 2 and "hf.encoding='expanded' is not allowed for IntegerSumProblem" in result.stderr
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()
    with pytest.raises(ValueError, match="encoding='expanded' needs the Hugging Face dataset"):
        DatasetGenerator(n_jobs=1).run({"train": 5}, GCDProblem(PolynomialSampler("x", "GF7")), save_dir=tmp_path / "c", encoding="expanded")
    with pytest.raises(ValueError, match="field_str='RR'"):
        DatasetGenerator(n_jobs=1).run({"train": 5}, PolynomialSumProblem(PolynomialSampler("x", "RR")), save_dir=tmp_path / "d",
                                       hf_dataset=True, encoding="expanded")
    with pytest.raises(ValueError, match="IntegerSumProblem"):
        DatasetGenerator(n_jobs=1).run({"train": 5}, IntegerSumProblem(), save_dir=tmp_path / "e", hf_dataset=True, encoding="expanded")
    class OwnBatches(DatasetWriter):
        def save_batch(self, samples, tag="train", batch_idx=0):
            super().save_batch(samples, tag, batch_idx)

    with pytest.raises(ValueError, match="overrides it"):
        DatasetGenerator(n_jobs=1).run({"train": 5}, GCDProblem(PolynomialSampler("x", "GF7")), dataset_writer=OwnBatches(tmp_path / "f"),
                                       hf_dataset=True, encoding="expanded")
    assert not any((tmp_path / name).exists() for name in "cdef")


class StopsOnce:
    """GCD over GF(7), failing at one seed while ``marker`` exists: a run interrupted midway, then resumed."""

    def __init__(self, marker: str, seed: int) -> None:
        self.marker, self.seed = marker, seed
        self.problem = GCDProblem(PolynomialSampler("x, y", "GF7", "grevlex", max_degree=3, max_num_terms=4))

    def __call__(self, seed: int):
        if seed == self.seed and os.path.exists(self.marker):
            raise RuntimeError("interrupted")
        return self.problem(seed)


def test_an_interrupted_expanded_run_resumes_to_the_same_parquet(tmp_path):
    marker = tmp_path / "marker"
    marker.touch()
    generator = StopsOnce(str(marker), derive_seed(42, "train", 250))
    options = {"save_dir": tmp_path / "run", "hf_dataset": True, "encoding": "expanded", "batch_size": 100}
    with pytest.raises(SampleGenerationError):
        DatasetGenerator(n_jobs=1, verbose=False).run({"train": 400}, generator, **options)
    assert SplitCheckpoint(tmp_path / "run", "train").chunks()  # work done before the failure is kept
    marker.unlink()
    DatasetGenerator(n_jobs=1, verbose=False).run({"train": 400}, generator, resume=True, **options)
    DatasetGenerator(n_jobs=1, verbose=False).run({"train": 400}, generator, **{**options, "save_dir": tmp_path / "straight"})
    resumed, straight = ([p.read_bytes() for p in sorted((tmp_path / name / "data").glob("*.parquet"))] for name in ("run", "straight"))
    assert resumed == straight and len(load_dataset_dict(tmp_path / "run")["train"][EXPANDED_COLUMNS[0]]) == 400
