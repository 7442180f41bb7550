"""The generation core shared by every backend: splits, windows of chunks, ordering, checkpoints, failures.

The parent plans chunks of sample indices, sends them through a joblib pool (see ``scheduling``) and
reads the results back in index order. Each completed chunk is staged durably (see ``checkpoint``), so
a killed run resumes where it stopped; when a split has all its samples, its final files are assembled
from the chunks in order. Tasks go out in windows of ``batch_size`` samples, so at most one window of
results is ever in memory, whatever the relative speed of workers and writer. Chunk sizes follow the
measured cost of a sample; the output depends on none of this, nor on ``n_jobs`` or the joblib backend,
because every sample's seed is derived from (root seed, split, index) alone and skipped samples are
replaced by the next indices past the end of the split, in order.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
import logging
import math
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from time import perf_counter
from typing import Any, ClassVar

import numpy as np

from calt_hf.checkpoint import (
    Progress,
    SplitCheckpoint,
    describe_differences,
    final_files,
    recorded_splits,
    refuse_strays,
)
from calt_hf.folder import adopt, clear, foreign_entries, refuse_foreign, task_differences
from calt_hf.backends import Backend
from calt_hf import pickling
from calt_hf.hf.description import DatasetDescription
from calt_hf.hf.survey import TextSurvey, save_survey
from calt_hf.hf.tokenizer import number_mode
from calt_hf.interrupts import signals_stop_the_run
from calt_hf.progress import progress_bar
from calt_hf.options import RunOptions
from calt_hf.produce import (
    FIRST_ERRORS,
    ChunkResult,
    GenerationTask,
    ProblemGenerator,
    SampleGenerationError,
    finish_chunk,
)
from calt_hf.quality import (
    HASH_DTYPE,
    HashSet,
    QualityMeasures,
    load_hashes,
    overlaps,
    problem_hashes,
    sorted_in_place,
    save_measures,
    split_report,
)
from calt_hf.scheduling import CLUSTERS, Pool, known_backends, open_pool
from calt_hf.seeding import derive_seed
from calt_hf.sources import imported_sources
from calt_hf.statistics import IncrementalStatistics, MemoryEfficientStatisticsCalculator
from calt_hf.worker import TaskRef, generate_chunk, install_task
from calt_hf.files import DamagedFileError, read_statistics
from calt_hf.formats import OutputFormat
from calt_hf.run_folder import HASHES_SUFFIX, FolderInUseError, RunConflictError, RunFolder
from calt_hf.writer import DatasetWriter

logger = logging.getLogger(__name__)

__all__ = [
    "DatasetGenerator",
    "SampleGenerationError",
    "WorkerLostError",
    "EmptySplitError",
    "ShortSplitError",
    "RunConflictError",
    "FolderInUseError",
]

_MAX_CHUNK = 4096
_FIRST_CHUNK = 8
#: How often the same chunk may take its worker down before the run gives up on it.
MAX_WORKER_LOSSES = 3
#: How many indices a split may try, per requested sample, before it fails short (failures, duplicates), unless
#: ``max_index_factor`` says otherwise.
_INDEX_FACTOR = 2
_DEDUP_INDEX_FACTOR = 10


def _dedup_against(dedup: str, splits: list[str], split: str) -> dict[str, list[str]]:
    """With ``dedup="across"``, the splits whose problems a split must not repeat: those before it, so the
    order of ``dataset_sizes`` is part of what the split holds (and of its fingerprint, as ``dedup_after``)."""
    return {"dedup_after": splits[: splits.index(split)]} if dedup == "across" else {}


def _seen_problems(folder: RunFolder, fingerprint: dict[str, Any], dedup: str) -> HashSet | None:
    """The problems a split must not repeat: none, or (``across``) those of the splits before it."""
    if dedup == "none":
        return None
    hashes = [h for h in (load_hashes(folder.state_dir, s) for s in fingerprint.get("dedup_after", [])) if h is not None]
    return HashSet(np.concatenate(hashes) if hashes else None)


def _order_refusal(save_dir: RunFolder, recorded: dict[str, dict[str, Any]], given: list[str]) -> RunConflictError:
    """The refusal of a resume with ``dedup="across"`` whose splits come in another order than the recorded run's."""
    ordered = [s for s in recorded if "dedup_after" in recorded[s]["fingerprint"]]
    ordered.sort(key=lambda s: len(recorded[s]["fingerprint"]["dedup_after"]))
    return RunConflictError(
        f"cannot resume in {save_dir}: with dedup='across' each split leaves out the problems of the splits before "
        f"it, so their order is part of the run, and it was recorded as {', '.join(ordered)} where dataset_sizes now "
        f"lists {', '.join(given)}; list the splits in the recorded order to resume, or pass overwrite=True "
        "(overwrite=true) to start again in the new one"
    )


