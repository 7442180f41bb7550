"""The output formats of a split, each a small class that owns its file name, its encoding and whether it is
one of the split's data files; they register themselves in ``FORMATS``, from which every list of a split's
files is derived (``data_suffixes``, ``split_suffixes``, ``readable_suffixes``).

Each format turns a list of string samples into bytes. The bytes are pure functions of the samples, so the
generation core computes them in the workers and the parent only appends them to files, in index order.
Files live as ``{name}.part`` while a split is written and get their final names only when it completes.

Text format: one sample a line, ``problem # solution``; a list is joined with ``INNER_SEP`` (``" | "``), a
list of lists with ``INNER_SEP`` inside and ``OUTER_SEP`` (``" || "``) between the inner lists. JSON Lines keep
the nesting: ``{"problem": ..., "solution": ...}``. The pickle is a single list of ``(problem, solution)``
tuples, streamed to disk batch by batch (never held in memory whole).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import pickle
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, ClassVar, Protocol

from calt_hf.files import PART_SUFFIX

if TYPE_CHECKING:
    from calt_hf.run_folder import RunFolder

#: A problem or a solution once converted: a string, a list of strings, or a list mixing strings and
#: lists of strings (two levels at most).
StringProblemOrSolution = str | list[str] | list[str | list[str]]
StringSample = tuple[StringProblemOrSolution, StringProblemOrSolution]
StringSampleList = list[StringSample]
StatisticsDict = dict[str, Any]

PROBLEM_SOLUTION_SEP = " # "
#: The text form's separators: between the items of a list, and between the inner lists of a list of lists.
INNER_SEP, OUTER_SEP = " | ", " || "
#: A split's statistics file, ``{split}_stats.yaml``: written beside its data files, not a format.
STATS_SUFFIX = "_stats.yaml"
#: Every format, by name, in the order of definition (Parquet's when ``calt_hf.hf.parquet`` is imported).
FORMATS: dict[str, type[OutputFormat]] = {}


def data_suffixes() -> tuple[str, ...]:
    """The suffixes of a split's data files in ``save_dir`` (``_data.pkl``, ``_raw.txt``, ``_data.jsonl``)."""
    return tuple(fmt.suffix for fmt in FORMATS.values() if fmt.data_file)


def split_suffixes() -> tuple[str, ...]:
    """The suffixes of every file of a split in ``save_dir``: its data files and its statistics file."""
    return (*data_suffixes(), STATS_SUFFIX)


def readable_suffixes() -> tuple[str, ...]:
    """The suffixes of the data files whose samples read back whole (JSON Lines, the pickle)."""
    return tuple(fmt.suffix for fmt in FORMATS.values() if fmt.data_file and fmt.readable)


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
        self.path, self.part, self.footer = path, path.with_name(path.name + PART_SUFFIX), footer
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
    """One output of a split, registered in ``FORMATS`` under its ``name`` when its class is defined. The file
    formats here are ``{tag}{suffix}`` in ``save_dir``: ``header``, the encoded batches, then ``footer``; other
    formats (Parquet shards) override ``open_sink``."""

    name: ClassVar[str]
    suffix: ClassVar[str]
    header: ClassVar[bytes] = b""
    footer: ClassVar[bytes] = b""
    #: A file ``{tag}{suffix}`` in ``save_dir``: one of the split's files, which its checkpoint hashes when it
    #: completes, ``overwrite`` clears and a push uploads with the raw files.
    data_file: ClassVar[bool] = True
    #: Its samples read back whole (strings and nesting), so packaging and evaluation can start from it.
    readable: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "name" in cls.__dict__:
            FORMATS[cls.name] = cls

    def open_sink(self, directory: RunFolder | Path, tag: str, append: bool) -> Sink:
        """Start writing split ``tag`` of this format in the run's folder ``directory``."""
        from calt_hf.run_folder import RunFolder  # it derives its lists of a split's files from this module's

        path = RunFolder.of(directory).split_file(tag, self.suffix)
        return FileSink(path, self.header, self.footer, append)

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


class PickleFormat(OutputFormat):
    """``{tag}_data.pkl``: one pickled list of ``(problem, solution)`` tuples, streamed.

    The file is ``PROTO 2, EMPTY_LIST``, then each sample's pickle followed by ``APPEND``, then ``STOP``:
    one valid pickle of the whole split, written without ever holding the split in memory. Samples are
    pickled one by one in "fast" mode (no memo), so the bytes depend only on the sample's values, never on
    which samples shared a batch or which string objects happened to be shared.
    """

    name, suffix, readable = "pickle", "_data.pkl", True
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


class TextFormat(OutputFormat):
    """``{tag}_raw.txt``: ``problem # solution`` a line, lists joined by the writer's separators."""

    name, suffix = "text", "_raw.txt"
    checks_unicode = True  # its search for separators looks for lone surrogates too, at no extra cost

    def __init__(self, inner_sep: str = INNER_SEP, outer_sep: str = OUTER_SEP) -> None:
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

    name, suffix, readable = "jsonl", "_data.jsonl", True

    def encode(self, samples: Sequence[StringSample]) -> bytes:
        dumps = json.JSONEncoder(ensure_ascii=False).encode
        return "".join(
            dumps({"problem": problem, "solution": solution}) + "\n" for problem, solution in samples
        ).encode()


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
