"""The data quality report: duplicates, leakage between splits, length quantiles, dedup, pictures."""

import re

import numpy as np
import pytest
import yaml
from conftest import integer_sum_generator, small_space_generator, sparse_length_generator

from calt_hf.checkpoint import SplitCheckpoint
from calt_hf.engine import ShortSplitError
from calt_hf.quality import Histogram, HashSet, load_histograms
from calt_hf.seeding import derive_seed
from calt_hf.sympy import DatasetGenerator, DatasetWriter

SIZES = {"train": 300, "test": 80, "valid": 50}


def stats(save_dir, split):
    return yaml.safe_load((save_dir / f"{split}_stats.yaml").read_text())


def problems_by_construction(split, size):
    return [f"p{derive_seed(42, split, i) % 40}" for i in range(size)]


def exact_quantile(values, q):
    ordered = sorted(values)
    return float(ordered[max(0, int(np.ceil(q * len(ordered))) - 1)])


def test_duplicates_and_leakage_are_counted_exactly(tmp_path):
    DatasetGenerator(n_jobs=2, verbose=False).run(SIZES, small_space_generator, save_dir=tmp_path, batch_size=64)
    problems = {split: problems_by_construction(split, size) for split, size in SIZES.items()}
    for split in SIZES:
        quality = stats(tmp_path, split)["data_quality"]
        assert quality["duplicates"] == {
            "samples": SIZES[split],
            "distinct_problems": len(set(problems[split])),
            "repeated": SIZES[split] - len(set(problems[split])),
        }
        expected = {o: sum(p in set(problems[o]) for p in problems[split]) for o in SIZES if o != split}
        assert quality["overlap"] == expected
    assert stats(tmp_path, "test")["data_quality"]["overlap"]["train"] > 0


def test_length_quantiles_match_an_exact_computation(tmp_path):
    DatasetGenerator(n_jobs=2, verbose=False).run({"train": 500}, integer_sum_generator, save_dir=tmp_path)
    rows = DatasetWriter(tmp_path).load_dataset("train")
    texts = {"problem": [" | ".join(p) for p, _ in rows], "solution": [s for _, s in rows]}
    lengths = stats(tmp_path, "train")["data_quality"]["lengths"]
    for part, values in texts.items():
        assert f"{part}_tokens" not in lengths  # tokens: the packaged tokenizer's (tests/test_tokenizer.py)
        numbers = [len(t) for t in values]
        summary = lengths[f"{part}_chars"]
        assert summary["min"] == min(numbers) and summary["max"] == max(numbers)
        assert summary["mean"] == pytest.approx(np.mean(numbers)) and summary["std"] == pytest.approx(np.std(numbers))
        for q in (0.5, 0.9, 0.99):
            assert summary[f"p{round(q * 100)}"] == exact_quantile(numbers, q)


def test_histogram_and_hash_set():
    rng = np.random.default_rng(0)
    values = rng.integers(0, 50, 1000)
    histogram = Histogram()
    histogram.add(values.tolist())
    assert histogram.total == 1000 and histogram.quantile(0.5) == exact_quantile(values.tolist(), 0.5)
    seen, reference = HashSet(), set()
    for _ in range(30):
        batch = rng.integers(0, 2000, 300, dtype=np.uint64)
        keep = seen.first_new(batch)
        expected = []
        for value in batch.tolist():
            expected.append(value not in reference)
            reference.add(value)
        assert keep.tolist() == expected


@pytest.mark.parametrize("dedup", ["within", "across"])
def test_dedup_keeps_sizes_drops_repeats_and_is_deterministic(tmp_path, dedup):
    sizes = {"train": 25, "test": 10}
    for name, n_jobs, batch in (("a", 1, 1000), ("b", 2, 4)):
        DatasetGenerator(n_jobs=n_jobs, verbose=False).run(
            sizes, small_space_generator, save_dir=tmp_path / name, batch_size=batch, dedup=dedup, hf_dataset=True
        )
    for split in sizes:
        assert (tmp_path / "a" / f"{split}_raw.txt").read_bytes() == (tmp_path / "b" / f"{split}_raw.txt").read_bytes()
    writer = DatasetWriter(tmp_path / "a")
    train = [p for p, _ in writer.load_dataset("train")]
    test = [p for p, _ in writer.load_dataset("test")]
    assert len(train) == 25 and len(set(train)) == 25 and len(test) == 10 and len(set(test)) == 10
    expected_train = list(dict.fromkeys(problems_by_construction("train", 200)))[:25]
    assert train == expected_train  # first occurrences, in index order
    report = stats(tmp_path / "a", "train")["data_quality"]
    assert report["dedup_dropped"] == problems_by_construction("train", 200).index(expected_train[-1]) + 1 - 25
    if dedup == "across":
        assert not set(test) & set(train) and stats(tmp_path / "a", "test")["data_quality"]["overlap"]["train"] == 0
    else:
        assert stats(tmp_path / "a", "test")["data_quality"]["duplicates"]["repeated"] == 0


def test_a_problem_space_too_small_fails_and_says_by_how_much(tmp_path):
    with pytest.raises(ShortSplitError, match=r"only 40 of its 60 samples after trying 600 sample indices.* 560 repeated a problem"):
        DatasetGenerator(n_jobs=2, verbose=False).run({"train": 60}, small_space_generator, save_dir=tmp_path, dedup="within")
    assert not list(tmp_path.glob("train_*"))  # nothing looks complete; the 40 are staged
    assert sum(chunk.accepted for chunk in SplitCheckpoint(tmp_path, "train").chunks()) == 40


