"""``DatasetWriter``: the documented files of a split, written under temporary names and renamed at the end.

Each output format is a small class that turns a list of string samples into bytes. The bytes are
pure functions of the samples, so the generation core computes them in the workers and the parent
only appends them to files, in index order. Files live as ``{name}.part`` while a split is written and
get their final names only when it completes, so a failed or killed run leaves nothing that looks
complete.

Text format: one sample a line, ``problem # solution``; a list is joined with ``" | "``, a list of lists
with ``" | "`` inside and ``" || "`` between the inner lists. JSON Lines keep the nesting:
``{"problem": ..., "solution": ...}``. The pickle is a single list of ``(problem, solution)`` tuples,
streamed to disk batch by batch (never held in memory whole).
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import pickle
import re
from collections.abc import Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any, BinaryIO, ClassVar, Protocol

import yaml

logger = logging.getLogger(__name__)

#: A problem or a solution once converted: a string, a list of strings, or a list mixing strings and
#: lists of strings (two levels at most).
StringProblemOrSolution = str | list[str] | list[str | list[str]]
StringSample = tuple[StringProblemOrSolution, StringProblemOrSolution]
StringSampleList = list[StringSample]
StatisticsDict = dict[str, Any]

PROBLEM_SOLUTION_SEP = " # "
_TAG_PATTERN = re.compile(r"[A-Za-z0-9_-]+")
#: A file name holds 255 bytes; the longest one a split's name makes is a shard being widened,
#: ``{split}-00000-of-00001.parquet.widen`` (35 more), so a longer name would fail mid-run.
MAX_TAG_LENGTH = 200
#: What ``datasets`` and the Hub load as a split, within ours: ``datasets.naming._split_re`` (``^\w+(\.\w+)*$``) refuses
#: ``-`` (its cache files are ``{dataset}-{split}``), ours refuses ``.`` (state files are ``{split}.json``), and
#: ``all`` is datasets' name for the union of the splits.
_HF_SPLIT_PATTERN = re.compile(r"[A-Za-z0-9_]+")
_HF_RESERVED_SPLITS = ("all",)
_PART_SUFFIX = ".part"


def fsync_path(path: Path) -> None:
    """Flush a file's or a folder's entry to disk (a folder: so a rename in it survives a crash)."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def write_atomically(path: Path, data: bytes | str | Sequence[bytes | memoryview], sync: bool = False) -> None:
    """Write a whole file (``data``, or its pieces in order) under ``{name}.part`` and rename it, so it is never
    seen half-written; with ``sync``, also flushed to disk, rename included. An OSError names the file."""
    part = path.with_name(path.name + _PART_SUFFIX)
    pieces = [data.encode()] if isinstance(data, str) else [data] if isinstance(data, (bytes, bytearray)) else data
    try:
        with open(part, "wb") as handle:
            for piece in pieces:
                handle.write(piece)
            if sync:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(part, path)
    except BaseException as error:  # a full disk, a signal: no half-written file stays behind
        part.unlink(missing_ok=True)
        if isinstance(error, OSError) and error.filename is None and error.errno is not None:
            raise OSError(error.errno, error.strerror, str(path)) from error  # a failed write names no file
        raise
    if sync:
        fsync_path(path.parent)


#: What to do about a damaged file of a complete split (``DamagedFileError``'s default advice).
REGENERATE = ("run the same job again with resume=True (resume=true): a complete split whose files are damaged is "
              "generated again")


class DamagedFileError(ValueError):
    """A file of a run that cannot be read as what it should be (cut short, overwritten, edited): names the
    file, why, and what to do."""

    def __init__(self, path: Path, reason: str, advice: str = REGENERATE) -> None:
        super().__init__(f"{path} is damaged ({reason}); {advice}")
        self.path, self.reason = path, reason

    @property
    def what(self) -> str:
        """The file and why, without the advice."""
        return f"{self.path} is damaged ({self.reason})"


