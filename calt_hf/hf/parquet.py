"""Parquet shards of each split, streamed while generating, with Hugging Face features in the schema.

Workers turn each chunk of string samples into a small Arrow table and say which *kind* each column
holds (a string, a list of strings, a list of lists, or a mix that needs ``Json()``). The parent
appends the tables to ``data/{split}-NNNNN-of-NNNNN.parquet`` in index order. Row groups and shards
sit at fixed row positions, so the files are byte-identical whatever the chunking. When a column's kind
widens mid-split (a list of lists after only empty lists, a string among lists), the rows already
written are rewritten row group by row group with the wider type, which yields exactly the bytes a
run that knew the kind from the start would have written. With ``encoding="expanded"`` each shard also
holds ``problem_expanded`` and ``solution_expanded`` (strings, computed by the workers).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from calt_hf.expanded import EXPANDED_COLUMNS
from calt_hf.files import PART_SUFFIX
from calt_hf.formats import OutputFormat, StringSample, TextFormat
from calt_hf.run_folder import RunFolder, shard_name, split_shards

COLUMNS = ("problem", "solution")
#: Every column a shard may hold, in order: the text form's, then (``encoding="expanded"``) the expanded strings.
ALL_COLUMNS = COLUMNS + EXPANDED_COLUMNS
ROWS_PER_SHARD = 1_000_000
ROW_GROUP_ROWS = 10_000
_KIND_METADATA_KEY = b"calt_hf_kinds"

# Kinds of a column, joined over rows: "empty" (only empty lists so far) widens to "list" or "nested".
STRING, EMPTY, LIST, NESTED, JSON = "string", "empty", "list", "nested", "json"
_ARROW_TYPES = {
    STRING: pa.string(),
    EMPTY: pa.list_(pa.string()),
    LIST: pa.list_(pa.string()),
    NESTED: pa.list_(pa.list_(pa.string())),
    JSON: pa.string(),  # JSON text in the workers; the json extension type on disk
}


class _NoPandas:
    """A meta path finder that makes ``import pandas`` fail (``skip_pandas_probe``)."""

    @staticmethod
    def find_spec(name: str, path: Any = None, target: Any = None) -> None:
        if name == "pandas":
            raise ImportError("pandas is not probed for in this process")


def skip_pandas_probe() -> None:
    """Keep pyarrow from importing pandas (0.5 s of CPU, before a worker's first chunk is back) in a worker.

    pyarrow's first conversion of Python values (``pa.array``) imports pandas, if installed, only to ask
    whether the values are a pandas Series (apache/arrow#34994); ours are lists of strings. Letting that
    one probe fail marks pandas absent for the probes, for good; pyarrow's explicit pandas functions
    (``to_pandas``, ``from_pandas``) still import it when called. The cost: in this process a pandas Series
    given to ``pa.array`` before any of those is read as a plain sequence (its NaN stays NaN, not null),
    which is why only the processes calt_hf starts for a run do this (``worker.start_worker``), never a
    user's own."""
    if "pandas" in sys.modules:
        return
    sys.meta_path.insert(0, _NoPandas)
    try:
        pa.array([])
    finally:
        sys.meta_path.remove(_NoPandas)


def value_kind(value: Any) -> str:
    """The kind of one problem or solution (already strings, at most two levels deep)."""
    if isinstance(value, str):
        return STRING
    if not value:
        return EMPTY
    inner_lists = sum(not isinstance(item, str) for item in value)
    if inner_lists == 0:
        return LIST
    return NESTED if inner_lists == len(value) else JSON


def join_kinds(a: str | None, b: str) -> str:
    """The narrowest kind holding both (None: nothing seen yet)."""
    if a is None or a == b:
        return b
    if EMPTY in (a, b) and {a, b} <= {EMPTY, LIST, NESTED}:
        return b if a == EMPTY else a
    return JSON


def columns_of(kinds: dict[str, str]) -> list[str]:
    """The columns of shards with these kinds, in order."""
    return [column for column in ALL_COLUMNS if column in kinds]


_VALUE = {"dtype": "string", "_type": "Value"}
#: Each kind's feature as ``datasets.Features.to_dict()`` writes it, and its Arrow type on disk (``datasets.Json``
#: is Arrow's canonical JSON extension type): written without importing ``datasets`` (a second of every run's
#: start; tests/test_hf.py checks both against ``datasets.Features.arrow_schema``).
_FEATURE_DICTS = {
    STRING: _VALUE,
    EMPTY: {"feature": _VALUE, "_type": "List"},
    LIST: {"feature": _VALUE, "_type": "List"},
    NESTED: {"feature": {"feature": _VALUE, "_type": "List"}, "_type": "List"},
    JSON: {"_type": "Json"},
}
_DISK_TYPES = {**_ARROW_TYPES, JSON: pa.json_(pa.string())}


def schema_of(kinds: dict[str, str]) -> pa.Schema:
    """The Parquet schema: Hugging Face features in the metadata (as ``datasets`` writes them), plus our kinds
    (which tell "empty")."""
    columns = columns_of(kinds)
    features = {"info": {"features": {column: _FEATURE_DICTS[kinds[column]] for column in columns}}}
    return pa.schema(
        [pa.field(column, _DISK_TYPES[kinds[column]]) for column in columns],
        metadata={b"huggingface": json.dumps(features).encode(), _KIND_METADATA_KEY: json.dumps(kinds).encode()},
    )


def kinds_of_file(path: Path) -> dict[str, str]:
    """The column kinds a shard was written with."""
    return json.loads(pq.read_schema(path).metadata[_KIND_METADATA_KEY])


def _column(values: list, kind: str) -> pa.Array:
    if kind == JSON:
        values = [json.dumps(value, ensure_ascii=False) for value in values]
    return pa.array(values, type=_ARROW_TYPES[kind])


def _convert(table: pa.Table, kinds: dict[str, str], target: dict[str, str]) -> pa.Table:
    """A table of ``kinds`` as ``target`` kinds (JSON text where a column became Json: a string column too, whose
    Arrow type is the same, its values quoted)."""
    columns = []
    names = columns_of(target)
    for column in names:
        array = table.column(column)
        source, wanted = kinds[column], target[column]
        if source == wanted or (JSON not in (source, wanted) and _ARROW_TYPES[source] == _ARROW_TYPES[wanted]):
            columns.append(array)
        else:
            columns.append(_column(array.to_pylist(), target[column]))
    return pa.table(dict(zip(names, columns)))


def _to_disk(table: pa.Table, kinds: dict[str, str]) -> pa.Table:
    schema = schema_of(kinds)
    return pa.Table.from_arrays(
        [table.column(c).cast(schema.field(c).type) for c in columns_of(kinds)], schema=schema
    )


@dataclass
class ArrowChunk:
    """A worker's chunk as Arrow columns, with the kind each column holds in this chunk."""

    kinds: dict[str, str]
    table: pa.Table


class ParquetFormat(OutputFormat):
    """The ``data/`` Parquet shards of a split (``rows_per_shard`` rows each, row groups of ``row_group_rows``)."""

    name, suffix = "parquet", "parquet"  # its files are shards under data/, not {split}{suffix}
    data_file = False

    def __init__(self, rows_per_shard: int = ROWS_PER_SHARD, row_group_rows: int = ROW_GROUP_ROWS, expanded: bool = False) -> None:
        self.rows_per_shard = rows_per_shard
        self.row_group_rows = row_group_rows
        self.expanded = expanded  # shards also hold the expanded columns (``encode_with_expanded``)

    def encode(self, samples: Sequence[StringSample]) -> ArrowChunk:
        kinds: dict[str, str] = {}
        for index, column in enumerate(COLUMNS):
            kind = None
            for sample in samples:
                kind = join_kinds(kind, value_kind(sample[index]))
            kinds[column] = kind or STRING
        columns = {column: _column([s[i] for s in samples], kinds[column]) for i, column in enumerate(COLUMNS)}
        return ArrowChunk(kinds, pa.table(columns))

    def encode_with_expanded(self, samples: Sequence[StringSample], expanded: Sequence[tuple[str, str]]) -> ArrowChunk:
        chunk = self.encode(samples)
        table = chunk.table
        for index, column in enumerate(EXPANDED_COLUMNS):
            table = table.append_column(column, pa.array([row[index] for row in expanded], type=pa.string()))
        return ArrowChunk({**chunk.kinds, **dict.fromkeys(EXPANDED_COLUMNS, STRING)}, table)

    def prepare_worker(self) -> None:
        skip_pandas_probe()

    def open_sink(self, directory: RunFolder | Path, tag: str, append: bool) -> ParquetSink:
        if append:
            raise ValueError("Parquet shards cannot be appended to; write the split between open() and close()")
        columns = ALL_COLUMNS if self.expanded else COLUMNS
        return ParquetSink(RunFolder.of(directory).data_dir, tag, self.rows_per_shard, self.row_group_rows, columns)


class ParquetSink:
    """Streams a split into Parquet shards under temporary names; ``close`` gives them their final names."""

    def __init__(self, data_dir: Path, split: str, rows_per_shard: int, row_group_rows: int, columns: Sequence[str] = COLUMNS) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir, self.split, self.columns = data_dir, split, tuple(columns)
        self.rows_per_shard, self.row_group_rows = rows_per_shard, row_group_rows
        self.kinds: dict[str, str] | None = None
        self.pending: list[pa.Table] = []  # at most one row group of rows waiting
        self.pending_rows = 0
        self.parts: list[Path] = []  # shard files, the last one open in ``writer``
        self.writer: pq.ParquetWriter | None = None
        self.rows_in_shard = 0

    def _part(self, index: int) -> Path:
        return self.data_dir / f"{self.split}-{index:05d}{PART_SUFFIX}"

    def write(self, chunk: ArrowChunk) -> None:
        kinds = chunk.kinds if self.kinds is None else {c: join_kinds(self.kinds[c], chunk.kinds[c]) for c in self.columns}
        if self.kinds is not None and kinds != self.kinds:
            self._widen(kinds)
        self.kinds = kinds
        self.pending.append(_convert(chunk.table, chunk.kinds, kinds))
        self.pending_rows += chunk.table.num_rows
        self._flush(final=False)

    def _flush(self, final: bool) -> None:
        """Write full row groups (and, when ``final``, the rest), cutting shards at fixed row counts."""
        if not self.pending_rows:
            return
        table = pa.concat_tables(self.pending) if len(self.pending) > 1 else self.pending[0]
        offset = 0
        while offset < table.num_rows:
            filled = self.rows_in_shard if self.rows_in_shard < self.rows_per_shard else 0
            size = min(self.row_group_rows - filled % self.row_group_rows, self.rows_per_shard - filled)
            available = table.num_rows - offset
            if available < size and not final:
                break
            size = min(size, available)
            self._write_rows(table.slice(offset, size))
            offset += size
        rest = table.slice(offset)
        self.pending, self.pending_rows = ([rest] if rest.num_rows else []), rest.num_rows

    def _write_rows(self, table: pa.Table) -> None:
        if self.writer is None or self.rows_in_shard == self.rows_per_shard:
            self._close_writer()
            self.parts.append(self._part(len(self.parts)))
            self.writer = pq.ParquetWriter(self.parts[-1], schema_of(self.kinds))
            self.rows_in_shard = 0
        self.writer.write_table(_to_disk(table, self.kinds), row_group_size=self.row_group_rows)
        self.rows_in_shard += table.num_rows

    def _close_writer(self) -> None:
        writer, self.writer = self.writer, None  # gone even if closing fails (a full disk refuses the footer)
        if writer is not None:
            writer.close()

    def _widen(self, kinds: dict[str, str]) -> None:
        """Rewrite what is written with wider column kinds; the last shard stays open for more rows."""
        self._close_writer()
        for number, part in enumerate(self.parts):
            writer = rewrite(part, self.kinds, kinds, keep_open=number == len(self.parts) - 1)
            if writer is not None:
                self.writer = writer
        self.pending = [_convert(table, self.kinds, kinds) for table in self.pending]

    def finish(self) -> None:
        if self.kinds is None:  # an empty split still gets one (empty) shard
            self.kinds = {column: STRING for column in self.columns}
        self._flush(final=True)
        if not self.parts:
            self.parts.append(self._part(0))
            pq.ParquetWriter(self.parts[0], schema_of(self.kinds)).close()
        self._close_writer()
        for part in self.parts:
            with open(part, "rb") as handle:
                os.fsync(handle.fileno())

    def publish(self) -> None:
        for stale in split_shards(self.data_dir, self.split):
            stale.unlink()
        for index, part in enumerate(self.parts):
            os.replace(part, self.data_dir / shard_name(self.split, index, len(self.parts)))

    def abort(self) -> None:
        with contextlib.suppress(OSError):  # a full disk refuses the footer: the shards go anyway
            self._close_writer()
        for part in self.parts:
            part.unlink(missing_ok=True)


def rewrite(path: Path, kinds: dict[str, str], target: dict[str, str], keep_open: bool = False) -> pq.ParquetWriter | None:
    """Rewrite a shard with wider kinds, row group by row group (bounded memory, same row groups).

    With ``keep_open`` the new writer is returned open (at ``path``) so more rows can follow.
    """
    source = pq.ParquetFile(path)
    staging = path.with_name(path.name + ".widen")
    writer = pq.ParquetWriter(staging, schema_of(target))
    for group in range(source.num_row_groups):
        table = source.read_row_group(group)
        writer.write_table(_to_disk(_convert(_from_disk(table), kinds, target), target), row_group_size=table.num_rows)
    source.close()
    if keep_open:
        # Parquet files cannot be reopened for appending: keep writing to the staging file, then move it.
        os.replace(staging, path)  # the open handle follows the file (POSIX)
        return writer
    writer.close()
    os.replace(staging, path)
    return None


def _from_disk(table: pa.Table) -> pa.Table:
    """Json columns come back as the json extension type: plain JSON text again, for ``_convert``."""
    columns = {}
    for column in table.column_names:
        values = table.column(column)
        storage = getattr(values.type, "storage_type", None)
        columns[column] = values if storage is None else pa.chunked_array([c.storage for c in values.chunks], type=storage)
    return pa.table(columns)


def split_sizes(save_dir: RunFolder | Path, split: str) -> tuple[int, int, int, int]:
    """(examples, Arrow bytes, Parquet bytes, shards) of a split. The Arrow bytes are what ``datasets``
    records as the split's ``num_bytes`` (its batches' in-memory size, read one row group at a time); the
    Parquet metadata's uncompressed size is some 17% lower."""
    shards = RunFolder.of(save_dir).shards(split)
    examples = arrow_bytes = 0
    for shard in shards:
        parquet = pq.ParquetFile(shard)
        examples += parquet.metadata.num_rows
        arrow_bytes += sum(parquet.read_row_group(i).nbytes for i in range(parquet.num_row_groups))
    return examples, arrow_bytes, sum(shard.stat().st_size for shard in shards), len(shards)


def text_batches(
    save_dir: RunFolder | Path, split: str, kinds: dict[str, str], rows: int | None = None, columns: Sequence[str] = COLUMNS
) -> Iterator[list[tuple[str, str]]]:
    """A split's (problem, solution) in the text form (``a | b || c``), one batch a row group, streamed from
    its shards; ``rows`` stops after that many. ``columns=EXPANDED_COLUMNS``: the expanded forms instead."""
    text = TextFormat()
    left = rows
    for shard in RunFolder.of(save_dir).shards(split):
        parquet = pq.ParquetFile(shard)
        for index in range(parquet.num_row_groups):
            if left is not None and left <= 0:
                return
            table = _from_disk(parquet.read_row_group(index))
            if left is not None:
                table, left = table.slice(0, left), left - min(left, table.num_rows)
            parts = []
            for column in columns:
                values = table.column(column).to_pylist()
                if kinds[column] == JSON:
                    values = [json.loads(value) for value in values]
                parts.append([text.join(value) for value in values])
            yield list(zip(*parts))
