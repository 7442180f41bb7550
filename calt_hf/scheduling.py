"""Where chunks run: a joblib ``Parallel`` for the chosen backend, and how to read its results.

Everything goes through joblib: a process pool (CALT's ``"multiprocessing"``: workers forked from the run on
Linux, ``ForkedPoolBackend``; ``"loky"``: joblib's loky, fresh interpreters), threads, or a cluster through
joblib's Dask backend (``distributed.Client``, a ``LocalCluster`` on 127.0.0.1 when no address is
given) or Ray's (``ray.util.joblib``). A ``Pool`` also says how workers get the run's task (installed
in this process, a file on this machine, or bytes with each chunk) and which errors mean a worker died.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib
from joblib._parallel_backends import ParallelBackendBase

from calt_hf.worker import start_worker, stop_isolated_child, worker_pool

logger = logging.getLogger(__name__)
# A run that stops early (a failing sample, a full disk, a signal) drops its queued chunks on purpose; joblib
# would advise about it on stderr, after the run's own one-line message.
warnings.filterwarnings("ignore", message=r".*tasks (which were still being processed by the workers have been cancelled|have been successfully executed +but not used)")

IN_PROCESS = frozenset({"threading", "sequential"})
LOCAL_PROCESSES = frozenset({"loky", "multiprocessing"})
CLUSTERS = frozenset({"dask", "ray"})
#: Seconds of work a chunk should hold. A cluster's task costs a scheduler round trip and a child process
#: hand-off (``worker.TaskRef.isolated``): at 0.1 s a chunk, Dask ran GCD at 0.61-0.74 of loky, at 0.5 s at
#: 0.82-1.10 (same LocalCluster, runs alternating). Against loky's forked workers: 0.82-0.88 at 0.5 s, 0.93-0.95
#: at 1.0 s; a local Ray 0.72-0.76 and 0.69 (its runs vary that much). A local pool's task costs the parent
#: about 2 ms of CPU (loky's threads 0.4 ms, staging the chunk's file, merging its measures): at 0.1 s a chunk,
#: 10 us a GCD sample; at 0.25 s, 5-6 us. Chunks shrink towards the end of a window (``engine._ChunkPlanner``).
LOCAL_CHUNK_SECONDS = 0.25
CLUSTER_CHUNK_SECONDS = 1.0


def known_backends() -> set[str]:
    """joblib's registered backends, plus the cluster backends calt_hf sets up itself."""
    from joblib.parallel import BACKENDS

    return set(BACKENDS) | CLUSTERS


@dataclass
class Pool:
    """An open joblib ``Parallel`` and what the core needs to know about it."""

    make_parallel: Callable[[], joblib.Parallel]
    n_workers: int
    in_process: bool  # chunks run in this process (threads, sequential): no worker to lose
    isolated: bool  # each chunk runs in a child process of the worker (see worker.TaskRef)
    local_files: bool
    forks: bool  # workers (or the isolating child) are forked from this process
    streams: bool  # ordered results as they complete (else: a list per window)
    worker_lost: tuple[type[BaseException], ...]
    chunk_seconds: float  # work per chunk: long enough to hide a task's round trip, short for balance
    parallel: joblib.Parallel | None = None

    def map(self, function, calls: Iterator[tuple]) -> Iterator:
        """Results of ``function(*call)`` for each call, in order."""
        if self.parallel is None:
            self.parallel = self.make_parallel().__enter__()
        return iter(self.parallel(joblib.delayed(function)(*call) for call in calls))

    def reset(self) -> None:
        """Drop the ``Parallel`` (after a worker died, its state is not to be trusted); the next map makes a new one."""
        if self.parallel is not None:
            self.parallel.__exit__(None, None, None)
            self.parallel = None


