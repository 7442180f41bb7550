"""Turn a ``save_dir`` into a Hugging Face dataset: Parquet shards for every split, one feature set, a card.

``package_dataset`` works on any ``save_dir`` that holds the documented files, whether a calt_hf run
already streamed the shards and surveyed its texts (then the tokenizers, lexer, figures and card are
written from what it kept, reading no text) or an older run (CALT's, or one without ``hf_dataset``) left
only ``{split}_data.jsonl``/``.pkl`` (then the shards are streamed from the JSON Lines, batch by batch,
and surveyed once). A split with no JSON Lines is read from its pickle, by an unpickler that builds data
only (a pickle from elsewhere cannot run code); a line or sample that is not a sample stops packaging with
an error naming the file and the line. ``load_dataset_dict`` reads the result back with ``datasets.load_dataset``.
"""

from __future__ import annotations

import json
import logging
import pickle
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from calt_hf.hf.card import render_card, write_card
from calt_hf.hf.description import DatasetDescription
from calt_hf.expanded import EXPANDED_COLUMNS
from calt_hf.hf.parquet import (
    COLUMNS,
    ROWS_PER_SHARD,
    ParquetFormat,
    columns_of,
    join_kinds,
    kinds_of_file,
    rewrite,
    text_batches,
)
from calt_hf.hf.lexer import LexerFit, write_lexer
from calt_hf.hf.survey import TextSurvey, load_survey, merged
from calt_hf.hf.tokenizer import (
    field_elements,
    fit_expanded_tokenizer,
    fit_tokenizer,
    number_mode,
    write_tokenizer,
)
from calt_hf.checkpoint import SplitCheckpoint, refuse_strays
from calt_hf.quality import draw_histograms, load_histograms
from calt_hf.files import validate_hf_split
from calt_hf.formats import JsonLinesFormat, PickleFormat, check_nesting, readable_suffixes
from calt_hf.run_folder import RunFolder

logger = logging.getLogger(__name__)

_BATCH_ROWS = 10_000


def find_splits(save_dir: RunFolder | Path) -> list[str]:
    """Splits with data in ``save_dir``: ``train`` first, then the others in name order."""
    root = RunFolder.of(save_dir).root
    names = {path.name.removesuffix(suffix) for suffix in readable_suffixes() for path in root.glob(f"*{suffix}")}
    return sorted(names, key=lambda name: (name != "train", name))


class _DataUnpickler(pickle.Unpickler):
    """Unpickles only data: strings, numbers, lists, tuples, dicts. A pickle can name any function for the
    unpickler to call (``os.system``, ...); this one refuses every such name before looking it up, so a pickle
    from elsewhere cannot run code here (Python's own advice for untrusted pickles, "Restricting Globals").
    A split's pickle, calt_hf's or CALT's, holds tuples of strings and lists of strings only."""

    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"it names {module}.{name}, which a dataset's pickle never does (nothing was called)")


#: What each line of a split's JSON Lines, and each sample of its pickle, must be.
_SAMPLE_SHAPE = ('{"problem": ..., "solution": ...}, each a string, a list of strings or a list mixing strings and '
                 "lists of strings")


def _sample(problem: Any, solution: Any, where: str) -> tuple:
    """A read sample, checked (ValueError naming ``where``: the file and line or sample)."""
    try:
        check_nesting(problem, "the problem")
        check_nesting(solution, "the solution")
    except ValueError as error:
        raise ValueError(f"{where}: {error}; each sample must be {_SAMPLE_SHAPE}") from None
    return problem, solution


def _jsonl_samples(path: Path) -> Iterator[tuple]:
    """A split's JSON Lines file, sample by sample (blank lines skipped); ValueError naming the file and line
    of anything else than a sample."""
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, 1):
            where = f"{path} line {number}"
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as error:
                raise ValueError(f"{where} is not UTF-8 text ({error.reason} at byte {error.start}); is it a JSON Lines "
                                 "file? Each line must be " + _SAMPLE_SHAPE) from None
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise ValueError(f"{where} is not JSON ({error.msg} at column {error.colno}); each line must be "
                                 f"{_SAMPLE_SHAPE}") from None
            except RecursionError:
                raise ValueError(f"{where} is nested too deeply to read; each line must be {_SAMPLE_SHAPE}") from None
            missing = [key for key in COLUMNS if not isinstance(record, dict) or key not in record]
            if missing:
                raise ValueError(f"{where} has no {missing[0]!r}; each line must be {_SAMPLE_SHAPE}")
            yield _sample(record["problem"], record["solution"], where)


def _pickle_samples(path: Path) -> Iterator[tuple]:
    """A split's pickle (loaded whole, by ``_DataUnpickler``), sample by sample; ValueError naming the file (and
    the sample) if it is not a list of samples."""
    try:
        with open(path, "rb") as handle:
            samples = _DataUnpickler(handle).load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, IndexError, KeyError, AttributeError, RecursionError) as error:
        jsonl = path.name.removesuffix(PickleFormat.suffix) + JsonLinesFormat.suffix
        raise ValueError(f"{path} cannot be read as a split's pickle ({error or type(error).__name__}); give the split "
                         f"as JSON Lines ({jsonl}) instead, or generate it again") from None
    if not isinstance(samples, list):
        raise ValueError(f"{path} holds a {type(samples).__name__}, not a list of (problem, solution) samples")
    for index, sample in enumerate(samples):
        where = f"{path} sample {index}"
        if not isinstance(sample, (tuple, list)) or len(sample) != 2:
            raise ValueError(f"{where} is not a (problem, solution) pair: {type(sample).__name__}")
        yield _sample(*sample, where)


