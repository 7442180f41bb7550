"""A run owns its ``save_dir``: one run at a time, nothing foreign replaced, one task per folder.

``claim`` holds an exclusive lock (``filelock``: an ``flock`` that dies with its process) on
``.calt_hf/.lock`` from planning to the last file written, with the holder's PID next to it, so a second
run into the same folder is refused at once instead of interleaving its files with the first one's.
A folder is the run's when it holds calt_hf's record (``.calt_hf/.folder.json`` or a split's state);
its own entries are then the split files of recorded splits, ``data/``, ``images/``, ``README.md``,
the tokenizer's two files, ``lexer.yaml``, ``expanded/``, ``config.yaml`` and ``.calt_hf/``, plus what an ``overwrite`` left in place. Anything else is foreign:
a run refuses it unless ``overwrite``, which clears every dataset file of the folder, whichever run
made it, and keeps (and records) the rest.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from calt_hf.checkpoint import STATE_DIR, RunConflictError, describe_differences
from calt_hf.hf.lexer import LEXER_FILE
from calt_hf.hf.tokenizer import EXPANDED_DIR, TOKENIZER_CONFIG_FILE, TOKENIZER_FILE
from calt_hf.files import CONFIG_FILE, PART_SUFFIX, DamagedFileError, read_json, write_atomically
from calt_hf.formats import split_suffixes

LOCK_NAME = ".lock"
PID_NAME = ".lock.pid"
FOLDER_NAME = ".folder.json"
#: What a run writes besides split files: Parquet shards, histogram pictures, the card, the tokenizer, the CLI's config.
DATASET_ENTRIES = ("data", "images", "README.md", TOKENIZER_FILE, TOKENIZER_CONFIG_FILE, LEXER_FILE, EXPANDED_DIR, CONFIG_FILE)
#: Fingerprint keys that may differ between runs of one task sharing a folder (CALT's "method 3": train
#: in one run, test in another): the split itself and how it was run, not what it holds.
RUN_KEYS = (
    "split", "size", "root_seed", "on_error", "max_retries", "sample_timeout", "formats", "dedup", "dedup_after", "data_quality",
    "statistics", "statistics_code",
)
_SHOWN = 5
_HOLDER_WAIT = 2.0


class FolderInUseError(RunConflictError):
    """Another process holds the lock of ``save_dir``: it is generating or packaging there right now."""


def _holder(state_dir: Path) -> str:
    """The PID of the process holding the lock. It writes it just after taking the lock, and the file may
    still name a killed holder: wait a moment for a live one."""
    deadline = time.monotonic() + _HOLDER_WAIT
    while time.monotonic() < deadline:
        try:
            pid = int((state_dir / PID_NAME).read_text())
        except (OSError, ValueError):  # not written yet
            pid = None
        if pid is not None and _alive(pid):
            return str(pid)
        time.sleep(0.02)
    return "unknown"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except PermissionError:  # another user's process
        return True
    except OSError:
        return False
    return True


@contextmanager
def claim(save_dir: Path, advice: str = "wait for it to end, or choose another save_dir") -> Iterator[None]:
    """Hold ``save_dir``'s lock (re-entrant within a thread); FolderInUseError at once if another run holds it
    (its message ends with ``advice``).

    If the claim made ``.calt_hf/`` and nothing but the lock is in it when the claim ends (a refused
    run), it is removed again, with the folders the claim created: a refused run leaves no trace.
    """
    state_dir = save_dir / STATE_DIR
    if save_dir.exists() and not save_dir.is_dir():
        raise ValueError(f"save_dir={str(save_dir)!r} is a file, not a folder; choose a folder (a new one, or one "
                         "that holds a calt_hf run)")
    made = [folder for folder in (state_dir, save_dir, *save_dir.parents) if not folder.exists()]
    lock = FileLock(state_dir / LOCK_NAME, is_singleton=True)
    try:
        state_dir.mkdir(parents=True, exist_ok=True)
        lock.acquire(timeout=0)
    except Timeout:
        raise FolderInUseError(
            f"save_dir={str(save_dir)!r} is in use by another calt_hf run (PID {_holder(state_dir)}); {advice}"
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
        if made and lock.lock_counter == 1 and {p.name for p in state_dir.iterdir()} <= {LOCK_NAME, PID_NAME}:
            shutil.rmtree(state_dir)
            for folder in made[1:]:
                if any(folder.iterdir()):
                    break
                folder.rmdir()
        lock.release()


def _is_split_file(name: str) -> bool:
    return name.removesuffix(PART_SUFFIX).endswith(split_suffixes())


def _kept(save_dir: Path) -> list[str]:
    path = save_dir / STATE_DIR / FOLDER_NAME
    advice = ("delete it to accept the folder's entries as they are now, or pass overwrite=True (overwrite=true) to "
              "replace the run and keep the rest")
    try:
        record = read_json(path)
    except DamagedFileError as error:
        raise DamagedFileError(path, error.reason, advice) from None
    if not (isinstance(record, dict) and isinstance(record.get("kept"), list)):
        raise DamagedFileError(path, "not a folder's record", advice)
    return record["kept"]


def foreign_entries(save_dir: Path, splits: Iterable[str]) -> list[str]:
    """Entries of ``save_dir`` that no calt_hf run made there and that a run could mistake for its own
    (``splits``: the recorded ones). In a folder calt_hf made, only split files of unrecorded splits count
    (packaging would take them in); a user's notes or ``.gitattributes`` added later are left alone."""
    if not save_dir.is_dir():
        return []
    splits = list(splits)
    made = (save_dir / STATE_DIR / FOLDER_NAME).exists() or bool(splits)
    own = {STATE_DIR}
    if made:
        own |= set(DATASET_ENTRIES) | {f"{split}{suffix}" for split in splits for suffix in split_suffixes()}
        if (save_dir / STATE_DIR / FOLDER_NAME).exists():
            own |= set(_kept(save_dir))
    return sorted(
        p.name for p in save_dir.iterdir()
        if p.name.removesuffix(PART_SUFFIX) not in own and (not made or _is_split_file(p.name))
    )


