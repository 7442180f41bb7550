"""``RunFolder``: every path of a run in its ``save_dir``, named once, and the folder's lock, held once.

A run's folder holds each split's files (``{split}{suffix}``, one per format of ``calt_hf.formats.FORMATS``, and
``{split}_stats.yaml``), the Parquet shards under ``data/``, the histogram figures under ``images/``, the card
``README.md``, the tokenizers and ``lexer.yaml``, the command line's ``config.yaml``, and ``.calt_hf/``: the lock, the
folder's record, each split's state file and staged chunks, its problem hashes, histograms and text survey. Every
module that reads or writes one of them asks a ``RunFolder`` (or takes its names from here) instead of joining
strings, so a file's name is written in this module alone.

The lock (``claim``) is an exclusive ``flock`` (``filelock``; it dies with its process) on ``.calt_hf/.lock``, with
the holder's PID beside it: a second run into the same folder is refused at once (``FolderInUseError``) instead of
interleaving its files with the first one's. A run takes it once, from planning to its last file (the push
included), and hands the same ``RunFolder`` to every step; a step that claims a folder its caller holds through
that object takes nothing again.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from calt_hf.files import write_atomically
from calt_hf.formats import STATS_SUFFIX, split_suffixes

#: The run's own folder inside ``save_dir``: the lock, the folder's record, the splits' states and measures.
STATE_DIR = ".calt_hf"
#: Parquet shards, ``data/{split}-NNNNN-of-NNNNN.parquet``.
DATA_DIR = "data"
#: Histogram figures of the card.
IMAGES_DIR = "images"
#: The dataset card.
CARD_FILE = "README.md"
#: The command line's resolved config in a folder it wrote, its reproducing command on top (what ``evaluate`` and
#: ``stream`` rebuild the generator from).
CONFIG_FILE = "config.yaml"
#: The tokenizer fitted to the splits (``transformers``' two files), and the expanded columns' own under ``expanded/``.
TOKENIZER_FILE, TOKENIZER_CONFIG_FILE, EXPANDED_DIR = "tokenizer.json", "tokenizer_config.json", "expanded"
#: CALT's lexer config, fitted with the tokenizer.
LEXER_FILE = "lexer.yaml"
#: What a run writes besides split files: shards, pictures, the card, the tokenizers, the lexer, the CLI's config.
DATASET_ENTRIES = (DATA_DIR, IMAGES_DIR, CARD_FILE, TOKENIZER_FILE, TOKENIZER_CONFIG_FILE, LEXER_FILE, EXPANDED_DIR, CONFIG_FILE)
#: In ``.calt_hf/``: the lock, its holder's PID, and the folder's record (the foreign entries it keeps).
LOCK_NAME, PID_NAME, FOLDER_NAME = ".lock", ".lock.pid", ".folder.json"
#: In ``.calt_hf/``, per split: its state (``{split}.json``), its sorted problem hashes (with the lists' order
#: ignored too, for an order-free problem), its histograms and its text survey; its staged chunks in ``{split}/``.
STATE_SUFFIX, HASHES_SUFFIX, ORDER_FREE_HASHES_SUFFIX = ".json", ".hashes.npy", ".order_free_hashes.npy"
HISTOGRAMS_SUFFIX, SURVEY_SUFFIX = ".histograms.json", ".survey.json"
#: The glob of a split's complete shards (``shard_name``'s digits).
_SHARD_GLOB = "-[0-9][0-9][0-9][0-9][0-9]-of-[0-9][0-9][0-9][0-9][0-9].parquet"
_HOLDER_WAIT = 2.0


class RunConflictError(ValueError):
    """``save_dir`` already holds (part of) a run, and neither resuming nor overwriting was asked for,
    or the run to resume was made with another configuration."""


class FolderInUseError(RunConflictError):
    """Another process holds the lock of ``save_dir``: it is generating or packaging there right now."""


def shard_name(split: str, index: int, count: int) -> str:
    """The name of shard ``index`` of ``count`` of a split, under ``data/``."""
    return f"{split}-{index:05d}-of-{count:05d}.parquet"


def split_shards(data_dir: Path, split: str) -> list[Path]:
    """The complete shards of a split in ``data_dir``, in order."""
    return sorted(data_dir.glob(f"{split}{_SHARD_GLOB}"))


class RunFolder(os.PathLike):
    """The paths of a run in ``root`` (its ``save_dir``), and its lock. A path-like: ``Path(folder)`` is the root."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)
        self._holding = False

    @classmethod
    def of(cls, where: RunFolder | str | os.PathLike) -> RunFolder:
        """``where`` if it is a RunFolder (the one whose lock the run holds), else the folder at that path."""
        return where if isinstance(where, RunFolder) else cls(where)

    def __fspath__(self) -> str:
        return os.fspath(self.root)

    def __str__(self) -> str:
        return str(self.root)

    def __repr__(self) -> str:
        return f"RunFolder({str(self.root)!r})"

    # -- the dataset's files -------------------------------------------------------------------------
    def split_file(self, split: str, suffix: str) -> Path:
        """A file of a split: ``{split}{suffix}`` (a format's suffix, or ``STATS_SUFFIX``)."""
        return self.root / f"{split}{suffix}"

    def stats_file(self, split: str) -> Path:
        return self.split_file(split, STATS_SUFFIX)

    def split_files(self, split: str) -> list[Path]:
        """Every file a split may have beside its shards: one per data format, and its statistics."""
        return [self.split_file(split, suffix) for suffix in split_suffixes()]

    @property
    def data_dir(self) -> Path:
        return self.root / DATA_DIR

    def shards(self, split: str) -> list[Path]:
        """The complete shards of a split, in order."""
        return split_shards(self.data_dir, split)

    @property
    def expanded_dir(self) -> Path:
        """The expanded columns' tokenizer."""
        return self.root / EXPANDED_DIR

    @property
    def images_dir(self) -> Path:
        return self.root / IMAGES_DIR

    @property
    def card(self) -> Path:
        return self.root / CARD_FILE

    @property
    def config(self) -> Path:
        return self.root / CONFIG_FILE

    # -- the run's state --------------------------------------------------------------------------------
    @property
    def state_dir(self) -> Path:
        return self.root / STATE_DIR

    def state_file(self, split: str) -> Path:
        return self.state_dir / f"{split}{STATE_SUFFIX}"

    def chunk_dir(self, split: str) -> Path:
        return self.state_dir / split

    @property
    def record(self) -> Path:
        """The folder's record: made by calt_hf, with the foreign entries it keeps."""
        return self.state_dir / FOLDER_NAME

    # -- the lock -----------------------------------------------------------------------------------------
    @contextmanager
    def claim(self, advice: str = "wait for it to end, or choose another save_dir") -> Iterator[RunFolder]:
        """Hold the folder's lock; FolderInUseError at once if another run holds it (its message ends with
        ``advice``). Within a claim of this object, claiming again takes nothing (the run's one lock).

        If the claim made ``.calt_hf/`` and nothing but the lock is in it when the claim ends (a refused run), it
        is removed again, with the folders the claim created: a refused run leaves no trace.
        """
        if self._holding:
            yield self
            return
        with self._locked(advice):
            self._holding = True
            try:
                yield self
            finally:
                self._holding = False

    @contextmanager
    def _locked(self, advice: str) -> Iterator[None]:
        state_dir, save_dir = self.state_dir, self.root
        if save_dir.exists() and not save_dir.is_dir():
            raise ValueError(f"save_dir={str(save_dir)!r} is a file, not a folder; choose a folder (a new one, or one "
                             "that holds a calt_hf run)")
        made = [folder for folder in (state_dir, save_dir, *save_dir.parents) if not folder.exists()]
        # One lock object per path in this process (re-entrant within a thread, as RunFolder objects may differ).
        lock = FileLock(state_dir / LOCK_NAME, is_singleton=True)
        try:
            state_dir.mkdir(parents=True, exist_ok=True)
            lock.acquire(timeout=0)
        except Timeout:
            raise FolderInUseError(
                f"save_dir={str(save_dir)!r} is in use by another calt_hf run (PID {self._holder()}); {advice}"
            ) from None
        except OSError as error:  # a read-only disk or folder, a file where a folder should be
            raise ValueError(f"save_dir={str(save_dir)!r} cannot be written ({error.strerror}: {error.filename}); "
                             "choose a folder that you can write to") from None
        try:
            if lock.lock_counter == 1:
                write_atomically(state_dir / PID_NAME, f"{os.getpid()}\n")
            yield
        finally:
            if lock.lock_counter == 1:
                (state_dir / PID_NAME).unlink(missing_ok=True)
                if made and {p.name for p in state_dir.iterdir()} <= {LOCK_NAME, PID_NAME}:
                    _remove_made(made)
            lock.release()

    def _holder(self) -> str:
        """The PID of the process holding the lock. It writes it just after taking the lock, and the file may
        still name a killed holder: wait a moment for a live one."""
        deadline = time.monotonic() + _HOLDER_WAIT
        while time.monotonic() < deadline:
            try:
                pid = int((self.state_dir / PID_NAME).read_text())
            except (OSError, ValueError):  # not written yet
                pid = None
            if pid is not None and _alive(pid):
                return str(pid)
            time.sleep(0.02)
        return "unknown"


def _remove_made(made: list[Path]) -> None:
    """Remove ``.calt_hf/`` (``made[0]``) and the folders a refused claim created above it, while empty."""
    shutil.rmtree(made[0])
    for folder in made[1:]:
        if any(folder.iterdir()):
            break
        folder.rmdir()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except PermissionError:  # another user's process
        return True
    except OSError:
        return False
    return True
