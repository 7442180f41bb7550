"""Workers started while the command line composes its configuration: the run uses them, its files are those
of a cold run, and a run that never starts leaves none of them behind."""

import subprocess
import sys
import textwrap

from test_cli import run_cli

SCRIPT = textwrap.dedent(
    """
    import sys, psutil
    from calt_hf.scheduling import cancel_warm_up, warm_process_pool
    from calt_hf.problems import GCDProblem, PolynomialStatistics
    from calt_hf.sympy import DatasetGenerator, PolynomialSampler

    def workers():  # loky's workers (not its resource tracker)
        return [p for p in psutil.Process().children() if "popen_loky_posix" in " ".join(p.cmdline())]

    mode, save_dir = sys.argv[1], sys.argv[2]
    if mode == "cancel":
        warm_process_pool(2)
        started = workers()
        cancel_warm_up()
        gone, alive = psutil.wait_procs(started, timeout=10)
        print("started", len(started), "alive", len(alive))
        sys.exit()
    if mode == "warm":
        warm_process_pool(2)
    warmed = {p.pid for p in workers()}
    sampler = PolynomialSampler(symbols="x, y", field_str="GF7", max_degree=3, max_num_terms=3)
    DatasetGenerator(n_jobs=2, verbose=False).run({"train": 300}, GCDProblem(sampler), PolynomialStatistics(sampler), save_dir=save_dir)
    used = {p.pid for p in workers()}
    print("warmed", len(warmed), "reused", warmed <= used and bool(warmed))
    """
)


def run_script(*args):
    result = subprocess.run([sys.executable, "-c", SCRIPT, *map(str, args)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_a_run_takes_the_warmed_workers_and_writes_what_a_cold_run_writes(tmp_path):
    warm = run_script("warm", tmp_path / "warm")
    assert warm == ["warmed", "2", "reused", "True"]  # two loky workers started early, and the run used them
    run_script("cold", tmp_path / "cold")
    for name in ("train_raw.txt", "train_data.pkl", "train_data.jsonl"):
        warm_bytes, cold_bytes = ((tmp_path / run / name).read_bytes() for run in ("warm", "cold"))
        assert warm_bytes == cold_bytes, name


def test_warmed_workers_no_run_takes_are_stopped(tmp_path):
    assert run_script("cancel", tmp_path) == ["started", "2", "alive", "0"]


def test_a_refused_command_line_leaves_no_worker_and_says_one_line(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    result = run_cli("save_dir=.", "dataset_sizes.train=10", "dataset_sizes.test=10", cwd=tmp_path)
    assert result.returncode == 2
    assert len([line for line in result.stderr.splitlines() if line.strip()]) == 1, result.stderr