def read_json(path: Path) -> Any:
    """A JSON file of a run; DamagedFileError if it is not JSON."""
    try:
        return json.loads(path.read_bytes().decode("utf-8"))
    except (ValueError, RecursionError) as error:  # not UTF-8, not JSON
        raise DamagedFileError(path, f"not JSON: {error}") from None


#: What every statistics file holds (``statistics.IncrementalStatistics.get_overall_statistics``).
_STATISTICS_KEYS = ("total_time", "generation_time", "samples_per_second")


def read_statistics(path: Path) -> StatisticsDict:
    """A split's statistics file; DamagedFileError if it is not YAML holding a split's statistics."""
    try:
        statistics = yaml.safe_load(path.read_bytes())
    except (yaml.YAMLError, ValueError) as error:
        raise DamagedFileError(path, f"not YAML: {' '.join(str(error).split())}") from None
    missing = [key for key in _STATISTICS_KEYS if not isinstance(statistics, dict) or key not in statistics]
    if missing:
        raise DamagedFileError(path, f"no {missing[0]!r}: not a split's statistics")
    return statistics


def validate_tag(tag: Any) -> str:
    """Check a split name: letters, digits, ``_`` and ``-`` only, so it can never escape ``save_dir``, and short
    enough for its files' names (CALT's writer takes any string)."""
    if not isinstance(tag, str) or not _TAG_PATTERN.fullmatch(tag):
        raise ValueError(
            f"split name (tag) {tag!r} is not allowed: use a non-empty name made of letters, digits, '_' and '-'"
        )
    if len(tag) > MAX_TAG_LENGTH:
        raise ValueError(
            f"split name (tag) {tag[:40]}... is {len(tag)} characters long: use at most {MAX_TAG_LENGTH}, so that the "
            "names of its files fit the file system's limit of 255 bytes"
        )
    return tag


def validate_hf_split(split: Any) -> str:
    """Check a split name of a Hugging Face dataset: ``validate_tag``'s rule and the one ``datasets`` and the Hub
    load (letters, digits and ``_``; not ``all``), so a packaged folder is never unloadable."""
    validate_tag(split)
    if not _HF_SPLIT_PATTERN.fullmatch(split) or split in _HF_RESERVED_SPLITS:
        raise ValueError(
            f"split name {split!r} cannot name a split of a Hugging Face dataset: use letters, digits and '_' only "
            "(datasets' rule ^\\w+(\\.\\w+)*$, which the Hub applies too, without the '.' that calt_hf's file names do "
            "not allow), and not 'all' (datasets' name for every split); or write the files without packaging them "
            "(hf_dataset=False, hf.package=false)"
        )
    return split


def check_nesting(obj: Any, what: str) -> None:
    """Raise ValueError unless ``obj`` is a string, or a list/tuple of strings and lists/tuples of strings."""
    if isinstance(obj, str):
        return
    if not isinstance(obj, (list, tuple)):
        raise ValueError(f"{what} must be a string or a list of strings, got {type(obj).__name__}: {obj!r}")
    for item in obj:
        if isinstance(item, str):
            continue
        if not isinstance(item, (list, tuple)):
            raise ValueError(f"{what} holds a {type(item).__name__} ({item!r}); elements must be strings")
        for inner in item:
            if isinstance(inner, (list, tuple)):
                raise ValueError(f"{what} is nested deeper than 2 levels (lists of lists at most): {obj!r}")
            if not isinstance(inner, str):
                raise ValueError(f"{what} holds a {type(inner).__name__} ({inner!r}); elements must be strings")


class Sink(Protocol):
    """Where one format's encoded batches of one split go. Closing is two steps, so that a split's files get
    their final names together or not at all: ``finish`` writes what is left and flushes it to disk (it may
    fail: a full disk), ``publish`` only renames."""

    def write(self, payload: Any) -> None: ...

    def finish(self) -> None: ...

    def publish(self) -> None: ...

    def abort(self) -> None: ...


