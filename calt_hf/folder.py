"""A run owns its ``save_dir``: one run at a time, nothing foreign replaced, one task per folder.

The lock is the ``RunFolder``'s (``calt_hf.run_folder``). A folder is the run's when it holds calt_hf's record
(``.calt_hf/.folder.json``) or a split's state; its own entries are then the split files of recorded splits and
``run_folder.DATASET_ENTRIES`` (``data/``, ``images/``, ``README.md``, the tokenizer's two files, ``lexer.yaml``,
``expanded/``, ``config.yaml``) and ``.calt_hf/``, plus what an ``overwrite`` left in place. Anything else is foreign:
a run refuses it unless ``overwrite``, which clears every dataset file of the folder, whichever run made it, and
keeps (and records) the rest.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from calt_hf.checkpoint import describe_differences
from calt_hf.files import PART_SUFFIX, DamagedFileError, read_json, write_atomically
from calt_hf.formats import split_suffixes
from calt_hf.run_folder import (
    DATASET_ENTRIES,
    LOCK_NAME,
    PID_NAME,
    STATE_DIR,
    FolderInUseError,
    RunConflictError,
    RunFolder,
)

__all__ = ["FolderInUseError", "foreign_entries", "refuse_foreign", "clear", "adopt", "task_differences"]

#: Fingerprint keys that may differ between runs of one task sharing a folder (CALT's "method 3": train
#: in one run, test in another): the split itself and how it was run, not what it holds.
RUN_KEYS = (
    "split", "size", "root_seed", "on_error", "max_retries", "sample_timeout", "formats", "dedup", "dedup_after", "data_quality",
    "statistics", "statistics_code",
)
_SHOWN = 5


def _is_split_file(name: str) -> bool:
    return name.removesuffix(PART_SUFFIX).endswith(split_suffixes())


def _kept(folder: RunFolder) -> list[str]:
    path = folder.record
    advice = ("delete it to accept the folder's entries as they are now, or pass overwrite=True (overwrite=true) to "
              "replace the run and keep the rest")
    try:
        record = read_json(path)
    except DamagedFileError as error:
        raise DamagedFileError(path, error.reason, advice) from None
    if not (isinstance(record, dict) and isinstance(record.get("kept"), list)):
        raise DamagedFileError(path, "not a folder's record", advice)
    return record["kept"]


def foreign_entries(save_dir: RunFolder | Path, splits: Iterable[str]) -> list[str]:
    """Entries of ``save_dir`` that no calt_hf run made there and that a run could mistake for its own
    (``splits``: the recorded ones). In a folder calt_hf made, only split files of unrecorded splits count
    (packaging would take them in); a user's notes or ``.gitattributes`` added later are left alone."""
    folder = RunFolder.of(save_dir)
    if not folder.root.is_dir():
        return []
    splits = list(splits)
    made = folder.record.exists() or bool(splits)
    own = {STATE_DIR}
    if made:
        own |= set(DATASET_ENTRIES) | {path.name for split in splits for path in folder.split_files(split)}
        if folder.record.exists():
            own |= set(_kept(folder))
    return sorted(
        p.name for p in folder.root.iterdir()
        if p.name.removesuffix(PART_SUFFIX) not in own and (not made or _is_split_file(p.name))
    )


def refuse_foreign(save_dir: RunFolder | Path, foreign: list[str]) -> RunConflictError:
    """The refusal of a folder holding ``foreign`` entries, naming some of them."""
    shown = ", ".join(foreign[:_SHOWN]) + (f" and {len(foreign) - _SHOWN} more" if len(foreign) > _SHOWN else "")
    return RunConflictError(
        f"save_dir={str(save_dir)!r} holds files with no record of a calt_hf run there ({shown}); choose an empty "
        "or new folder, or pass overwrite=True (overwrite=true) to replace its dataset files "
        f"(*{', *'.join(split_suffixes())}, {', '.join(DATASET_ENTRIES)}, {STATE_DIR}) and keep the rest"
    )


def clear(folder: RunFolder) -> None:
    """``overwrite``: remove every dataset file of the folder (all splits, shards, card, pictures, config,
    state but the lock); record what stays, so later runs into the folder accept it."""
    state_dir = folder.state_dir
    for path in list(folder.root.iterdir()) + list(state_dir.iterdir()):
        if path.name in (STATE_DIR, LOCK_NAME, PID_NAME):
            continue
        if path.parent != state_dir and path.name.removesuffix(PART_SUFFIX) not in DATASET_ENTRIES and not _is_split_file(path.name):
            continue  # not a dataset file: kept
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    adopt(folder)


def adopt(folder: RunFolder) -> None:
    """Record the folder as made by calt_hf, with the foreign entries it keeps (those there now)."""
    if folder.record.exists():
        return
    kept = [p.name for p in folder.root.iterdir() if p.name != STATE_DIR]
    write_atomically(folder.record, json.dumps({"kept": sorted(kept)}), sync=True)


def task_differences(recorded: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """How two splits' fingerprints differ in what they hold (``RUN_KEYS`` aside)."""
    recorded, current = ({key: value for key, value in fp.items() if key not in RUN_KEYS} for fp in (recorded, current))
    return describe_differences(recorded, current)
