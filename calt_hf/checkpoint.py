"""Durable progress of a run, so a killed run resumes without losing or repeating work.

Each split has a state file ``.calt_hf/{split}.json`` (the fingerprint of what it generates, the id of
the run that generates it, whether it is complete and then the size and SHA-256 of each final file)
and, while it is generated, a folder of chunk files ``.calt_hf/{split}/`` holding every completed
chunk's encoded rows, statistics and failure counts. A chunk file starts with a line naming its run,
the SHA-256 of the rest and the split's generation time up to it (which a resume goes on from), so a
damaged chunk or one copied from another run is detected and generated again. A chunk file is written
under a temporary name and renamed, so it is either whole or absent; chunk files are flushed to disk at
least every ``SYNC_SECONDS`` (a crash of the machine loses at most that much work, a killed process nothing). Progress is read back from the files themselves: the longest
run of contiguous, sound chunks from index 0. When a split is complete its final files are assembled
from the chunks, in order, and the chunks are deleted.
"""

from __future__ import annotations

import hashlib
import json
import logging
import pickle
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from calt_hf.formats import data_suffixes
from calt_hf.hf.survey import read_survey, survey_path
from calt_hf.quality import hashes_path, histograms_path, read_hashes, read_histograms
from calt_hf.produce import ChunkResult
from calt_hf.files import DamagedFileError, fsync_path, read_json, read_statistics, validate_tag, write_atomically
from calt_hf.run_folder import STATE_DIR, STATE_SUFFIX, RunConflictError, RunFolder

__all__ = ["STATE_DIR", "RunConflictError", "SplitCheckpoint", "Progress", "recorded_splits", "refuse_strays", "final_files"]

logger = logging.getLogger(__name__)

SYNC_SECONDS = 1.0
_CHUNK_SUFFIX = ".chunk"


def describe_differences(recorded: dict[str, Any], current: dict[str, Any], prefix: str = "") -> list[str]:
    """``key: recorded -> current`` for every key whose value differs (``key.inner`` inside mappings)."""
    differences = []
    for key in sorted(set(recorded) | set(current)):
        old, new = recorded.get(key), current.get(key)
        if old == new:
            continue
        if isinstance(old, dict) and isinstance(new, dict):
            differences += describe_differences(old, new, f"{prefix}{key}.")
        else:
            differences.append(f"{prefix}{key}: {old!r} -> {new!r}")
    return differences


def read_state(path: Path) -> dict[str, Any]:
    """A split's state file; DamagedFileError if it is not one."""
    state = read_json(path)
    files = state.get("files", {}) if isinstance(state, dict) else None
    if not (
        isinstance(state, dict) and isinstance(state.get("fingerprint"), dict) and isinstance(state.get("run"), (str, type(None)))
        and isinstance(state.get("complete"), bool) and isinstance(files, dict)
        and all(isinstance(entry, list) and len(entry) == 2 and type(entry[0]) is int and isinstance(entry[1], str)
                for entry in files.values())
    ):
        raise DamagedFileError(path, "not a split's state")
    return state


def recorded_splits(
    save_dir: RunFolder | Path, damaged: dict[str, DamagedFileError] | None = None
) -> dict[str, dict[str, Any]]:
    """Every split with a state file in ``save_dir``: its recorded state. A damaged state file raises
    DamagedFileError, or (``damaged`` given) is put there instead."""
    found = {}
    for path in sorted(RunFolder.of(save_dir).state_dir.glob(f"*{STATE_SUFFIX}")):
        try:
            split = validate_tag(path.stem)
        except ValueError:  # the folder's own record, or histograms (``{split}.histograms.json``)
            continue
        try:
            found[split] = read_state(path)
        except DamagedFileError as error:
            if damaged is None:
                raise
            damaged[split] = error
    return found