class FileSink:
    """One file written as ``{name}.part`` and renamed at ``close``: ``header``, batches, ``footer``.

    With ``append``, an existing complete file is continued: renamed back to ``.part`` and its footer
    removed (a crash meanwhile leaves only the ``.part``, which does not look complete).
    """

    def __init__(self, path: Path, header: bytes, footer: bytes, append: bool) -> None:
        self.path, self.part, self.footer = path, path.with_name(path.name + _PART_SUFFIX), footer
        if append and path.exists():
            os.replace(path, self.part)
            self.handle: BinaryIO = open(self.part, "r+b")
            self.handle.seek(-len(footer), os.SEEK_END)
            if self.handle.read() != footer:
                self.handle.close()
                os.replace(self.part, path)
                raise ValueError(f"cannot append to {path}: it is not a complete file of its format")
            self.handle.seek(-len(footer), os.SEEK_END)
            self.handle.truncate()
            return
        self.handle = open(self.part, "wb")
        self.handle.write(header)

    def write(self, payload: bytes) -> None:
        self.handle.write(payload)

    def finish(self) -> None:
        self.handle.write(self.footer)
        self.handle.flush()
        os.fsync(self.handle.fileno())
        self.handle.close()

    def publish(self) -> None:
        os.replace(self.part, self.path)

    def abort(self) -> None:
        with contextlib.suppress(OSError):  # closing flushes the buffer, which a full disk refuses: remove it anyway
            self.handle.close()
        self.part.unlink(missing_ok=True)


class OutputFormat:
    """One output of a split. The file formats here are ``{tag}{suffix}``: ``header``, the encoded
    batches, then ``footer``; other formats (Parquet shards) override ``open_sink``."""

    suffix: ClassVar[str]
    header: ClassVar[bytes] = b""
    footer: ClassVar[bytes] = b""

    def open_sink(self, directory: Path, tag: str, append: bool) -> Sink:
        """Start writing split ``tag`` of this format under ``directory``."""
        return FileSink(directory / f"{tag}{self.suffix}", self.header, self.footer, append)

    #: Whether ``check`` also refuses lone surrogates (``check_formats`` then need not search the strings again).
    checks_unicode: ClassVar[bool] = False

    def check(self, problem: StringProblemOrSolution, solution: StringProblemOrSolution) -> None:
        """Raise ValueError if this format cannot hold the sample (after ``check_nesting``)."""

    def encode(self, samples: Sequence[StringSample]) -> Any:
        """The payload (bytes here) of a batch of checked samples; pure, so workers can run it."""
        raise NotImplementedError

    def encode_with_expanded(self, samples: Sequence[StringSample], expanded: Sequence[tuple[str, str]]) -> Any:
        """``encode``, for formats that also hold the samples' expanded forms (Parquet); the files do not."""
        return self.encode(samples)

    def prepare_worker(self) -> None:
        """Called once in each process calt_hf starts to run chunks, before its first ``encode``."""


class TextFormat(OutputFormat):
    """``{tag}_raw.txt``: ``problem # solution`` a line, lists joined by the writer's separators."""

    suffix = "_raw.txt"
    checks_unicode = True  # its search for separators looks for lone surrogates too, at no extra cost

    def __init__(self, inner_sep: str, outer_sep: str) -> None:
        self.inner_sep = inner_sep
        self.outer_sep = outer_sep

    def join(self, obj: StringProblemOrSolution) -> str:
        """A problem or solution as text (``a | b`` for a list, ``a | b || c`` for a list of lists)."""
        if isinstance(obj, str):
            return obj
        if any(not isinstance(item, str) for item in obj):
            return self.outer_sep.join(
                item if isinstance(item, str) else self.inner_sep.join(item) for item in obj
            )
        return self.inner_sep.join(obj)

    def check(self, problem: StringProblemOrSolution, solution: StringProblemOrSolution) -> None:
        found = _search(_TEXT_REFUSED, problem) or _search(_TEXT_REFUSED, solution)
        if found is None:
            return
        if _SURROGATE.match(found.group()):
            raise ValueError(_surrogate_message(found.group(), problem, solution))
        raise ValueError(
            "an element contains '|', '#' or a line break, which the text format uses as separators "
            f"({problem!r} # {solution!r}); JSON Lines keep any string: set save_text=False to skip the text file"
        )

    def encode(self, samples: Sequence[StringSample]) -> bytes:
        join = self.join
        lines = [f"{join(problem)}{PROBLEM_SOLUTION_SEP}{join(solution)}\n" for problem, solution in samples]
        return "".join(lines).encode()