def test_a_yes_no_flag_is_not_drawn_a_statistic_of_three_values_is(tmp_path):
    from calt_hf.quality import Histogram, draw_histograms

    histograms = {"train": {"flag": Histogram({0: 5, 1: 3}), "degree": Histogram({1: 2, 2: 3, 3: 1})}, "test": {"flag": Histogram({1: 2})}}
    assert draw_histograms(tmp_path, histograms) == {"degree": "degree.png"}  # the flag's share is its mean, in the table
    assert [p.name for p in tmp_path.iterdir()] == ["degree.png"]


def test_each_picture_has_the_bytes_of_one_drawn_alone(tmp_path):
    """The figure drawn again for every statistic carries nothing of the one before: lines, colours, scales,
    integer ticks, markers, the legend's splits and the title's note are each the statistic's own."""
    from calt_hf.quality import MAX_SPLITS_PER_FIGURE, Histogram, draw_histograms

    many = {value: 1 + value % 7 for value in range(90)}  # past 60 points: no markers
    histograms = {
        "train": {"a degree": Histogram({1: 5, 2: 3, 3: 1}), "b ratio": Histogram({0.25: 2, 0.5: 7, 0.75: 1}),
                  "c length": Histogram(many), "d terms": Histogram({2: 1, 4: 6, 9: 2, 30: 1})},
        "test": {"a degree": Histogram({1: 1, 2: 2, 5: 1}), "c length": Histogram({3: 1, 8: 2, 70: 1})},
    }
    histograms.update({f"s{n}": {"b ratio": Histogram({0.05 * n: 1, 0.05 * n + 0.1: 2, 0.85: 1})} for n in range(MAX_SPLITS_PER_FIGURE + 2)})
    together = draw_histograms(tmp_path / "together", histograms)
    assert list(together) == ["a degree", "b ratio", "c length", "d terms"]
    for name, file_name in together.items():
        alone = {split: {name: named[name]} for split, named in histograms.items() if name in named}
        assert draw_histograms(tmp_path / name, alone) == {name: file_name}
        assert (tmp_path / "together" / file_name).read_bytes() == (tmp_path / name / file_name).read_bytes(), name


def test_pictures_are_drawn_referenced_and_listed_for_upload(tmp_path, gf7_sampler):
    from calt_hf.hf.hub import HUB_FILES
    from calt_hf.problems import GCDProblem, PolynomialStatistics

    DatasetGenerator(n_jobs=1, verbose=False).run(
        {"train": 100, "test": 20}, GCDProblem(gf7_sampler), PolynomialStatistics(gf7_sampler), save_dir=tmp_path, hf_dataset=True
    )
    card = (tmp_path / "README.md").read_text()
    referenced = re.findall(r"\]\(images/([^)]+\.png)\)", card)
    assert {"problem_tokens.png", "solution_tokens.png", "problem-total_degree.png"} <= set(referenced)
    assert "problem-num_polynomials.png" not in referenced  # always 2: a constant is not drawn
    assert sorted(p.name for p in (tmp_path / "images").iterdir()) == sorted(referenced)
    for name in referenced:
        assert (tmp_path / "images" / name).read_bytes().startswith(b"\x89PNG")
    assert "images/**" in HUB_FILES
    assert "| test | 20 |" in card and "also in train" in card


def test_pictures_scale_with_the_statistics_not_the_splits(tmp_path):
    """Many tiny splits: one figure per statistic, the first splits drawn, the title saying how many."""
    from calt_hf.problems import IntegerStatistics
    from calt_hf.quality import MAX_SPLITS_PER_FIGURE

    sizes = {f"s{number}": 3 for number in range(MAX_SPLITS_PER_FIGURE + 4)}
    DatasetGenerator(n_jobs=1, verbose=False).run(
        sizes, integer_sum_generator, IntegerStatistics(), save_dir=tmp_path, hf_dataset=True
    )
    card = (tmp_path / "README.md").read_text()
    figures = re.findall(r"\]\(images/([^)]+\.png)\)", card)
    assert len(figures) == len(set(figures)) == len(list((tmp_path / "images").iterdir()))
    assert 0 < len(figures) <= 10


def test_a_sparse_tail_is_drawn_as_bins_empty_ones_at_the_bottom(tmp_path):
    """The card's length picture of problems of 1..9 characters and a few of 200: across the empty stretch between
    them the split's colour appears nowhere inside the axes (a line through the values drew a plateau there)."""
    from matplotlib.image import imread

    from calt_hf.quality import _MARGINS

    DatasetGenerator(n_jobs=1, verbose=False).run({"train": 400}, sparse_length_generator, save_dir=tmp_path, hf_dataset=True)
    lengths = load_histograms(tmp_path / ".calt_hf", "train")["problem_chars"]
    assert set(lengths.counts) == set(range(1, 10)) | {200}
    image = imread(tmp_path / "images" / "problem_chars.png")
    height, width = image.shape[:2]
    top, bottom = round((1 - _MARGINS["top"]) * height) + 3, round((1 - _MARGINS["bottom"]) * height) - 3
    left, right = round(_MARGINS["left"] * width), round(_MARGINS["right"] * width)
    red, blue = image[top:bottom, :, 0], image[top:bottom, :, 2]
    coloured = (blue > 0.5) & (blue - red > 0.3)  # the first split's colour, blue (#1f77b4), antialiased
    middle = (left + right) // 2  # a length near 100: inside the stretch from 10 to 199
    assert coloured[:, left:middle].any()  # the bins of 1..9 are drawn
    assert not coloured[:, middle - 20 : middle + 20].any()
