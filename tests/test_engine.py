"""The shared core end to end on the SymPy backend: files, reproducibility, validation, failures."""

import hashlib
import json
import pickle

import pytest
import yaml
from conftest import integer_sum_generator, unseeded_generator

from calt_hf.engine import SampleGenerationError
from calt_hf.options import RunOptions
from calt_hf.produce import GenerationTask, produce
from calt_hf.problems import GCDProblem, PolynomialStatistics
from calt_hf.seeding import derive_seed
from calt_hf.sympy import DatasetGenerator, DatasetWriter

DATA_FILES = ("_data.pkl", "_raw.txt", "_data.jsonl")


def fail_at(index_to_fail: int):
    """A generator that raises on one sample of split 'test'."""
    return _FailingGenerator(index_to_fail)


class _FailingGenerator:
    def __init__(self, index_to_fail: int) -> None:
        self.bad_seed = derive_seed(42, "test", index_to_fail)

    def __call__(self, seed: int):
        if seed == self.bad_seed:
            raise ZeroDivisionError("the generator divided by zero")
        return integer_sum_generator(seed)


def none_solution(seed: int):
    return ["1"], None


def tuple_generator(seed: int):
    return ("a", "b"), (("c", "d"), "e")


def visible(directory) -> list[str]:
    """The files a user sees (the run's own state lives in the hidden .calt_hf folder)."""
    return sorted(p.name for p in directory.iterdir() if not p.name.startswith("."))


def file_bytes(directory, split: str) -> dict[str, bytes]:
    return {suffix: (directory / f"{split}{suffix}").read_bytes() for suffix in DATA_FILES}


def test_seed_derivation_is_calts():
    expected = int.from_bytes(hashlib.sha256(b"42_train_7").digest()[:16], "big")
    assert derive_seed(42, "train", 7) == expected
    assert derive_seed(42, "test", 7) != expected and derive_seed(43, "train", 7) != expected


def test_run_writes_the_documented_files(tmp_path, gf7_sampler):
    generator = DatasetGenerator(n_jobs=2, verbose=False)
    generator.run(
        {"train": 300, "test": 40},
        GCDProblem(gf7_sampler),
        PolynomialStatistics(gf7_sampler),
        save_dir=str(tmp_path),
        batch_size=64,
    )
    assert visible(tmp_path) == sorted(f"{split}{suffix}" for split in ("train", "test") for suffix in DATA_FILES + ("_stats.yaml",))
    writer = DatasetWriter(save_dir=tmp_path)
    samples = writer.load_dataset("train")
    assert len(samples) == 300 and samples == writer.load_dataset_jsonl("train")
    lines = (tmp_path / "train_raw.txt").read_text().splitlines()
    assert lines == [f"{p[0]} | {p[1]} # {s}" for p, s in samples]
    assert all("**" not in line and "mod" not in line for line in lines)
    stats = yaml.safe_load((tmp_path / "test_stats.yaml").read_text())
    seed_schema = ["total_time", "num_samples", "samples_per_second", "generation_time", "problem_stats", "solution_stats"]
    assert list(stats) == seed_schema + ["data_quality"]  # the seed's schema intact, the report under its own key
    assert stats["num_samples"] == 40
    assert stats["problem_stats"]["num_polynomials"] == {"mean": 2.0, "std": 0.0, "min": 2.0, "max": 2.0}


def test_samples_follow_the_seed_and_index_order(tmp_path):
    DatasetGenerator(n_jobs=2, verbose=False, root_seed=7).run(
        {"valid-1": 57}, integer_sum_generator, save_dir=tmp_path, batch_size=10
    )
    expected = [integer_sum_generator(derive_seed(7, "valid-1", i)) for i in range(57)]
    lines = (tmp_path / "valid-1_raw.txt").read_text().splitlines()
    assert lines == [" | ".join(map(str, p)) + f" # {s}" for p, s in expected]
    assert DatasetWriter(tmp_path).load_dataset("valid-1")[3] == ([str(v) for v in expected[3][0]], str(expected[3][1]))


