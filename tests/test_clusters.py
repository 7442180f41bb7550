"""Dask and Ray through joblib: the same output as loky, on real clusters in a loopback-only namespace.

Each check runs ``tests/cluster_check.py`` under ``unshare --net`` (a private network namespace whose
only interface is loopback; CI runs as root), so Ray binds 127.0.0.1 instead of advertising the machine's
outside address, and no scheduler, worker or head can be reached from, or reach, anything else.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

CHECK = Path(__file__).resolve().parent / "cluster_check.py"


def in_loopback_namespace(backend: str, out: Path) -> subprocess.CompletedProcess:
    inner = f"ip link set lo up && exec {sys.executable} {CHECK} {backend} {out}"
    return subprocess.run(["unshare", "--net", "sh", "-c", inner], capture_output=True, text=True, timeout=600)


@pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("unshare"), reason="a private network namespace needs root and unshare (CI has both)"
)
@pytest.mark.parametrize("backend", ["dask", "ray"])
def test_cluster_output_is_identical_to_loky(tmp_path, backend):
    """A cluster calt_hf starts itself, then one started apart and reached by address."""
    result = in_loopback_namespace(backend, tmp_path)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-6000:]
    for mode in (f"{backend}-local", backend):
        assert f"{mode}: identical to loky" in result.stdout
    if backend == "dask":
        assert "unimportable generator: failed fast" in result.stdout
