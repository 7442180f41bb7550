"""The worker side of a run: turn a chunk of sample indices into encoded rows, statistics and failures.

A run pickles one ``GenerationTask`` (the user's generator, statistics function, backend adapter, output
formats and failure policy) once; each worker loads it once, from a file for local process pools or
with its first chunk elsewhere (``TaskRef``). For every index the worker derives the seed, reseeds the
global generators, calls the generator under an optional time limit, converts the result to strings,
checks it against the formats and encodes it. Under ``on_error="skip"``/``"resample"`` a failing
sample is dropped or retried with derived seeds; the parent fills the gap from the end of the range.
"""

from __future__ import annotations

import gc
import hashlib
import multiprocessing
import os
import pickle
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from time import perf_counter
from typing import Any

from calt_hf.backends import Backend
from calt_hf.conversion import to_strings
from calt_hf.expanded import to_expanded
from calt_hf.hf.survey import TextSurvey
from calt_hf.quality import QualityMeasures, measure, text_rows
from calt_hf.seeding import Reseeder, default_reseeders, derive_seed
from calt_hf.interrupts import RunInterrupted, die_with_parent
from calt_hf.statistics import MemoryEfficientStatisticsCalculator, gather
from calt_hf.timeouts import SampleTimeout
from calt_hf.writer import OutputFormat, check_formats, encode_batch

ProblemGenerator = Callable[[int], tuple[Any, Any]]
ON_ERROR_CHOICES = ("raise", "skip", "resample")
#: Failures kept with their seeds per chunk (and per split in the statistics file).
FIRST_ERRORS = 5


class SampleGenerationError(RuntimeError):
    """A sample could not be generated or converted; names its split, index and seed.

    The original exception is chained as ``__cause__`` (with the worker's traceback behind it).
    """

    def __init__(self, split: str, index: int, seed: int, reason: str, original: BaseException | None = None):
        super().__init__(f"sample {index} of split {split!r} (seed {seed}) failed: {reason}")
        self.split, self.index, self.seed, self.reason, self.original = split, index, seed, reason, original

    def __reduce__(self):
        return type(self), (self.split, self.index, self.seed, self.reason, self.original)


class ResampleRequested(Exception):
    """The generator returned None: it asks for another seed."""


@dataclass(frozen=True)
class GenerationTask:
    """What a worker needs to turn sample indices into encoded rows; pickled once per run."""

    problem_generator: ProblemGenerator
    statistics_calculator: Callable[[Any, Any], Any] | None
    cas: Backend
    reseed: bool  # False for generators that seed whatever they draw from (``seeds_itself``)
    reseed_backend: bool
    root_seed: int
    formats: tuple[OutputFormat, ...]
    keep_rows: bool
    on_error: str = "raise"
    max_retries: int = 3
    sample_timeout: float | None = None
    measure_quality: bool = True
    order_free: bool = False  # the generator's problems are order-free lists (``Problem.order_free``): hash them sorted too
    finish_in_worker: bool = True  # False with dedup: the parent filters the rows, then finishes the chunk
    expanded: bool = False  # also write each sample in the expanded form (calt_hf.expanded), for the Parquet
    survey_mode: str | None = None  # survey the texts for the tokenizer in this number mode (a run that packages)


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


@dataclass
class ChunkResult:
    """A worker's answer for sample indices ``start`` .. ``stop - 1`` of a split.

    ``accepted`` samples made it into ``encoded`` (and ``rows`` when the writer wants them); the others
    were skipped. ``failed`` counts failing attempts (``timed_out`` those that outlived ``sample_timeout``),
    ``resampled`` samples that needed a new seed.
    """

    start: int
    stop: int
    accepted: int
    encoded: dict[str, Any]
    rows: list | None
    statistics: MemoryEfficientStatisticsCalculator
    failed: int = 0
    timed_out: int = 0
    resampled: int = 0
    skipped: int = 0
    first_errors: list[dict[str, Any]] = field(default_factory=list)
    quality: QualityMeasures | None = None
    dropped: int = 0  # repeated problems removed by dedup
    #: Unfinished chunks (``finish_in_worker=False``) carry their raw samples instead of ``encoded``:
    #: rows, runtimes, statistics and (``expanded``) the rows' expanded forms.
    raw: tuple[list, list, list, list | None] | None = None
    survey: TextSurvey | None = None  # what the tokenizer and lexer need of its texts (``GenerationTask.survey_mode``)


def finish_chunk(
    result: ChunkResult, rows: list, runtimes: list, sample_statistics: list, task: GenerationTask, expanded: list | None = None
) -> ChunkResult:
    """Summarise, measure and encode a chunk's accepted samples (in the worker, or after dedup in the parent)."""
    result.accepted = len(rows)
    gathered = gather(sample_statistics)
    result.statistics.update_gathered(runtimes, gathered)
    texts = text_rows(rows) if task.measure_quality or task.survey_mode else None
    result.quality = measure(rows, texts, gathered, task.order_free) if task.measure_quality else None
    if task.survey_mode:
        result.survey = TextSurvey(task.survey_mode)
        result.survey.add(texts, expanded)
    result.encoded = encode_batch(rows, task.formats, expanded)
    result.rows = rows if task.keep_rows else None
    result.raw = None
    return result


