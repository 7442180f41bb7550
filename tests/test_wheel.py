"""The project as pip builds it for a user who installs it without ``-e`` (``pip install .``, a wheel on an index):
every module of the source tree and every config file is in the wheel (``pyproject.toml`` lists its packages by
hand, because ``conf/`` and ``dataset_cards/`` are mapped into ``calt_hf``; a package missing from the list is
missing from every non-editable install)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from conftest import copy_project

ROOT = Path(__file__).resolve().parents[1]


def test_the_wheel_holds_every_module_and_config_file(tmp_path):
    source = copy_project(tmp_path / "calt_hf")
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", str(source), "-w", str(tmp_path)],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    [wheel] = tmp_path.glob("calt_hf-*.whl")
    packed = set(zipfile.ZipFile(wheel).namelist())
    expected = {path.relative_to(ROOT).as_posix() for path in (ROOT / "calt_hf").rglob("*.py")}
    expected |= {f"calt_hf/conf/{path.relative_to(ROOT / 'conf').as_posix()}" for path in (ROOT / "conf").rglob("*.yaml")}
    expected |= {f"calt_hf/dataset_cards/{path.name}" for path in (ROOT / "dataset_cards").glob("*.md")}
    assert expected - packed == set()
