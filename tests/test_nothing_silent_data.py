"""Paths that used to end with exit 0 and wrong or lost data: each one now ends with correct data or a
clear refusal. Every test takes the path as a user does (a script or the command line in a subprocess,
real files, a real ``load_dataset``, real signals)."""

import json
import os
import re
import runpy
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml
from conftest import integer_sum_generator
from datasets import Json

from calt_hf.checkpoint import SplitCheckpoint
from calt_hf.hf.package import load_dataset_dict
from calt_hf.seeding import derive_seed
from calt_hf.sympy import DatasetGenerator, DatasetWriter

TESTS = Path(__file__).resolve().parent


def run_script(script: str, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    """``python script.py ARGS`` in ``cwd``, the script written there first."""
    (cwd / "script.py").write_text(textwrap.dedent(script))
    return subprocess.run([sys.executable, "script.py", *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def shard_bytes(save_dir: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((save_dir / "data").glob("*.parquet"))}


# --- a problem or solution that is a string in some samples and a list in others ------------------------------
STRINGS_AND_LISTS = """
    import sys
    from pathlib import Path

    from calt_hf.seeding import derive_seed
    from calt_hf.sympy import DatasetGenerator

    # train: problems are strings, then lists (indices 40..59), then strings again; solutions are strings, then
    # lists at the end (80..99). test: strings only, so its shards become Json when the splits are unified.
    PROBLEM_LISTS = {derive_seed(42, "train", i) for i in range(40, 60)}
    SOLUTION_LISTS = {derive_seed(42, "train", i) for i in range(80, 100)}
    STOP_SEED = derive_seed(42, "train", 70)


    def generator(seed):
        if seed == STOP_SEED and Path("stop").exists():
            raise RuntimeError("stopped here, to be resumed")
        problem = [str(seed % 7), str(seed % 5)] if seed in PROBLEM_LISTS else str(seed % 7)
        solution = [str(seed % 3)] if seed in SOLUTION_LISTS else str(seed % 3)
        return problem, solution


    if __name__ == "__main__":
        n_jobs, batch_size, resume = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "resume"
        DatasetGenerator(n_jobs=n_jobs, verbose=False).run(
            {"train": 100, "test": 10}, generator, save_dir="out", batch_size=batch_size, hf_dataset=True, resume=resume
        )
"""


def test_strings_and_lists_in_one_column_are_json_in_every_chunk_split_and_resume(tmp_path):
    """Chunks holding only strings (before, between and after the lists), a split of strings only, and a run
    stopped part-way then resumed: every Parquet row equals its JSON Lines row, under the Json feature."""
    (tmp_path / "whole").mkdir()
    whole = run_script(STRINGS_AND_LISTS, "2", "7", "start", cwd=tmp_path / "whole")
    assert whole.returncode == 0, whole.stderr[-3000:]
    resumed_dir = tmp_path / "resumed"
    resumed_dir.mkdir()
    (resumed_dir / "stop").touch()
    stopped = run_script(STRINGS_AND_LISTS, "1", "1000", "start", cwd=resumed_dir)
    assert stopped.returncode == 1 and "stopped here" in stopped.stderr
    assert list((resumed_dir / "out" / ".calt_hf" / "train").glob("*.chunk"))  # string-only chunks staged
    (resumed_dir / "stop").unlink()
    resumed = run_script(STRINGS_AND_LISTS, "1", "1000", "resume", cwd=resumed_dir)
    assert resumed.returncode == 0, resumed.stderr[-3000:]

    for save_dir in (tmp_path / "whole" / "out", resumed_dir / "out"):
        dataset = load_dataset_dict(save_dir)
        assert dataset["train"].features == {"problem": Json(), "solution": Json()} == dataset["test"].features
        writer = DatasetWriter(save_dir)
        for split in ("train", "test"):
            assert [(row["problem"], row["solution"]) for row in dataset[split]] == writer.load_dataset_jsonl(split)
        for shard in (save_dir / "data").glob("*.parquet"):  # the Json columns hold JSON text, strings quoted
            for column in ("problem", "solution"):
                assert all(isinstance(json.loads(value), (str, list)) for value in pq.read_table(shard).column(column).to_pylist())
    assert shard_bytes(tmp_path / "whole" / "out") == shard_bytes(resumed_dir / "out")


# --- the command line, as a user runs it ---------------------------------------------------------------------
def with_path(*folders: Path | None) -> dict[str, str]:
    """The environment with ``folders`` first on PYTHONPATH."""
    path = [str(folder) for folder in folders if folder is not None] + [os.environ.get("PYTHONPATH", "")]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in path if p)}


def run_cli(*words: str, cwd: Path, modules: Path | None = None) -> subprocess.CompletedProcess:
    """``python -m calt_hf.generate WORDS`` in ``cwd`` (``modules`` and tests/ on PYTHONPATH), small and quiet."""
    return subprocess.run(
        [sys.executable, "-m", "calt_hf.generate", "verbose=false", "parallel.n_jobs=2", *words],
        cwd=cwd, capture_output=True, text=True, timeout=300, env=with_path(modules, TESTS),
    )


def write_modules(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(textwrap.dedent(text))
    return folder


# --- a resume after editing a module the generator imports ---------------------------------------------------
IMPORTING_MODULES = {
    "my_module.py": """
        from pathlib import Path

        from helpers import offset


        def my_generator(seed):
            from tools.algebra import double  # imported when first called, in the workers only

            if seed % 10 == 3 and Path("stop").exists():
                raise RuntimeError("stopped, to be resumed")
            return [str(seed % 10)], str(double(seed % 10) + offset())
    """,
    "helpers.py": """
        def offset():
            return 1
    """,
    "tools/__init__.py": "",
    "tools/algebra.py": """
        def double(value):
            return 2 * value
    """,
}


def test_a_resume_after_editing_an_imported_module_is_refused_naming_it(tmp_path):
    modules = write_modules(tmp_path / "mods", IMPORTING_MODULES)
    words = ["problem=custom", "problem.target=my_module.my_generator", "dataset_sizes={train: 40}", "save_dir=out", "hf.package=false"]
    (tmp_path / "stop").touch()
    assert run_cli(*words, cwd=tmp_path, modules=modules).returncode == 1  # stopped part-way, its chunks staged
    (tmp_path / "stop").unlink()
    edits = {"helpers.py": ("return 1", "return 2"), "tools/algebra.py": ("2 * value", "3 * value")}  # imported two ways
    originals = {name: (modules / name).read_text() for name in edits}
    for name, (old, new) in edits.items():
        (modules / name).write_text(originals[name].replace(old, new))
    edited = run_cli(*words, "resume=true", cwd=tmp_path, modules=modules)
    assert edited.returncode == 2, edited.stderr[-2000:]
    assert "generator_code.imports.helpers:" in edited.stderr and "generator_code.imports.tools.algebra:" in edited.stderr
    assert not (tmp_path / "out" / "train_raw.txt").exists()
    for name, original in originals.items():
        (modules / name).write_text(original)
    resumed = run_cli(*words, "resume=true", cwd=tmp_path, modules=modules)  # the same code again: it resumes
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert [solution for _, solution in DatasetWriter(tmp_path / "out").load_dataset("train")] == [
        str(2 * (derive_seed(42, "train", i) % 10) + 1) for i in range(40)
    ]


# --- dedup="across" resumed with the splits in another order ---------------------------------------------------
SMALL_SPACE = {
    "space.py": """
        from pathlib import Path


        def problems(seed):
            if seed % 7 == 3 and Path("stop").exists():
                raise RuntimeError("stopped, to be resumed")
            return f"p{seed % 40}", str(seed % 40)
    """,
}


def test_dedup_across_resumed_in_another_order_is_refused_naming_both_orders(tmp_path):
    modules = write_modules(tmp_path / "mods", SMALL_SPACE)
    words = ["problem=custom", "problem.target=space.problems", "dedup=across", "save_dir=out", "hf.package=false"]
    (tmp_path / "stop").touch()
    assert run_cli(*words, "dataset_sizes={train: 25, test: 10}", cwd=tmp_path, modules=modules).returncode == 1
    (tmp_path / "stop").unlink()
    reordered = run_cli(*words, "dataset_sizes={test: 10, train: 25}", "resume=true", cwd=tmp_path, modules=modules)
    assert reordered.returncode == 2, reordered.stderr[-2000:]
    assert "dedup='across'" in reordered.stderr and "recorded as train" in reordered.stderr
    assert "now lists test, train" in reordered.stderr and "overwrite=True" in reordered.stderr
    assert not (tmp_path / "out" / "test_raw.txt").exists()
    resumed = run_cli(*words, "dataset_sizes={train: 25, test: 10}", "resume=true", cwd=tmp_path, modules=modules)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    writer = DatasetWriter(tmp_path / "out")
    train, test = ({problem for problem, _ in writer.load_dataset(split)} for split in ("train", "test"))
    assert len(train) == 25 and len(test) == 10 and not train & test


# --- on_error="skip" with most samples failing -----------------------------------------------------------------
MOSTLY_FAILING = {
    "failing.py": """
        def mostly(seed):
            if seed % 5 < 3:
                raise ValueError(f"no sample for seed {seed}")
            return [str(seed % 100)], str(seed % 7)
    """,
}


def test_a_split_that_stays_short_fails_says_how_many_failed_and_resumes_with_a_higher_limit(tmp_path):
    modules = write_modules(tmp_path / "mods", MOSTLY_FAILING)
    words = ["problem=custom", "problem.target=failing.mostly", "on_error=skip", "dataset_sizes={train: 50}", "save_dir=out",
             "hf.package=false"]
    short = run_cli(*words, cwd=tmp_path, modules=modules)
    assert short.returncode == 1, short.stderr[-2000:]
    accepted = sum(derive_seed(42, "train", i) % 5 >= 3 for i in range(100))
    assert f"split 'train' has only {accepted} of its 50 samples after trying 100 sample indices" in short.stderr
    assert f"{100 - accepted} failed and were skipped" in short.stderr and "max_index_factor=2" in short.stderr
    assert not list((tmp_path / "out").glob("train_*"))
    command = short.stderr.split("continue with: ")[1].splitlines()[0]
    assert command.endswith("resume=true max_index_factor=4")
    resumed = subprocess.run(  # the command the message gives, as a user pastes it
        ["bash", "-c", command.replace("python ", f"{sys.executable} ", 1)], cwd=tmp_path, capture_output=True,
        text=True, timeout=300, env=with_path(modules),
    )
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    fresh = run_cli(*words, "max_index_factor=4", "save_dir=fresh", cwd=tmp_path, modules=modules)
    assert fresh.returncode == 0
    assert len(DatasetWriter(tmp_path / "out").load_dataset("train")) == 50
    assert (tmp_path / "out" / "train_data.pkl").read_bytes() == (tmp_path / "fresh" / "train_data.pkl").read_bytes()


# --- split names that datasets or the Hub refuse ---------------------------------------------------------------
def test_split_names_datasets_cannot_load_are_refused_before_any_work(tmp_path):
    result = run_cli("problem=integer_sum", "dataset_sizes={my-split: 5}", "save_dir=out", cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr[-2000:]
    assert "split name 'my-split' cannot name a split of a Hugging Face dataset: use letters, digits and '_'" in result.stderr
    assert not (tmp_path / "out").exists()
    for sizes, message in (
        ({"train": 5, "all": 5}, "and not 'all' (datasets' name for every split)"),
        ({"s" * 300: 5}, "is 300 characters long: use at most 200"),
    ):
        with pytest.raises(ValueError, match=re.escape(message)):
            DatasetGenerator(verbose=False).run(sizes, integer_sum_generator, save_dir=tmp_path / "api", hf_dataset=True)
        assert not (tmp_path / "api").exists()
    # Without packaging, a name CALT's writer takes (a '-') is still written, as CALT writes it.
    kept = run_cli("problem=integer_sum", "dataset_sizes={my-split: 5}", "save_dir=out", "hf.package=false", cwd=tmp_path)
    assert kept.returncode == 0 and len(DatasetWriter(tmp_path / "out").load_dataset("my-split")) == 5


# --- a shard copied into data/ -----------------------------------------------------------------------------------
def test_a_shard_the_run_did_not_write_is_refused_by_name_not_read_as_rows(tmp_path):
    words = ["problem=integer_sum", "dataset_sizes={train: 30, test: 5}", "save_dir=out"]
    assert run_cli(*words, cwd=tmp_path).returncode == 0
    data = tmp_path / "out" / "data"
    stray = data / "train-00001-of-00002.parquet"
    stray.write_bytes((data / "train-00000-of-00001.parquet").read_bytes())
    refused = run_cli(*words, "resume=true", cwd=tmp_path)
    assert refused.returncode == 2, refused.stderr[-2000:]
    assert "holds data/train-00001-of-00002.parquet, which split 'train' of the run there did not write" in refused.stderr
    assert "move it out of the folder" in refused.stderr and stray.exists()
    stray.unlink()  # what the message says: the folder is then the run's again
    assert load_dataset_dict(tmp_path / "out")["train"].num_rows == 30


# --- sets, dicts and bytes in a sample ---------------------------------------------------------------------------
UNWRITABLE = {
    "unwritable.py": """
        import random


        class Unwritable:
            \"\"\"A set, a dict or bytes (``kind_of(seed)``) in the problem of a ``share`` of the seeds (all by default).\"\"\"

            def __init__(self, share=1.0):
                self.share = share

            def kind_of(self, seed):
                draw = random.Random(seed).random()
                return int(3 * draw / self.share) if draw < self.share else None

            def __call__(self, seed):
                kind = self.kind_of(seed)
                if kind is not None:
                    return [str(seed % 10), [{"b", "a", "c"}, {"k": "v"}, b"raw"][kind]], "x"
                return [str(seed % 10), "y"], "x"
    """,
}


def test_a_set_dict_or_bytes_in_a_sample_fails_it_naming_index_and_seed(tmp_path):
    modules = write_modules(tmp_path / "mods", UNWRITABLE)
    unwritable = runpy.run_path(str(modules / "unwritable.py"))["Unwritable"]  # what it puts in the problem of a seed

    def kind_of(share: float, seed: int) -> str | None:
        kind = unwritable(share).kind_of(seed)
        return None if kind is None else ("set", "dict", "bytes")[kind]

    words = ["problem=custom", "problem.target=unwritable.Unwritable", "dataset_sizes={train: 20}", "hf.package=false"]
    failed = run_cli(*words, "save_dir=stops", cwd=tmp_path, modules=modules)
    assert failed.returncode == 1, failed.stderr[-2000:]
    index = int(re.search(r"sample (\d+) of split 'train'", failed.stderr).group(1))  # the first to fail: any worker's
    seed, kind = derive_seed(42, "train", index), kind_of(1.0, derive_seed(42, "train", index))
    assert f"sample {index} of split 'train' (seed {seed}) failed: ValueError: the problem holds a {kind}" in failed.stderr
    assert not list((tmp_path / "stops").glob("train_*"))
    skipped = run_cli(*words, "+problem.params.share=0.33", "on_error=skip", "save_dir=skips", cwd=tmp_path, modules=modules)
    assert skipped.returncode == 0, skipped.stderr[-2000:]
    rows = DatasetWriter(tmp_path / "skips").load_dataset("train")
    assert len(rows) == 20 and all(problem[1] == "y" for problem, _ in rows)
    errors = yaml.safe_load((tmp_path / "skips" / "train_stats.yaml").read_text())["errors"]
    failing = [kind for i in range(errors["skipped"] + 20) if (kind := kind_of(0.33, derive_seed(42, "train", i)))]
    assert errors["skipped"] == len(failing) and set(failing) == {"set", "dict", "bytes"}  # each one failed its sample
    for error in errors["first_errors"]:  # each named by its index and seed, and what it holds
        kind = kind_of(0.33, error["seed"])
        assert error["seed"] == derive_seed(42, "train", error["index"]) and f"holds a {kind}" in error["error"]


# --- statistics of a resumed split -------------------------------------------------------------------------------
SLOW = """
    import sys
    import time

    from calt_hf.sympy import DatasetGenerator


    def slow(seed):
        time.sleep(0.01)
        return [str(seed % 10)], str(seed % 7)


    if __name__ == "__main__":
        DatasetGenerator(n_jobs=1, verbose=False).run(
            {"train": 150}, slow, save_dir="out", batch_size=16, hf_dataset=True, resume=sys.argv[1] == "resume"
        )
"""


def test_a_resumed_split_reports_the_time_of_its_whole_generation(tmp_path):
    """One worker runs the generator one sample after another, so the split's time is at least the sum of the
    generator's times; a resume that counted only its own part would report less (half the samples were staged)."""
    (tmp_path / "script.py").write_text(textwrap.dedent(SLOW))
    first = subprocess.Popen([sys.executable, "script.py", "start"], cwd=tmp_path, start_new_session=True)
    checkpoint = SplitCheckpoint(tmp_path / "out", "train")
    try:
        deadline = time.monotonic() + 120
        while not checkpoint.chunk_dir.exists() or sum(chunk.accepted for chunk in checkpoint.chunks()) < 75:
            assert first.poll() is None and time.monotonic() < deadline, "the run never staged half of its samples"
            time.sleep(0.01)
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=60)
    resumed = subprocess.run([sys.executable, "script.py", "resume"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    stats = yaml.safe_load((tmp_path / "out" / "train_stats.yaml").read_text())
    generator_seconds = stats["generation_time"]["mean"] * 150  # the generator's calls, staged ones included
    assert stats["num_samples"] == 150 and stats["total_time"] >= generator_seconds >= 150 * 0.01
    assert stats["samples_per_second"] == 150 / stats["total_time"]
    assert f"Generated in {stats['total_time']:.2f} s" in (tmp_path / "out" / "README.md").read_text()
