"""The generation core shared by every backend: splits, chunks, windows of tasks, ordering, failures.

A run pickles one ``GenerationTask`` (the user's generator, statistics function, backend adapter and
output formats) once; each worker loads it once (from a file for local process pools, which then stay
alive across runs, or with its first chunk elsewhere). Work is then a stream of chunks of sample indices. A worker turns a chunk
into encoded file bytes and a statistics summary; the parent appends the bytes in index order and merges
the summaries. Tasks go out in windows of ``batch_size`` samples, so at most one window of results is
ever held in memory, whatever the relative speed of workers and writer. Chunk sizes adapt to the
measured cost of a sample; the output does not depend on them, nor on ``n_jobs`` or the joblib backend,
because every sample's seed is derived from (root seed, split, index) alone.
"""

from __future__ import annotations

import hashlib
import logging
import math
import pickle
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from time import perf_counter
from typing import Any, ClassVar

import cloudpickle
import joblib
from tqdm.auto import tqdm

from calt_hf.conversion import Backend, to_strings
from calt_hf.hf.description import DatasetDescription
from calt_hf.sampling import check_int
from calt_hf.seeding import Reseeder, default_reseeders, derive_seed
from calt_hf.statistics import MemoryEfficientStatisticsCalculator
from calt_hf.writer import DatasetWriter, OutputFormat, check_formats, encode_batch, validate_tag

logger = logging.getLogger(__name__)

ProblemGenerator = Callable[[int], tuple[Any, Any]]

#: joblib backends that run tasks in this process: the task is installed here, not shipped.
_IN_PROCESS_BACKENDS = frozenset({"threading", "sequential"})
#: joblib backends whose workers share this machine's file system: they read the task from a file.
_LOCAL_PROCESS_BACKENDS = frozenset({"loky", "multiprocessing"})
#: Seconds of work a chunk should hold: long enough to make per-task overhead negligible, short enough
#: for smooth progress and load balance.
_TARGET_CHUNK_SECONDS = 0.1
_MAX_CHUNK = 4096
_FIRST_CHUNK = 8


class SampleGenerationError(RuntimeError):
    """A sample could not be generated or converted; names its split, index and seed.

    The original exception is chained as ``__cause__`` (with the worker's traceback behind it).
    """

    def __init__(self, split: str, index: int, seed: int, reason: str, original: BaseException | None = None):
        super().__init__(f"sample {index} of split {split!r} (seed {seed}) failed: {reason}")
        self.split, self.index, self.seed, self.reason, self.original = split, index, seed, reason, original

    def __reduce__(self):
        return type(self), (self.split, self.index, self.seed, self.reason, self.original)


@dataclass(frozen=True)
class GenerationTask:
    """What a worker needs to turn sample indices into encoded rows; pickled once per run."""

    problem_generator: ProblemGenerator
    statistics_calculator: Callable[[Any, Any], Any] | None
    cas: Backend
    reseed_backend: bool
    root_seed: int
    formats: tuple[OutputFormat, ...]
    keep_rows: bool


@dataclass
class ChunkResult:
    """A worker's answer for samples ``start`` .. ``stop - 1`` of a split."""

    start: int
    stop: int
    encoded: dict[str, bytes]
    rows: list | None
    statistics: MemoryEfficientStatisticsCalculator


@dataclass(frozen=True)
class TaskRef:
    """How a worker finds the run's task: already installed under ``key``, else from ``path`` (a file on
    this machine, read once per worker) or from ``blob`` (for workers on other machines)."""

    key: str
    path: str | None = None
    blob: bytes | None = None


# --- worker side ------------------------------------------------------------------------------------
#: Python's, SymPy's and numpy's generators are process-global: under the threading backend two samples
#: drawing at once would interleave. Each sample's reseed-and-generate holds this (uncontended in worker
#: processes) lock, which keeps threaded runs reproducible.
_GLOBAL_RNG_LOCK = threading.Lock()
_installed: dict[str, tuple[GenerationTask, tuple[Reseeder, ...]]] = {}


def install_task(key: str, blob: bytes) -> None:
    """Unpickle a run's task once in this process."""
    if key not in _installed:
        _installed.clear()  # one run at a time per process: drop the previous run's generator
        task: GenerationTask = pickle.loads(blob)
        _installed[key] = (task, default_reseeders() + (task.cas.reseeders if task.reseed_backend else ()))