def _drop_repeats(result: ChunkResult, seen: HashSet, task: GenerationTask) -> ChunkResult:
    """Keep the chunk's samples whose problem is new (first occurrence wins), then finish the chunk."""
    rows, runtimes, sample_statistics, expanded = result.raw
    keep = seen.first_new(problem_hashes(row[0] for row in rows))
    result.dropped = len(rows) - int(keep.sum())
    chosen = [i for i, kept in enumerate(keep) if kept]
    return finish_chunk(
        result, [rows[i] for i in chosen], [runtimes[i] for i in chosen], [sample_statistics[i] for i in chosen], task,
        None if expanded is None else [expanded[i] for i in chosen],
    )


def _report_overlaps(folder: RunFolder, writer: DatasetWriter) -> None:
    """Add to every split's statistics file how many of its problems occur in each other split (and, for
    an order-free problem, how many do with the lists' order ignored)."""
    state_dir = folder.state_dir
    splits = [
        split
        for split in sorted(path.name.removesuffix(HASHES_SUFFIX) for path in state_dir.glob(f"*{HASHES_SUFFIX}"))
        if folder.stats_file(split).exists()
    ]
    statistics: dict[str, dict[str, Any]] = {}
    for split in splits:
        try:
            statistics[split] = read_statistics(folder.stats_file(split))
        except DamagedFileError as error:  # a split of an earlier run (this run's were checked, or just written)
            logger.warning("%s; overlaps with split %r are not counted", error, split)
    reports: dict[str, dict[str, Any]] = {split: {} for split in statistics}
    for order_free, key in ((False, "overlap"), (True, "overlap_order_free")):
        hashes = {}
        for split in statistics:
            try:
                found = load_hashes(state_dir, split, order_free)
            except DamagedFileError as error:
                logger.warning("%s; overlaps with split %r are not counted", error, split)
                continue
            if found is not None:
                hashes[split] = found
        for split, counts in overlaps(hashes).items():
            reports[split][key] = counts
    for split, counts in reports.items():
        statistics[split].setdefault("data_quality", {}).update(counts)
        writer.save_final_statistics(statistics[split], tag=split)


def _fast(writer: DatasetWriter) -> bool:
    """Whether ``writer`` takes the encoded bytes (its ``save_batch`` is DatasetWriter's), not the string rows."""
    return type(writer).save_batch is DatasetWriter.save_batch


def _no_sync() -> None:
    """Nothing to flush when chunks go straight to the final files."""


class WorkerLostError(RuntimeError):
    """A worker process died (segfault, OOM kill, ``os._exit``) on the same chunk too many times."""


def _shown_errors(first_errors: list[dict[str, Any]]) -> str:
    return "; ".join(f"sample {e['index']} (seed {e['seed']}): {e['error']}" for e in first_errors[:3])


class EmptySplitError(RuntimeError):
    """Every sample of a split failed or was skipped: there is nothing to write (nor a schema to package)."""

    def __init__(self, split: str, tried: int, first_errors: list[dict[str, Any]]):
        super().__init__(f"split {split!r} is empty: all {tried} samples tried failed or were skipped ({_shown_errors(first_errors)})")


class ShortSplitError(RuntimeError):
    """A split tried as many sample indices as its limit allows (``max_index_factor`` times its size) and is still
    short: samples failed and were skipped, or dedup dropped repeats. Nothing of it looks complete; its chunks stay
    staged (with checkpoints), so a resume with a higher limit continues it (``suggested_factor``: what the rate seen
    needs)."""

    def __init__(
        self, split: str, size: int, accepted: int, tried: int, factor: int, skipped: int, dropped: int,
        first_errors: list[dict[str, Any]], staged: bool,
    ):
        self.split, self.suggested_factor = split, max(factor + 1, math.ceil(1.25 * tried / accepted))
        causes = [f"{skipped} failed and were skipped ({_shown_errors(first_errors)})"] if skipped else []
        if dropped:
            causes.append(f"{dropped} repeated a problem and were dropped by dedup (a problem space that small may not "
                          f"hold {size} distinct problems: then ask for fewer)")
        again = (f"what it generated is staged: resume with a higher limit, e.g. max_index_factor={self.suggested_factor} "
                 "and resume=True" if staged else f"run again with a higher limit, e.g. max_index_factor={self.suggested_factor}")
        super().__init__(
            f"split {split!r} has only {accepted} of its {size} samples after trying {tried} sample indices, its limit "
            f"(max_index_factor={factor} times its size): {'; '.join(causes)}. Nothing of the split looks complete; "
            f"{again}, or fix the generator and run again with overwrite=True"
        )


def _identify(obj: Any) -> Any:
    """What identifies a generator or statistics function in a run's fingerprint: its qualified name
    (its class's, for an instance) and, if it can describe itself, its settings."""
    if obj is None:
        return None
    named = obj if hasattr(obj, "__qualname__") else type(obj)
    name = f"{named.__module__}.{named.__qualname__}"
    if callable(getattr(obj, "describe", None)):
        return {"name": name, "settings": obj.describe().get("settings", {})}
    return name