def refuse_strays(save_dir: RunFolder | Path) -> None:
    """RunConflictError naming a file that would read as part of a complete split (a shard copied into ``data/``)
    but that the split's run did not record: ``load_dataset`` and packaging would take it as the split's rows. A split
    whose state file is damaged is left to the caller (generated again on resume)."""
    for split, state in recorded_splits(save_dir, {}).items():
        if state["complete"] and (strays := SplitCheckpoint(save_dir, split).strays()):
            raise RunConflictError(
                f"save_dir={str(save_dir)!r} holds {', '.join(strays)}, which split {split!r} of the run there did not "
                "write: it would be read as part of that split; move it out of the folder, or pass overwrite=True "
                "(overwrite=true) to generate the dataset again"
            )


def final_files(save_dir: RunFolder | Path, split: str) -> list[Path]:
    """The final data files of a split that exist: pickle, text, JSON Lines, Parquet shards."""
    folder = RunFolder.of(save_dir)
    files = [path for path in (folder.split_file(split, suffix) for suffix in data_suffixes()) if path.exists()]
    return files + folder.shards(split)


def _digest(path: Path) -> list[Any]:
    with open(path, "rb") as handle:
        return [path.stat().st_size, hashlib.file_digest(handle, "sha256").hexdigest()]


@dataclass
class Progress:
    """How far a split got: the next sample index to generate, how many samples were accepted, and the seconds
    its generation took so far (over every run that worked on it, so a resumed split reports all of its time)."""

    next_index: int = 0
    accepted: int = 0
    elapsed: float = 0.0


