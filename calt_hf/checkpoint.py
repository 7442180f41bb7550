"""Durable progress of a run, so a killed run resumes without losing or repeating work.

Each split has a state file ``.calt_hf/{split}.json`` (the fingerprint of what it generates, and whether
it is complete) and, while it is generated, a folder of chunk files ``.calt_hf/{split}/`` holding every
completed chunk's encoded rows, statistics and failure counts. A chunk file is written under a
temporary name and renamed, so it is either whole or absent; chunk files are flushed to disk at least
every ``SYNC_SECONDS`` (a crash of the machine loses at most that much work, a killed process nothing).
Progress is read back from the files themselves: the longest run of contiguous, readable chunks from
index 0. When a split is complete its final files are assembled from the chunks, in order, and the
chunks are deleted.
"""

from __future__ import annotations

import json
import pickle
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from calt_hf.worker import ChunkResult
from calt_hf.writer import fsync_path, write_atomically

STATE_DIR = ".calt_hf"
SYNC_SECONDS = 1.0
_CHUNK_SUFFIX = ".chunk"


class RunConflictError(ValueError):
    """``save_dir`` already holds (part of) a run, and neither resuming nor overwriting was asked for,
    or the run to resume was made with another configuration."""


def describe_differences(recorded: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """``key: recorded -> current`` for every key whose value differs."""
    keys = sorted(set(recorded) | set(current))
    return [f"{key}: {recorded.get(key)!r} -> {current.get(key)!r}" for key in keys if recorded.get(key) != current.get(key)]


@dataclass
class Progress:
    """How far a split got: the next sample index to generate and how many samples were accepted."""

    next_index: int = 0
    accepted: int = 0


class SplitCheckpoint:
    """The state file and chunk files of one split of a run in ``save_dir``."""

    def __init__(self, save_dir: Path, split: str) -> None:
        self.root = save_dir / STATE_DIR
        self.split = split
        self.state_path = self.root / f"{split}.json"
        self.chunk_dir = self.root / split
        self._unsynced: list[Path] = []
        self._last_sync = time.monotonic()

    # -- state -------------------------------------------------------------------------------------
    def recorded(self) -> dict[str, Any] | None:
        """The state file's content (``fingerprint``, ``complete``), or None if this split never started."""
        if not self.state_path.exists():
            return None
        return json.loads(self.state_path.read_text())

    def start(self, fingerprint: dict[str, Any]) -> None:
        """Begin (or begin again) this split: record its fingerprint, drop any old chunks."""
        self.root.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(self.chunk_dir, ignore_errors=True)
        self.chunk_dir.mkdir()
        write_atomically(self.state_path, json.dumps({"fingerprint": fingerprint, "complete": False}).encode(), True)

    def mark_complete(self, fingerprint: dict[str, Any]) -> None:
        """Record that the split's final files are all written; its chunks are no longer needed."""
        write_atomically(self.state_path, json.dumps({"fingerprint": fingerprint, "complete": True}).encode(), True)
        shutil.rmtree(self.chunk_dir, ignore_errors=True)

    def forget(self) -> None:
        """Remove every trace of this split's run (for ``overwrite``)."""
        shutil.rmtree(self.chunk_dir, ignore_errors=True)
        self.state_path.unlink(missing_ok=True)

    # -- chunks ------------------------------------------------------------------------------------
    def _chunk_path(self, start: int) -> Path:
        return self.chunk_dir / f"{start:012d}{_CHUNK_SUFFIX}"

    def stage(self, result: ChunkResult) -> None:
        """Make a completed chunk durable (flushed to disk in groups, every ``SYNC_SECONDS``)."""
        path = self._chunk_path(result.start)
        write_atomically(path, pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL), sync=False)
        self._unsynced.append(path)
        if time.monotonic() - self._last_sync >= SYNC_SECONDS:
            self.sync()

    def sync(self) -> None:
        """Flush the chunks staged since the last flush to disk."""
        for path in self._unsynced:
            fsync_path(path)
        if self._unsynced:
            fsync_path(self.chunk_dir)
        self._unsynced.clear()
        self._last_sync = time.monotonic()

    def chunks(self) -> Iterator[ChunkResult]:
        """The staged chunks, in index order."""
        for path in sorted(self.chunk_dir.glob(f"*{_CHUNK_SUFFIX}")):
            with open(path, "rb") as handle:
                yield pickle.load(handle)

    def recover(self) -> Progress:
        """Progress from the staged chunks: the contiguous readable ones from index 0; the rest is deleted."""
        progress = Progress()
        keep = True
        for path in sorted(self.chunk_dir.glob(f"*{_CHUNK_SUFFIX}")):
            if keep:
                try:
                    with open(path, "rb") as handle:
                        result: ChunkResult = pickle.load(handle)
                    keep = result.start == progress.next_index
                except Exception:  # a chunk cut short by a machine crash
                    keep = False
                if keep:
                    progress.next_index, progress.accepted = result.stop, progress.accepted + result.accepted
                    continue
            path.unlink()
        for leftover in self.chunk_dir.glob("*.part"):
            leftover.unlink()
        return progress