def refuse_foreign(save_dir: Path, foreign: list[str]) -> RunConflictError:
    """The refusal of a folder holding ``foreign`` entries, naming some of them."""
    shown = ", ".join(foreign[:_SHOWN]) + (f" and {len(foreign) - _SHOWN} more" if len(foreign) > _SHOWN else "")
    return RunConflictError(
        f"save_dir={str(save_dir)!r} holds files with no record of a calt_hf run there ({shown}); choose an empty "
        "or new folder, or pass overwrite=True (overwrite=true) to replace its dataset files "
        f"(*{', *'.join(split_suffixes())}, {', '.join(DATASET_ENTRIES)}, {STATE_DIR}) and keep the rest"
    )


def clear(save_dir: Path) -> None:
    """``overwrite``: remove every dataset file of ``save_dir`` (all splits, shards, card, pictures, config,
    state but the lock); record what stays, so later runs into the folder accept it."""
    state_dir = save_dir / STATE_DIR
    for path in list(save_dir.iterdir()) + list(state_dir.iterdir()):
        if path.name in (STATE_DIR, LOCK_NAME, PID_NAME):
            continue
        if path.parent != state_dir and path.name.removesuffix(PART_SUFFIX) not in DATASET_ENTRIES and not _is_split_file(path.name):
            continue  # not a dataset file: kept
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    adopt(save_dir)


def adopt(save_dir: Path) -> None:
    """Record ``save_dir`` as made by calt_hf, with the foreign entries it keeps (those there now)."""
    record = save_dir / STATE_DIR / FOLDER_NAME
    if record.exists():
        return
    kept = [p.name for p in save_dir.iterdir() if p.name != STATE_DIR]
    write_atomically(record, json.dumps({"kept": sorted(kept)}), sync=True)


def task_differences(recorded: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """How two splits' fingerprints differ in what they hold (``RUN_KEYS`` aside)."""
    recorded, current = ({key: value for key, value in fp.items() if key not in RUN_KEYS} for fp in (recorded, current))
    return describe_differences(recorded, current)
