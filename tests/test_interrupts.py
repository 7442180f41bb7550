"""Stopping a run the ways users do: Ctrl-C (SIGINT to the terminal's process group), SIGTERM to the
command, SIGKILL of the command alone, a generator that kills its process or calls sys.exit().

The command line runs in a session of its own, so a "Ctrl-C" reaches it and its workers, as a terminal's does.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from conftest import integer_sum_generator

from calt_hf.engine import WorkerLostError
from calt_hf.sympy import DatasetGenerator
from calt_hf.produce import SampleGenerationError

TESTS = Path(__file__).resolve().parent
SIZES = "dataset_sizes={train: 4000, test: 200}"
DATA = ("train_data.pkl", "train_raw.txt", "train_data.jsonl", "test_data.pkl", "test_raw.txt", "test_data.jsonl")


def user_env(log: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(TESTS), "CALT_HF_TEST_LOG": str(log),
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}


def command(save_dir: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "calt_hf.generate", "problem=custom", "problem.target=conftest.logged_generator",
            SIZES, "parallel.n_jobs=2", "batch_size=500", "verbose=false", f"save_dir={save_dir}", *extra]


def start(save_dir: Path, log: Path) -> subprocess.Popen:
    return subprocess.Popen(command(save_dir), cwd=save_dir.parent, env=user_env(log), start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_until_working(process: subprocess.Popen, log: Path, samples: int = 400) -> list[psutil.Process]:
    """Wait until the workers have made ``samples`` samples; return the run's worker processes."""
    deadline = time.monotonic() + 120
    while not (log.exists() and len(log.read_text().split()) >= samples):
        assert process.poll() is None, process.stderr.read()
        assert time.monotonic() < deadline, "the run never got going"
        time.sleep(0.01)
    return psutil.Process(process.pid).children(recursive=True)


