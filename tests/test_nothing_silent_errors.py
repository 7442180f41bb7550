"""Every path ends with correct data or a clear refusal (issue 29): damaged state files, foreign or broken
inputs to packaging, folders that cannot be written, a disk that fills, generators that raise what is not an
Exception or return strings no file can hold. Each is taken the way a user meets it: the command line or a
script in a fresh interpreter, on real files."""

from __future__ import annotations

import json
import os
import pickle
import re
import shlex
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from calt_hf.seeding import derive_seed

TESTS = Path(__file__).resolve().parent
SMALL = ["problem=sum", "dataset_sizes={train: 40, test: 10}", "parallel.n_jobs=1", "verbose=false"]


def generate(*words: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "calt_hf.generate", *words], cwd=cwd, capture_output=True, text=True,
                          timeout=300, env=env)


def run_script(code: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=cwd, capture_output=True, text=True, timeout=300)


# --- package_dataset on files from elsewhere -------------------------------------------------------------------------
GOOD_LINE = '{"problem": ["x + 1", "x"], "solution": "1"}\n'

#: A split's file, what is wrong in it, and what the error must say (the file, the line or sample, the fault).
BROKEN_INPUTS = {
    "bad JSON line": ("train_data.jsonl", (GOOD_LINE + '{"problem": "x", "solution": }\n').encode(),
                      "train_data.jsonl line 2 is not JSON (Expecting value at column 30)"),
    "binary garbage": ("train_data.jsonl", GOOD_LINE.encode() + b"\x89PNG\r\n\x1a\n\x00\x00",
                       "train_data.jsonl line 2 is not UTF-8 text (invalid start byte at byte 0)"),
    "missing key": ("train_data.jsonl", (GOOD_LINE * 2 + '{"problem": "x"}\n').encode(),
                    "train_data.jsonl line 3 has no 'solution'"),
    "three levels": ("train_data.jsonl", (GOOD_LINE + '{"problem": [["a", ["b"]]], "solution": "c"}\n').encode(),
                     "train_data.jsonl line 2: the problem is nested deeper than 2 levels"),
    "truncated pickle": ("train_data.pkl", pickle.dumps([("a", "b")] * 20, protocol=2)[:-9],
                         "train_data.pkl cannot be read as a split's pickle (pickle data was truncated); give the split "
                         "as JSON Lines (train_data.jsonl) instead"),
    "pickle of no samples": ("train_data.pkl", pickle.dumps([("a", "b"), ("c",)], protocol=2),
                             "train_data.pkl sample 1 is not a (problem, solution) pair"),
}

PACKAGE_EACH = """
import sys
from pathlib import Path
from calt_hf.hf.package import package_dataset
for folder in sorted(Path(sys.argv[1]).iterdir()):
    try:
        package_dataset(folder)
        print(folder.name, "packaged")
    except ValueError as error:
        print(folder.name, "refused:", error)
    assert not list(folder.glob("data/*")), "a refused split left shards"
"""


def test_package_dataset_names_the_file_and_line_of_what_is_not_a_sample(tmp_path):
    for case, (name, data, _) in BROKEN_INPUTS.items():
        (tmp_path / "in" / case).mkdir(parents=True)
        (tmp_path / "in" / case / name).write_bytes(data)
    result = subprocess.run([sys.executable, "-c", PACKAGE_EACH, str(tmp_path / "in")], cwd=tmp_path, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    said = dict(line.split(" refused: ", 1) for line in result.stdout.splitlines() if " refused: " in line)
    for case, (_, _, expected) in BROKEN_INPUTS.items():
        assert said.get(case, "").startswith(f"{tmp_path / 'in' / case}/{expected}"), (case, said.get(case))


def test_a_pickle_from_elsewhere_runs_no_code_when_packaged(tmp_path):
    """A folder holding only a pickle whose unpickling would create a marker file (any code could run there)."""
    marker = tmp_path / "marker"

    class Payload:
        def __reduce__(self):
            return os.system, (f"touch {marker}",)

    folder = tmp_path / "foreign"
    folder.mkdir()
    (folder / "train_data.pkl").write_bytes(pickle.dumps([("x", "1"), Payload()], protocol=2))
    result = run_script(f"""
        from calt_hf.hf.package import package_dataset
        package_dataset({str(folder)!r})
    """, tmp_path)
    assert result.returncode == 1
    assert (f"ValueError: {folder}/train_data.pkl cannot be read as a split's pickle (it names posix.system, which a "
            "dataset's pickle never does (nothing was called))") in result.stderr
    assert not marker.exists()
    assert not list(folder.glob("data/*")) and not (folder / "README.md").exists()


def test_a_calt_pickle_alone_is_packaged_and_splits_of_different_nesting_share_a_json_feature(tmp_path):
    """A CALT folder with only pickles still packages (its pickle holds data only); a split of strings beside one
    mixing strings and lists becomes one Json feature, and the rows read back are the ones written."""
    folder = tmp_path / "calt"
    folder.mkdir()
    train = [("x + 1", "1"), ("x^2", "x")]
    test = [(["a", ["b", "c"]], "mixed"), (["d"], "flat")]
    for split, samples in (("train", train), ("test", test)):
        (folder / f"{split}_data.pkl").write_bytes(pickle.dumps(samples, protocol=2))
    result = run_script(f"""
        import json
        from calt_hf.hf.package import load_dataset_dict, package_dataset
        package_dataset({str(folder)!r})
        dataset = load_dataset_dict({str(folder)!r})
        print(json.dumps({{split: [[row["problem"], row["solution"]] for row in dataset[split]] for split in dataset}}))
    """, tmp_path)
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout.splitlines()[-1])
    assert rows == {"train": [list(sample) for sample in train], "test": [list(sample) for sample in test]}