class SplitCheckpoint:
    """The state file and chunk files of one split of a run in ``save_dir``."""

    def __init__(self, save_dir: RunFolder | Path, split: str) -> None:
        self.folder = RunFolder.of(save_dir)
        self.root = self.folder.state_dir
        self.split = split
        self.state_path = self.folder.state_file(split)
        self.chunk_dir = self.folder.chunk_dir(split)
        self.run_id: str | None = None
        self._unsynced: list[Path] = []
        self._last_sync = time.monotonic()

    # -- state -------------------------------------------------------------------------------------
    def recorded(self) -> dict[str, Any] | None:
        """The state file's content (``fingerprint``, ``run``, ``complete``, ``files``), or None if this
        split never started; DamagedFileError if it is damaged."""
        if not self.state_path.exists():
            return None
        return read_state(self.state_path)

    def _write(self, state: dict[str, Any]) -> None:
        write_atomically(self.state_path, json.dumps(state).encode(), True)

    def start(self, fingerprint: dict[str, Any]) -> None:
        """Begin (or begin again) this split as a new run: record its fingerprint and id, drop any old chunks."""
        self.root.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(self.chunk_dir, ignore_errors=True)
        self.chunk_dir.mkdir()
        self.run_id = uuid.uuid4().hex
        self._write({"fingerprint": fingerprint, "run": self.run_id, "complete": False})

    def mark_complete(self, fingerprint: dict[str, Any]) -> None:
        """Record that the split's final files are all written, with their sizes and hashes; its chunks
        are no longer needed."""
        self._write({"fingerprint": fingerprint, "run": self.run_id, "complete": True, "files": self._files()})
        shutil.rmtree(self.chunk_dir, ignore_errors=True)

    def _files(self) -> dict[str, list[Any]]:
        save_dir = self.folder.root
        return {path.relative_to(save_dir).as_posix(): _digest(path) for path in final_files(self.folder, self.split)}

    def record_files(self) -> None:
        """Record the final files again, after a later step rewrote them (packaging widens shards)."""
        state = self.recorded()
        if state is not None and state["complete"]:
            self._write({**state, "files": self._files()})

    def damage(self) -> list[str]:
        """What became of a complete split's final files since it was recorded: missing or changed ones."""
        save_dir = self.folder.root
        state = self.recorded() or {}
        found = []
        for name, (size, digest) in state.get("files", {}).items():
            path = save_dir / name
            if not path.exists():
                found.append(f"{name} is missing")
            elif path.stat().st_size != size or _digest(path)[1] != digest:
                found.append(f"{name} changed")
        statistics = self.folder.stats_file(self.split)
        if not statistics.exists():
            found.append(f"{statistics.name} is missing")
        readers: list[tuple[Path, Callable[[Path], Any]]] = [
            (statistics, read_statistics),
            (hashes_path(self.root, self.split), read_hashes),
            (hashes_path(self.root, self.split, order_free=True), read_hashes),
            (histograms_path(self.root, self.split), read_histograms),
            (survey_path(self.root, self.split), read_survey),
        ]
        for path, read in readers:
            try:
                if path.exists():
                    read(path)
            except DamagedFileError as error:
                found.append(f"{path.relative_to(save_dir).as_posix()} is damaged ({error.reason})")
        return found

    def strays(self) -> list[str]:
        """Files that read as this complete split's (a shard copied into ``data/``) but that its run did not record."""
        state = self.recorded() or {}
        if "files" not in state:
            return []
        save_dir = self.folder.root
        names = (path.relative_to(save_dir).as_posix() for path in final_files(self.folder, self.split))
        return sorted(name for name in names if name not in state["files"])

    # -- chunks ------------------------------------------------------------------------------------
    def _chunk_path(self, start: int) -> Path:
        return self.chunk_dir / f"{start:012d}{_CHUNK_SUFFIX}"

    def stage(self, result: ChunkResult, elapsed: float) -> None:
        """Make a completed chunk durable (flushed to disk in groups, every ``SYNC_SECONDS``), under a
        line naming this run, the checksum of the chunk and the split's generation time up to it."""
        path = self._chunk_path(result.start)
        payload = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
        header = json.dumps({"run": self.run_id, "sha256": hashlib.sha256(payload).hexdigest(), "elapsed": elapsed}).encode()
        write_atomically(path, header + b"\n" + payload, sync=False)
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

    def _read(self, path: Path) -> tuple[ChunkResult, float]:
        """A staged chunk of this run and the split's generation time up to it; ValueError if it belongs to
        another run or its bytes changed."""
        header, _, payload = path.read_bytes().partition(b"\n")
        try:
            seal = json.loads(header)
        except ValueError:
            raise ValueError("it has no readable header") from None
        if not isinstance(seal, dict) or seal.get("run") != self.run_id:
            raise ValueError(f"it belongs to another run ({seal.get('run') if isinstance(seal, dict) else seal!r})")
        if hashlib.sha256(payload).hexdigest() != seal.get("sha256"):
            raise ValueError("its checksum does not match its content")
        return pickle.loads(payload), float(seal.get("elapsed", 0.0))  # staged before the time was recorded: none

    def chunks(self) -> Iterator[ChunkResult]:
        """The staged chunks, in index order (each checked against its checksum and run)."""
        if self.run_id is None:
            self.run_id = (self.recorded() or {}).get("run")
        for path in sorted(self.chunk_dir.glob(f"*{_CHUNK_SUFFIX}")):
            yield self._read(path)[0]

    def recover(self) -> Progress:
        """Continue the recorded run: progress from the contiguous sound chunks from index 0 (checksums and
        run ids checked); the rest is deleted, to be generated again."""
        self.run_id = (self.recorded() or {}).get("run")
        if self.chunk_dir.exists() and not self.chunk_dir.is_dir():  # not what this run made: staged chunks are folders
            logger.warning("split %r: %s is not a folder of staged chunks: removed, its samples generated again",
                           self.split, self.chunk_dir)
            self.chunk_dir.unlink()
        self.chunk_dir.mkdir(parents=True, exist_ok=True)
        progress = Progress()
        keep = True
        for path in sorted(self.chunk_dir.glob(f"*{_CHUNK_SUFFIX}")):
            if keep:
                try:
                    result, elapsed = self._read(path)
                    keep = result.start == progress.next_index
                except Exception as error:  # cut short by a machine crash, damaged, or another run's
                    logger.warning("split %r: staged chunk %s is generated again: %s", self.split, path.name, error)
                    keep = False
                if keep:
                    progress.next_index, progress.accepted = result.stop, progress.accepted + result.accepted
                    progress.elapsed = elapsed
                    continue
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
        for leftover in self.chunk_dir.glob("*.part"):
            leftover.unlink()
        return progress
