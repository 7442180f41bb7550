"""Local workers are forked from the run: they start with what the run imported, write what fresh
interpreters would, and a run that never starts leaves none behind."""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import yaml
from test_cli import run_cli

SCRIPT = textwrap.dedent(
    """
    import json, os, sys
    import psutil
    from calt_hf.sympy import DatasetGenerator

    def who(seed):  # the worker's parent and its command line
        me = psutil.Process()
        return [str(me.ppid()), " ".join(me.cmdline())], str(seed % 7)

    for n_jobs in (2, 1):  # a pool of two, and the one child that isolates the samples of n_jobs=1
        DatasetGenerator(n_jobs=n_jobs, verbose=False).run({"train": 40}, who, save_dir=f"{sys.argv[1]}/{n_jobs}")
    print(json.dumps([os.getpid(), " ".join(psutil.Process().cmdline()), len(psutil.Process().children())]), flush=True)
    """
)


def test_workers_are_forked_from_the_run_and_gone_after_it(tmp_path):
    script = tmp_path / "who.py"
    script.write_text(SCRIPT)
    result = subprocess.run([sys.executable, str(script), str(tmp_path / "out")], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    parent, command_line, children_after = json.loads(result.stdout.splitlines()[-1])
    for n_jobs in (2, 1):
        rows = [json.loads(line) for line in (tmp_path / "out" / str(n_jobs) / "train_data.jsonl").read_text().splitlines()]
        assert len(rows) == 40
        # every sample came from a child of the run started by fork (its command line is the run's own, not a
        # fresh interpreter's)
        assert {tuple(row["problem"]) for row in rows} == {(str(parent), command_line)}, n_jobs
    assert children_after == 0  # and the children ended with their runs


def test_forked_workers_write_what_fresh_ones_and_this_process_write(tmp_path, gf7_sampler, monkeypatch):
    """Forked (Linux), fresh interpreters (joblib's reusable loky pool: the path where fork is not used, as on
    macOS), and the sequential backend give the same bytes."""
    import calt_hf.scheduling
    import calt_hf.worker
    from calt_hf.problems import GCDProblem, PolynomialStatistics
    from calt_hf.sympy import DatasetGenerator

    outputs = {}
    for name, backend, n_jobs, fork in (("forked", "loky", 2, True), ("fresh", "loky", 2, False), ("sequential", "sequential", 1, True)):
        for module in (calt_hf.scheduling, calt_hf.worker):
            monkeypatch.setattr(module, "FORK_WORKERS", fork)
        DatasetGenerator(backend=backend, n_jobs=n_jobs, verbose=False).run(
            {"train": 300}, GCDProblem(gf7_sampler), PolynomialStatistics(gf7_sampler), save_dir=str(tmp_path / name)
        )
        outputs[name] = [(tmp_path / name / f).read_bytes() for f in ("train_raw.txt", "train_data.pkl", "train_data.jsonl")]
    assert outputs["forked"] == outputs["fresh"] == outputs["sequential"]


def test_a_refused_command_line_leaves_no_worker_and_says_one_line(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    result = run_cli("save_dir=.", "dataset_sizes.train=10", "dataset_sizes.test=10", cwd=tmp_path)
    assert result.returncode == 2
    assert len([line for line in result.stderr.splitlines() if line.strip()]) == 1, result.stderr


HANGING_AFTER_SAGE = textwrap.dedent(
    """
    import sys
    import sage.all__sagemath_singular  # cysignals now owns SIGALRM in the run, and so in its forked workers
    from conftest import hanging_generator
    from calt_hf.sympy import DatasetGenerator

    DatasetGenerator(n_jobs=2, verbose=False).run(
        {"train": 12}, hanging_generator, save_dir=sys.argv[1], on_error="skip", sample_timeout=0.2
    )
    """
)


def test_a_hanging_sample_times_out_in_workers_forked_from_a_process_that_imported_sage(tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", HANGING_AFTER_SAGE, str(tmp_path / "out")],
        capture_output=True, text=True, timeout=120, cwd=Path(__file__).parent,
    )
    assert result.returncode == 0, result.stderr
    errors = yaml.safe_load((tmp_path / "out" / "train_stats.yaml").read_text())["errors"]
    assert errors["failed"] > 0 and "sample_timeout" in errors["first_errors"][0]["error"]
