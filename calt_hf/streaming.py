"""A stream that is the dataset: rows made on the fly, row ``i`` the row ``i`` that a run writes.

A sample's seed depends only on the root seed, the split and its index (``seeding.derive_seed``), so the
rows a run stores are a prefix of an endless stream that anyone can make again. ``stream(source)`` makes it
from a folder the command line wrote (its ``config.yaml``) or from command-line overrides;
``DatasetGenerator.stream(problem_generator)`` from a generator of one's own. Both call ``produce.produce``,
the function the file pipeline's workers call, so the stream and the files cannot drift.

The stream is a ``datasets.IterableDataset`` built with ``from_generator`` whose ``gen_kwargs`` hold a list of
shards (index ranges): ``datasets`` hands each DataLoader worker and each rank of ``split_dataset_by_node``
its own shards, and its ``state_dict()`` / ``load_state_dict()`` resume a stream where it stopped. A finite
stream (``stop``) is cut into contiguous ranges, read in index order by one reader; an endless one into
``n_jobs`` interleaved sequences of blocks (shard ``j`` holds blocks ``j``, ``j + n_jobs``, ...), because
``datasets`` reads a reader's shards one after the other and an endless shard never ends: give it as many
shards as it has readers (DataLoader workers times ranks).
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from calt_hf import pickling
from calt_hf.expanded import EXPANDED_COLUMNS
from calt_hf.run_folder import CONFIG_FILE
from calt_hf.run_folder import DATA_DIR
from calt_hf.hf.parquet import COLUMNS, STRING, kinds_of_file, schema_of, value_kind
from calt_hf.options import RunOptions
from calt_hf.produce import GenerationTask, ProblemGenerator, produce
from calt_hf.sampling import check_int

if TYPE_CHECKING:
    from datasets import Features, IterableDataset

    from calt_hf.engine import DatasetGenerator

#: Rows a shard of an endless stream makes per call of ``produce`` (and the unit of its interleaving).
BLOCK_ROWS = 64
#: Shards of a finite stream (fewer if it has fewer rows): divisible by 1-8, 10, 12, 14, 15, 20, ... readers,
#: so that ``split_dataset_by_node`` gives each rank its own shards (otherwise every rank makes every row
#: and keeps its share: the same rows, more work).
FINITE_SHARDS = 840
#: A problem's ``nesting`` words (``Problem.nesting``) as the Parquet column kinds.
_NESTING_KINDS = {"string": "string", "list": "list", "list of lists": "nested"}


def stream(
    source: str | os.PathLike | Sequence[str], split: str = "train", start: int = 0, stop: int | None = None,
    n_jobs: int | None = None,
) -> IterableDataset:
    """Row ``start`` .. ``stop - 1`` (``stop=None``: endless) of ``split`` as ``python -m calt_hf.generate``
    writes it with the configuration of ``source``: a folder it wrote (its ``config.yaml``; the features are its
    Parquet shards') or a list of its overrides (``["problem=gcd", "sampler.field_str=GF31"]``).

    ``n_jobs``: the number of readers (DataLoader workers times ranks) the stream is cut for; an endless stream
    needs it when read by more than one. A bad configuration raises ValueError here, before any row."""
    from omegaconf import OmegaConf

    from calt_hf.config import build_job

    if isinstance(source, (str, os.PathLike)):
        folder = Path(source)
        if not (folder / CONFIG_FILE).is_file():
            raise ValueError(f"source={str(source)!r} is no folder written by the command line (no {CONFIG_FILE} in it); "
                             "give such a folder or a list of command-line overrides")
        cfg = OmegaConf.load(folder / CONFIG_FILE)
        cfg.hub.push = False  # nothing is pushed (and no token read) for a stream
        kinds = _folder_kinds(folder)
    elif isinstance(source, Sequence) and all(isinstance(word, str) for word in source):
        cfg, folder, kinds = _composed(list(source)), None, None
    else:
        raise ValueError(f"source={source!r} is not allowed: give a folder the command line wrote or a list of its "
                         "overrides such as ['problem=gcd']")
    job = build_job(cfg)
    options = job.options
    return job.generator.stream(
        options.problem_generator, split, start, stop, on_error=options.on_error, max_retries=options.max_retries,
        sample_timeout=options.sample_timeout, encoding=options.encoding, n_jobs=n_jobs, kinds=kinds,
    )


def _composed(overrides: list[str]) -> Any:
    """The config the command line composes from ``overrides`` (``dataset_sizes={...}`` replaced, as it does)."""
    from hydra import compose, initialize_config_module

    from calt_hf.config import CONFIG_MODULE, CONFIG_NAME, register_configs
    from calt_hf.generate import replace_mappings

    register_configs()
    try:
        with initialize_config_module(config_module=CONFIG_MODULE, version_base="1.3"):
            return compose(config_name=CONFIG_NAME, overrides=replace_mappings(overrides) + ["save_dir=."])
    except Exception as error:  # Hydra's errors: an unknown group option, a malformed override
        raise ValueError(f"source={overrides!r}: {error}") from None


def _folder_kinds(folder: Path) -> dict[str, str] | None:
    """The column kinds of the folder's packaged shards (one feature set for all its splits), if it has any."""
    shards = sorted((folder / DATA_DIR).glob("*.parquet"))
    return kinds_of_file(shards[0]) if shards else None


def make_stream(
    generator: DatasetGenerator, problem_generator: ProblemGenerator, split: str, start: int, stop: int | None,
    on_error: str, max_retries: int, sample_timeout: float | None, encoding: str, n_jobs: int | None,
    kinds: dict[str, str] | None,
) -> IterableDataset:
    """``DatasetGenerator.stream``: the options checked as a run checks them, the shards, the features."""
    from datasets import IterableDataset

    check_int("start", start, 0)
    check_int("stop", stop, start + 1, allow_none=True)
    check_int("n_jobs", n_jobs, 1, allow_none=True)
    options = RunOptions(
        {split: 1}, problem_generator, on_error=on_error, max_retries=max_retries, sample_timeout=sample_timeout,
        hf_dataset=True, data_quality=False, encoding=encoding,
    )
    task = GenerationTask.from_options(options, generator.cas, generator.root_seed, generator.reseed_backend)
    kinds = kinds or _generator_kinds(task, split, start)
    shards = _shards(start, stop, n_jobs)
    return IterableDataset.from_generator(
        _Rows(pickling.dumps(task), split, tuple(kinds)), features=_features(kinds), gen_kwargs={"shards": shards},
    )


def _shards(start: int, stop: int | None, n_jobs: int | None) -> list[tuple[int, int | None, int, int]]:
    """Shards as ``(first, stop, block, stride)``: blocks of ``block`` indices from ``first``, every ``stride``."""
    if stop is None:
        count = n_jobs or 1
        return [(start + j * BLOCK_ROWS, None, BLOCK_ROWS, count * BLOCK_ROWS) for j in range(count)]
    rows = stop - start
    count = min(rows, n_jobs or FINITE_SHARDS)
    bounds = [start + rows * j // count for j in range(count + 1)]
    return [(a, b, min(b - a, BLOCK_ROWS), min(b - a, BLOCK_ROWS)) for a, b in zip(bounds, bounds[1:])]


class _Rows:
    """The stream's generator function: the task travels (and ``datasets`` fingerprints it) as the bytes the
    file pipeline sends its workers (``calt_hf.pickling``: SymPy's rings do not pickle alone)."""

    def __init__(self, blob: bytes, split: str, columns: tuple[str, ...]) -> None:
        self.blob, self.split, self.columns = blob, split, columns
        self._task: GenerationTask | None = None  # unpickled once per process that reads

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_task": None}

    def __call__(self, shards: list[tuple[int, int | None, int, int]]) -> Iterator[dict[str, Any]]:
        if self._task is None:
            self._task = pickle.loads(self.blob)
        return _rows(self._task, self.split, self.columns, shards)


def _rows(
    task: GenerationTask, split: str, columns: tuple[str, ...], shards: list[tuple[int, int | None, int, int]]
) -> Iterator[dict[str, Any]]:
    """The rows of ``shards`` (the sublist ``datasets`` gives this reader), each shard's in index order."""
    for first, stop, block, stride in shards:
        begin = first
        while stop is None or begin < stop:
            end = begin + block if stop is None else min(begin + block, stop)
            result = produce(task, split, begin, end)
            expanded = result.expanded_rows or [()] * len(result.rows)
            for row, extra in zip(result.rows, expanded):
                yield dict(zip(columns, (*row, *extra)))
            begin += stride


def _generator_kinds(task: GenerationTask, split: str, start: int) -> dict[str, str]:
    """The column kinds of a generator's rows: its ``nesting`` (the problem library's), else its first row's."""
    nesting = getattr(task.problem_generator, "nesting", None)
    if nesting is not None:
        kinds = dict(zip(COLUMNS, (_NESTING_KINDS[word] for word in nesting)))
    else:
        row = next(_rows(task, split, COLUMNS, [(start, None, 1, 1)]))
        kinds = {column: value_kind(row[column]) for column in COLUMNS}
    return {**kinds, **(dict.fromkeys(EXPANDED_COLUMNS, STRING) if task.expanded else {})}


def _features(kinds: dict[str, str]) -> Features:
    """The features of shards with these kinds, as ``load_dataset`` reads them."""
    from datasets import Features

    return Features.from_arrow_schema(schema_of(kinds))