def _lost_worker_errors(backend: str) -> tuple[type[BaseException], ...]:
    """The errors by which ``backend`` says a worker died: loky's (every process pool, and the child process
    a cluster worker runs its chunks in), and the cluster's own. Only the backend in use is imported:
    importing Dask and Ray costs 1.5 s, which a loky run has no reason to pay."""
    from joblib.externals.loky.process_executor import TerminatedWorkerError

    errors: list[type[BaseException]] = [TerminatedWorkerError]
    if backend == "dask":
        from distributed.scheduler import KilledWorker

        errors.append(KilledWorker)
    elif backend == "ray":
        from ray.exceptions import RayActorError, WorkerCrashedError

        errors += [RayActorError, WorkerCrashedError]
    return tuple(errors)


def _dask_client(address: str | None, n_jobs: int, stack: ExitStack):
    try:
        from distributed import Client, LocalCluster
    except ImportError as error:
        raise ImportError('parallel.backend=dask needs Dask distributed: pip install "calt_hf[dask]"') from error
    if address:
        return stack.enter_context(Client(address, timeout=60))
    import dask

    workers = joblib.cpu_count() if n_jobs < 0 else n_jobs
    # Non-daemon workers may start the child process each one runs its chunks in (see worker.TaskRef).
    with dask.config.set({"distributed.worker.daemon": False}):
        cluster = stack.enter_context(
            LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
            )
        )
    return stack.enter_context(Client(cluster))


def _ray_init(address: str | None, n_jobs: int, stack: ExitStack) -> int:
    try:
        import ray
        from ray.util.joblib import register_ray
    except ImportError as error:
        raise ImportError('parallel.backend=ray needs Ray: pip install "calt_hf[ray]"') from error
    register_ray()
    if not ray.is_initialized():
        if address:
            ray.init(address=address, include_dashboard=False, log_to_driver=False)
        else:
            # A stale /tmp/ray/ray_current_cluster makes a local init try to join a dead cluster.
            Path("/tmp/ray/ray_current_cluster").unlink(missing_ok=True)
            cpus = None if n_jobs < 0 else n_jobs
            ray.init(num_cpus=cpus, include_dashboard=False, log_to_driver=False, _node_ip_address="127.0.0.1")
        stack.callback(ray.shutdown)
    return int(ray.cluster_resources().get("CPU", 1))


#: Where worker processes are forked from the run: they then start with everything it has imported (SymPy or
#: Sage, the task's modules) instead of importing it again in a fresh interpreter (0.9-1.4 s of CPU a worker).
#: Not on macOS, whose system libraries are not fork-safe, nor where ``os.fork`` does not exist.
FORK_WORKERS = sys.platform.startswith("linux")


class ForkedPoolBackend(ParallelBackendBase):
    """A joblib backend over a loky pool of the run's own: workers forked from this process when the run's
    ``Parallel`` opens, stopped when it closes. joblib's loky backend (a reusable executor) starts fresh
    interpreters, which must import Python's world again before their first sample; a forked worker holds
    it already. loky still watches the workers: one that dies raises ``TerminatedWorkerError``."""

    supports_retrieve_callback = True  # ordered results as they complete (return_as="generator")

    def effective_n_jobs(self, n_jobs: int) -> int:
        return joblib.effective_n_jobs(n_jobs)  # loky's answer (1 in a daemon process or a non-main thread)

    def configure(self, n_jobs: int = 1, parallel: joblib.Parallel | None = None, **_: object) -> int:
        n_jobs = self.effective_n_jobs(n_jobs)
        self._workers = worker_pool(n_jobs, fork=True)
        self.parallel = parallel
        return n_jobs

    def submit(self, func: Callable, callback: Callable | None = None):
        future = self._workers.submit(func)
        if callback is not None:
            future.add_done_callback(callback)
        return future

    def retrieve_result_callback(self, future) -> Any:
        return future.result()

    def terminate(self) -> None:
        if self._workers is not None:
            self._workers.shutdown(wait=True)
            self._workers = None

    def abort_everything(self, ensure_ready: bool = True) -> None:
        self._workers.shutdown(wait=True, kill_workers=True)
        self._workers = None
        if ensure_ready:
            self.configure(n_jobs=self.parallel.n_jobs, parallel=self.parallel)


