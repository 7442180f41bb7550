"""Turn a ``save_dir`` into a Hugging Face dataset: Parquet shards for every split, one feature set, a card.

``package_dataset`` works on any ``save_dir`` that holds the documented files, whether a calt_hf run
already streamed the shards and surveyed its texts (then the tokenizers, lexer, figures and card are
written from what it kept, reading no text) or an older run (CALT's, or one without ``hf_dataset``) left
only ``{split}_data.jsonl``/``.pkl`` (then the shards are streamed from the JSON Lines, batch by batch,
and surveyed once). ``load_dataset_dict`` reads the result back with ``datasets.load_dataset``.
"""

from __future__ import annotations

import json
import logging
import pickle
from collections.abc import Iterator, Sequence
from pathlib import Path

from calt_hf.hf.card import write_card
from calt_hf.hf.description import DatasetDescription
from calt_hf.expanded import EXPANDED_COLUMNS
from calt_hf.hf.parquet import (
    DATA_DIR,
    ROWS_PER_SHARD,
    ParquetFormat,
    columns_of,
    join_kinds,
    kinds_of_file,
    rewrite,
    split_shards,
    text_batches,
)
from calt_hf.hf.lexer import LexerFit, write_lexer
from calt_hf.hf.survey import TextSurvey, load_survey, merged
from calt_hf.hf.tokenizer import (
    EXPANDED_DIR,
    field_elements,
    fit_expanded_tokenizer,
    fit_tokenizer,
    number_mode,
    write_tokenizer,
)
from calt_hf.checkpoint import STATE_DIR, SplitCheckpoint, refuse_strays
from calt_hf.quality import draw_histograms, load_histograms
from calt_hf.writer import validate_hf_split

logger = logging.getLogger(__name__)

_BATCH_ROWS = 10_000
IMAGES_DIR = "images"


def find_splits(save_dir: Path) -> list[str]:
    """Splits with data in ``save_dir``: ``train`` first, then the others in name order."""
    names = {path.name[: -len("_data.pkl")] for path in save_dir.glob("*_data.pkl")}
    names |= {path.name[: -len("_data.jsonl")] for path in save_dir.glob("*_data.jsonl")}
    return sorted(names, key=lambda name: (name != "train", name))


def _read_samples(save_dir: Path, split: str) -> Iterator[list[tuple]]:
    """Batches of a split's samples: streamed from JSON Lines, else from the pickle (loaded whole)."""
    jsonl = save_dir / f"{split}_data.jsonl"
    if jsonl.exists():
        batch: list[tuple] = []
        with open(jsonl, encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    record = json.loads(line)
                    batch.append((record["problem"], record["solution"]))
                    if len(batch) == _BATCH_ROWS:
                        yield batch
                        batch = []
        if batch:
            yield batch
        return
    logger.warning("%s has no JSON Lines file: reading the whole pickle into memory", split)
    with open(save_dir / f"{split}_data.pkl", "rb") as handle:
        samples = pickle.load(handle)
    for start in range(0, len(samples), _BATCH_ROWS):
        yield [tuple(sample) for sample in samples[start : start + _BATCH_ROWS]]


def write_shards(save_dir: Path, split: str, rows_per_shard: int = ROWS_PER_SHARD) -> list[Path]:
    """Stream a split's documented files into ``data/{split}-NNNNN-of-NNNNN.parquet``."""
    fmt = ParquetFormat(rows_per_shard=rows_per_shard)
    sink = fmt.open_sink(save_dir, split, append=False)
    try:
        for batch in _read_samples(save_dir, split):
            sink.write(fmt.encode(batch))
        sink.finish()
    except BaseException:
        sink.abort()
        raise
    sink.publish()
    return split_shards(save_dir / DATA_DIR, split)


def survey_shards(save_dir: Path, split: str, kinds: dict[str, str], mode: str) -> TextSurvey:
    """Survey a split's texts from its shards (a folder whose run kept no survey in this number mode)."""
    survey = TextSurvey(mode)
    expanded = text_batches(save_dir, split, kinds, columns=EXPANDED_COLUMNS) if EXPANDED_COLUMNS[0] in kinds else None
    for batch in text_batches(save_dir, split, kinds):
        survey.add(batch, next(expanded) if expanded is not None else None)
    return survey


def unify_features(save_dir: Path, splits: Sequence[str]) -> dict[str, str]:
    """Give every split the same column kinds (one ``DatasetDict`` has one feature set), widening shards."""
    data_dir = save_dir / DATA_DIR
    per_split = {split: kinds_of_file(split_shards(data_dir, split)[0]) for split in splits}
    columns = {tuple(columns_of(kinds)) for kinds in per_split.values()}
    if len(columns) > 1:
        raise ValueError(f"the splits of {save_dir} have different columns ({sorted(columns)}): some were generated with "
                         "encoding 'expanded' and some without; generate them all with the same hf.encoding")
    unified: dict[str, str] = {}
    for column in columns.pop():
        kind = None
        for kinds in per_split.values():
            kind = join_kinds(kind, kinds[column])
        unified[column] = kind
    for split, kinds in per_split.items():
        if kinds != unified:
            for shard in split_shards(data_dir, split):
                rewrite(shard, kinds, unified)
    return unified


def package_dataset(
    save_dir: str | Path,
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
    save_dir = Path(save_dir)
    names = list(splits) if splits is not None else find_splits(save_dir)
    if not names:
        raise ValueError(f"save_dir={str(save_dir)!r} holds no split (no *_data.jsonl or *_data.pkl file)")
    description = description or DatasetDescription()
    mode = number_mode(description.number_tokens, description.settings)
    refuse_strays(save_dir)
    for split in names:
        validate_hf_split(split)
        if not split_shards(save_dir / DATA_DIR, split):
            write_shards(save_dir, split, rows_per_shard)
    kinds = unify_features(save_dir, names)
    for split in names:
        SplitCheckpoint(save_dir, split).record_files()
    expanded = EXPANDED_COLUMNS[0] in kinds
    state_dir = save_dir / STATE_DIR
    surveys = {split: load_survey(state_dir, split, mode, expanded) or survey_shards(save_dir, split, kinds, mode) for split in names}
    survey = merged(surveys.values(), mode)
    numbers = field_elements(description.settings)
    tokenizer = fit_tokenizer(survey, numbers)
    write_tokenizer(save_dir, tokenizer)
    if expanded:  # the expanded form's own tokenizer
        (save_dir / EXPANDED_DIR).mkdir(exist_ok=True)
        write_tokenizer(save_dir / EXPANDED_DIR, fit_expanded_tokenizer(survey.expanded_words or (), numbers))
    write_lexer(save_dir, LexerFit(survey, tokenizer.get_vocab()).config(mode))
    token_lengths = {split: surveys[split].token_lengths() for split in names}
    histograms = {split: {**load_histograms(state_dir, split), **token_lengths[split]} for split in names}
    images = draw_histograms(save_dir / IMAGES_DIR, histograms)
    return write_card(save_dir, names, kinds, description, images, token_lengths)


def load_dataset_dict(save_dir: str | Path):
    """The packaged dataset as a ``datasets.DatasetDict`` (read locally, no network)."""
    from datasets import load_dataset

    return load_dataset(str(save_dir))