#: Halves of UTF-16 pairs standing alone (``"\\ud800"``): a Python string may hold them, no UTF-8 file can.
_SURROGATES = "\ud800-\udfff"
_SURROGATE = re.compile(f"[{_SURROGATES}]")
#: The text format's separators, every character that ``str.splitlines`` ends a line at (U+2028, NEL, ...), and
#: lone surrogates.
_TEXT_REFUSED = re.compile(f"[|#\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029{_SURROGATES}]")


def _search(pattern: re.Pattern, obj: StringProblemOrSolution) -> re.Match | None:
    # One search over the concatenated elements (a character is in it if it is in one of them).
    if not isinstance(obj, str):
        obj = "".join(item if isinstance(item, str) else "".join(item) for item in obj)
    return pattern.search(obj)


def _surrogate_message(character: str, problem: StringProblemOrSolution, solution: StringProblemOrSolution) -> str:
    return (f"an element holds the lone surrogate {character!r} ({problem!r} # {solution!r}): half of a UTF-16 pair, "
            "not text that a file can hold; decode the generator's bytes with errors='replace', or build its strings "
            "from whole characters")


class JsonLinesFormat(OutputFormat):
    """``{tag}_data.jsonl``: ``{"problem": ..., "solution": ...}`` a line, nesting kept."""

    suffix = "_data.jsonl"

    def encode(self, samples: Sequence[StringSample]) -> bytes:
        dumps = json.JSONEncoder(ensure_ascii=False).encode
        return "".join(
            dumps({"problem": problem, "solution": solution}) + "\n" for problem, solution in samples
        ).encode()


class PickleFormat(OutputFormat):
    """``{tag}_data.pkl``: one pickled list of ``(problem, solution)`` tuples, streamed.

    The file is ``PROTO 2, EMPTY_LIST``, then each sample's pickle followed by ``APPEND``, then ``STOP``:
    one valid pickle of the whole split, written without ever holding the split in memory. Samples are
    pickled one by one in "fast" mode (no memo), so the bytes depend only on the sample's values, never on
    which samples shared a batch or which string objects happened to be shared.
    """

    suffix = "_data.pkl"
    header = b"\x80\x02]"  # PROTO 2, EMPTY_LIST
    footer = b"."  # STOP
    _append = b"a"

    def encode(self, samples: Sequence[StringSample]) -> bytes:
        buffer = io.BytesIO()
        pickler = pickle.Pickler(buffer, protocol=2)
        pickler.fast = True
        spans = []
        for sample in samples:
            start = buffer.tell()
            pickler.dump(tuple(sample))
            spans.append((start + 2, buffer.tell() - 1))  # drop each dump's PROTO and STOP
        data = buffer.getvalue()
        return b"".join(data[start:stop] + self._append for start, stop in spans)


def check_sample(sample: Any, formats: Sequence[OutputFormat], what: str) -> None:
    """Raise ValueError (naming ``what``) unless ``sample`` is a pair every format can write."""
    if not isinstance(sample, (tuple, list)) or len(sample) != 2:
        raise ValueError(f"{what} must be a (problem, solution) pair, got {sample!r}")
    problem, solution = sample
    check_nesting(problem, f"the problem of {what}")
    check_nesting(solution, f"the solution of {what}")
    check_formats(problem, solution, formats, what)


def check_formats(problem: Any, solution: Any, formats: Sequence[OutputFormat], what: str) -> None:
    """Raise ValueError (naming ``what``) if a format cannot hold this well-nested sample (a lone surrogate: none)."""
    unicode_checked = False
    for fmt in formats:
        try:
            fmt.check(problem, solution)
        except ValueError as error:
            raise ValueError(f"{what}: {error}") from None
        unicode_checked = unicode_checked or fmt.checks_unicode
    if not unicode_checked:
        found = _search(_SURROGATE, problem) or _search(_SURROGATE, solution)
        if found is not None:
            raise ValueError(f"{what}: {_surrogate_message(found.group(), problem, solution)}")


