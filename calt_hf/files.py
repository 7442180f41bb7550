"""Small file helpers every module that writes or reads a run's files shares: atomic writes, flushes to disk,
reading a run's JSON and statistics back (``DamagedFileError`` when they cannot be), and the check of a split's
name, which becomes part of file names. They sit below the formats (``calt_hf.formats``) and the writer.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

#: A file written but not complete yet: ``{name}.part``, renamed to ``{name}`` when it is.
PART_SUFFIX = ".part"
_TAG_PATTERN = re.compile(r"[A-Za-z0-9_-]+")
#: A file name holds 255 bytes; the longest one a split's name makes is a shard being widened,
#: ``{split}-00000-of-00001.parquet.widen`` (35 more), so a longer name would fail mid-run.
MAX_TAG_LENGTH = 200
#: What ``datasets`` and the Hub load as a split, within ours: ``datasets.naming._split_re`` (``^\w+(\.\w+)*$``) refuses
#: ``-`` (its cache files are ``{dataset}-{split}``), ours refuses ``.`` (state files are ``{split}.json``), and
#: ``all`` is datasets' name for the union of the splits.
_HF_SPLIT_PATTERN = re.compile(r"[A-Za-z0-9_]+")
_HF_RESERVED_SPLITS = ("all",)


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
    part = path.with_name(path.name + PART_SUFFIX)
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


def read_statistics(path: Path) -> dict[str, Any]:
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