@pytest.mark.parametrize(
    "backend, n_jobs, batch_size",
    [("loky", 2, 7), ("multiprocessing", 2, 100000), ("threading", 2, 33), ("sequential", 1, 5), ("loky", 1, 64)],
)
def test_output_is_byte_identical_whatever_the_schedule(tmp_path, gf7_sampler, backend, n_jobs, batch_size):
    sizes = {"train": 150, "test": 20}
    reference = tmp_path / "reference"
    DatasetGenerator(backend="sequential", n_jobs=1, verbose=False).run(
        sizes, GCDProblem(gf7_sampler), save_dir=reference, batch_size=1000
    )
    candidate = tmp_path / "candidate"
    DatasetGenerator(backend=backend, n_jobs=n_jobs, verbose=False).run(
        sizes, GCDProblem(gf7_sampler), save_dir=candidate, batch_size=batch_size
    )
    for split in sizes:
        assert file_bytes(candidate, split) == file_bytes(reference, split)


def test_generators_that_do_not_seed_are_reproducible(tmp_path):
    for name, n_jobs, batch in (("a", 1, 100), ("b", 2, 3)):
        DatasetGenerator(n_jobs=n_jobs, verbose=False).run(
            {"train": 30}, unseeded_generator, save_dir=tmp_path / name, batch_size=batch
        )
    assert file_bytes(tmp_path / "a", "train") == file_bytes(tmp_path / "b", "train")
    rows = DatasetWriter(tmp_path / "a").load_dataset("train")
    assert len({row[0][0] for row in rows}) == 30  # every sample got its own state


def test_separate_runs_fill_one_directory(tmp_path):
    generator = DatasetGenerator(n_jobs=1, verbose=False)
    generator.run({"train": 20}, integer_sum_generator, save_dir=tmp_path, save_json=False)
    generator.run({"test": 5, "validation": 6}, integer_sum_generator, save_dir=tmp_path, save_text=False)
    writer = DatasetWriter(tmp_path)
    assert [len(writer.load_dataset(s)) for s in ("train", "test", "validation")] == [20, 5, 6]
    assert not (tmp_path / "train_data.jsonl").exists() and not (tmp_path / "test_raw.txt").exists()


def test_tuples_count_as_lists(tmp_path):
    DatasetGenerator(n_jobs=1, verbose=False).run({"train": 2}, tuple_generator, save_dir=tmp_path)
    assert json.loads((tmp_path / "train_data.jsonl").read_text().splitlines()[0]) == {
        "problem": ["a", "b"],
        "solution": [["c", "d"], "e"],
    }
    assert (tmp_path / "train_raw.txt").read_text().splitlines()[0] == "a | b # c | d || e"


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"dataset_sizes": [("train", 3)]}, "must be a dictionary"),
        ({"dataset_sizes": {}}, "cannot be empty"),
        ({"dataset_sizes": {"train": 0}}, "positive integer, got 0 for train"),
        ({"dataset_sizes": {"train": "10"}}, "positive integer, got '10' for train"),
        ({"dataset_sizes": {"train": True}}, "positive integer"),
        ({"dataset_sizes": {"../x": 3}}, "letters, digits"),
        ({"problem_generator": None}, "problem_generator must be provided"),
        ({"statistics_calculator": 3}, "statistics_calculator"),
        ({"batch_size": 0}, "batch_size=0"),
    ],
)
def test_bad_arguments_fail_before_any_work(tmp_path, kwargs, message):
    arguments = {"dataset_sizes": {"train": 3}, "problem_generator": integer_sum_generator, "save_dir": tmp_path, **kwargs}
    with pytest.raises(ValueError, match=message):
        DatasetGenerator(n_jobs=1, verbose=False).run(**arguments)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "kwargs, message",
    [({"backend": "spark"}, "backend='spark'"), ({"n_jobs": 0}, "n_jobs=0"), ({"root_seed": "a"}, "root_seed='a'")],
)
def test_bad_generator_settings(kwargs, message):
    with pytest.raises(ValueError, match=message):
        DatasetGenerator(**kwargs)


