"""The shipped tokenizer: written by every packaged run, loaded by tokenizers and transformers, lossless,
and the card's lengths are its token counts."""

import os
import re
import subprocess
import sys

import pytest
import yaml
from test_cli import run_cli
from test_quality import exact_quantile

from calt_hf.hf.description import DatasetDescription
from calt_hf.hf.hub import HUB_FILES
from calt_hf.hf.package import package_dataset
from calt_hf.hf.parquet import text_batches
from calt_hf.problems import GCDProblem, PolynomialStatistics, PolynomialSumProblem
from calt_hf.sympy import DatasetGenerator, PolynomialSampler
from calt_hf.formats import PROBLEM_SOLUTION_SEP


def texts(save_dir, split):
    """Every raw text line of a split, and its problem and solution texts."""
    lines = (save_dir / f"{split}_raw.txt").read_text().splitlines()
    return lines, [part for line in lines for part in line.split(PROBLEM_SOLUTION_SEP)]


def card_lengths(save_dir):
    """{(split, length): (min, p50, p90, p99, max)} from the card's length table."""
    rows = re.findall(r"^\| (\w+) \| (\w+_tokens) \| ([^|]+) \| ([^|]+) \| ([^|]+) \| ([^|]+) \| ([^|]+) \|", (save_dir / "README.md").read_text(), re.M)
    return {(split, name): tuple(float(value) for value in values) for split, name, *values in rows}


def check_tokenizer(save_dir, splits):
    """Loads both ways; every line, problem and solution of every split encodes without <unk> and decodes back;
    the card's token lengths are those of the loaded tokenizer. Returns the transformers tokenizer."""
    from tokenizers import Tokenizer
    from transformers import AutoTokenizer, PreTrainedTokenizerFast

    auto = AutoTokenizer.from_pretrained(save_dir)
    fast = PreTrainedTokenizerFast(tokenizer_file=str(save_dir / "tokenizer.json"))
    raw = Tokenizer.from_file(str(save_dir / "tokenizer.json"))
    assert auto.unk_token == "<unk>" and auto.pad_token == "<pad>" and auto.bos_token == "<s>" and auto.eos_token == "</s>"
    assert [raw.token_to_id(t) for t in ("<pad>", "<s>", "</s>", "<unk>")] == [0, 1, 2, 3]
    for split in splits:
        lines, parts = texts(save_dir, split)
        for text in lines + parts:
            ids = auto(text)["input_ids"]
            assert auto.unk_token_id not in ids, text
            assert ids[0] == auto.bos_token_id and ids[-1] == auto.eos_token_id
            assert auto.decode(ids, skip_special_tokens=True) == text
            assert fast(text)["input_ids"] == ids == raw.encode(text).ids
            assert raw.decode(ids) == text
        for part in ("problem", "solution"):
            lengths = [len(auto(row[part == "solution"])["input_ids"]) for batch in text_batches(save_dir, split, kinds(save_dir)) for row in batch]
            expected = (min(lengths), *(exact_quantile(lengths, q) for q in (0.5, 0.9, 0.99)), max(lengths))
            assert card_lengths(save_dir)[(split, f"{part}_tokens")] == expected
    return auto


def kinds(save_dir):
    from calt_hf.hf.parquet import kinds_of_file, split_shards

    return kinds_of_file(split_shards(save_dir / "data", "train")[0])


def number_tokens(tokenizer):
    return [token for token in tokenizer.get_vocab() if token.isdigit()]


def test_a_gf7_gcd_run_ships_a_lossless_tokenizer_with_one_token_a_coefficient(tmp_path, gf7_sampler):
    DatasetGenerator(n_jobs=1, verbose=False).run(
        {"train": 150, "test": 20}, GCDProblem(gf7_sampler), PolynomialStatistics(gf7_sampler), save_dir=tmp_path, hf_dataset=True
    )
    tokenizer = check_tokenizer(tmp_path, ["train", "test"])
    # every element of GF(7), seen or not (a model may have to write one), and the exponents seen
    assert {str(n) for n in range(7)} <= set(number_tokens(tokenizer))
    pieces = set(tokenizer.get_vocab())
    assert {" + ", " | ", " # ", "^", "*", "x", "y"} <= pieces
    assert tokenizer.tokenize("3*x^2 + 1") == ["3", "*", "x", "^", "2", " + ", "1"]