def forks(backend: str) -> bool:
    """Whether ``backend``'s workers are forked from the run: CALT's ``"multiprocessing"`` on Linux. ``"loky"``
    keeps joblib's meaning, fresh interpreters, for a process that must not be forked (one that holds a GPU
    context, or threads in the middle of their work)."""
    return backend == "multiprocessing" and FORK_WORKERS


def _parallel(backend: str, n_jobs: int, n_workers: int, streams: bool) -> joblib.Parallel:
    """The ``joblib.Parallel`` of a run. Local workers ignore the terminal's Ctrl-C and die with this process
    (``worker.start_worker``); joblib runs n_jobs=1 in this process (the chunks then go to a
    one-process pool, ``TaskRef.isolated``, so that a segfault or os._exit in the generator loses a worker,
    not the run)."""
    # joblib's multiprocessing pool neither streams results in order nor notices a dead worker: loky's does
    chosen: Any = None if backend == "dask" else "loky" if backend == "multiprocessing" else backend
    worker_setup: dict[str, Any] = {}
    if backend in LOCAL_PROCESSES and n_workers > 1:
        if forks(backend):
            chosen = ForkedPoolBackend()
        else:
            worker_setup = {"initializer": start_worker, "initargs": (os.getpid(),)}
    return joblib.Parallel(
        n_jobs=n_workers if backend in CLUSTERS else n_jobs,
        backend=chosen,
        return_as="generator" if streams else "list",
        batch_size=1,
        pre_dispatch="2 * n_jobs",
        **worker_setup,
    )


def capped_n_jobs(backend: str, n_jobs: int, address: str | None = None) -> int:
    """``n_jobs``, or the cores available to this process (``joblib.cpu_count``: its CPU affinity and cgroup
    quota) when it asks for more workers than that on this machine, with a warning: more processes than
    cores only take memory and start-up time, and the output is the same for any ``n_jobs``. Negative values
    (-1: all cores) and a cluster at an ``address`` are left to joblib and the cluster."""
    if n_jobs < 0 or address is not None or backend == "sequential":
        return n_jobs
    cores = joblib.cpu_count()
    if n_jobs <= cores:
        return n_jobs
    logger.warning("n_jobs=%d is more than the %d cores available here: running %d workers (more would only take "
                   "memory; the output is the same for any n_jobs)", n_jobs, cores, cores)
    return cores


@contextmanager
def open_pool(backend: str, n_jobs: int, address: str | None = None) -> Iterator[Pool]:
    """A joblib ``Parallel`` for ``backend`` that stays up for a whole run (and is shut down after); ``n_jobs`` is
    capped at the cores available (``capped_n_jobs``)."""
    n_jobs = capped_n_jobs(backend, n_jobs, address)
    with ExitStack() as stack:
        if backend == "dask":
            client = _dask_client(address, n_jobs, stack)
            n_workers = sum(w.get("nthreads", 1) for w in client.scheduler_info()["workers"].values()) or 1
            stack.enter_context(joblib.parallel_config("dask", n_jobs=n_workers))
        elif backend == "ray":
            n_workers = _ray_init(address, n_jobs, stack)
        else:
            n_workers = 1 if backend == "sequential" else joblib.effective_n_jobs(n_jobs)
        streams = backend != "ray"  # Ray's joblib backend is a multiprocessing pool: no ordered streaming
        pool = Pool(
            make_parallel=lambda: _parallel(backend, n_jobs, n_workers, streams),
            n_workers=n_workers,
            in_process=backend in IN_PROCESS,
            isolated=backend in CLUSTERS or n_workers == 1,
            local_files=backend in LOCAL_PROCESSES,
            forks=forks(backend),
            streams=streams,
            worker_lost=_lost_worker_errors(backend),
            chunk_seconds=CLUSTER_CHUNK_SECONDS if backend in CLUSTERS else LOCAL_CHUNK_SECONDS,
        )
        stack.callback(pool.reset)
        if pool.isolated and pool.forks:  # n_jobs=1 here: its forked child is this run's alone, as a pool's workers are
            stack.callback(stop_isolated_child)
        yield pool