def _code(obj: Any) -> dict[str, Any] | None:
    """What identifies a generator's (or statistics function's) code in a run's fingerprint: hashes of its
    source (its class's, for an instance), of its module's and of the user's modules that one imports
    (``calt_hf.sources``), so an edit between a run and its resume is seen; bytecode where Python has no source
    (a function typed into ``python -c``)."""
    if obj is None:
        return None
    obj = obj.func if isinstance(obj, functools.partial) else obj
    target = obj if inspect.isfunction(obj) or inspect.ismethod(obj) or inspect.isclass(obj) else type(obj)
    module = sys.modules.get(target.__module__)
    code: dict[str, Any] = {"source": _source_hash(target), "module": _source_hash(module) if module is not None else None}
    imports = imported_sources(module) if module is not None else {}
    # Only when there are some: a run of a generator that imports none of the user's modules still resumes one
    # recorded before the key.
    return code | {"imports": imports} if imports else code


def _source_hash(obj: Any) -> str:
    try:
        text = inspect.getsource(obj)
    except (OSError, TypeError):
        if hasattr(obj, "__code__"):
            codes = [obj.__code__]
        else:  # a class or a module: the functions defined in it
            home = obj.__name__ if inspect.ismodule(obj) else obj.__module__
            codes = [value.__code__ for value in vars(obj).values() if hasattr(value, "__code__") and getattr(value, "__module__", None) == home]
        text = "".join(map(_bytecode, codes))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _bytecode(code: Any) -> str:
    """A code object's instructions, names and constants, nested functions included (``marshal`` output
    depends on reference counts, so it is not stable)."""
    # A frozenset's order follows string hashing, which changes from process to process.
    consts = [
        _bytecode(const) if inspect.iscode(const) else repr(sorted(map(repr, const)) if isinstance(const, frozenset) else const)
        for const in code.co_consts
    ]
    return f"{code.co_code.hex()}{code.co_names}{consts}"


class _SplitAssembler:
    """Writes a split's final files (as ``.part`` until ``finish``) from its chunks, in index order,
    while they arrive; then its statistics file. A resumed split first replays its staged chunks."""

    def __init__(
        self,
        folder: RunFolder,
        writer: DatasetWriter,
        split: str,
        size: int,
        fast_writer: bool,
        batch_size: int,
        dedup: bool,
        order_free: bool,
        survey_mode: str | None,
    ) -> None:
        self.folder, self.writer, self.split, self.size = folder, writer, split, size
        self.fast_writer, self.batch_size, self.dedup, self.order_free = fast_writer, batch_size, dedup, order_free
        self.statistics = MemoryEfficientStatisticsCalculator()
        self.quality = QualityMeasures()
        # None once a chunk arrives without a survey in this mode (staged before a resume that asked for another
        # description.number_tokens): packaging then surveys the shards
        self.survey = TextSurvey(survey_mode) if survey_mode else None
        # 8 bytes a sample each, appended in place: no list of small bytes objects, no joined copy at the end
        self.hashes = bytearray()
        self.order_free_hashes = bytearray()
        self.accepted = self.failed = self.timed_out = self.resampled = self.skipped = self.dropped = 0
        self.first_errors: list[dict[str, Any]] = []
        self.pending: list = []  # rows for a writer that overrides save_batch
        self.batch_index = 0
        self.closed = False  # the data files have their final names
        writer.open(split)

    def add(self, result: ChunkResult) -> None:
        if self.fast_writer:
            self.writer.write_encoded(self.split, result.encoded)
        else:
            self.pending.extend(result.rows or ())
            while len(self.pending) >= self.batch_size:
                self._save_batch(self.pending[: self.batch_size])
                self.pending = self.pending[self.batch_size :]
        self.statistics.merge(result.statistics)
        if result.quality is not None:
            self.quality.merge(result.quality)
            self.hashes += result.quality.hashes
            if result.quality.order_free_hashes is not None:
                self.order_free_hashes += result.quality.order_free_hashes
        if self.survey is not None:
            if result.survey is None or result.survey.mode != self.survey.mode:
                self.survey = None
            else:
                self.survey.merge(result.survey)
        self.dropped += result.dropped
        self.accepted += result.accepted
        self.failed += result.failed
        self.timed_out += result.timed_out
        self.resampled += result.resampled
        self.skipped += result.skipped
        self.first_errors.extend(result.first_errors[: FIRST_ERRORS - len(self.first_errors)])

    def _save_batch(self, rows: list) -> None:
        self.writer.save_batch(rows, tag=self.split, batch_idx=self.batch_index)
        self.batch_index += 1

    def abort(self) -> None:
        """Discard the split's files: the unfinished ones, and those already given their final names when
        finishing failed later (its statistics file cannot be written): nothing of a failed split looks complete."""
        abort = getattr(self.writer, "abort", None)
        if abort is not None:
            abort(self.split)
        if self.closed:
            for path in final_files(self.folder, self.split) + [self.folder.stats_file(self.split)]:
                path.unlink(missing_ok=True)

    def finish(self, elapsed: float, on_error: str, measured: bool) -> None:
        if self.pending:
            self._save_batch(self.pending)
        self.writer.close(self.split)
        self.closed = True
        report = self.statistics.get_overall_statistics(elapsed, self.accepted)
        save_survey(self.folder.state_dir, self.split, self.survey)
        if measured:
            hashes = sorted_in_place(self.hashes)
            order_free = sorted_in_place(self.order_free_hashes) if self.order_free else None
            save_measures(self.folder.state_dir, self.split, hashes, self.quality.histograms, order_free)
            report["data_quality"] = split_report(hashes, self.quality.histograms, self.dropped if self.dedup else None, order_free)
        if on_error != "raise":
            report["errors"] = {
                "requested_samples": self.size,
                "failed": self.failed,
                "timed_out": self.timed_out,
                "resampled": self.resampled,
                "skipped": self.skipped,
                "first_errors": self.first_errors,
            }
        self.writer.save_final_statistics(report, tag=self.split)