def all_gone(processes: list[psutil.Process], within: float = 15) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if not [p for p in processes if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]:
            return True
        time.sleep(0.1)
    return False


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> dict[str, bytes]:
    save_dir = tmp_path_factory.mktemp("reference") / "out"
    result = subprocess.run(command(save_dir), cwd=save_dir.parent, env=user_env(save_dir.parent / "log"),
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return {name: (save_dir / name).read_bytes() for name in DATA}


@pytest.mark.parametrize("signum, to_group", [(signal.SIGINT, True), (signal.SIGTERM, False)], ids=["ctrl-c", "sigterm"])
def test_a_stopped_run_says_how_to_resume_and_the_command_it_prints_finishes_it(tmp_path, reference, signum, to_group):
    save_dir, log = tmp_path / "out", tmp_path / "log"
    process = start(save_dir, log)
    workers = wait_until_working(process, log)
    assert workers
    (os.killpg if to_group else os.kill)(process.pid, signum)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 128 + signum
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr
    [line] = [line for line in stderr.splitlines() if line.strip()]
    assert line.startswith(f"stopped by {signal.Signals(signum).name}: completed chunks are staged in {save_dir}")
    assert not list(save_dir.rglob("*.part")) and not (save_dir / "train_raw.txt").exists()
    assert all_gone(workers)

    resume = re.search(r"continue with: (.*)$", line).group(1)
    assert resume.endswith("resume=true")
    result = subprocess.run(["bash", "-c", resume], cwd=tmp_path, env=user_env(tmp_path / "log2"), capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert {name: (save_dir / name).read_bytes() for name in DATA} == reference
    recomputed = len((tmp_path / "log2").read_text().split())
    assert recomputed < 4200  # the staged chunks were not made again


def test_workers_die_with_their_parent_whatever_kills_it(tmp_path):
    save_dir, log = tmp_path / "out", tmp_path / "log"
    process = start(save_dir, log)
    workers = wait_until_working(process, log)
    assert workers
    os.kill(process.pid, signal.SIGKILL)  # the parent alone: no cleanup of its own can run
    process.communicate(timeout=60)
    assert all_gone(workers), [p.cmdline() for p in workers if p.is_running()]


def exits_on_seed_11(seed: int):
    if seed % 50 == 11:
        os._exit(3)
    return integer_sum_generator(seed)


def test_with_one_worker_a_dying_generator_loses_the_worker_not_the_run(tmp_path):
    """n_jobs=1 still runs samples in a worker process: os._exit there is a lost worker, named, not a vanished
    command."""
    with pytest.raises(WorkerLostError, match=r"split 'train'"):
        DatasetGenerator(n_jobs=1, verbose=False).run({"train": 400}, exits_on_seed_11, save_dir=tmp_path)
    assert os.getpid() == psutil.Process().pid and not (tmp_path / "train_raw.txt").exists()


def calls_sys_exit(seed: int):
    if seed % 5 == 0:
        sys.exit("this sample is not possible")
    return integer_sum_generator(seed)


@pytest.mark.parametrize("backend, n_jobs", [("loky", 2), ("loky", 1), ("sequential", 1)])
def test_sys_exit_in_a_generator_fails_its_sample_not_the_run(tmp_path, backend, n_jobs):
    with pytest.raises(SampleGenerationError, match=r"failed: SystemExit: this sample is not possible"):
        DatasetGenerator(backend=backend, n_jobs=n_jobs, verbose=False).run({"train": 50}, calls_sys_exit, save_dir=tmp_path / "a")
    DatasetGenerator(backend=backend, n_jobs=n_jobs, verbose=False).run(
        {"train": 50}, calls_sys_exit, save_dir=tmp_path / "b", on_error="skip"
    )
    assert len((tmp_path / "b" / "train_raw.txt").read_text().splitlines()) == 50


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("unshare"), reason="mounts a small tmpfs: needs root (CI runs as root)")
def test_a_full_disk_says_where_and_how_much_is_free_and_resume_works_once_there_is_space(tmp_path):
    """The run writes into a 1 MB tmpfs (in a mount namespace of its own), fills it, stops; the tmpfs grows, the
    printed command resumes, and the files match a run that had room."""
    disk = tmp_path / "disk"
    disk.mkdir()
    words = ["problem=sum", "dataset_sizes={train: 8000, test: 100}", "parallel.n_jobs=2", "verbose=false"]
    script = f"""
set -u
mount -t tmpfs -o size=1m tmpfs {disk}
cd {disk}
python -m calt_hf.generate {' '.join(map(repr, words))} save_dir=out 2>err.log
echo "status=$?"
python - <<'PY'
from pathlib import Path
names = sorted(str(p.relative_to("out")) for p in Path("out").rglob("*") if p.is_file() and ".calt_hf" not in p.parts)
print("left:", names)
PY
mount -o remount,size=200m {disk}
resume=$(sed -n 's/.*continue with: //p' err.log)
bash -c "$resume" 2>resume.log; echo "resumed=$?"
cp -r out {tmp_path}/after
cat err.log >&2
"""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(["unshare", "--mount", "--propagation", "private", "bash", "-c", script], cwd=tmp_path,
                            env=env, capture_output=True, text=True, timeout=600)
    assert "status=1" in result.stdout, result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    [message] = lines
    assert re.match(r"error: no space left on the device writing \S+ \([\d.]+ MB free there\); nothing unfinished", message)
    left = re.search(r"left: (.*)", result.stdout).group(1)
    assert "train_raw.txt'" not in left and "README.md" not in left and ".part" not in left
    assert "resumed=0" in result.stdout
    reference = tmp_path / "reference"
    subprocess.run([sys.executable, "-m", "calt_hf.generate", *words, f"save_dir={reference}"], env=env, check=True,
                   capture_output=True, timeout=600)
    for name in ("train_raw.txt", "train_data.pkl", "test_data.jsonl"):
        assert (tmp_path / "after" / name).read_bytes() == (reference / name).read_bytes()
