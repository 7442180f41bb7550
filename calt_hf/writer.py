"""``DatasetWriter``: the documented files of a split, written under temporary names and renamed at the end.

The formats (``calt_hf.formats``) encode the samples; the writer opens each enabled format's sink per split,
appends the encoded batches in index order and renames every file of a split together when it completes,
so a failed or killed run leaves nothing that looks complete.
"""

from __future__ import annotations

import json
import logging
import os
import pickle
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

from calt_hf.files import validate_tag, write_atomically
from calt_hf.run_folder import RunFolder
from calt_hf.formats import (
    INNER_SEP,
    OUTER_SEP,
    JsonLinesFormat,
    OutputFormat,
    PickleFormat,
    Sink,
    StringSampleList,
    TextFormat,
    check_sample,
    encode_batch,
)

logger = logging.getLogger(__name__)

StatisticsDict = dict[str, Any]


class _TimedeltaDumper(yaml.SafeDumper):
    """Writes ``timedelta`` as seconds, so statistics may hold either."""


_TimedeltaDumper.add_representer(timedelta, lambda dumper, value: dumper.represent_float(value.total_seconds()))


class DatasetWriter:
    """Writes the samples of each split to ``save_dir`` as pickle, raw text and JSON Lines.

    Files go directly in ``save_dir`` (a path, or the run's ``RunFolder``): ``{tag}_data.pkl`` (always), ``{tag}_raw.txt`` (``save_text``),
    ``{tag}_data.jsonl`` (``save_json``) and ``{tag}_stats.yaml``. Use ``open(tag)``, ``save_batch`` a
    number of times, then ``close(tag)``; or call ``save_batch`` alone, which creates the files for
    ``batch_idx=0`` and appends for later batches. Used as a context manager, it closes every open split
    on a normal exit and discards the unfinished files of every open split when an exception escapes.
    """

    INNER_SEP = INNER_SEP
    OUTER_SEP = OUTER_SEP

    def __init__(
        self,
        save_dir: str | os.PathLike | RunFolder | None = None,
        save_text: bool = True,
        save_json: bool = True,
        save_parquet: bool = False,
        save_expanded: bool = False,
    ) -> None:
        self.folder = RunFolder.of(save_dir if save_dir else Path.cwd())
        self.save_text = save_text
        self.save_json = save_json
        self.save_parquet = save_parquet
        self.save_expanded = save_expanded  # the Parquet shards also hold the expanded columns
        self.logger = logger
        self._file_handles: dict[str, dict[str, Sink]] = {}  # {tag: {format suffix: open sink}}

    @property
    def save_dir(self) -> Path:
        """The folder the files go to (CALT's attribute; set it to write elsewhere)."""
        return self.folder.root

    @save_dir.setter
    def save_dir(self, save_dir: str | os.PathLike) -> None:
        self.folder = RunFolder.of(save_dir)

    # -- formats ---------------------------------------------------------------------------------
    def output_formats(self) -> tuple[OutputFormat, ...]:
        """The formats this writer produces: pickle always; text, JSON Lines and Parquet shards when enabled."""
        formats: list[OutputFormat] = [PickleFormat()]
        if self.save_text:
            formats.append(TextFormat(self.INNER_SEP, self.OUTER_SEP))
        if self.save_json:
            formats.append(JsonLinesFormat())
        if self.save_parquet:
            from calt_hf.hf.parquet import ParquetFormat  # pyarrow only when asked for (it imports no writer)

            formats.append(ParquetFormat(expanded=self.save_expanded))
        return tuple(formats)

    def _path(self, tag: str, suffix: str) -> Path:
        return self.folder.split_file(tag, suffix)

    def _create_dataset_dir(self) -> Path:
        self.save_dir.mkdir(parents=True, exist_ok=True)
        return self.save_dir

    # -- lifecycle -------------------------------------------------------------------------------
    def open(self, tag: str, append: bool = False) -> None:
        """Open the files of split ``tag`` under temporary names.

        With ``append``, the split's existing files are continued; otherwise they are replaced when the
        split is closed.
        """
        validate_tag(tag)
        if tag in self._file_handles:
            self.logger.warning("files for split %r are already open", tag)
            return
        self._create_dataset_dir()
        sinks: dict[str, Sink] = {}
        try:
            for fmt in self.output_formats():
                sinks[fmt.suffix] = fmt.open_sink(self.folder, tag, append)
        except BaseException:
            for sink in sinks.values():
                sink.abort()
            raise
        self._file_handles[tag] = sinks

    def close(self, tag: str) -> None:
        """Finish split ``tag``: write footers, flush to disk, and give the files their final names; if any
        file cannot be finished (a full disk), none gets its final name and the unfinished ones are removed."""
        validate_tag(tag)
        sinks = self._file_handles.pop(tag, None)
        if sinks is None:
            self.logger.warning("no open files for split %r", tag)
            return
        try:
            for sink in sinks.values():
                sink.finish()
        except BaseException:
            for sink in sinks.values():
                sink.abort()
            raise
        for sink in sinks.values():
            sink.publish()

    def abort(self, tag: str) -> None:
        """Discard the unfinished files of split ``tag`` (after a failure): nothing half-written stays."""
        for sink in (self._file_handles.pop(tag, None) or {}).values():
            sink.abort()

    def close_all(self) -> None:
        """Close every open split."""
        for tag in list(self._file_handles):
            self.close(tag)

    def __enter__(self) -> DatasetWriter:
        return self

    def __exit__(self, exc_type, exc_val, exc_tb) -> None:
        if exc_type is None:
            self.close_all()
        else:
            for tag in list(self._file_handles):
                self.abort(tag)

    # -- writing ---------------------------------------------------------------------------------
    def save_batch(self, samples: StringSampleList, tag: str = "train", batch_idx: int = 0) -> None:
        """Write a batch of string samples of split ``tag`` in every enabled format.

        Without ``open(tag)`` first, ``batch_idx=0`` starts the split's files afresh and a later
        ``batch_idx`` appends to them; each call then completes the files before returning.
        """
        validate_tag(tag)
        if not samples:
            self.logger.warning("empty batch for split %r: nothing written", tag)
            return
        formats = self.output_formats()
        for position, sample in enumerate(samples):
            check_sample(sample, formats, f"sample {position} of the batch")
        encoded = encode_batch(samples, formats)
        if tag in self._file_handles:
            self.write_encoded(tag, encoded)
            return
        self.open(tag, append=batch_idx > 0)
        try:
            self.write_encoded(tag, encoded)
        except BaseException:
            self.abort(tag)
            raise
        self.close(tag)

    def write_encoded(self, tag: str, encoded: Mapping[str, Any]) -> None:
        """Append already encoded batches (``{suffix: payload}``, from ``encode_batch``) to open split ``tag``."""
        sinks = self._file_handles[tag]
        for suffix, payload in encoded.items():
            sinks[suffix].write(payload)

    def save_final_statistics(self, statistics: StatisticsDict, tag: str = "train") -> None:
        """Write ``{tag}_stats.yaml`` (through a temporary file, so it is never seen half-written)."""
        validate_tag(tag)
        self._create_dataset_dir()
        text = yaml.dump(statistics, Dumper=_TimedeltaDumper, default_flow_style=False, sort_keys=False, indent=4)
        write_atomically(self.folder.stats_file(tag), text)

    # -- reading ---------------------------------------------------------------------------------
    def load_dataset(self, tag: str) -> StringSampleList:
        """The samples of split ``tag`` from its pickle file."""
        path = self._path(validate_tag(tag), PickleFormat.suffix)
        if not path.exists():
            raise FileNotFoundError(f"Dataset file not found: {path}")
        with open(path, "rb") as handle:
            return pickle.load(handle)

    def load_dataset_jsonl(self, tag: str) -> StringSampleList:
        """The samples of split ``tag`` from its JSON Lines file (lines that do not parse are skipped with a warning)."""
        path = self._path(validate_tag(tag), JsonLinesFormat.suffix)
        if not path.exists():
            raise FileNotFoundError(f"JSON Lines file not found: {path}")
        samples: StringSampleList = []
        with open(path, encoding="utf-8") as handle:
            for line_number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                    samples.append((record["problem"], record["solution"]))
                except (json.JSONDecodeError, KeyError, TypeError) as error:
                    self.logger.warning("%s line %d skipped: %s", path, line_number, error)
        return samples