def retry_seed(seed: int, attempt: int) -> int:
    """The seed of a sample's ``attempt``-th resample: derived from its own seed alone."""
    return int.from_bytes(hashlib.sha256(f"{seed}_retry_{attempt}".encode()).digest()[:16], "big")


# --- worker side ------------------------------------------------------------------------------------
#: Python's, SymPy's and numpy's generators are process-global: under the threading backend two samples
#: drawing at once would interleave. Each sample's reseed-and-generate holds this (uncontended in worker
#: processes) lock, which keeps threaded runs reproducible.
_GLOBAL_RNG_LOCK = threading.Lock()
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
        reseeders = default_reseeders() + (task.cas.reseeders if task.reseed_backend else ()) if task.reseed else ()
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


def _attempt(task: GenerationTask, reseeders: tuple[Reseeder, ...], seed: int) -> tuple[tuple, Any, float, tuple | None]:
    """One try at a sample: its string row, its statistics, its generation time and (``task.expanded``)
    its expanded row, written from the objects."""
    with _GLOBAL_RNG_LOCK:
        for reseed in reseeders:
            reseed(seed)
        began = perf_counter()
        if task.sample_timeout is None:
            result = task.problem_generator(seed)
        else:
            with task.cas.time_limit(task.sample_timeout):
                result = task.problem_generator(seed)
        runtime = perf_counter() - began
    if result is None:
        raise ResampleRequested("the generator returned None (a request for another seed)")
    if not isinstance(result, (tuple, list)) or len(result) != 2:  # "ab" or {"p": 1, "s": 2} would unpack too
        shown = repr(result)
        raise ValueError(
            f"the generator returned {type(result).__name__} {shown[:80]}{'...' if len(shown) > 80 else ''}; "
            "it must return a (problem, solution) tuple or list of two items (or None for another seed)"
        )
    problem, solution = result
    statistics = task.statistics_calculator(problem, solution) if task.statistics_calculator is not None else None
    row = (to_strings(problem, task.cas, "the problem"), to_strings(solution, task.cas, "the solution"))
    check_formats(*row, task.formats, "the sample")  # to_strings guarantees the nesting
    expanded = (to_expanded(problem, task.cas, "the problem"), to_expanded(solution, task.cas, "the solution")) if task.expanded else None
    return row, statistics, runtime, expanded


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
    """Generate, convert, check and encode samples ``start`` .. ``stop - 1`` of ``split``."""
    if ref.isolated:
        return _run_isolated(ref, split, start, stop)
    task, reseeders = _installed_task(ref)
    attempts = 1 + (task.max_retries if task.on_error == "resample" else 0)
    rows: list = []
    runtimes: list[float] = []
    sample_statistics: list = []
    expanded_rows: list | None = [] if task.expanded else None
    result = ChunkResult(start, stop, 0, {}, None, MemoryEfficientStatisticsCalculator())
    for index in range(start, stop):
        seed = derive_seed(task.root_seed, split, index)
        for attempt in range(attempts):
            attempt_seed = seed if attempt == 0 else retry_seed(seed, attempt)
            try:
                row, statistics, runtime, expanded = _attempt(task, reseeders, attempt_seed)
            except RunInterrupted:  # Ctrl-C or SIGTERM reached a run whose samples run in this process: stop it
                raise
            except BaseException as error:  # sys.exit() or a KeyboardInterrupt raised by a generator fails its sample
                if task.on_error == "raise":
                    raise _failure(split, index, attempt_seed, error) from error
                result.failed += 1
                result.timed_out += isinstance(error, SampleTimeout)
                if len(result.first_errors) < FIRST_ERRORS:
                    result.first_errors.append(
                        {"index": index, "seed": attempt_seed, "attempt": attempt, "error": _describe(error)}
                    )
                continue
            rows.append(row)
            runtimes.append(runtime)
            sample_statistics.append(statistics)
            if expanded_rows is not None:
                expanded_rows.append(expanded)
            result.resampled += attempt > 0
            break
        else:
            result.skipped += 1
    if not task.finish_in_worker:
        result.raw = (rows, runtimes, sample_statistics, expanded_rows)
        return result
    return finish_chunk(result, rows, runtimes, sample_statistics, task, expanded_rows)


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


def _failure(split: str, index: int, seed: int, error: BaseException) -> SampleGenerationError:
    try:
        pickle.dumps(error)
        original: BaseException | None = error
    except Exception:  # an exception that cannot travel back to the parent: keep its text only
        original = None
    reason = _describe(error)
    if isinstance(error, ResampleRequested):
        reason += "; set on_error='resample' to draw another seed"
    return SampleGenerationError(split, index, seed, reason, original)