def _read_samples(folder: RunFolder, split: str) -> Iterator[list[tuple]]:
    """Batches of a split's samples: streamed from JSON Lines, else from the pickle (loaded whole)."""
    jsonl = folder.split_file(split, JsonLinesFormat.suffix)
    if jsonl.exists():
        samples = _jsonl_samples(jsonl)
    else:
        logger.warning("%s has no JSON Lines file: reading the whole pickle into memory", split)
        samples = _pickle_samples(folder.split_file(split, PickleFormat.suffix))
    batch: list[tuple] = []
    for sample in samples:
        batch.append(sample)
        if len(batch) == _BATCH_ROWS:
            yield batch
            batch = []
    if batch:
        yield batch


def write_shards(save_dir: RunFolder | Path, split: str, rows_per_shard: int = ROWS_PER_SHARD) -> list[Path]:
    """Stream a split's documented files into ``data/{split}-NNNNN-of-NNNNN.parquet``."""
    folder = RunFolder.of(save_dir)
    fmt = ParquetFormat(rows_per_shard=rows_per_shard)
    sink = fmt.open_sink(folder, split, append=False)
    try:
        for batch in _read_samples(folder, split):
            sink.write(fmt.encode(batch))
        sink.finish()
    except BaseException:
        sink.abort()
        raise
    sink.publish()
    return folder.shards(split)


def survey_shards(save_dir: RunFolder | Path, split: str, kinds: dict[str, str], mode: str) -> TextSurvey:
    """Survey a split's texts from its shards (a folder whose run kept no survey in this number mode)."""
    survey = TextSurvey(mode)
    expanded = text_batches(save_dir, split, kinds, columns=EXPANDED_COLUMNS) if EXPANDED_COLUMNS[0] in kinds else None
    for batch in text_batches(save_dir, split, kinds):
        survey.add(batch, next(expanded) if expanded is not None else None)
    return survey


def unify_features(folder: RunFolder, splits: Sequence[str]) -> dict[str, str]:
    """Give every split the same column kinds (one ``DatasetDict`` has one feature set), widening shards."""
    per_split = {split: kinds_of_file(folder.shards(split)[0]) for split in splits}
    columns = {tuple(columns_of(kinds)) for kinds in per_split.values()}
    if len(columns) > 1:
        raise ValueError(f"the splits of {folder} have different columns ({sorted(columns)}): some were generated with "
                         "encoding 'expanded' and some without; generate them all with the same hf.encoding")
    unified: dict[str, str] = {}
    for column in columns.pop():
        kind = None
        for kinds in per_split.values():
            kind = join_kinds(kind, kinds[column])
        unified[column] = kind
    for split, kinds in per_split.items():
        if kinds != unified:
            for shard in folder.shards(split):
                rewrite(shard, kinds, unified)
    return unified


def package_dataset(
    save_dir: RunFolder | str | Path,
    description: DatasetDescription | None = None,
    splits: Sequence[str] | None = None,
    rows_per_shard: int = ROWS_PER_SHARD,
) -> Path:
    """Make ``save_dir`` a Hugging Face dataset: shards for splits that lack them, one feature set, the
    tokenizer fitted to every split (``tokenizer.json``, ``tokenizer_config.json``; with the expanded columns
    also ``expanded/`` holding theirs) and CALT's ``lexer.yaml``, both from the splits' surveys
    (``calt_hf.hf.survey``: kept by the run, else taken from the shards), the figures, ``README.md``.

    ``splits`` (default: every split found, train first) fixes their order in the card. In a folder a calt_hf run
    recorded, a file that would read as part of a complete split but that its run did not write is refused, and
    the shards written or widened here are recorded as the split's. Returns the card's path.
    """
    folder = RunFolder.of(save_dir)
    names = list(splits) if splits is not None else find_splits(folder)
    if not names:
        raise ValueError(f"save_dir={str(folder)!r} holds no split (no {' or '.join(f'*{s}' for s in readable_suffixes())} file)")
    description = description or DatasetDescription()
    mode = number_mode(description.number_tokens, description.settings)
    refuse_strays(folder)
    for split in names:
        validate_hf_split(split)
        if not folder.shards(split):
            write_shards(folder, split, rows_per_shard)
    kinds = unify_features(folder, names)
    for split in names:
        SplitCheckpoint(folder, split).record_files()
    expanded = EXPANDED_COLUMNS[0] in kinds
    state_dir = folder.state_dir
    surveys = {split: load_survey(state_dir, split, mode, expanded) or survey_shards(folder, split, kinds, mode) for split in names}
    survey = merged(surveys.values(), mode)
    numbers = field_elements(description.settings)
    tokenizer = fit_tokenizer(survey, numbers)
    write_tokenizer(folder.root, tokenizer)
    if expanded:  # the expanded form's own tokenizer
        folder.expanded_dir.mkdir(exist_ok=True)
        write_tokenizer(folder.expanded_dir, fit_expanded_tokenizer(survey.expanded_words or (), numbers))
    write_lexer(folder.root, LexerFit(survey, tokenizer.get_vocab()).config(mode))
    token_lengths = {split: surveys[split].token_lengths() for split in names}
    histograms = {split: {**load_histograms(state_dir, split), **token_lengths[split]} for split in names}
    images = draw_histograms(folder.images_dir, histograms)
    return write_card(folder, render_card(folder, names, kinds, description, images, token_lengths))


def load_dataset_dict(save_dir: str | Path):
    """The packaged dataset as a ``datasets.DatasetDict`` (read locally, no network)."""
    from datasets import load_dataset

    return load_dataset(str(save_dir))
