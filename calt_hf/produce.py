"""Producing samples: a task built once from a run's options, and the one function that turns a range of
sample indices into encoded rows.

``produce(task, split, start, stop)`` derives every index's seed (``seeding.derive_seed``), reseeds the
global generators, calls the generator (under ``sample_timeout``), converts the result to strings, checks
and encodes it for the task's formats, and gathers what the statistics and quality measures need; a failing
sample raises (``on_error="raise"``, naming split, index and seed) or is dropped or retried with derived
seeds. It needs no writer, pool or run folder: the file pipeline calls it in its workers for each chunk of a
window (``worker.generate_chunk``), and any other consumer (a stream of rows, in a DataLoader worker) calls
it the same way, so that both make the same samples from the same seeds.
"""

from __future__ import annotations

import hashlib
import pickle
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from time import perf_counter
from typing import TYPE_CHECKING, Any

from calt_hf.backends import Backend
from calt_hf.conversion import to_strings
from calt_hf.expanded import to_expanded
from calt_hf.hf.survey import TextSurvey
from calt_hf.interrupts import RunInterrupted
from calt_hf.quality import QualityMeasures, measure, text_rows
from calt_hf.seeding import Reseeder, default_reseeders, derive_seed
from calt_hf.statistics import MemoryEfficientStatisticsCalculator, gather
from calt_hf.timeouts import SampleTimeout
from calt_hf.formats import OutputFormat, check_formats, encode_batch

if TYPE_CHECKING:
    from calt_hf.options import RunOptions

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

    @classmethod
    def from_options(
        cls, options: RunOptions, cas: Backend, root_seed: int, reseed_backend: bool = True,
        formats: tuple[OutputFormat, ...] = (), keep_rows: bool = True, survey_mode: str | None = None,
    ) -> GenerationTask:
        """The task of a run of ``options`` on backend ``cas``: samples encoded for ``formats`` (the file pipeline's
        writer's), or kept as string rows (``keep_rows``: a stream, or a writer that takes the rows itself)."""
        generator = options.problem_generator
        return cls(
            problem_generator=generator,
            statistics_calculator=options.statistics_calculator,
            cas=cas,
            reseed=not getattr(generator, "seeds_itself", False),
            reseed_backend=reseed_backend,
            root_seed=root_seed,
            formats=formats,
            keep_rows=keep_rows,
            on_error=options.on_error,
            max_retries=options.max_retries,
            sample_timeout=options.sample_timeout,
            measure_quality=options.data_quality or options.dedup != "none",
            order_free=bool(getattr(generator, "order_free", None)),
            finish_in_worker=options.dedup == "none",
            expanded=options.encoding == "expanded",
            survey_mode=survey_mode,
        )


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
    expanded_rows: list | None = None  # the rows' expanded forms, beside ``rows`` (``keep_rows`` and ``expanded``)


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
    result.expanded_rows = expanded if task.keep_rows else None
    result.raw = None
    return result


def retry_seed(seed: int, attempt: int) -> int:
    """The seed of a sample's ``attempt``-th resample: derived from its own seed alone."""
    return int.from_bytes(hashlib.sha256(f"{seed}_retry_{attempt}".encode()).digest()[:16], "big")


#: Python's, SymPy's and numpy's generators are process-global: under the threading backend two samples
#: drawing at once would interleave. Each sample's reseed-and-generate holds this (uncontended in worker
#: processes) lock, which keeps threaded runs reproducible.
_GLOBAL_RNG_LOCK = threading.Lock()


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


def task_reseeders(task: GenerationTask) -> tuple[Reseeder, ...]:
    """What ``produce`` reseeds before each sample: Python's, SymPy's and numpy's generators and the backend's
    (unless the task's generator seeds itself, or the backend's own state is left to it)."""
    if not task.reseed:
        return ()
    return default_reseeders() + (task.cas.reseeders if task.reseed_backend else ())


def produce(
    task: GenerationTask, split: str, start: int, stop: int, reseeders: tuple[Reseeder, ...] | None = None
) -> ChunkResult:
    """Generate, convert, check and encode samples ``start`` .. ``stop - 1`` of ``split``: the samples that
    made it, with their statistics and failures. ``reseeders``: ``task_reseeders(task)``, if the caller keeps
    them (a worker does, once per run)."""
    reseeders = task_reseeders(task) if reseeders is None else reseeders
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