def _installed_task(ref: TaskRef) -> tuple[GenerationTask, tuple[Reseeder, ...]]:
    if ref.key not in _installed:
        install_task(ref.key, ref.blob if ref.blob is not None else Path(ref.path).read_bytes())
    return _installed[ref.key]


def generate_chunk(ref: TaskRef, split: str, start: int, stop: int) -> ChunkResult:
    """Generate, convert, check and encode samples ``start`` .. ``stop - 1`` of ``split``."""
    task, reseeders = _installed_task(ref)
    rows: list = []
    runtimes: list[float] = []
    sample_statistics: list = []
    for index in range(start, stop):
        seed = derive_seed(task.root_seed, split, index)
        try:
            with _GLOBAL_RNG_LOCK:
                for reseed in reseeders:
                    reseed(seed)
                began = perf_counter()
                problem, solution = task.problem_generator(seed)
                runtimes.append(perf_counter() - began)
            if task.statistics_calculator is not None:
                sample_statistics.append(task.statistics_calculator(problem, solution))
            row = (to_strings(problem, task.cas, "the problem"), to_strings(solution, task.cas, "the solution"))
            check_formats(*row, task.formats, "the sample")  # to_strings guarantees the nesting
        except Exception as error:
            raise _failure(split, index, seed, error) from error
        rows.append(row)
    statistics = MemoryEfficientStatisticsCalculator()
    statistics.update_batch(runtimes, sample_statistics)
    return ChunkResult(start, stop, encode_batch(rows, task.formats), rows if task.keep_rows else None, statistics)


def _failure(split: str, index: int, seed: int, error: Exception) -> SampleGenerationError:
    try:
        pickle.dumps(error)
        original: BaseException | None = error
    except Exception:  # an exception that cannot travel back to the parent: keep its text only
        original = None
    return SampleGenerationError(split, index, seed, f"{type(error).__name__}: {error}", original)


# --- parent side ------------------------------------------------------------------------------------
def validate_dataset_sizes(dataset_sizes: Any) -> dict[str, int]:
    """Check ``dataset_sizes``: a non-empty dict of valid split names to positive integers."""
    if not isinstance(dataset_sizes, Mapping):
        raise ValueError(f"dataset_sizes must be a dictionary of split name to sample count, got {type(dataset_sizes).__name__}")
    if not dataset_sizes:
        raise ValueError("dataset_sizes cannot be empty: give at least one split, e.g. {'train': 1000}")
    for split, size in dataset_sizes.items():
        validate_tag(split)
        if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
            raise ValueError(f"Number of samples must be a positive integer, got {size!r} for {split}")
    return dict(dataset_sizes)


def _known_joblib_backends() -> set[str]:
    from joblib.parallel import BACKENDS

    return set(BACKENDS)


