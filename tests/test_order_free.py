"""Order-free data quality: repeats and train/test overlap counted with a problem's list order ignored,
for the library's problems whose order does not matter (gcd of [f, g]), and only ordered for the others."""

import json
from pathlib import Path

import time

import numpy as np
import pytest
import yaml
from conftest import integer_sum_generator

from calt_hf.problems import PROBLEMS, GCDProblem, PartialSumProblem
from calt_hf.quality import comparison_text
from calt_hf.seeding import derive_seed
from calt_hf.engine import SampleGenerationError
from calt_hf.sympy import DatasetGenerator, PolynomialSampler

SIZES = {"train": 200, "test": 50}
ORDER_FREE_KEYS = {"duplicates_order_free", "overlap_order_free"}


def tiny_sampler() -> PolynomialSampler:
    """GF(2)[x] up to degree 2: few distinct polynomials, so pairs repeat, and often as [g, f] of another."""
    return PolynomialSampler("x", "GF2", "grevlex", max_degree=2, max_num_terms=3)


def quality(save_dir: Path, split: str) -> dict:
    return yaml.safe_load((save_dir / f"{split}_stats.yaml").read_text())["data_quality"]


def problems(save_dir: Path, split: str) -> list[tuple[str, ...]]:
    with open(save_dir / f"{split}_data.jsonl") as lines:
        return [tuple(json.loads(line)["problem"]) for line in lines]


def expected_counts(save_dir: Path, key) -> dict[str, dict]:
    """Duplicates and overlaps from the written JSON Lines, each problem compared as ``key(problem)``."""
    keys = {split: [key(p) for p in problems(save_dir, split)] for split in SIZES}
    counts = {}
    for split, values in keys.items():
        distinct = len(set(values))
        counts[split] = {
            "duplicates": {"samples": len(values), "distinct_problems": distinct, "repeated": len(values) - distinct},
            "overlap": {other: sum(v in set(keys[other]) for v in values) for other in keys if other != split},
        }
    return counts


class GCDFailingWhileMarked(GCDProblem):
    """GCDProblem, failing on ``seed`` for as long as the file ``marker`` exists: a run stopped part-way. It fails
    once the split has a staged chunk (joblib raises a failure at once, before earlier results are taken in)."""

    def __init__(self, sampler: PolynomialSampler, marker: str, seed: int, staged: str) -> None:
        super().__init__(sampler)
        self.marker, self.seed, self.staged = marker, seed, staged

    def __call__(self, seed: int):
        if seed == self.seed and Path(self.marker).exists():
            deadline = time.monotonic() + 60
            while not list(Path(self.staged).glob("*.chunk")) and time.monotonic() < deadline:
                time.sleep(0.05)
            raise RuntimeError(f"marked seed {seed}")
        return super().__call__(seed)


def test_gcd_counts_swapped_pairs_as_one_problem_order_free(tmp_path):
    DatasetGenerator(n_jobs=2, verbose=False).run(SIZES, GCDProblem(tiny_sampler()), save_dir=tmp_path, batch_size=64, hf_dataset=True)
    ordered = expected_counts(tmp_path, tuple)
    order_free = expected_counts(tmp_path, lambda problem: tuple(sorted(problem)))
    card = (tmp_path / "README.md").read_text()
    for split in SIZES:
        report = quality(tmp_path, split)
        assert report["duplicates"] == ordered[split]["duplicates"] and report["overlap"] == ordered[split]["overlap"]
        assert report["duplicates_order_free"] == order_free[split]["duplicates"]
        assert report["overlap_order_free"] == order_free[split]["overlap"]
        free, plain = order_free[split]["duplicates"], ordered[split]["duplicates"]
        overlap = f"{ordered[split]['overlap'].get('train', '-')}" + (f" / {order_free[split]['overlap']['train']}" if split == "test" else "")
        assert (
            f"| {split} | {plain['samples']} | {plain['distinct_problems']} / {free['distinct_problems']} | "
            f"{plain['repeated']} / {free['repeated']} | {overlap} |"
        ) in card
    assert order_free["test"]["overlap"]["train"] > ordered["test"]["overlap"]["train"] > 0  # swapped pairs exist
    assert "[f, g] and [g, f] count as one problem" in card and 'Counts read "ordered / order-free"' in card


