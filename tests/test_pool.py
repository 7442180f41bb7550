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

    # the default backend ("multiprocessing"): a pool of two, and the one child that isolates n_jobs=1's samples;
    # then joblib's "loky", fresh interpreters
    for name, backend, n_jobs in (("2", "multiprocessing", 2), ("1", "multiprocessing", 1), ("loky", "loky", 2)):
        if backend == "loky":  # (joblib keeps loky's workers for later runs)
            children_after_forked_runs = len(psutil.Process().children())
        DatasetGenerator(backend=backend, n_jobs=n_jobs, verbose=False).run({"train": 40}, who, save_dir=f"{sys.argv[1]}/{name}")
    print(json.dumps([os.getpid(), " ".join(psutil.Process().cmdline()), children_after_forked_runs]), flush=True)
    """
)


def test_workers_are_forked_from_the_run_and_gone_after_it(tmp_path):
    script = tmp_path / "who.py"
    script.write_text(SCRIPT)
    result = subprocess.run([sys.executable, str(script), str(tmp_path / "out")], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    parent, command_line, children_after_forked_runs = json.loads(result.stdout.splitlines()[-1])
    workers = {}
    for name in ("2", "1", "loky"):
        rows = [json.loads(line) for line in (tmp_path / "out" / name / "train_data.jsonl").read_text().splitlines()]
        assert len(rows) == 40
        workers[name] = {tuple(row["problem"]) for row in rows}
    # every sample of the default backend came from a child of the run started by fork (its command line is
    # the run's own), and the children ended with their runs
    assert workers["2"] == workers["1"] == {(str(parent), command_line)}
    assert children_after_forked_runs == 0
    # "loky" keeps joblib's meaning: children of the run, fresh interpreters
    assert {ppid for ppid, _ in workers["loky"]} == {str(parent)}
    assert all("loky" in line and line != command_line for _, line in workers["loky"])


def test_forked_workers_write_what_fresh_ones_and_this_process_write(tmp_path, gf7_sampler):
    """Forked ("multiprocessing"), fresh interpreters (joblib's "loky", the only process pool where fork is not
    used) and the sequential backend give the same bytes."""
    from calt_hf.problems import GCDProblem, PolynomialStatistics
    from calt_hf.sympy import DatasetGenerator

    outputs = {}
    for backend, n_jobs in (("multiprocessing", 2), ("loky", 2), ("sequential", 1)):
        DatasetGenerator(backend=backend, n_jobs=n_jobs, verbose=False).run(
            {"train": 300}, GCDProblem(gf7_sampler), PolynomialStatistics(gf7_sampler), save_dir=str(tmp_path / backend)
        )
        outputs[backend] = [(tmp_path / backend / f).read_bytes() for f in ("train_raw.txt", "train_data.pkl", "train_data.jsonl")]
    assert outputs["multiprocessing"] == outputs["loky"] == outputs["sequential"]


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
