"""Before/after check of a refactoring: the same jobs run on another revision's code and on this checkout's
must write the same bytes.

    python scripts/compare_outputs.py [--base main] [--keep DIR]

The base revision's tree is taken with ``git archive`` into a temporary folder and put first on PYTHONPATH
(this checkout's environment serves both). Each job runs, for each tree in turn, into the same path (the
card and config.yaml name it), then compares every file of ``save_dir``: the splits' files, the Parquet
shards, the card, the tokenizer and lexer files and config.yaml byte for byte; the statistics files with their
timings left out (``total_time``, ``generation_time``, ``samples_per_second``), and the
card with those figures masked. Jobs (scaled down):

- ``default``: the quick start's command, ``backend=sympy problem=gcd``, with smaller splits;
- ``sage``: ``backend=sagemath problem=gcd`` over GF(31)[x, y, z];
- ``killed``: a command stopped by Ctrl-C once chunks are staged, then continued with ``resume=true``;
- ``short``: a Python run whose split falls short (``max_index_factor=1``, failing samples skipped), resumed
  with a higher limit.

Exits 0 when every file is identical, 1 otherwise (listing the differences).
"""

from __future__ import annotations

import argparse
import filecmp
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
TIMING_KEYS = ("total_time", "generation_time", "samples_per_second")
#: What the card prints of the timings (its statistics table's time rows).
CARD_TIMINGS = re.compile(r"(?im)^(.*(?:time|per second|samples/s).*)$")
SMALL = "dataset_sizes={train: 3000, test: 300}"

SHORT_GENERATOR = textwrap.dedent('''
    import random


    def flaky(seed):
        """A sum of small integers; one seed in four fails."""
        if seed % 4 == 0:
            raise ValueError(f"seed {seed} refused")
        rng = random.Random(seed)
        terms = [rng.randint(1, 99) for _ in range(rng.randint(2, 5))]
        return [str(t) for t in terms], str(sum(terms))
''')

SHORT_RUN = textwrap.dedent('''
    import sys

    from calt_hf.engine import ShortSplitError
    from calt_hf.sympy import DatasetGenerator
    from flaky import flaky

    factor, resume = int(sys.argv[2]), sys.argv[3] == "resume"
    try:
        DatasetGenerator(n_jobs=2, verbose=False, root_seed=5).run(
            {"train": 2000, "test": 200}, flaky, save_dir=sys.argv[1], hf_dataset=True, on_error="skip",
            max_index_factor=factor, resume=resume,
        )
    except ShortSplitError as error:
        print("short:", error.split)
        sys.exit(4)
''')


def run(command: list[str], cwd: Path, env: dict[str, str], expect: int = 0, timeout: float = 600) -> None:
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    if result.returncode != expect:
        raise SystemExit(f"{' '.join(command)} exited {result.returncode} (expected {expect}):\n{result.stderr[-3000:]}")


def cli(save_dir: Path, *words: str) -> list[str]:
    return [sys.executable, "-m", "calt_hf.generate", *words, "verbose=false", f"save_dir={save_dir}"]


def job_default(save_dir: Path, cwd: Path, env: dict[str, str]) -> None:
    run(cli(save_dir, "backend=sympy", "problem=gcd", SMALL, "parallel.n_jobs=2"), cwd, env)


def job_sage(save_dir: Path, cwd: Path, env: dict[str, str]) -> None:
    run(cli(save_dir, "backend=sagemath", "problem=gcd", "sampler.field_str=GF31", 'sampler.symbols="x, y, z"',
            "dataset_sizes={train: 1000, test: 100}", "parallel.n_jobs=2"), cwd, env)


def job_killed(save_dir: Path, cwd: Path, env: dict[str, str]) -> None:
    words = ["problem=sum", "dataset_sizes={train: 40000, test: 500}", "batch_size=2000", "parallel.n_jobs=2"]
    process = subprocess.Popen(cli(save_dir, *words), cwd=cwd, env=env, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    staged = save_dir / ".calt_hf"
    deadline = time.monotonic() + 300
    try:
        while not (staged.is_dir() and len(list(staged.glob("**/*.chunk*"))) >= 2):
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the run to stop ended or never staged a chunk:\n{process.stderr.read()[-3000:]}")
            time.sleep(0.05)
        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=120)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=60)
    if process.returncode != 128 + signal.SIGINT:
        raise SystemExit(f"the stopped run exited {process.returncode}:\n{process.stderr.read()[-3000:]}")
    run(cli(save_dir, *words, "resume=true"), cwd, env)


