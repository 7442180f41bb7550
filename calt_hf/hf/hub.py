"""Upload a packaged ``save_dir`` to the Hugging Face Hub as a dataset repository, in one commit.

Only what a Hub dataset needs goes up by default (``README.md``, ``data/``, ``images/``); the pickles,
raw text and JSON Lines stay local unless ``include_raw``. Any failure leaves the local dataset as it
was and says how to retry the push alone. The token is passed to ``huggingface_hub`` and nowhere else.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

HUB_FILES = ["README.md", "data/**", "images/**"]
RAW_FILES = ["*_data.pkl", "*_raw.txt", "*_data.jsonl", "*_stats.yaml", "config.yaml"]
_REPO_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*")


class HubPushError(RuntimeError):
    """The push failed; the local dataset is complete and the message says how to retry."""


def check_repo_id(repo_id: object) -> str:
    """A Hub dataset id: ``user/name`` (letters, digits, ``.``, ``_``, ``-``)."""
    if not isinstance(repo_id, str) or not _REPO_ID.fullmatch(repo_id) or ".." in repo_id:
        raise ValueError(f"hub.repo_id={repo_id!r} is not allowed; use 'user/name' (letters, digits, '.', '_', '-')")
    return repo_id


def retry_command(save_dir: str | Path, repo_id: str, private: bool, include_raw: bool) -> str:
    """The command that pushes an existing ``save_dir`` again (the token comes from HF_TOKEN or a login)."""
    words = ["python", "-m", "calt_hf.push", str(save_dir), repo_id]
    words += ["--private"] if private else []
    words += ["--include-raw"] if include_raw else []
    return shlex.join(words)


def push_to_hub(
    save_dir: str | Path,
    repo_id: str,
    private: bool = False,
    token: str | None = None,
    include_raw: bool = False,
    commit_message: str | None = None,
) -> str:
    """Create the dataset repo if needed and upload the packaged dataset in one commit; returns the commit URL."""
    from huggingface_hub import HfApi

    save_dir = Path(save_dir)
    check_repo_id(repo_id)
    if not (save_dir / "README.md").exists() or not (save_dir / "data").is_dir():
        raise ValueError(f"{save_dir} is not a packaged dataset (no README.md and data/); package it first")
    api = HfApi(token=token)
    try:
        api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
        commit = api.upload_folder(
            folder_path=str(save_dir),
            repo_id=repo_id,
            repo_type="dataset",
            allow_patterns=HUB_FILES + (RAW_FILES if include_raw else []),
            commit_message=commit_message or f"Upload {save_dir.name} with calt_hf",
        )
    except Exception as error:
        reason = f"{type(error).__name__}: {error}"
        if token:
            reason = reason.replace(token, "***")
        raise HubPushError(
            f"pushing {save_dir} to the Hub dataset {repo_id} failed ({reason}). The local dataset in "
            f"{save_dir} is complete; push it again with: {retry_command(save_dir, repo_id, private, include_raw)}"
        ) from error
    return str(commit.commit_url if hasattr(commit, "commit_url") else commit)