class _ChunkPlanner:
    """Sizes chunks to about ``target_seconds`` of work (the pool's ``chunk_seconds``) from the measured
    mean sample time."""

    def __init__(self, target_seconds: float) -> None:
        self.target_seconds = target_seconds
        self.runtime = IncrementalStatistics()
        self.dispatched = 0  # end of the last chunk handed to joblib
        self.careful_until = 0  # after a lost worker: single-sample chunks up to here, to corner the culprit

    def observe(self, result: ChunkResult) -> None:
        self.runtime.merge(result.statistics.runtime_stats)

    def chunks(self, start: int, stop: int, n_workers: int) -> Iterator[tuple[int, int]]:
        """Cut ``[start, stop)`` lazily (joblib pulls the next chunk when a worker frees up); chunks shrink
        towards the end of the window (guided self-scheduling) so workers finish it together."""
        position = start
        while position < stop:
            if position < self.careful_until:
                size = 1
            elif self.runtime.count and self.runtime.mean > 0:
                size = int(self.target_seconds / self.runtime.mean)
            else:
                size = _FIRST_CHUNK
            size = max(1, min(size, _MAX_CHUNK, math.ceil((stop - position) / (2 * n_workers))))
            yield position, position + size
            position += size
            self.dispatched = position


class DatasetGenerator:
    """Generates datasets of (problem, solution) pairs in parallel, reproducibly, with statistics.

    ``backend`` is a joblib backend name (``"loky"``, ``"threading"``, ``"sequential"``, ...), or
    ``"dask"``/``"ray"`` for a cluster at ``address`` (a local one when None). ``"multiprocessing"``,
    CALT's default, forks its workers from this process on Linux (they start with what it imported) and
    runs them under loky's executor, which streams results back in order and notices a worker that died
    (joblib's multiprocessing pool does neither); ``"loky"`` starts fresh interpreters instead. Before each
    sample, Python's, SymPy's and numpy's generators are seeded with the sample's seed, and so is the backend's own random state
    (Sage's); ``reseed_backend=False`` skips the latter for generators that seed the backend themselves,
    and a generator with ``seeds_itself = True`` (the problem library's) skips all of it: it promises that
    its output depends on the seed alone.
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
        address: str | None = None,
    ):
        if not isinstance(backend, str) or backend not in known_backends():
            raise ValueError(f"backend={backend!r} is not a joblib backend; use one of {', '.join(sorted(known_backends()))}")
        if not isinstance(n_jobs, int) or isinstance(n_jobs, bool) or n_jobs == 0:
            raise ValueError(f"n_jobs={n_jobs!r} is not allowed; use a non-zero integer (-1 for all cores)")
        if not isinstance(root_seed, int) or isinstance(root_seed, bool):
            raise ValueError(f"root_seed={root_seed!r} is not allowed; use an integer")
        if address is not None and backend not in CLUSTERS:
            raise ValueError(f"address={address!r} needs backend='dask' or 'ray', not {backend!r}")
        self.backend = backend
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.root_seed = root_seed
        self.reseed_backend = reseed_backend
        self.address = address
        self.logger = logger

    def run(
        self,
        dataset_sizes: dict[str, int],
        problem_generator: ProblemGenerator | None = None,
        statistics_calculator: Callable | None = None,
        dataset_writer: DatasetWriter | None = None,
        batch_size: int = 100000,
        save_dir: str | None = None,
        save_text: bool = True,
        save_json: bool = True,
        hf_dataset: bool = False,
        description: DatasetDescription | None = None,
        resume: bool = False,
        overwrite: bool = False,
        on_error: str = "raise",
        max_retries: int = 3,
        sample_timeout: float | None = None,
        fingerprint: Mapping[str, Any] | None = None,
        checkpoint: bool = True,
        dedup: str = "none",
        data_quality: bool = True,
        instance_generator: ProblemGenerator | None = None,
        encoding: str = "text",
        max_index_factor: int | None = None,
    ) -> None:
        """Generate every split of ``dataset_sizes`` with ``problem_generator(seed) -> (problem, solution)``
        (``instance_generator=``, calt-x 1.x's name for it, is accepted too; give one of the two).

        Writes ``{split}_data.pkl``, ``{split}_raw.txt`` (``save_text``), ``{split}_data.jsonl``
        (``save_json``) and ``{split}_stats.yaml`` to ``save_dir`` (default: the working directory), or
        through ``dataset_writer`` when given (then ``save_dir``, ``save_text`` and ``save_json`` are
        ignored). With ``hf_dataset``, also Parquet shards under ``data/`` and a dataset card
        ``README.md``, so ``datasets.load_dataset(save_dir)`` reads the result; ``description``
        (default: what the problem generator tells of itself) fills the card.

        Progress is checkpointed: ``resume=True`` continues an interrupted run of the same configuration
        (``fingerprint`` adds what the caller knows of it, e.g. the command line's config);
        ``overwrite=True`` replaces the whole earlier run; without either, a ``save_dir`` that already
        holds a split of this run, files no calt_hf run made, or a split of another task is refused, and so
        is a second run while one holds the folder (``FolderInUseError``). ``on_error``: ``"raise"`` stops
        at a failing sample (naming split, index and seed), ``"skip"`` drops it, ``"resample"`` retries it with derived seeds up to
        ``max_retries`` times (a generator returning None asks for that too); dropped samples are replaced
        from past the end of the split. ``sample_timeout`` (seconds) makes a slow sample a failure. A split tries
        at most ``max_index_factor`` times its size sample indices (default 2, with dedup 10); one still short then
        fails (``ShortSplitError``, saying how many samples failed), its chunks staged for a resume with a higher limit.
        ``checkpoint=False`` writes chunks straight into the final files (a little faster, nothing to
        resume from; a failure still leaves nothing that looks complete).

        Every run reports data quality in the statistics files (``data_quality=False`` turns it off):
        repeated problems, problems shared with the other splits, length distributions. ``dedup="within"``
        drops repeated problems inside a split, ``"across"`` also those of earlier splits (in
        ``dataset_sizes`` order); dropped samples are replaced from past the end of the split.
        At most ``batch_size`` samples are held in memory. Bad arguments raise ValueError before any work.

        ``encoding="expanded"`` (with ``hf_dataset``) adds the Parquet columns ``problem_expanded`` and
        ``solution_expanded``, each polynomial as ``C3 E2 E1 + ...`` (``calt_hf.expanded``), and their
        tokenizer under ``expanded/``.
        """
        self.generate(RunOptions.from_run(locals()), dataset_writer)

    def stream(
        self,
        problem_generator: ProblemGenerator,
        split: str = "train",
        start: int = 0,
        stop: int | None = None,
        on_error: str = "raise",
        max_retries: int = 3,
        sample_timeout: float | None = None,
        encoding: str = "text",
        n_jobs: int | None = None,
        kinds: dict[str, str] | None = None,
    ):
        """Rows ``start`` .. ``stop - 1`` of ``split`` (``stop=None``: endless) as a ``datasets.IterableDataset``,
        each the row that ``run(..., hf_dataset=True)`` writes with this generator and these options
        (``calt_hf.streaming``). ``n_jobs``: the readers (DataLoader workers times ranks) it is cut for;
        ``kinds``: the Parquet column kinds (default: the generator's ``nesting``, else its first row's)."""
        from calt_hf.streaming import make_stream

        return make_stream(
            self, problem_generator, split, start, stop, on_error, max_retries, sample_timeout, encoding, n_jobs, kinds
        )

    def generate(
        self, options: RunOptions, dataset_writer: DatasetWriter | None = None, folder: RunFolder | None = None
    ) -> None:
        """``run`` with its options built and checked (``RunOptions``): what the command line calls, with the
        ``RunFolder`` of ``options.save_dir`` whose lock it holds already (``folder``)."""
        if options.sample_timeout is not None and self.backend == "threading":
            raise ValueError("sample_timeout needs samples in processes; backend='threading' runs them in threads")
        writer, description = self._writer(options, dataset_writer, folder)
        task = self._task(options, writer, description)
        blob = self._pickle_task(task)
        fingerprints = self._fingerprints(options, writer.output_formats())
        folder = getattr(writer, "folder", None) or RunFolder(writer.save_dir)  # a writer of CALT's shape has no folder
        # From planning to the last file: one run at a time in a folder, and a signal unwinds it cleanly.
        with folder.claim(), signals_stop_the_run():
            plans = self._plan(folder, fingerprints, options.resume, options.overwrite)
            self.logger.info("generating %s into %s with %s (n_jobs=%s)", options.dataset_sizes, folder, self.backend, self.n_jobs)
            self._generate_splits(options, task, blob, writer, folder, plans, fingerprints)
            self.logger.info("all splits generated")
            if options.data_quality:
                _report_overlaps(folder, writer)
            if options.hf_dataset:
                self._package(folder, description)

    def _writer(
        self, options: RunOptions, given: DatasetWriter | None, folder: RunFolder | None
    ) -> tuple[DatasetWriter, DatasetDescription | None]:
        """The run's writer (``given``, or the documented files in ``folder``, else ``save_dir``), set for Parquet
        shards with ``hf_dataset``, and the card's description (by default, what the generator tells of itself)."""
        where = folder if folder is not None else options.save_dir
        writer = given if given is not None else DatasetWriter(where, options.save_text, options.save_json)
        description = options.description
        if options.hf_dataset:
            writer.save_parquet = True
            writer.save_expanded = options.encoding == "expanded"
            description = description or self.describe(options.problem_generator)
        if options.encoding == "expanded" and not _fast(writer):
            raise ValueError(f"encoding='expanded' needs a writer whose save_batch is DatasetWriter's; {type(writer).__name__} "
                             "overrides it and would receive the string rows only")
        return writer, description

    def _task(self, options: RunOptions, writer: DatasetWriter, description: DatasetDescription | None) -> GenerationTask:
        """The run's task: rows encoded in the workers for ``writer``'s formats, or (a writer that overrides
        ``save_batch``) kept as strings for it; with ``hf_dataset``, the workers also survey the texts for the
        tokenizer (``calt_hf.hf.survey``)."""
        fast = _fast(writer)
        survey_mode = number_mode(description.number_tokens, description.settings) if options.hf_dataset and fast else None
        return GenerationTask.from_options(
            options, self.cas, self.root_seed, self.reseed_backend, writer.output_formats() if fast else (),
            keep_rows=not fast, survey_mode=survey_mode,
        )

    def _fingerprints(self, options: RunOptions, formats: tuple[OutputFormat, ...]) -> dict[str, dict[str, Any]]:
        """What each split's state records of the run, and a resume must match: through JSON and back, so it
        compares equal to what the state file recorded."""
        common = {
            "root_seed": self.root_seed,
            "backend": self.cas.name,
            "generator": _identify(options.problem_generator),
            "generator_code": _code(options.problem_generator),
            "statistics": _identify(options.statistics_calculator),
            "statistics_code": _code(options.statistics_calculator),
            "formats": sorted(fmt.suffix for fmt in formats),
            "on_error": options.on_error,
            "max_retries": options.max_retries if options.on_error == "resample" else None,
            "sample_timeout": options.sample_timeout,
            "dedup": options.dedup,
            "data_quality": options.data_quality,
            **({"encoding": options.encoding} if options.encoding != "text" else {}),  # runs recorded before the key still resume
            **dict(options.fingerprint or {}),
        }
        splits = list(options.dataset_sizes)
        return {
            split: json.loads(json.dumps({"split": split, "size": size, **common, **_dedup_against(options.dedup, splits, split)}, default=str))
            for split, size in options.dataset_sizes.items()
        }

    def _generate_splits(
        self, options: RunOptions, task: GenerationTask, blob: bytes, writer: DatasetWriter, folder: RunFolder,
        plans: dict[str, tuple[SplitCheckpoint, Progress | None]], fingerprints: dict[str, dict[str, Any]],
    ) -> None:
        """Generate every split the plan starts or continues, through one pool for the whole run."""
        key = hashlib.sha256(blob).hexdigest()
        with tempfile.TemporaryDirectory(prefix="calt_hf_task_") as scratch, open_pool(self.backend, self.n_jobs, self.address) as pool:
            ref = self._task_ref(pool, key, blob, Path(scratch))
            for split, size in options.dataset_sizes.items():
                checkpoint, progress = plans[split]
                if progress is None:
                    self.logger.info("split %r is complete already, its files as recorded: skipped", split)
                    continue
                seen = _seen_problems(folder, fingerprints[split], options.dedup)
                self._run_split(
                    pool, ref, task, checkpoint if options.checkpoint else None, progress, split, size, folder, writer,
                    _fast(writer), options.batch_size, seen, options.max_index_factor,
                )
                checkpoint.mark_complete(fingerprints[split])

    def _package(self, folder: RunFolder, description: DatasetDescription) -> None:
        """Package every complete split of the folder (all of the same task: planning refused others)."""
        from calt_hf.hf.package import find_splits, package_dataset

        complete = {split for split, state in recorded_splits(folder).items() if state["complete"]}
        splits = [split for split in find_splits(folder) if split in complete]
        card = package_dataset(folder, description, splits=splits)
        self.logger.info("dataset card written to %s", card)

    def describe(self, problem_generator: ProblemGenerator) -> DatasetDescription:
        """The card's description of a run: the backend and root seed, plus what the generator says of itself."""
        told = problem_generator.describe() if callable(getattr(problem_generator, "describe", None)) else {}
        settings = {"backend": self.cas.name, "root_seed": self.root_seed, **told.pop("settings", {})}
        return DatasetDescription(settings=settings, **told)

    # -- before any work ----------------------------------------------------------------------------
    def _pickle_task(self, task: GenerationTask) -> bytes:
        try:
            return pickling.dumps(task)
        except Exception as error:
            raise ValueError(
                "problem_generator and statistics_calculator must be picklable to reach the worker processes "
                f"({type(error).__name__}: {error}); open files, locks and connections cannot be sent: create them "
                "inside the generator (on first use, in each worker)"
            ) from error

    def _plan(
        self, folder: RunFolder, fingerprints: dict[str, dict[str, Any]], resume: bool, overwrite: bool
    ) -> dict[str, tuple[SplitCheckpoint, Progress | None]]:
        """Decide, split by split, to start, continue or skip; refuse conflicts before touching anything.

        Refused: a folder holding files no calt_hf run made (unless ``overwrite``, which clears the whole
        previous run), a file beside a complete split's recorded ones that would read as part of it, a split
        of another task, a split made before with another fingerprint (with ``dedup="across"``, the splits
        in another order), an unfinished split of this fingerprint (unless ``resume``). A complete split of
        this fingerprint is kept, as the same run makes the same bytes (a finished command typed again, a
        sweep that includes it); one whose files are missing or changed is generated again.
        """
        recorded, damaged = self._refuse_conflicts(folder, fingerprints, resume, overwrite)
        decisions = self._decide(folder, fingerprints, recorded, damaged, resume)
        adopt(folder)
        plans: dict[str, tuple[SplitCheckpoint, Progress | None]] = {}
        for split, decision in decisions.items():
            checkpoint = SplitCheckpoint(folder, split)
            if decision == "skip":
                plans[split] = (checkpoint, None)
            elif decision == "continue":
                plans[split] = (checkpoint, checkpoint.recover())
            else:
                for path in final_files(folder, split) + folder.split_files(split):
                    path.unlink(missing_ok=True)
                checkpoint.start(fingerprints[split])
                plans[split] = (checkpoint, Progress())
        return plans

    def _refuse_conflicts(
        self, folder: RunFolder, fingerprints: dict[str, dict[str, Any]], resume: bool, overwrite: bool
    ) -> tuple[dict[str, dict[str, Any]], dict[str, DamagedFileError]]:
        """The recorded splits and those whose state is damaged, after clearing the folder (``overwrite``) and
        refusing what no run may continue: foreign files, strays, damage without ``resume``, another task."""
        damaged: dict[str, DamagedFileError] = {}  # splits whose state file cannot be read
        recorded = recorded_splits(folder, damaged)
        if overwrite:
            clear(folder)
            recorded, damaged = {}, {}
        foreign = foreign_entries(folder, [*recorded, *damaged])
        if foreign:
            raise refuse_foreign(folder, foreign)
        for split, error in damaged.items():
            if split not in fingerprints or not resume:
                where = "add it to dataset_sizes and pass" if split not in fingerprints else "pass"
                raise RunConflictError(
                    f"{error.what}: what split {split!r} holds cannot be checked; {where} resume=True (resume=true) to "
                    "generate it again, or overwrite=True (overwrite=true) to replace the whole run"
                )
        refuse_strays(folder)
        current = next(iter(fingerprints.values()))
        for split, state in recorded.items():
            differences = task_differences(state["fingerprint"], current)
            if split not in fingerprints and differences:
                raise RunConflictError(
                    f"save_dir={str(folder)!r} holds split {split!r} of another task ({'; '.join(differences)}); "
                    "the splits of one folder may come from separate runs, but of one task: choose another save_dir, "
                    "or pass overwrite=True (overwrite=true) to replace the previous run"
                )
        return recorded, damaged

    def _decide(
        self, folder: RunFolder, fingerprints: dict[str, dict[str, Any]], recorded: dict[str, dict[str, Any]],
        damaged: dict[str, DamagedFileError], resume: bool,
    ) -> dict[str, str]:
        """Each split's decision, ``start``, ``continue`` or ``skip``; a split of another configuration, or an
        unfinished one without ``resume``, is refused."""
        decisions: dict[str, str] = {}
        for split, fingerprint in fingerprints.items():
            state = recorded.get(split)
            if split in damaged:
                self.logger.warning("split %r: %s; generated again", split, damaged[split].what)
                decisions[split] = "start"
            elif state is None:
                decisions[split] = "start"
            elif differences := describe_differences(state["fingerprint"], fingerprint):
                if "dedup_after" in state["fingerprint"] and all(d.startswith("dedup_after:") for d in differences):
                    raise _order_refusal(folder, recorded, list(fingerprints))
                raise RunConflictError(
                    f"{folder} holds split {split!r} of a run with another configuration ({'; '.join(differences)}); "
                    "choose another save_dir, or pass overwrite=True (overwrite=true) to replace the run there"
                )
            elif not state["complete"]:
                if not resume:
                    raise RunConflictError(
                        f"{folder} holds an unfinished run of split {split!r} with this configuration; pass "
                        "resume=True (resume=true) to continue it, or overwrite=True (overwrite=true) to start again"
                    )
                decisions[split] = "continue"
            elif damage := SplitCheckpoint(folder, split).damage():
                self.logger.warning("split %r was complete, but %s since: generated again", split, "; ".join(damage))
                decisions[split] = "start"
            else:
                decisions[split] = "skip"
        return decisions

    def _task_ref(self, pool: Pool, key: str, blob: bytes, scratch: Path) -> TaskRef:
        if pool.in_process:
            install_task(key, blob)
            return TaskRef(key)
        if pool.local_files:
            path = scratch / "task.pkl"
            path.write_bytes(blob)
            return TaskRef(key, path=str(path), isolated=pool.isolated, fork=pool.forks)
        return TaskRef(key, blob=blob, isolated=pool.isolated)

    # -- generation ---------------------------------------------------------------------------------
    def _run_split(
        self,
        pool: Pool,
        ref: TaskRef,
        task: GenerationTask,
        checkpoint: SplitCheckpoint | None,
        progress: Progress,
        split: str,
        size: int,
        folder: RunFolder,
        writer: DatasetWriter,
        fast_writer: bool,
        batch_size: int,
        seen: HashSet | None,
        max_index_factor: int | None,
    ) -> None:
        """Generate one split into its final files (``.part`` until complete), staging chunks if checkpointed."""
        began = perf_counter() - progress.elapsed  # a resumed split counts the time its earlier runs staged
        assembler = _SplitAssembler(folder, writer, split, size, fast_writer, batch_size, seen is not None, task.order_free, task.survey_mode)

        def accept(result: ChunkResult) -> None:
            if seen is not None:
                result = _drop_repeats(result, seen, task)
            if checkpoint is not None:
                checkpoint.stage(result, perf_counter() - began)
            assembler.add(result)

        def work() -> None:
            if checkpoint is not None:  # a resumed split replays what it staged, then goes on live
                for result in checkpoint.chunks():
                    if seen is not None:
                        seen.add(np.frombuffer(result.quality.hashes, dtype=HASH_DTYPE))
                    assembler.add(result)
            factor = max_index_factor or (_DEDUP_INDEX_FACTOR if seen is not None else _INDEX_FACTOR)
            sync = checkpoint.sync if checkpoint is not None else _no_sync
            self._generate_split(pool, ref, accept, sync, progress, split, size, batch_size, size * factor)
            if assembler.accepted == 0:
                raise EmptySplitError(split, progress.next_index, assembler.first_errors)
            if assembler.accepted < size:
                raise ShortSplitError(split, size, assembler.accepted, progress.next_index, factor, assembler.skipped,
                                      assembler.dropped, assembler.first_errors, staged=checkpoint is not None)

        self._guarded(assembler, work)
        self._guarded(assembler, lambda: assembler.finish(perf_counter() - began, task.on_error, task.measure_quality))

    def _generate_split(
        self,
        pool: Pool,
        ref: TaskRef,
        accept: Callable[[ChunkResult], None],
        sync: Callable[[], None],
        progress: Progress,
        split: str,
        size: int,
        batch_size: int,
        limit: int,
    ) -> None:
        """Generate until the split has ``size`` samples (or has tried ``limit`` indices), handing each
        chunk to ``accept`` in index order; ``sync`` makes what was accepted durable before an error."""
        planner = _ChunkPlanner(pool.chunk_seconds)
        losses, lost_at = 0, -1
        with progress_bar(size, progress.accepted, split, self.verbose) as bar:
            while progress.accepted < size and progress.next_index < limit:
                window = min(batch_size, size - progress.accepted)
                if not pool.streams and not planner.runtime.count:
                    # A pool that returns a window's results only when all are done (Ray's) would cut the whole
                    # window into first-size chunks: a small first window tells the planner a sample's time.
                    window = min(window, 2 * pool.n_workers * _FIRST_CHUNK)
                stop = min(progress.next_index + window, limit)
                chunks = planner.chunks(progress.next_index, stop, pool.n_workers)
                try:
                    for result in pool.map(generate_chunk, ((ref, split, start, end) for start, end in chunks)):
                        if result.start != progress.next_index:
                            raise RuntimeError(f"chunk {result.start} arrived where {progress.next_index} was expected")
                        accept(result)
                        planner.observe(result)
                        progress.next_index, progress.accepted = result.stop, progress.accepted + result.accepted
                        bar.update(result.accepted)
                except SampleGenerationError as failure:
                    sync()
                    if failure.original is not None and failure.__cause__ is not None:
                        failure.original.__cause__ = failure.__cause__  # keep the worker's traceback in the chain
                    raise SampleGenerationError(
                        failure.split, failure.index, failure.seed, failure.reason, failure.original
                    ) from (failure.original or failure)
                except pool.worker_lost as error:
                    sync()
                    pool.reset()
                    losses = losses + 1 if progress.next_index == lost_at else 1
                    lost_at = progress.next_index
                    planner.careful_until = max(planner.careful_until, planner.dispatched)
                    if losses >= MAX_WORKER_LOSSES:
                        raise self._lost(split, progress.next_index, planner.careful_until, error) from error
                    self.logger.warning("a worker died at sample %d of split %r; retrying (%s)", progress.next_index, split, error)
        sync()

    @staticmethod
    def _guarded(assembler: _SplitAssembler, work: Callable[[], Any]) -> None:
        """Run ``work``; if it fails, discard the split's unfinished files and re-raise."""
        try:
            work()
        except BaseException:
            assembler.abort()
            raise

    def _lost(self, split: str, start: int, stop: int, error: BaseException) -> WorkerLostError:
        seeds = [derive_seed(self.root_seed, split, index) for index in range(start, min(stop, start + 10))]
        more = ", ..." if stop - start > len(seeds) else ""
        return WorkerLostError(
            f"worker processes died {MAX_WORKER_LOSSES} times while generating samples {start}..{stop - 1} of split "
            f"{split!r} (seeds {', '.join(map(str, seeds))}{more}): {type(error).__name__}: {error}. What is complete "
            "is kept: if the crash was a passing accident (memory), run again with resume=True; once the generator "
            "is fixed, run again with overwrite=True (its code is part of the run's fingerprint, so a resume "
            "would be refused rather than mix the old code's samples with the new one's)"
        )