def job_short(save_dir: Path, cwd: Path, env: dict[str, str]) -> None:
    (cwd / "flaky.py").write_text(SHORT_GENERATOR)
    (cwd / "short_run.py").write_text(SHORT_RUN)
    run([sys.executable, "short_run.py", str(save_dir), "1", "start"], cwd, env, expect=4)
    run([sys.executable, "short_run.py", str(save_dir), "2", "resume"], cwd, env)


JOBS = {"default": job_default, "sage": job_sage, "killed": job_killed, "short": job_short}


def base_tree(revision: str, into: Path) -> Path:
    """The files of ``revision`` (``conf/`` where an installed package has it, ``calt_hf/conf``)."""
    archive = subprocess.run(["git", "archive", revision], cwd=ROOT, capture_output=True, check=True, timeout=120)
    into.mkdir(parents=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True, timeout=120)
    (into / "calt_hf" / "conf").symlink_to(into / "conf")
    return into


def environment(tree: Path, cwd: Path) -> dict[str, str]:
    """This checkout's environment, with ``tree`` first on the path unless it is this checkout (installed)."""
    path = [str(cwd)] if tree == ROOT else [str(tree), str(cwd)]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(path), "HF_HUB_OFFLINE": "1",
            "HF_DATASETS_OFFLINE": "1", "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}


def imported_from(env: dict[str, str], cwd: Path) -> str:
    return subprocess.run([sys.executable, "-c", "import calt_hf; print(calt_hf.__file__)"], cwd=cwd, env=env,
                          capture_output=True, text=True, check=True, timeout=120).stdout.strip()


def normalised(path: Path) -> bytes:
    """A file's bytes, with the timings of statistics files and cards left out."""
    if path.name.endswith("_stats.yaml"):
        statistics = yaml.safe_load(path.read_bytes())
        for key in TIMING_KEYS:
            statistics.pop(key, None)
        return yaml.safe_dump(statistics, sort_keys=True).encode()
    if path.name == "README.md":
        return CARD_TIMINGS.sub("<timing>", path.read_text()).encode()
    return path.read_bytes()


def differences(before: Path, after: Path) -> list[str]:
    """What differs between two folders: files only in one, and files whose (normalised) bytes differ; the run
    state under ``.calt_hf/`` by name only (it records timings)."""
    names = {p.relative_to(before) for p in before.rglob("*") if p.is_file()}
    others = {p.relative_to(after) for p in after.rglob("*") if p.is_file()}
    found = [f"only before: {n}" for n in sorted(names - others)] + [f"only after: {n}" for n in sorted(others - names)]
    for name in sorted(names & others):
        if name.parts[0] == ".calt_hf" or filecmp.cmp(before / name, after / name, shallow=False):
            continue
        if normalised(before / name) != normalised(after / name):
            found.append(f"differs: {name}")
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default="main", help="the revision to compare with (default: main)")
    parser.add_argument("--keep", type=Path, help="keep the outputs in this folder")
    parser.add_argument("--jobs", nargs="*", default=list(JOBS), choices=list(JOBS))
    parser.add_argument("--reuse-before", action="store_true", help="with --keep: compare with the outputs of --base kept there")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="calt_hf_compare_") as scratch:
        work = args.keep or Path(scratch)
        trees = {"before": base_tree(args.base, Path(scratch) / "base"), "after": ROOT}
        if args.reuse_before and args.keep is None:
            parser.error("--reuse-before needs --keep")
        failed = False
        for name in args.jobs:
            for side, tree in trees.items():
                if side == "before" and args.reuse_before and (work / side / name).is_dir():
                    continue
                cwd = work / "cwd" / name
                shutil.rmtree(cwd, ignore_errors=True)
                cwd.mkdir(parents=True)
                env = environment(tree, cwd)
                assert imported_from(env, cwd).startswith(str(tree)), f"calt_hf does not import from {tree}"
                began = time.monotonic()
                JOBS[name](cwd / "out", cwd, env)
                shutil.rmtree(work / side / name, ignore_errors=True)
                (work / side).mkdir(parents=True, exist_ok=True)
                shutil.move(cwd / "out", work / side / name)
                print(f"{name}: {side} ({args.base if side == 'before' else 'this checkout'}) in {time.monotonic() - began:.0f} s")
            found = differences(work / "before" / name, work / "after" / name)
            count = sum(1 for p in (work / "after" / name).rglob("*") if p.is_file() and ".calt_hf" not in p.parts)
            print(f"{name}: {'identical' if not found else 'DIFFERENT'} ({count} files)")
            for line in found:
                print(f"  {line}")
            failed = failed or bool(found)
        return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
