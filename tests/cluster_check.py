"""Run one generation on a real cluster and compare it byte for byte with loky's (used by test_clusters.py).

    python tests/cluster_check.py {dask,ray} OUT_DIR

Meant to run inside a loopback-only network namespace (``unshare --net`` + ``ip link set lo up``), where
Ray and Dask bind 127.0.0.1 and nothing can leave the machine. Two runs are compared with loky's: first
calt_hf starts a LocalCluster / a local Ray instance itself (``address=None``, the "-local" run), then a
scheduler (head) and workers are started as separate processes, as on a cluster, and the run connects to
them by address. Exits non-zero on any difference.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TESTS = Path(__file__).resolve().parent
sys.path.insert(0, str(TESTS))

from calt_hf.problems import GCDProblem, PolynomialStatistics  # noqa: E402
from calt_hf.sympy import DatasetGenerator, PolynomialSampler  # noqa: E402

SIZES = {"train": 400, "test": 60}
BIN = Path(sys.executable).parent


def run(out: Path, **generator_options) -> dict[str, bytes]:
    sampler = PolynomialSampler("x, y", "GF7", "grevlex", max_degree=3, max_num_terms=4)
    DatasetGenerator(verbose=False, **generator_options).run(
        SIZES, GCDProblem(sampler), PolynomialStatistics(sampler), save_dir=out, batch_size=128, hf_dataset=True
    )
    files = {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    return {name: data for name, data in files.items() if name.endswith((".pkl", ".txt", ".jsonl", ".parquet"))}


def wait_for_port(port: int, timeout: float = 60) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")


def dask_cluster() -> tuple[list[subprocess.Popen], str]:
    env = {**os.environ, "PYTHONPATH": str(TESTS), "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
    scheduler = subprocess.Popen(
        [str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", "8786", "--no-dashboard"], env=env
    )
    wait_for_port(8786)
    workers = subprocess.Popen(
        [str(BIN / "dask"), "worker", "tcp://127.0.0.1:8786", "--nworkers", "2", "--nthreads", "1",
         "--host", "127.0.0.1", "--no-dashboard"],
        env=env,
    )
    return [workers, scheduler], "tcp://127.0.0.1:8786"


def ray_cluster() -> tuple[list[subprocess.Popen], str]:
    subprocess.run(
        [str(BIN / "ray"), "start", "--head", "--port", "6379", "--node-ip-address", "127.0.0.1", "--num-cpus", "2",
         "--include-dashboard", "false", "--disable-usage-stats"],
        check=True, env={**os.environ, "PYTHONPATH": str(TESTS)},
    )
    return [], "127.0.0.1:6379"


def check_unimportable_generator_fails_fast(address: str) -> None:
    """A generator whose module the workers cannot import must fail the run, not hang it."""
    with tempfile.TemporaryDirectory() as private:
        Path(private, "only_here.py").write_text("def generator(seed):\n    return ['1'], '1'\n")
        sys.path.insert(0, private)
        from only_here import generator

        began = time.monotonic()
        try:
            with tempfile.TemporaryDirectory() as out:
                DatasetGenerator(backend="dask", n_jobs=2, address=address, verbose=False).run({"train": 10}, generator, save_dir=out)
        except Exception as error:
            assert "only_here" in f"{error!r} {error.__cause__!r}", repr(error)
        else:
            raise AssertionError("a generator the workers cannot import did not fail the run")
        assert time.monotonic() - began < 120
        print("unimportable generator: failed fast")


def compare(mode: str, expected: dict[str, bytes], out: Path, backend: str, address: str | None) -> None:
    began = time.monotonic()
    actual = run(out / mode, backend=backend, n_jobs=2, address=address)
    print(f"{mode}: {time.monotonic() - began:.1f} s")
    assert sorted(actual) == sorted(expected), (sorted(actual), sorted(expected))
    different = [name for name in expected if actual[name] != expected[name]]
    assert not different, f"{mode} output differs from loky's in {different}"
    print(f"{mode}: identical to loky ({len(expected)} files)")


def main() -> None:
    backend, out = sys.argv[1], Path(sys.argv[2])
    # The head and this driver must agree on Ray's token authentication; in a loopback-only namespace it
    # protects nothing, so both run without it.
    os.environ["RAY_AUTH_MODE"] = "disabled"
    expected = run(out / "loky", backend="loky", n_jobs=2)
    compare(f"{backend}-local", expected, out, backend, None)  # before any head runs: Ray would join it
    processes: list[subprocess.Popen] = []
    try:
        processes, address = dask_cluster() if backend == "dask" else ray_cluster()
        compare(backend, expected, out, backend, address)
        if backend == "dask":
            check_unimportable_generator_fails_fast(address)
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)
        if backend == "ray":
            subprocess.run([str(BIN / "ray"), "stop", "--force"], check=False, capture_output=True)


if __name__ == "__main__":
    main()