def encode_batch(
    samples: Sequence[StringSample], formats: Sequence[OutputFormat], expanded: Sequence[tuple[str, str]] | None = None
) -> dict[str, Any]:
    """Encode checked samples (and their expanded forms, if written) for every format: ``{suffix: payload}``
    (bytes for the file formats)."""
    if expanded is None:
        return {fmt.suffix: fmt.encode(samples) for fmt in formats}
    return {fmt.suffix: fmt.encode_with_expanded(samples, expanded) for fmt in formats}


class _TimedeltaDumper(yaml.SafeDumper):
    """Writes ``timedelta`` as seconds, so statistics may hold either."""


_TimedeltaDumper.add_representer(timedelta, lambda dumper, value: dumper.represent_float(value.total_seconds()))


class DatasetWriter:
    """Writes the samples of each split to ``save_dir`` as pickle, raw text and JSON Lines.

    Files go directly in ``save_dir``: ``{tag}_data.pkl`` (always), ``{tag}_raw.txt`` (``save_text``),
    ``{tag}_data.jsonl`` (``save_json``) and ``{tag}_stats.yaml``. Use ``open(tag)``, ``save_batch`` a
    number of times, then ``close(tag)``; or call ``save_batch`` alone, which creates the files for
    ``batch_idx=0`` and appends for later batches. Used as a context manager, it closes every open split
    on a normal exit and discards the unfinished files of every open split when an exception escapes.
    """

    INNER_SEP = " | "
    OUTER_SEP = " || "

    def __init__(
        self,
        save_dir: str | os.PathLike | None = None,
        save_text: bool = True,
        save_json: bool = True,
        save_parquet: bool = False,
        save_expanded: bool = False,
    ) -> None:
        self.save_dir = Path(save_dir) if save_dir else Path.cwd()
        self.save_text = save_text
        self.save_json = save_json
        self.save_parquet = save_parquet
        self.save_expanded = save_expanded  # the Parquet shards also hold the expanded columns
        self.logger = logger
        self._file_handles: dict[str, dict[str, Sink]] = {}  # {tag: {format suffix: open sink}}

    # -- formats ---------------------------------------------------------------------------------
    def output_formats(self) -> tuple[OutputFormat, ...]:
        """The formats this writer produces: pickle always; text, JSON Lines and Parquet shards when enabled."""
        formats: list[OutputFormat] = [PickleFormat()]
        if self.save_text:
            formats.append(TextFormat(self.INNER_SEP, self.OUTER_SEP))
        if self.save_json:
            formats.append(JsonLinesFormat())
        if self.save_parquet:
            from calt_hf.hf.parquet import ParquetFormat  # pyarrow only when asked for

            formats.append(ParquetFormat(expanded=self.save_expanded))
        return tuple(formats)

    def _path(self, tag: str, suffix: str) -> Path:
        return self.save_dir / f"{tag}{suffix}"

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
                sinks[fmt.suffix] = fmt.open_sink(self.save_dir, tag, append)
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
        write_atomically(self._path(tag, "_stats.yaml"), text)

    # -- reading ---------------------------------------------------------------------------------
    def load_dataset(self, tag: str) -> StringSampleList:
        """The samples of split ``tag`` from its pickle file."""
        path = self._path(validate_tag(tag), "_data.pkl")
        if not path.exists():
            raise FileNotFoundError(f"Dataset file not found: {path}")
        with open(path, "rb") as handle:
            return pickle.load(handle)

    def load_dataset_jsonl(self, tag: str) -> StringSampleList:
        """The samples of split ``tag`` from its JSON Lines file (lines that do not parse are skipped with a warning)."""
        path = self._path(validate_tag(tag), "_data.jsonl")
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
