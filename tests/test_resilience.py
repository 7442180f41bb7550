"""Runs that survive: resume after SIGKILL, on_error modes, hung samples, dead workers."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from conftest import DyingOnceGenerator, dying_generator, failing_generator, hanging_generator, integer_sum_generator

from calt_hf.checkpoint import RunConflictError
from calt_hf.engine import WorkerLostError
from calt_hf.seeding import derive_seed
from calt_hf.sympy import DatasetGenerator, DatasetWriter
from calt_hf.produce import SampleGenerationError, retry_seed

TESTS = Path(__file__).resolve().parent
SIZES = {"train": 1500, "test": 300}
DATA = ("_data.pkl", "_raw.txt", "_data.jsonl")

RUN_SCRIPT = """
import sys
sys.path.insert(0, %(tests)r)
from conftest import logged_generator
from calt_hf.sympy import DatasetGenerator
DatasetGenerator(n_jobs=2, verbose=False).run(%(sizes)r, logged_generator, save_dir=%(save_dir)r,
                                              batch_size=200, hf_dataset=True, resume=%(resume)r)
"""


def data_files(directory: Path) -> dict[str, bytes]:
    names = [f"{split}{suffix}" for split in SIZES for suffix in DATA]
    files = {name: (directory / name).read_bytes() for name in names}
    files.update({f"data/{p.name}": p.read_bytes() for p in sorted((directory / "data").glob("*.parquet"))})
    # what packaging fits from the splits' surveys (merged from the staged chunks and the live ones when resumed)
    for name in ("tokenizer.json", "lexer.yaml", *(f".calt_hf/{split}.survey.json" for split in SIZES)):
        files[name] = (directory / name).read_bytes()
    return files


def start_run(save_dir: Path, log: Path, resume: bool, block: str = "") -> subprocess.Popen:
    env = {**os.environ, "CALT_HF_TEST_LOG": str(log), "CALT_HF_TEST_BLOCK": block}
    script = RUN_SCRIPT % {"tests": str(TESTS), "sizes": SIZES, "save_dir": str(save_dir), "resume": resume}
    return subprocess.Popen([sys.executable, "-c", script], env=env, start_new_session=True)


def wait_for(condition, process: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert process.poll() is None, "the run ended before the point where it was to be killed"
        assert time.monotonic() < deadline, "the run never reached the point where it was to be killed"
        time.sleep(0.005)


def kill(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGKILL)  # the parent and its workers, as the OOM killer or a reboot would
    process.wait()


def staged_chunks(save_dir: Path, split: str) -> list[tuple[int, int]]:
    from calt_hf.checkpoint import SplitCheckpoint

    return [(chunk.start, chunk.stop) for chunk in SplitCheckpoint(save_dir, split).chunks()]


def seeds_logged(log: Path) -> set[int]:
    return {int(line) for line in log.read_text().split()} if log.exists() else set()


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> dict[str, bytes]:
    save_dir = tmp_path_factory.mktemp("reference")
    process = start_run(save_dir, save_dir / "log", resume=False)
    assert process.wait(timeout=300) == 0
    return data_files(save_dir)


def resume_and_check(save_dir: Path, reference: dict[str, bytes], done: dict[str, list[tuple[int, int]]]) -> None:
    log = save_dir.parent / "log-resumed"
    process = start_run(save_dir, log, resume=True)
    assert process.wait(timeout=300) == 0
    assert data_files(save_dir) == reference
    recomputed = seeds_logged(log)
    for split, chunks in done.items():
        for start, stop in chunks:
            assert not recomputed & {derive_seed(42, split, i) for i in range(start, stop)}, "a completed chunk was recomputed"


def test_kill_during_a_split_then_resume(tmp_path, reference):
    save_dir = tmp_path / "run"
    process = start_run(save_dir, tmp_path / "log", resume=False)
    wait_for(lambda: len(list((save_dir / ".calt_hf" / "train").glob("*.chunk"))) >= 6, process)
    kill(process)
    done = {"train": staged_chunks(save_dir, "train")}
    assert done["train"] and not (save_dir / "train_raw.txt").exists()
    resume_and_check(save_dir, reference, done)


def test_kill_between_splits_then_resume(tmp_path, reference):
    save_dir = tmp_path / "run"
    first_test_seed = str(derive_seed(42, "test", 0))
    process = start_run(save_dir, tmp_path / "log", resume=False, block=first_test_seed)
    wait_for(lambda: (save_dir / "train_stats.yaml").exists() and str(derive_seed(42, "test", 0)) in (tmp_path / "log").read_text(), process)
    kill(process)
    assert json.loads((save_dir / ".calt_hf" / "train.json").read_text())["complete"]
    resume_and_check(save_dir, reference, {"train": [(0, SIZES["train"])]})


def test_kill_while_packaging_then_resume(tmp_path, reference):
    save_dir = tmp_path / "run"
    process = start_run(save_dir, tmp_path / "log", resume=False)

    def splits_done() -> bool:
        state = save_dir / ".calt_hf" / "test.json"
        return state.exists() and json.loads(state.read_text())["complete"]

    wait_for(splits_done, process)
    os.killpg(process.pid, signal.SIGSTOP)  # freeze it where it is, then check it really is mid-packaging
    assert not (save_dir / "README.md").exists()
    kill(process)
    resume_and_check(save_dir, reference, {"train": [(0, SIZES["train"])], "test": [(0, SIZES["test"])]})
    assert (save_dir / "README.md").exists()


def test_a_save_dir_with_a_run_is_never_overwritten_silently(tmp_path):
    generator = DatasetGenerator(n_jobs=1, verbose=False)
    generator.run({"train": 20}, integer_sum_generator, save_dir=tmp_path)
    before = (tmp_path / "train_raw.txt").read_bytes()
    generator.run({"train": 20}, integer_sum_generator, save_dir=tmp_path)  # the same run again: its split is kept
    with pytest.raises(RunConflictError, match=r"root_seed: 42 -> 7"):
        DatasetGenerator(n_jobs=1, verbose=False, root_seed=7).run({"train": 20}, integer_sum_generator, save_dir=tmp_path, resume=True)
    with pytest.raises(RunConflictError, match=r"size: 20 -> 30"):
        generator.run({"train": 30}, integer_sum_generator, save_dir=tmp_path, resume=True)
    assert (tmp_path / "train_raw.txt").read_bytes() == before
    generator.run({"train": 20}, integer_sum_generator, save_dir=tmp_path, resume=True)  # complete: nothing to do
    DatasetGenerator(n_jobs=1, verbose=False, root_seed=7).run({"train": 30}, integer_sum_generator, save_dir=tmp_path, overwrite=True)
    assert len(DatasetWriter(tmp_path).load_dataset("train")) == 30


def test_files_from_another_tool_are_protected(tmp_path):
    DatasetWriter(tmp_path).save_batch([("1", "2")], tag="train")
    with pytest.raises(RunConflictError, match="no record of a calt_hf run"):
        DatasetGenerator(n_jobs=1, verbose=False).run({"train": 5}, integer_sum_generator, save_dir=tmp_path, resume=True)
    with pytest.raises(RunConflictError, match="overwrite"):
        DatasetGenerator(n_jobs=1, verbose=False).run({"train": 5}, integer_sum_generator, save_dir=tmp_path)


def expected_with_failures(split: str, size: int, mode: str, retries: int = 3):
    """What on_error promises, computed here independently: samples in index order, failures replaced."""
    rows, failed, resampled, skipped, index = [], 0, 0, 0, 0
    while len(rows) < size:
        seed = derive_seed(42, split, index)
        for attempt in range(1 + (retries if mode == "resample" else 0)):
            attempt_seed = seed if attempt == 0 else retry_seed(seed, attempt)
            result = None if attempt_seed % 10 in (3, 7) else integer_sum_generator(attempt_seed)
            if result is not None:
                rows.append(([str(v) for v in result[0]], str(result[1])))
                resampled += attempt > 0
                break
            failed += 1
        else:
            skipped += 1
        index += 1
    return rows, failed, resampled, skipped


@pytest.mark.parametrize("mode", ["skip", "resample"])
@pytest.mark.parametrize("n_jobs, batch_size", [(1, 1000), (2, 37)])
def test_on_error_modes_keep_the_size_and_report(tmp_path, mode, n_jobs, batch_size):
    DatasetGenerator(n_jobs=n_jobs, verbose=False).run(
        {"train": 200}, failing_generator, save_dir=tmp_path, on_error=mode, batch_size=batch_size, hf_dataset=True
    )
    rows, failed, resampled, skipped = expected_with_failures("train", 200, mode)
    assert DatasetWriter(tmp_path).load_dataset("train") == rows
    stats = yaml.safe_load((tmp_path / "train_stats.yaml").read_text())
    assert stats["num_samples"] == 200
    errors = stats["errors"]
    assert (errors["failed"], errors["timed_out"], errors["resampled"], errors["skipped"]) == (failed, 0, resampled, skipped)
    assert failed > 0 and len(errors["first_errors"]) == 5
    first = errors["first_errors"][0]
    assert first["error"].startswith(("ArithmeticError", "ResampleRequested")) and first["seed"] % 10 in (3, 7)
    card = (tmp_path / "README.md").read_text()
    assert f"| {failed} | 0 | {resampled} | {skipped} |" in card


def test_on_error_raise_names_the_sample(tmp_path):
    with pytest.raises(SampleGenerationError, match="ResampleRequested|ArithmeticError") as caught:
        DatasetGenerator(n_jobs=1, verbose=False).run({"train": 50}, failing_generator, save_dir=tmp_path)
    assert caught.value.seed == derive_seed(42, "train", caught.value.index) and caught.value.seed % 10 in (3, 7)


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_a_hanging_sample_times_out(tmp_path, n_jobs):
    began = time.monotonic()
    DatasetGenerator(n_jobs=n_jobs, verbose=False).run(
        {"train": 12}, hanging_generator, save_dir=tmp_path, on_error="skip", sample_timeout=0.2, hf_dataset=n_jobs == 2
    )
    assert time.monotonic() - began < 60
    expected = [integer_sum_generator(derive_seed(42, "train", i)) for i in range(40) if derive_seed(42, "train", i) % 4 != 1][:12]
    assert [row[1] for row in DatasetWriter(tmp_path).load_dataset("train")] == [str(s) for _, s in expected]
    errors = yaml.safe_load((tmp_path / "train_stats.yaml").read_text())["errors"]
    assert errors["skipped"] > 0 and "SampleTimeout" in errors["first_errors"][0]["error"]
    assert errors["timed_out"] == errors["failed"] == errors["skipped"]  # every failure was a timeout
    if n_jobs == 2:  # the card says how many timed out
        assert f"| 12 | {errors['failed']} | {errors['timed_out']} | 0 | {errors['skipped']} |" in (tmp_path / "README.md").read_text()


def test_a_worker_that_dies_once_is_survived(tmp_path):
    generator = DyingOnceGenerator(str(tmp_path / "marker"))
    DatasetGenerator(n_jobs=2, verbose=False).run({"train": 300}, generator, save_dir=tmp_path / "run", batch_size=100)
    assert (tmp_path / "marker").exists()
    reference = [integer_sum_generator(derive_seed(42, "train", i)) for i in range(300)]
    assert [row[1] for row in DatasetWriter(tmp_path / "run").load_dataset("train")] == [str(s) for _, s in reference]


def test_a_worker_that_always_dies_fails_the_run_naming_the_seeds(tmp_path):
    with pytest.raises(WorkerLostError, match="died 3 times") as caught:
        DatasetGenerator(n_jobs=2, verbose=False).run({"train": 300}, dying_generator, save_dir=tmp_path, batch_size=100)
    culprit = next(i for i in range(300) if derive_seed(42, "train", i) % 50 == 11)
    assert str(derive_seed(42, "train", culprit)) in str(caught.value)
    assert "once the generator is fixed, run again with overwrite=True" in str(caught.value)  # a resume would be refused
    assert not (tmp_path / "train_raw.txt").exists()
    assert sum(c.accepted for c in __import__("calt_hf.checkpoint").checkpoint.SplitCheckpoint(tmp_path, "train").chunks()) >= culprit - 10


def test_without_checkpoints_the_output_is_the_same_and_nothing_is_staged(tmp_path):
    for name, checkpoint in (("on", True), ("off", False)):
        DatasetGenerator(n_jobs=2, verbose=False).run(
            {"train": 300}, failing_generator, save_dir=tmp_path / name, on_error="resample", batch_size=64,
            checkpoint=checkpoint, hf_dataset=True,
        )
    assert {p.name: p.read_bytes() for p in (tmp_path / "on").glob("train_*") if not p.name.endswith("stats.yaml")} == {
        p.name: p.read_bytes() for p in (tmp_path / "off").glob("train_*") if not p.name.endswith("stats.yaml")
    }
    state = tmp_path / "off" / ".calt_hf"
    assert json.loads((state / "train.json").read_text())["complete"] and not (state / "train").exists()  # a record, no chunks
    with pytest.raises(ValueError, match="resume=True needs checkpoint=True"):
        DatasetGenerator(n_jobs=1, verbose=False).run({"train": 3}, integer_sum_generator, save_dir=tmp_path / "x", resume=True, checkpoint=False)
    with pytest.raises(SampleGenerationError):
        DatasetGenerator(n_jobs=2, verbose=False).run({"train": 50}, failing_generator, save_dir=tmp_path / "fail", checkpoint=False)
    assert sorted(p.name for p in (tmp_path / "fail").iterdir()) == [".calt_hf"]  # the run's record, no data
    assert not list((tmp_path / "fail" / ".calt_hf" / "train").iterdir())  # and nothing staged