@pytest.mark.parametrize("generator", ["partial_sum", "custom"])
def test_a_problem_whose_order_matters_or_is_unknown_gets_ordered_counts_only(tmp_path, generator):
    problem = PartialSumProblem(tiny_sampler(), max_count=2) if generator == "partial_sum" else integer_sum_generator
    DatasetGenerator(n_jobs=1, verbose=False).run(SIZES, problem, save_dir=tmp_path, hf_dataset=True)
    ordered = expected_counts(tmp_path, tuple)
    for split in SIZES:
        report = quality(tmp_path, split)
        assert not ORDER_FREE_KEYS & set(report)
        assert report["duplicates"] == ordered[split]["duplicates"] and report["overlap"] == ordered[split]["overlap"]
    assert not list((tmp_path / ".calt_hf").glob("*order_free*"))
    card = (tmp_path / "README.md").read_text()
    assert "order-free" not in card and f"| test | 50 | {ordered['test']['duplicates']['distinct_problems']} |" in card


def normalised_text(obj) -> str:
    """The text form (``a | b``, ``a | b || c``) with white space collapsed: what problems are compared by."""
    if not isinstance(obj, str):
        nested = any(not isinstance(item, str) for item in obj)
        obj = (" || " if nested else " | ").join(item if isinstance(item, str) else " | ".join(item) for item in obj)
    return " ".join(obj.split())


@pytest.mark.parametrize(
    "problem",
    [
        ["x + 1", "x"],
        ["  x  +\t1 ", "x^2", "x^2"],
        ["x", "", "y"],  # a blank item: the joined text has "| |"
        ["x", "  ", "y"],
        [["x", "y"], "z", ["a"]],  # nested: items joined by " || "
        [["x", ""], ["  "]],
        ["only"],
        [],
        "x + 1",
    ],
)
def test_order_free_text_is_the_text_of_the_list_sorted_by_its_items_texts(problem):
    if isinstance(problem, str):
        expected = normalised_text(problem)
    else:
        expected = normalised_text(sorted(problem, key=normalised_text))
    assert comparison_text(problem, order_free=True) == expected
    assert comparison_text(list(reversed(problem)) if not isinstance(problem, str) else problem, order_free=True) == expected


def test_the_library_says_which_problems_are_order_free():
    order_free = {name for name, problem in PROBLEMS.items() if problem.order_free}
    assert order_free == {"gcd", "sum", "product", "groebner", "groebner_backward", "border_basis", "integer_sum"}
    assert all(isinstance(PROBLEMS[name].order_free, str) for name in order_free)


def test_a_resumed_run_keeps_the_order_free_counts(tmp_path):
    sampler = tiny_sampler()
    DatasetGenerator(n_jobs=2, verbose=False).run(SIZES, GCDProblem(sampler), save_dir=tmp_path / "reference", batch_size=40)
    marker = tmp_path / "marker"
    marker.touch()
    save_dir = tmp_path / "resumed"
    stopped = GCDFailingWhileMarked(sampler, str(marker), derive_seed(42, "test", 30), str(save_dir / ".calt_hf" / "test"))
    with pytest.raises(SampleGenerationError, match="marked seed"):
        DatasetGenerator(n_jobs=2, verbose=False).run(SIZES, stopped, save_dir=save_dir, batch_size=40)
    assert list((save_dir / ".calt_hf" / "test").glob("*.chunk"))  # part of test staged, to be replayed
    marker.unlink()
    DatasetGenerator(n_jobs=2, verbose=False).run(SIZES, stopped, save_dir=save_dir, batch_size=40, resume=True)
    for split in SIZES:
        assert quality(save_dir, split) == quality(tmp_path / "reference", split)
        assert ORDER_FREE_KEYS <= set(quality(save_dir, split))
        assert (save_dir / f"{split}_data.jsonl").read_bytes() == (tmp_path / "reference" / f"{split}_data.jsonl").read_bytes()
        for name in (f"{split}.hashes.npy", f"{split}.order_free_hashes.npy"):
            assert np.array_equal(np.load(save_dir / ".calt_hf" / name), np.load(tmp_path / "reference" / ".calt_hf" / name))
