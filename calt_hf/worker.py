"""The worker side of the file pipeline: how a pool's workers get the run's task and run its chunks.

A run pickles one ``GenerationTask`` (``calt_hf.produce``) once; each worker loads it once, from a file for
local process pools or with its first chunk elsewhere (``TaskRef``), and turns each chunk of sample indices
into a ``ChunkResult`` with ``produce``. Chunks may run in a child process of the worker (``TaskRef.isolated``),
so that a generator that kills its process loses a worker, not the run.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import pickle
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from calt_hf.interrupts import die_with_parent
from calt_hf.produce import ChunkResult, GenerationTask, produce, task_reseeders
from calt_hf.seeding import Reseeder


@dataclass(frozen=True)
class TaskRef:
    """How a worker finds the run's task: already installed under ``key``, else from ``path`` (a file on
    this machine, read once per worker) or from ``blob`` (for workers on other machines).

    ``isolated``: run chunks in a child process of the worker. Cluster workers (Dask's, Ray's) run tasks
    in threads beside others that draw from Python's global ``random`` (Dask's compression sampling, for
    one), which would make samples that use it irreproducible; a child process has no such neighbours.
    """

    key: str
    path: str | None = None
    blob: bytes | None = None
    isolated: bool = False
    fork: bool = False  # the isolating child is forked from the process that runs the chunk (a local run's)


_installed: dict[str, tuple[GenerationTask, tuple[Reseeder, ...]]] = {}


#: True in the processes calt_hf starts to run chunks (``start_worker``), where the formats may prepare the
#: process (``OutputFormat.prepare_worker``); False in the user's own process (sequential and threading runs).
_own_process = False


def start_worker(parent_pid: int) -> None:
    """Initializer of the processes calt_hf starts to run chunks: they die with ``parent_pid``
    (``interrupts.die_with_parent``) and are this run's alone."""
    global _own_process
    _own_process = True
    die_with_parent(parent_pid)


def worker_pool(n_workers: int, fork: bool, idle_timeout: float | None = None) -> Any:
    """A loky pool of ``n_workers`` processes of calt_hf's own (``start_worker``): forked from this process, or
    fresh interpreters; its workers exit after ``idle_timeout`` idle seconds (None: when it shuts down)."""
    from joblib.externals.loky import ProcessPoolExecutor

    return ProcessPoolExecutor(
        n_workers, timeout=idle_timeout, context=multiprocessing.get_context("fork") if fork else None,
        initializer=start_worker, initargs=(os.getpid(),),
    )


def install_task(key: str, blob: bytes) -> None:
    """Unpickle a run's task once in this process."""
    if key not in _installed:
        _installed.clear()  # one run at a time per process: drop the previous run's generator
        task: GenerationTask = pickle.loads(blob)
        if _own_process:
            for fmt in task.formats:
                fmt.prepare_worker()
        reseeders = task_reseeders(task)
        _installed[key] = (task, reseeders)
        if _own_process:
            # What the worker holds now (Python, SymPy or Sage, the task) lives as long as the worker: frozen, the
            # collector stops scanning its ~100k-170k objects in the full collections that every chunk's
            # allocations trigger (Sage sum: 263 -> 243 us a sample).
            gc.freeze()


def _installed_task(ref: TaskRef) -> tuple[GenerationTask, tuple[Reseeder, ...]]:
    if ref.key not in _installed:
        install_task(ref.key, ref.blob if ref.blob is not None else Path(ref.path).read_bytes())
    return _installed[ref.key]


#: This process's isolating child: its one-process loky pool, and whether that child was forked.
_isolation: tuple[Any, bool] | None = None


def _run_isolated(ref: TaskRef, split: str, start: int, stop: int) -> ChunkResult:
    """Run the chunk in this process's one-process loky pool (its own, not the reusable one joblib manages);
    a pool broken by a dead child, or one started the other way (``ref.fork``), is replaced. A local run's
    child is forked (``scheduling.forks``); a cluster worker's starts afresh (Ray's and Dask's threads are no
    state to fork)."""
    global _isolation

    from joblib.externals.loky.process_executor import BrokenProcessPool, ShutdownExecutorError

    if multiprocessing.current_process().daemon:
        raise RuntimeError(
            "this cluster worker is a daemon process and cannot start the child process that keeps samples "
            "reproducible; start Dask workers with DASK_DISTRIBUTED__WORKER__DAEMON=False"
        )
    call = (generate_chunk, replace(ref, isolated=False), split, start, stop)
    if _isolation is not None and _isolation[1] != ref.fork:
        stop_isolated_child()
    for fresh in (False, True):
        if fresh or _isolation is None:
            _isolation = (worker_pool(1, ref.fork, idle_timeout=600), ref.fork)
        try:
            future = _isolation[0].submit(*call)
        except (BrokenProcessPool, ShutdownExecutorError, RuntimeError):
            continue  # broken by the previous chunk's dead child: make a new one
        return future.result()
    raise RuntimeError("could not start the process that runs the samples")


def stop_isolated_child() -> None:
    """End this process's isolating child, if any: at the end of a local run, since a forked child holds what
    the run held when it was forked (its memory, its open files) for as long as it lives."""
    global _isolation
    if _isolation is not None:
        _isolation[0].shutdown(wait=True)
        _isolation = None


def generate_chunk(ref: TaskRef, split: str, start: int, stop: int) -> ChunkResult:
    """``produce`` samples ``start`` .. ``stop - 1`` of ``split`` with the run's task (in the isolating child, if any)."""
    if ref.isolated:
        return _run_isolated(ref, split, start, stop)
    task, reseeders = _installed_task(ref)
    return produce(task, split, start, stop, reseeders)