def test_unpicklable_generator_is_refused_before_work(tmp_path, gf7_sampler):
    import threading

    lock = threading.Lock()  # a lock cannot travel to another process

    def generator(seed):
        with lock:
            return "a", "b"

    with pytest.raises(ValueError, match="must be picklable .*create them inside the generator"):
        DatasetGenerator(n_jobs=2, verbose=False).run({"train": 3}, generator, save_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_a_failing_sample_is_named_and_leaves_nothing_that_looks_complete(tmp_path, n_jobs):
    with pytest.raises(SampleGenerationError) as caught:
        DatasetGenerator(n_jobs=n_jobs, verbose=False).run(
            {"train": 50, "test": 80}, fail_at(61), save_dir=tmp_path, batch_size=16
        )
    error = caught.value
    seed = derive_seed(42, "test", 61)
    assert (error.split, error.index, error.seed) == ("test", 61, seed)
    assert f"sample 61 of split 'test' (seed {seed})" in str(error)
    assert isinstance(error.__cause__, ZeroDivisionError) and "divided by zero" in str(error.__cause__)
    assert visible(tmp_path) == sorted(f"train{suffix}" for suffix in DATA_FILES + ("_stats.yaml",))  # train completed


def test_none_is_an_error_naming_the_sample(tmp_path):
    with pytest.raises(SampleGenerationError, match=r"sample 0 of split 'train' .*the solution is None"):
        DatasetGenerator(n_jobs=1, verbose=False).run({"train": 3}, none_solution, save_dir=tmp_path)
    assert visible(tmp_path) == []


def test_separators_inside_elements_fail_for_text_only(tmp_path):
    def with_bar(seed):
        return "a|b", "c"

    with pytest.raises(SampleGenerationError, match="'|', '#'"):
        DatasetGenerator(n_jobs=1, verbose=False).run({"train": 2}, with_bar, save_dir=tmp_path / "text")
    DatasetGenerator(n_jobs=1, verbose=False).run({"train": 2}, with_bar, save_dir=tmp_path / "json", save_text=False)
    assert DatasetWriter(tmp_path / "json").load_dataset_jsonl("train") == [("a|b", "c")] * 2


class RecordingWriter(DatasetWriter):
    """A user's writer that overrides save_batch: the core must call it once per batch, in order."""

    def __init__(self, save_dir):
        super().__init__(save_dir=save_dir, save_text=False, save_json=True)
        self.calls = []

    def save_batch(self, samples, tag="train", batch_idx=0):
        self.calls.append((tag, batch_idx, len(samples)))
        super().save_batch(samples, tag, batch_idx)


def test_a_custom_writer_gets_batches(tmp_path):
    writer = RecordingWriter(tmp_path)
    DatasetGenerator(n_jobs=2, verbose=False).run(
        {"train": 25}, integer_sum_generator, dataset_writer=writer, batch_size=10, save_dir="ignored"
    )
    assert writer.calls == [("train", 0, 10), ("train", 1, 10), ("train", 2, 5)]
    expected = [integer_sum_generator(derive_seed(42, "train", i)) for i in range(25)]
    assert [row[1] for row in writer.load_dataset_jsonl("train")] == [str(s) for _, s in expected]
    assert (tmp_path / "train_stats.yaml").exists() and not (tmp_path / "ignored").exists()


def test_progress_bar_when_verbose(tmp_path, capsys):
    DatasetGenerator(n_jobs=1, verbose=True).run({"train": 5}, integer_sum_generator, save_dir=tmp_path)
    assert "train: 100%" in capsys.readouterr().err


def test_pickle_is_a_single_list(tmp_path):
    DatasetGenerator(n_jobs=2, verbose=False).run({"train": 2000}, integer_sum_generator, save_dir=tmp_path, batch_size=300)
    with open(tmp_path / "train_data.pkl", "rb") as handle:
        rows = pickle.load(handle)
    assert isinstance(rows, list) and len(rows) == 2000 and isinstance(rows[0], tuple)


def test_produce_makes_a_runs_rows_without_a_writer_a_pool_or_a_folder(tmp_path):
    """The file pipeline and any other consumer (a stream) share one function from sample indices to rows."""
    generator = DatasetGenerator(backend="multiprocessing", n_jobs=2, verbose=False, root_seed=3)
    generator.run({"train": 40}, unseeded_generator, save_dir=tmp_path, save_text=False, save_json=False)
    written = pickle.loads((tmp_path / "train_data.pkl").read_bytes())
    task = GenerationTask.from_options(RunOptions({"train": 40}, unseeded_generator), DatasetGenerator.cas, root_seed=3)
    first, rest = produce(task, "train", 0, 15), produce(task, "train", 15, 40)
    assert (first.accepted, rest.accepted, first.encoded) == (15, 25, {})
    assert [tuple(row) for row in first.rows + rest.rows] == written
    assert not list(tmp_path.glob("*.part")) and sorted(p.name for p in tmp_path.iterdir()) == [".calt_hf", "train_data.pkl", "train_stats.yaml"]
