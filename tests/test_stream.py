"""calt_hf.stream and DatasetGenerator.stream: row i of the stream is row i of the split a run writes, read
through datasets' own sharding (DataLoader workers, split_dataset_by_node) and state_dict resume."""

from __future__ import annotations

import json
import subprocess
import sys
from itertools import islice
from pathlib import Path

import pytest
from conftest import failing_generator, hanging_generator, integer_sum_generator, nested_generator

import calt_hf
from calt_hf.problems import PROBLEMS
from calt_hf.produce import SampleGenerationError
from calt_hf.sympy import DatasetGenerator

TRAIN, TEST = 5, 2


def _generate(cwd: Path, *words: str) -> dict[tuple[str, str], Path]:
    """A sweep of the command line (small sizes): each (backend, problem)'s folder."""
    cwd.mkdir(exist_ok=True)
    result = subprocess.run(
        [sys.executable, "-m", "calt_hf.generate", "-m", *words, f"dataset_sizes.train={TRAIN}", f"dataset_sizes.test={TEST}",
         "parallel.n_jobs=1", "data_quality=false", "save_dir=out/${backend.name}-${problem.name}"],  # rows and features alone
        cwd=cwd, capture_output=True, text=True, timeout=500,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return {tuple(folder.name.split("-")): folder for folder in (cwd / "out").iterdir()}


def _stored(folder: Path, split: str) -> list[dict]:
    from datasets import load_dataset

    return list(load_dataset(str(folder), split=split))


def _assert_stream_is_the_folder(folder: Path) -> None:
    from datasets import load_dataset

    for split, size in (("train", TRAIN), ("test", TEST)):
        stored = load_dataset(str(folder), split=split)
        streamed = calt_hf.stream(folder, split=split)
        assert streamed.features == stored.features
        rows = list(islice(streamed, size))  # endless: row i is the i-th sample that made it, as in the run
        assert rows == list(stored), folder.name
        lines = [json.loads(line) for line in (folder / f"{split}_data.jsonl").read_text().splitlines()]
        assert [{"problem": r["problem"], "solution": r["solution"]} for r in rows] == lines


BACKENDS = ("sympy", "sagemath", "flint")


@pytest.fixture(scope="module")
def sympy_folders(tmp_path_factory) -> dict[tuple[str, str], Path]:
    """Every library problem on SymPy, through the command line (on every backend, each problem's stream is checked
    against its run's rows in test_problems.py::test_generated_solutions_are_right)."""
    return _generate(tmp_path_factory.mktemp("sympy"), f"problem={','.join(sorted(PROBLEMS))}")


@pytest.mark.parametrize("problem", sorted(PROBLEMS))
def test_the_stream_of_a_folder_is_its_rows_and_features_for_every_library_problem(sympy_folders, problem):
    _assert_stream_is_the_folder(sympy_folders["sympy", problem])


def test_the_stream_of_overrides_is_the_stream_of_their_folder(sympy_folders):
    rows = list(calt_hf.stream(["problem=gcd"], split="train", start=1, stop=TRAIN))
    assert rows == _stored(sympy_folders["sympy", "gcd"], "train")[1:]


def test_the_stream_with_expanded_encoding_is_the_folder_on_every_backend(tmp_path):
    expanded = _generate(tmp_path, f"backend={','.join(BACKENDS)}", "problem=gcd,sum", "hf.encoding=expanded")
    assert len(expanded) == 2 * len(BACKENDS)
    for folder in expanded.values():
        _assert_stream_is_the_folder(folder)
        assert "problem_expanded" in next(iter(calt_hf.stream(folder)))


def test_a_generator_of_ones_own_streams_what_run_writes(tmp_path):
    from datasets import load_dataset

    generator = DatasetGenerator(backend="sequential", n_jobs=1, root_seed=7)
    generator.run({"train": 30}, nested_generator, save_dir=str(tmp_path), hf_dataset=True)
    stored = load_dataset(str(tmp_path), split="train")
    streamed = generator.stream(nested_generator, stop=30)
    assert list(streamed) == list(stored)
    assert streamed.features == stored.features


def test_shards_under_dataloader_workers_and_ranks_give_each_row_once():
    from datasets.distributed import split_dataset_by_node
    from torch.utils.data import DataLoader

    generator = DatasetGenerator(backend="sequential", n_jobs=1)
    expected = list(generator.stream(integer_sum_generator, start=3, stop=40))
    key = lambda row: json.dumps(row, sort_keys=True)  # noqa: E731
    stream = generator.stream(integer_sum_generator, start=3, stop=40)
    by_workers = list(DataLoader(stream, batch_size=None, num_workers=2))
    by_ranks = [row for rank in range(2) for row in split_dataset_by_node(stream, rank=rank, world_size=2)]
    for rows in (by_workers, by_ranks):
        assert sorted(map(key, rows)) == sorted(map(key, expected)) and len(rows) == 37
    # Endless, cut for 2 ranks x 2 workers: the first blocks of all four readers are the first indices.
    endless = generator.stream(integer_sum_generator, n_jobs=4)
    prefix = list(islice(generator.stream(integer_sum_generator), 4 * 64))
    readers = []
    for rank in range(2):
        loader = DataLoader(split_dataset_by_node(endless, rank=rank, world_size=2), batch_size=None, num_workers=2)
        readers += list(islice(loader, 2 * 64))
    assert sorted(map(key, readers)) == sorted(map(key, prefix))


def test_a_restarted_stream_continues_where_its_state_was():
    generator = DatasetGenerator(backend="sequential", n_jobs=1)
    expected = list(islice(generator.stream(failing_generator, on_error="skip"), 150))
    first = generator.stream(failing_generator, on_error="skip")
    seen = list(islice(first, 90))
    state = first.state_dict()
    restarted = generator.stream(failing_generator, on_error="skip")
    restarted.load_state_dict(state)
    assert seen + list(islice(restarted, 60)) == expected


def test_errors_as_in_a_run():
    generator = DatasetGenerator(backend="sequential", n_jobs=1, root_seed=3)
    with pytest.raises(ValueError, match="sampler.max_degree"):
        calt_hf.stream(["problem=gcd", "sampler.max_degree=-1"])
    with pytest.raises(ValueError, match="on_error"):
        generator.stream(integer_sum_generator, on_error="ignore")
    with pytest.raises(ValueError, match="stop"):
        generator.stream(integer_sum_generator, start=5, stop=5)
    with pytest.raises(SampleGenerationError, match=r"sample \d+ of split 'train' \(seed \d+\)"):
        list(generator.stream(failing_generator, stop=20))
    kept = list(generator.stream(hanging_generator, stop=8, on_error="skip", sample_timeout=0.5))
    assert 0 < len(kept) < 8
