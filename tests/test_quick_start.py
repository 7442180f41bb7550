"""The README's first command as a new user meets it: in a fresh copy of the project's files, with a venv of
its own (a file of its own, so that the suite's two processes run it beside the rest of the README's tests)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import datasets
from conftest import copy_project
from test_readme import fenced_blocks, run_in_bash, scaled, shell_commands


def test_quick_start_sets_up_and_generates_in_a_fresh_copy(tmp_path):
    """The README's first command, in a copy of the project's files, with a venv of its own: this is how a
    new user starts (sizes scaled down)."""
    quick_start = shell_commands(fenced_blocks("bash")[0])
    assert len(quick_start) == 1 and "pip install" in quick_start[0]
    copy = copy_project(tmp_path / "calt_hf")
    env = {key: value for key, value in os.environ.items() if key not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if not p.startswith(str(Path(sys.prefix))))
    env["PIP_NO_COMPILE"] = "1"  # pip's byte-compiling of every installed module is most of the install's CPU; Python compiles on import
    run_in_bash(scaled(quick_start[0]), copy, env)
    [folder] = (copy / "datasets").iterdir()  # sympy_gcd_GF7 at the README's size; other sizes name a folder of their own
    assert folder.name.startswith("sympy_gcd_GF7-")
    loaded = datasets.load_dataset(str(folder))
    assert {split: len(rows) for split, rows in loaded.items()} == {"train": 40, "test": 8}
    no_sage = subprocess.run([str(copy / ".venv" / "bin" / "python"), "-c", "import sage.all__sagemath_singular"],
                             capture_output=True, timeout=60)
    assert no_sage.returncode != 0  # the quick start installs no SageMath
