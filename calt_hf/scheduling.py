"""Where chunks run: a joblib ``Parallel`` for the chosen backend, and how to read its results.

Everything goes through joblib: its own process pool (loky; CALT's ``"multiprocessing"`` maps to it,
since joblib's multiprocessing pool cannot stream ordered results), threads, or a cluster through
joblib's Dask backend (``distributed.Client``, a ``LocalCluster`` on 127.0.0.1 when no address is
given) or Ray's (``ray.util.joblib``). A ``Pool`` also says how workers get the run's task (installed
in this process, a file on this machine, or bytes with each chunk) and which errors mean a worker died.
"""

from __future__ import annotations

import importlib
import logging
import os
import warnings
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import joblib

from calt_hf.worker import start_worker

logger = logging.getLogger(__name__)
# A run that stops early (a failing sample, a full disk, a signal) drops its queued chunks on purpose; joblib
# would advise about it on stderr, after the run's own one-line message.
warnings.filterwarnings("ignore", message=r".*tasks (which were still being processed by the workers have been cancelled|have been successfully executed +but not used)")

IN_PROCESS = frozenset({"threading", "sequential"})
LOCAL_PROCESSES = frozenset({"loky", "multiprocessing"})
CLUSTERS = frozenset({"dask", "ray"})
#: Seconds of work a chunk should hold. A cluster's task costs a scheduler round trip and a child process
#: hand-off (``worker.TaskRef.isolated``): at 0.1 s a chunk, Dask ran GCD at 0.61-0.74 of loky, at 0.5 s at
#: 0.82-1.10 (same LocalCluster, runs alternating).
LOCAL_CHUNK_SECONDS = 0.1
CLUSTER_CHUNK_SECONDS = 0.5


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


def _parallel(backend: str, n_jobs: int, n_workers: int, streams: bool) -> joblib.Parallel:
    """The ``joblib.Parallel`` of a run. Loky workers ignore the terminal's Ctrl-C and die with this process
    (``worker.start_worker``); joblib runs n_jobs=1 in this process (the chunks then go to a
    one-process pool, ``TaskRef.isolated``, so that a segfault or os._exit in the generator loses a worker,
    not the run)."""
    worker_setup = {"initializer": start_worker, "initargs": (os.getpid(),)} if backend == "loky" and n_workers > 1 else {}
    return joblib.Parallel(
        n_jobs=n_workers if backend in CLUSTERS else n_jobs,
        backend=None if backend == "dask" else backend,
        return_as="generator" if streams else "list",
        batch_size=1,
        pre_dispatch="2 * n_jobs",
        **worker_setup,
    )


def _import_modules(modules: tuple[str, ...]) -> None:
    for module in modules:
        importlib.import_module(module)


_warming: Iterator | None = None  # the warm-up's results, consumed by the run that uses its workers


def warm_process_pool(n_jobs: int, modules: tuple[str, ...] = ("calt_hf.worker",)) -> None:
    """Start the loky workers of a run with ``n_jobs`` now, each importing ``modules``, and return at once, so
    that the run (``open_pool("loky", n_jobs)``, which first collects this warm-up) finds them ready instead
    of paying their start (~0.7 s of Python start and imports here, seconds with SageMath) before its first
    sample.

    The command line calls this before Hydra composes the configuration, so the workers start on the cores
    the parent's own start leaves idle. It is a ``joblib.Parallel`` made exactly as the run's, so joblib
    keeps its reusable executor for the run (a pool of another size or backend replaces it). Called from
    the main thread: workers get their parent-death signal from the thread that starts them.
    """
    global _warming
    n_workers = joblib.effective_n_jobs(n_jobs)
    if n_workers < 2 or _warming is not None:
        return
    parallel = _parallel("loky", n_jobs, n_workers, streams=True)
    _warming = parallel(joblib.delayed(_import_modules)(modules) for _ in range(n_workers))


def cancel_warm_up() -> None:
    """Stop warmed-up workers no run took (a refused configuration): joblib aborts the warm-up and kills them,
    rather than the exit waiting for their imports."""
    global _warming
    if _warming is not None:
        warming, _warming = _warming, None
        warming.close()


def _collect_warm_up() -> None:
    """Two ``joblib.Parallel`` never share the executor at once: a run starts once the warm-up is done."""
    global _warming
    if _warming is not None:
        warming, _warming = _warming, None
        for _ in warming:
            pass


@contextmanager
def open_pool(backend: str, n_jobs: int, address: str | None = None) -> Iterator[Pool]:
    """A joblib ``Parallel`` for ``backend`` that stays up for a whole run (and is shut down after)."""
    backend = "loky" if backend == "multiprocessing" else backend
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
        _collect_warm_up()
        pool = Pool(
            make_parallel=lambda: _parallel(backend, n_jobs, n_workers, streams),
            n_workers=n_workers,
            in_process=backend in IN_PROCESS,
            isolated=backend in CLUSTERS or n_workers == 1,
            local_files=backend in LOCAL_PROCESSES,
            streams=streams,
            worker_lost=_lost_worker_errors(backend),
            chunk_seconds=CLUSTER_CHUNK_SECONDS if backend in CLUSTERS else LOCAL_CHUNK_SECONDS,
        )
        stack.callback(pool.reset)
        yield pool