def test_a_qq_sum_run_splits_numbers_into_digit_groups(tmp_path):
    sampler = PolynomialSampler("x, y", "QQ", "grevlex", max_degree=2, max_num_terms=3, num_bound=2000)
    DatasetGenerator(n_jobs=1, verbose=False).run({"train": 120, "test": 15}, PolynomialSumProblem(sampler, 2, 4), save_dir=tmp_path, hf_dataset=True)
    tokenizer = check_tokenizer(tmp_path, ["train", "test"])
    numbers = number_tokens(tokenizer)
    assert max(map(len, numbers)) == 3 and " - " in tokenizer.get_vocab() and "/" in tokenizer.get_vocab()
    assert tokenizer.tokenize("1234567/89") == ["1", "234", "567", "/", "89"]
    # whole numbers, chosen for the same data: a coefficient past 999 is one token
    package_dataset(tmp_path, DatasetDescription(number_tokens="whole"))
    whole = check_tokenizer(tmp_path, ["train", "test"])
    assert max(map(len, number_tokens(whole))) > 3


def test_a_factor_run_from_the_command_line_encodes_its_nested_lists(tmp_path):
    save_dir = tmp_path / "factor"
    result = run_cli("problem=factor", "sampler.field_str=ZZ", "dataset_sizes={train: 80, test: 10}", "parallel.n_jobs=1",
                     "verbose=false", f"save_dir={save_dir}", "hf.license=cc-by-4.0", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    tokenizer = check_tokenizer(save_dir, ["train", "test"])
    assert " || " in tokenizer.get_vocab()
    meta = yaml.safe_load((save_dir / "README.md").read_text().split("---")[1])
    assert meta["license"] == "cc-by-4.0"
    assert {"arxiv:2506.08600", "arxiv:2311.12904"} <= set(meta["tags"])
    assert "https://arxiv.org/abs/2311.12904" in (save_dir / "README.md").read_text()


def test_tokenizer_loads_in_a_fresh_process_without_network(tmp_path, gf7_sampler):
    DatasetGenerator(n_jobs=1, verbose=False).run({"train": 30}, GCDProblem(gf7_sampler), save_dir=tmp_path, hf_dataset=True)
    line = (tmp_path / "train_raw.txt").read_text().splitlines()[0]
    script = f"from transformers import AutoTokenizer; t = AutoTokenizer.from_pretrained({str(tmp_path)!r}); print(t.decode(t({line!r})['input_ids'], skip_special_tokens=True))"
    env = {"PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "home")}
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == line


def test_hub_files_include_the_tokenizer():
    assert {"tokenizer.json", "tokenizer_config.json"} <= set(HUB_FILES)


def test_a_bad_number_tokens_choice_is_a_config_error(tmp_path):
    result = run_cli("hf.number_tokens=bytes", "dataset_sizes={train: 5}", f"save_dir={tmp_path / 'out'}", cwd=tmp_path)
    assert result.returncode == 2
    assert "hf.number_tokens='bytes' is not allowed; use one of 'auto', 'whole', 'digits'" in result.stderr
    assert not (tmp_path / "out").exists()


def test_no_license_line_unless_chosen(tmp_path, gf7_sampler):
    DatasetGenerator(n_jobs=1, verbose=False).run({"train": 10}, GCDProblem(gf7_sampler), save_dir=tmp_path, hf_dataset=True)
    assert "license" not in yaml.safe_load((tmp_path / "README.md").read_text().split("---")[1])


@pytest.mark.parametrize("choice, field, mode", [("auto", "GF31", "whole"), ("auto", "QQ", "digits"), ("auto", None, "digits"), ("whole", "QQ", "whole")])
def test_number_mode(choice, field, mode):
    from calt_hf.hf.tokenizer import number_mode

    assert number_mode(choice, {"field_str": field}) == mode


def test_a_bad_number_tokens_description_is_refused_before_any_work(tmp_path):
    with pytest.raises(ValueError, match="description.number_tokens='bytes' is not allowed"):
        DatasetGenerator(n_jobs=1, verbose=False).run(
            {"train": 5}, GCDProblem(PolynomialSampler("x", "GF7", "grevlex")), save_dir=tmp_path / "out", hf_dataset=True,
            description=DatasetDescription(number_tokens="bytes"),
        )
    assert not (tmp_path / "out").exists()


def test_the_tokenizer_files_are_byte_identical_whatever_the_hash_seed(tmp_path, gf7_sampler):
    DatasetGenerator(n_jobs=1, verbose=False).run({"train": 40}, GCDProblem(gf7_sampler), save_dir=tmp_path, hf_dataset=True)
    written = [(tmp_path / name).read_bytes() for name in ("tokenizer.json", "tokenizer_config.json")]
    script = ("from calt_hf.hf.package import package_dataset; from calt_hf.hf.description import DatasetDescription; "
              f"package_dataset({str(tmp_path)!r}, DatasetDescription(settings={{'field_str': 'GF7'}}))")
    result = subprocess.run([sys.executable, "-c", script], env={**os.environ, "PYTHONHASHSEED": "7"}, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert [(tmp_path / name).read_bytes() for name in ("tokenizer.json", "tokenizer_config.json")] == written


@pytest.mark.parametrize("field", ["GF7", "QQ", "ZZ", "RR"])
def test_the_fast_pieces_are_the_pre_tokenizers_pieces_on_every_problem(field):
    """The survey cuts texts with Python's re and the pre-tokenizer's pattern: on every problem of the library
    (nested lists, fractions, floats, negative numbers, big integers) the pieces are exactly those of the
    shipped tokenizer's own pre-tokenizer, in both number modes."""
    from calt_hf.conversion import to_strings
    from calt_hf.hf.survey import ADDED_TOKENS, pieces_pattern
    from calt_hf.hf.tokenizer import new_tokenizer
    from calt_hf.problems import PROBLEMS, IntegerProblem
    from calt_hf.sympy import DatasetGenerator
    from calt_hf.formats import TextFormat

    sampler = PolynomialSampler(symbols="x, y", field_str=field, max_degree=3, max_num_terms=3)
    text = TextFormat(" | ", " || ")
    texts = ["", " ", "x1 ^ 12 - -3", "a_b*c12 + 0.000123 || 7/9", "1234567 | 89"]
    for name, problem in PROBLEMS.items():
        try:
            generator = problem() if issubclass(problem, IntegerProblem) else problem(sampler)
        except ValueError:  # a problem that refuses this field (factor over RR)
            continue
        for seed in range(8):
            for part in generator(seed):
                texts.append(text.join(to_strings(part, DatasetGenerator.cas, name)))
    for mode in ("whole", "digits"):
        tokenizer = new_tokenizer(mode)
        assert tokenizer.post_processor.num_special_tokens_to_add(False) == ADDED_TOKENS
        pre_tokenizer = tokenizer.pre_tokenizer
        fast = re.compile(pieces_pattern(mode)).findall
        for value in texts:
            assert fast(value) == [piece for piece, _ in pre_tokenizer.pre_tokenize_str(value)], (mode, value)


@pytest.mark.parametrize(("field", "elements"), [("GF7", range(7)), ("GF(19997)", range(19997)), ("GF32003", range(0)), ("QQ", range(0)), (None, range(0))])
def test_small_fields_are_complete_in_the_vocabulary(field, elements):
    from calt_hf.hf.tokenizer import field_elements

    assert field_elements({"field_str": field}) == elements


@pytest.mark.parametrize(("field", "encoding", "options"), [
    ("GF7", "text", {}),
    ("QQ", "expanded", {}),
    ("GF7", "text", {"dedup": "within", "data_quality": False}),  # chunks finished in the parent, after dedup
])
def test_packaging_from_the_runs_survey_writes_what_surveying_the_shards_writes(tmp_path, field, encoding, options):
    """A packaging run surveys its texts in the workers, chunk by chunk (with dedup, in the parent after the
    repeats are dropped), and keeps each split's survey; packaging from those writes the same tokenizers,
    lexer, figures and card, byte for byte, as packaging the same folder without them (the shards read
    again, as for a folder of CALT's). A survey taken in the other number mode is not used."""
    from calt_hf.checkpoint import STATE_DIR
    from calt_hf.hf.survey import load_survey, survey_path

    sampler = PolynomialSampler(symbols="x, y", field_str=field, max_degree=3, max_num_terms=3)
    problem = PolynomialSumProblem(sampler)
    generator = DatasetGenerator(n_jobs=2, root_seed=5, verbose=False)
    save_dir = tmp_path / "run"
    generator.run({"train": 1500, "test": 100}, problem, save_dir=str(save_dir), hf_dataset=True, encoding=encoding, **options)
    state = save_dir / STATE_DIR
    mode = "whole" if field == "GF7" else "digits"
    assert all(load_survey(state, split, mode, encoding == "expanded") is not None for split in ("train", "test"))
    assert load_survey(state, "train", {"whole": "digits", "digits": "whole"}[mode], False) is None
    written = sorted(path for path in save_dir.rglob("*") if path.is_file() and STATE_DIR not in path.parts and path.suffix in {".json", ".yaml", ".md", ".png"})
    assert {"tokenizer.json", "lexer.yaml", "README.md"} <= {path.name for path in written}
    from_survey = {path: path.read_bytes() for path in written}
    for split in ("train", "test"):
        survey_path(state, split).unlink()
    package_dataset(save_dir, generator.describe(problem), splits=["train", "test"])
    assert {path: path.read_bytes() for path in written} == from_survey
    check_tokenizer(save_dir, ["train", "test"])