class DatasetGenerator:
    """Generates datasets of (problem, solution) pairs in parallel, reproducibly, with statistics.

    ``backend`` is a joblib backend name (``"loky"``, ``"threading"``, ``"sequential"``, ...).
    ``"multiprocessing"``, CALT's default, runs on loky's process pool: joblib's multiprocessing pool
    cannot stream results back in order, which bounded memory and busy workers need. Before each
    sample, Python's, SymPy's and numpy's generators are seeded with the sample's seed, and so is the
    backend's own random state (Sage's); ``reseed_backend=False`` skips the latter for generators that
    seed the backend themselves, so they do not pay for it twice.
    Subclasses (``calt_hf.sympy``, ``calt_hf.sagemath``) only set ``cas``, the backend adapter.
    """

    cas: ClassVar[Backend]

    def __init__(
        self,
        backend: str = "multiprocessing",
        n_jobs: int = -1,
        verbose: bool = True,
        root_seed: int = 42,
        reseed_backend: bool = True,
    ):
        if not isinstance(backend, str) or (backend not in _known_joblib_backends() and backend != "multiprocessing"):
            raise ValueError(
                f"backend={backend!r} is not a joblib backend; use one of {', '.join(sorted(_known_joblib_backends()))}"
            )
        if not isinstance(n_jobs, int) or isinstance(n_jobs, bool) or n_jobs == 0:
            raise ValueError(f"n_jobs={n_jobs!r} is not allowed; use a non-zero integer (-1 for all cores)")
        if not isinstance(root_seed, int) or isinstance(root_seed, bool):
            raise ValueError(f"root_seed={root_seed!r} is not allowed; use an integer")
        self.backend = backend
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.root_seed = root_seed
        self.reseed_backend = reseed_backend
        self.logger = logger

    @property
    def joblib_backend(self) -> str:
        """The joblib backend that actually runs the work."""
        return "loky" if self.backend == "multiprocessing" else self.backend

    def run(
        self,
        dataset_sizes: dict[str, int],
        problem_generator: ProblemGenerator,
        statistics_calculator: Callable | None = None,
        dataset_writer: DatasetWriter | None = None,
        batch_size: int = 100000,
        save_dir: str | None = None,
        save_text: bool = True,
        save_json: bool = True,
        hf_dataset: bool = False,
        description: DatasetDescription | None = None,
    ) -> None:
        """Generate every split of ``dataset_sizes`` with ``problem_generator(seed) -> (problem, solution)``.

        Writes ``{split}_data.pkl``, ``{split}_raw.txt`` (``save_text``), ``{split}_data.jsonl``
        (``save_json``) and ``{split}_stats.yaml`` to ``save_dir`` (default: the working directory), or
        through ``dataset_writer`` when given (then ``save_dir``, ``save_text`` and ``save_json`` are
        ignored). With ``hf_dataset``, also Parquet shards under ``data/`` (streamed while generating)
        and a dataset card ``README.md``, so ``datasets.load_dataset(save_dir)`` reads the result;
        ``description`` (default: what the problem generator tells of itself) fills the card.
        At most ``batch_size`` samples are held in memory. Bad arguments raise ValueError before any
        work; a failing sample raises ``SampleGenerationError`` naming split, index and seed, and the
        unfinished split's files are removed.
        """
        sizes = validate_dataset_sizes(dataset_sizes)
        if problem_generator is None or not callable(problem_generator):
            raise ValueError(f"problem_generator must be provided: a callable taking a seed, got {problem_generator!r}")
        if statistics_calculator is not None and not callable(statistics_calculator):
            raise ValueError(f"statistics_calculator must be callable or None, got {statistics_calculator!r}")
        check_int("batch_size", batch_size, 1)
        writer = dataset_writer if dataset_writer is not None else DatasetWriter(save_dir, save_text, save_json)
        if hf_dataset:
            writer.save_parquet = True
        fast_writer = type(writer).save_batch is DatasetWriter.save_batch
        task = GenerationTask(
            problem_generator=problem_generator,
            statistics_calculator=statistics_calculator,
            cas=self.cas,
            reseed_backend=self.reseed_backend,
            root_seed=self.root_seed,
            formats=writer.output_formats() if fast_writer else (),
            keep_rows=not fast_writer,
        )
        blob = self._pickle_task(task)
        key = hashlib.sha256(blob).hexdigest()
        self.logger.info("generating %s into %s with %s (n_jobs=%s)", sizes, writer.save_dir, self.joblib_backend, self.n_jobs)
        in_process = self.joblib_backend in _IN_PROCESS_BACKENDS or joblib.effective_n_jobs(self.n_jobs) == 1
        with tempfile.TemporaryDirectory(prefix="calt_hf_task_") as scratch:
            if in_process:
                install_task(key, blob)
                ref = TaskRef(key)
            elif self.joblib_backend in _LOCAL_PROCESS_BACKENDS:
                path = Path(scratch) / "task.pkl"
                path.write_bytes(blob)
                ref = TaskRef(key, path=str(path))
            else:
                ref = TaskRef(key, blob=blob)
            with joblib.Parallel(
                n_jobs=self.n_jobs, backend=self.joblib_backend, return_as="generator", batch_size=1
            ) as parallel:
                n_workers = 1 if in_process else joblib.effective_n_jobs(self.n_jobs)
                for split, size in sizes.items():
                    self._generate_split(parallel, n_workers, ref, split, size, batch_size, writer, fast_writer)
        self.logger.info("all splits generated")
        if hf_dataset:
            from calt_hf.hf.package import package_dataset

            card = package_dataset(writer.save_dir, description or self.describe(problem_generator))
            self.logger.info("dataset card written to %s", card)

    def describe(self, problem_generator: ProblemGenerator) -> DatasetDescription:
        """The card's description of a run: the backend and root seed, plus what the generator says of itself."""
        told = problem_generator.describe() if callable(getattr(problem_generator, "describe", None)) else {}
        settings = {"backend": self.cas.name, "root_seed": self.root_seed, **told.pop("settings", {})}
        return DatasetDescription(settings=settings, **told)

    def _pickle_task(self, task: GenerationTask) -> bytes:
        try:
            return cloudpickle.dumps(task)
        except Exception as error:
            raise ValueError(
                "problem_generator and statistics_calculator must be picklable to reach the worker processes "
                f"({type(error).__name__}: {error}). Objects such as SymPy GF(p) rings do not pickle: build "
                "them inside the generator or keep a PolynomialSampler, which rebuilds its ring in each worker"
            ) from error

    def _generate_split(
        self,
        parallel: joblib.Parallel,
        n_workers: int,
        ref: TaskRef,
        split: str,
        size: int,
        batch_size: int,
        writer: DatasetWriter,
        fast_writer: bool,
    ) -> None:
        began = perf_counter()
        statistics = MemoryEfficientStatisticsCalculator()
        writer.open(split)
        try:
            with tqdm(total=size, desc=split, unit=" samples", disable=not self.verbose, dynamic_ncols=True) as bar:
                for window_index, (window_start, window_stop) in enumerate(_windows(size, batch_size)):
                    chunks = _plan_chunks(window_start, window_stop, n_workers, statistics)
                    results = parallel(
                        joblib.delayed(generate_chunk)(ref, split, start, stop) for start, stop in chunks
                    )
                    rows = self._consume(results, writer, split, fast_writer, statistics, bar)
                    if not fast_writer:
                        writer.save_batch(rows, tag=split, batch_idx=window_index)
        except SampleGenerationError as failure:
            _discard(writer, split)
            if failure.original is not None and failure.__cause__ is not None:
                failure.original.__cause__ = failure.__cause__  # keep the worker's traceback in the chain
            raise SampleGenerationError(
                failure.split, failure.index, failure.seed, failure.reason, failure.original
            ) from (failure.original or failure)
        except BaseException:
            _discard(writer, split)
            raise
        writer.close(split)
        total_time = perf_counter() - began
        writer.save_final_statistics(statistics.get_overall_statistics(total_time, size), tag=split)
        self.logger.info("split %r: %d samples in %.2f s", split, size, total_time)

    @staticmethod
    def _consume(
        results: Iterator[ChunkResult],
        writer: DatasetWriter,
        split: str,
        fast_writer: bool,
        statistics: MemoryEfficientStatisticsCalculator,
        bar: tqdm,
    ) -> list:
        rows: list = []
        for result in results:
            if fast_writer:
                writer.write_encoded(split, result.encoded)
            else:
                rows.extend(result.rows or ())
            statistics.merge(result.statistics)
            bar.update(result.stop - result.start)
        return rows


def _discard(writer: DatasetWriter, split: str) -> None:
    abort = getattr(writer, "abort", None)
    if abort is not None:
        abort(split)


def _windows(size: int, batch_size: int) -> Iterator[tuple[int, int]]:
    for start in range(0, size, batch_size):
        yield start, min(start + batch_size, size)


def _plan_chunks(
    start: int, stop: int, n_workers: int, statistics: MemoryEfficientStatisticsCalculator
) -> Iterator[tuple[int, int]]:
    """Cut a window into chunks of about ``_TARGET_CHUNK_SECONDS`` of work, lazily.

    joblib pulls the next chunk when a worker frees up, so the size follows the mean sample time
    measured so far (small chunks until then). Chunks shrink towards the end of the window (guided
    self-scheduling), so the workers finish a window together instead of waiting on one straggler.
    """
    position = start
    while position < stop:
        runtime = statistics.runtime_stats
        size = int(_TARGET_CHUNK_SECONDS / runtime.mean) if runtime.count and runtime.mean > 0 else _FIRST_CHUNK
        size = max(1, min(size, _MAX_CHUNK, math.ceil((stop - position) / (2 * n_workers))))
        yield position, position + size
        position += size
