"""Shared fixtures: small, real generators (module-level, so worker processes can unpickle them)."""

from __future__ import annotations

import random
import shutil
import subprocess
from pathlib import Path

import pytest

from calt_hf.sympy import PolynomialSampler


def integer_sum_generator(seed: int) -> tuple[list[int], int]:
    """CALT's documented example generator: seeds itself, integers only."""
    random.seed(seed)
    problem = [random.randint(1, 1000) for _ in range(random.randint(1, 10))]
    return problem, sum(problem)


def unseeded_generator(seed: int) -> tuple[list[str], str]:
    """Draws from random, SymPy's generator and numpy's without seeding: the core must have seeded them."""
    import numpy as np
    from sympy import randprime

    return [str(random.random()), str(randprime(10, 10**6))], str(np.random.randint(0, 10**9))


def copy_project(destination: Path) -> Path:
    """A copy of the project's tracked files, as a user's clone has them (builds there leave the tree untouched)."""
    root = Path(__file__).resolve().parents[1]
    files = subprocess.run(["git", "ls-files", "-z"], cwd=root, capture_output=True, check=True).stdout.split(b"\0")
    for name in filter(None, (f.decode() for f in files)):
        if (root / name).is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(root / name, destination / name)
    return destination


@pytest.fixture
def gf7_sampler() -> PolynomialSampler:
    return PolynomialSampler("x, y", "GF7", "grevlex", max_degree=3, max_num_terms=4)


def nested_generator(seed: int) -> tuple[list[list[str]], list[str]]:
    """A list of lists (inner lists sometimes empty) and a list that is sometimes empty."""
    rng = random.Random(seed)
    problem = [[str(rng.randint(0, 9)) for _ in range(rng.randint(0, 2))] for _ in range(rng.randint(1, 3))]
    return problem, [str(len(inner)) for inner in problem if inner]


def mixed_generator(seed: int) -> tuple[list, str]:
    """A problem that mixes strings and lists at one level in some samples (needs the Json feature)."""
    rng = random.Random(seed)
    if rng.random() < 0.3:
        return ["a", ["b", "c"]], "mixed"
    return ["a", "b"], "flat"


def logged_generator(seed: int) -> tuple[list[int], int]:
    """integer_sum_generator, a little slower, appending each seed it is called with to $CALT_HF_TEST_LOG
    (and blocking for good on the seeds listed in $CALT_HF_TEST_BLOCK)."""
    import os
    import time

    with open(os.environ["CALT_HF_TEST_LOG"], "a") as log:
        log.write(f"{seed}\n")
    if str(seed) in os.environ.get("CALT_HF_TEST_BLOCK", "").split(","):
        time.sleep(3600)
    time.sleep(0.002)
    return integer_sum_generator(seed)


def failing_generator(seed: int):
    """Fails on about 1 seed in 5 (raises on some, returns None on others), else integer_sum_generator."""
    if seed % 10 == 3:
        raise ArithmeticError(f"bad seed {seed}")
    if seed % 10 == 7:
        return None
    return integer_sum_generator(seed)


def hanging_generator(seed: int):
    """Hangs (a busy Python loop) on about 1 seed in 4."""
    if seed % 4 == 1:
        while True:
            pass
    return integer_sum_generator(seed)


def dying_generator(seed: int):
    """Kills its own worker process on about 1 seed in 50."""
    import os

    if seed % 50 == 11:
        os._exit(1)
    return integer_sum_generator(seed)


class DyingOnceGenerator:
    """Kills its worker the first time it meets a seed with seed % 50 == 11 (a marker file remembers)."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __call__(self, seed: int):
        import os
        from pathlib import Path

        if seed % 50 == 11 and not Path(self.marker).exists():
            Path(self.marker).write_text(str(seed))
            os._exit(1)
        return integer_sum_generator(seed)


def small_space_generator(seed: int) -> tuple[str, str]:
    """Problems drawn from 40 possibilities (so they repeat, and splits share some): 'p7' -> '14'."""
    value = seed % 40
    return f"p{value}", str(2 * value)


def sparse_length_generator(seed: int) -> tuple[str, str]:
    """Problems of 1 to 9 characters, and of 200 for about one seed in 50: lengths with a long empty stretch."""
    length = 200 if seed % 50 == 0 else 1 + seed % 9
    return "p" * length, "s"


def gated_generator(seed: int) -> tuple[list[int], int]:
    """integer_sum_generator, waiting on the seed $CALT_HF_TEST_HOLD_SEED for as long as the file
    $CALT_HF_TEST_HOLD exists (so a test keeps a run busy, holding its folder, as long as it needs), 300 s at
    most: a run whose test died (and so never removes the file nor kills it) ends by itself."""
    import os
    import time
    from pathlib import Path

    if str(seed) == os.environ.get("CALT_HF_TEST_HOLD_SEED"):
        deadline = time.monotonic() + 300
        while Path(os.environ["CALT_HF_TEST_HOLD"]).exists() and time.monotonic() < deadline:
            time.sleep(0.01)
    return integer_sum_generator(seed)


class FailWhileMarked:
    """integer_sum_generator, failing on seed ``seed`` for as long as the file ``marker`` exists: a run
    stopped part-way (its chunks staged) that the same generator then resumes."""

    def __init__(self, marker: str, seed: int) -> None:
        self.marker, self.seed = marker, seed

    def __call__(self, seed: int) -> tuple[list[int], int]:
        from pathlib import Path

        if seed == self.seed and Path(self.marker).exists():
            raise RuntimeError(f"marked seed {seed}")
        return integer_sum_generator(seed)


def disk_filling_generator(seed: int) -> tuple[list[int], int]:
    """integer_sum_generator that, at the seed $CALT_HF_TEST_FILL_SEED, first fills the disk of the file
    $CALT_HF_TEST_FILL up to $CALT_HF_TEST_LEAVE bytes free (as another program filling the disk would)."""
    import os

    if str(seed) == os.environ.get("CALT_HF_TEST_FILL_SEED"):
        path = os.environ["CALT_HF_TEST_FILL"]
        disk = os.statvfs(os.path.dirname(path))
        with open(path, "wb") as filler:
            filler.write(b"\0" * (disk.f_bavail * disk.f_frsize - int(os.environ["CALT_HF_TEST_LEAVE"])))
    return integer_sum_generator(seed)


#: Files that take minutes each (a fresh venv, a dozen command line runs, Ray and Dask clusters), longest first as
#: measured: handed out first (scripts/test.sh turns off xdist's own order, most tests first, which sent the
#: one-test quick start last), so that the two processes spend the last minutes on short files.
LONGEST_FIRST = ("test_quick_start.py", "test_readme.py", "test_run_folder.py", "test_clusters.py", "test_problems.py", "test_stream.py",
                 "test_cli.py", "test_token.py", "test_interrupts.py", "test_nothing_silent_data.py", "test_resilience.py",
                 "test_nothing_silent_errors.py", "test_hub_push.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: place for place, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: each file keeps its order
