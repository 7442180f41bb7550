"""Upload a packaged ``save_dir`` to the Hugging Face Hub as a dataset repository, in one commit.

Only what a Hub dataset needs goes up by default (``README.md``, ``data/``, ``images/``, the tokenizers,
``lexer.yaml``); the pickles,
raw text and JSON Lines stay local unless ``include_raw``. The token is never a configuration value: it
comes from where huggingface_hub looks (``HF_TOKEN``, ``hf auth login``) or from an environment variable
or a file that ``TokenSource`` names, and is handed to huggingface_hub and to the redaction step only.
Every request has connect and read timeouts; a transient failure (5xx, 408, 429, a timeout, a dropped
connection) is retried with exponential backoff; any failure leaves the local dataset as it was and
says how to retry the push alone.
"""

from __future__ import annotations

import logging
import os
import re
import shlex
import time
from dataclasses import dataclass
from pathlib import Path

from calt_hf.redaction import add_secret, redact
from calt_hf.files import write_atomically
from calt_hf.formats import STATS_SUFFIX, split_suffixes
from calt_hf.run_folder import (
    CARD_FILE,
    CONFIG_FILE,
    DATA_DIR,
    EXPANDED_DIR,
    IMAGES_DIR,
    LEXER_FILE,
    TOKENIZER_CONFIG_FILE,
    TOKENIZER_FILE,
    RunFolder,
)

_SHARDS = f"{DATA_DIR}/**"
HUB_FILES = [CARD_FILE, TOKENIZER_FILE, TOKENIZER_CONFIG_FILE, LEXER_FILE, f"{EXPANDED_DIR}/**", _SHARDS, f"{IMAGES_DIR}/**"]
#: Files still being written (a run's ``.part`` files, a shard being widened): never uploaded.
_UNFINISHED = ["*.part", "*.widen"]
_REPO_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*")
#: The card's load instructions in dataset_cards/calt_hf_dataset.md: ``dataset = load_dataset("...")``,
#: ``tokenizer = AutoTokenizer.from_pretrained("...")`` and the expanded tokenizer's (with its ``subfolder``).
_LOAD_LINE = re.compile(
    r'^(dataset = load_dataset\(|(?:expanded_)?tokenizer = AutoTokenizer\.from_pretrained\()"[^"\n]*"(\)|, subfolder="[^"\n]*"\))$', re.MULTILINE
)
#: Seconds before the first retry; each later one waits twice as long, up to ``_MAX_WAIT``.
_FIRST_WAIT, _MAX_WAIT = 1.0, 30.0

logger = logging.getLogger(__name__)


class HubPushError(RuntimeError):
    """The push failed; the local dataset is complete and the message says how to retry."""


def check_repo_id(repo_id: object) -> str:
    """A Hub dataset id: ``user/name`` (letters, digits, ``.``, ``_``, ``-``)."""
    if not isinstance(repo_id, str) or not _REPO_ID.fullmatch(repo_id) or ".." in repo_id:
        raise ValueError(f"hub.repo_id={repo_id!r} is not allowed; use 'user/name' (letters, digits, '.', '_', '-')")
    return repo_id


@dataclass(frozen=True)
class TokenSource:
    """Where the token comes from: the environment variable ``env``, the file ``file``, or (neither) where
    huggingface_hub looks. ``keys`` name the two settings in messages (config keys or command line flags)."""

    env: str | None = None
    file: str | None = None
    keys: tuple[str, str] = ("hub.token_env", "hub.token_file")

    def read(self) -> str:
        """The token, registered for redaction; ValueError naming the setting if there is none."""
        env_key, file_key = self.keys
        if self.env is not None and self.file is not None:
            raise ValueError(f"{env_key} and {file_key} are both given; name one place for the token")
        if self.env is not None:
            token = os.environ.get(self.env, "").strip()
            if not token:
                raise ValueError(f"{env_key}={self.env!r}: the environment variable {self.env} is not set or empty; "
                                 f"export it with the token, or give the token another way ({self.advice()})")
        elif self.file is not None:
            try:
                token = Path(self.file).expanduser().read_text(encoding="utf-8").strip()
            except (OSError, UnicodeError) as error:
                raise ValueError(f"{file_key}={self.file!r} cannot be read ({type(error).__name__}); "
                                 f"give a readable file holding the token") from None
            if not token:
                raise ValueError(f"{file_key}={self.file!r} is empty; it must hold the token")
        else:
            from huggingface_hub import get_token

            token = (get_token() or "").strip()
            if not token:
                raise ValueError(f"pushing to the Hub needs a token and none was found; {self.advice()}")
        add_secret(token)
        return token

    def advice(self) -> str:
        env_key, file_key = self.keys
        return (f"set HF_TOKEN, run `hf auth login`, or name where the token is with "
                f"{env_key}=VARIABLE or {file_key}=PATH")

    def describe(self) -> str:
        """Where the token must come from, in words."""
        if self.env is not None:
            return f"the token comes from the environment variable {self.env}"
        if self.file is not None:
            return f"the token comes from the file {self.file}"
        return "the token comes from HF_TOKEN or `hf auth login`"

    def push_flags(self) -> list[str]:
        """The same source as ``python -m calt_hf.push`` flags."""
        if self.env is not None:
            return ["--token-env", self.env]
        return ["--token-file", self.file] if self.file is not None else []


def retry_command(save_dir: str | Path, repo_id: str, private: bool, include_raw: bool, source: TokenSource) -> str:
    """The command that pushes an existing ``save_dir`` again: the same endpoint (``HF_ENDPOINT`` when one was
    set, any user and password in it masked), the same token source, and where that token must come from."""
    endpoint = os.environ.get("HF_ENDPOINT")
    shown = redact(endpoint) if endpoint else None
    words = [f"HF_ENDPOINT={shown}"] if shown else []
    words += ["python", "-m", "calt_hf.push", str(save_dir), repo_id, *source.push_flags()]
    words += ["--private"] if private else []
    words += ["--include-raw"] if include_raw else []
    masked = "; HF_ENDPOINT's credentials are shown as ***: give them as before" if shown != endpoint else ""
    return f"{shlex.join(words)}  ({source.describe()}{masked})"


def check_timeout(key: str, timeout: object) -> float:
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise ValueError(f"{key}={timeout!r} is not allowed; use a positive number of seconds")
    return float(timeout)


def point_card_at(folder: RunFolder, repo_id: str) -> None:
    """Make the card's load instructions name the Hub dataset (a card written for a local run names its folder)."""
    card = folder.card
    text = card.read_text(encoding="utf-8")
    pointed = _LOAD_LINE.sub(lambda m: f'{m.group(1)}"{repo_id}"{m.group(2)}', text)
    if pointed != text:
        write_atomically(card, pointed)


def set_timeout(timeout: float) -> None:
    """Give every request huggingface_hub makes from now on ``timeout`` seconds to connect and to read
    (its shared client has none by default: a Hub that never answers would hang the push)."""
    from huggingface_hub import set_client_factory
    from huggingface_hub.utils._http import default_client_factory

    def client_factory():
        client = default_client_factory()
        client.timeout = timeout
        return client

    set_client_factory(client_factory)


def is_transient(error: BaseException) -> bool:
    """Worth retrying: a 5xx, 408 or 429 answer, a timeout, a dropped or refused connection."""
    import httpx2

    status = getattr(getattr(error, "response", None), "status_code", None)
    if isinstance(status, int):
        return status >= 500 or status in (408, 429)
    return isinstance(error, (httpx2.TimeoutException, httpx2.NetworkError, httpx2.RemoteProtocolError))


def raw_files() -> list[str]:
    """What ``include_raw`` adds to a push: every split's files (``calt_hf.formats``) and the command line's config."""
    return [*(f"*{suffix}" for suffix in split_suffixes()), CONFIG_FILE]


def upload_patterns(folder: RunFolder, include_raw: bool) -> list[str]:
    """What a push uploads: ``HUB_FILES`` (and ``raw_files()``); in a folder a calt_hf run recorded, the splits' files
    are the ones recorded for its complete splits (no shard of a split still being generated, none copied in)."""
    from calt_hf.checkpoint import recorded_splits

    complete = {split: state.get("files", {}) for split, state in recorded_splits(folder).items() if state["complete"]}
    if not complete:  # packaged without a calt_hf run's record (CALT's folder): its files as they are
        return HUB_FILES + (raw_files() if include_raw else [])
    recorded = [name for files in complete.values() for name in files]
    shards = [name for name in recorded if name.startswith(_SHARDS.removesuffix("**"))]
    patterns = [pattern for pattern in HUB_FILES if pattern != _SHARDS] + shards
    if include_raw:
        patterns += [name for name in recorded if name not in shards] + [f"{split}{STATS_SUFFIX}" for split in complete]
        patterns += [pattern for pattern in raw_files() if "*" not in pattern]  # config.yaml
    return patterns


def push_to_hub(
    save_dir: RunFolder | str | Path,
    repo_id: str,
    private: bool = False,
    source: TokenSource = TokenSource(),
    include_raw: bool = False,
    timeout: float = 30.0,
    retries: int = 3,
    commit_message: str | None = None,
) -> str:
    """Create the dataset repo if needed and upload the packaged dataset in one commit; returns the commit URL.

    Each request may take ``timeout`` seconds to connect and to read; a transient failure is retried up to
    ``retries`` times (waiting 1 s, 2 s, 4 s, ... up to 30 s); then ``HubPushError`` with the retry command.
    ValueError (before any request) for a bad repo id, an unpackaged folder or a missing token.
    """
    folder = RunFolder.of(save_dir)
    check_repo_id(repo_id)
    check_timeout("timeout", timeout)
    if not folder.card.exists() or not folder.data_dir.is_dir():
        raise ValueError(f"{folder} is not a packaged dataset (no {CARD_FILE} and {DATA_DIR}/); package it first")
    token = source.read()
    from huggingface_hub import HfApi

    set_timeout(timeout)
    api = HfApi(token=token)
    wait = _FIRST_WAIT
    # The folder's lock (FolderInUseError while a run writes there), so that only finished, recorded files go up.
    with folder.claim(advice="wait for it to end, then push again"):
        point_card_at(folder, repo_id)
        for attempt in range(retries + 1):
            try:
                api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
                commit = api.upload_folder(
                    folder_path=str(folder),
                    repo_id=repo_id,
                    repo_type="dataset",
                    allow_patterns=upload_patterns(folder, include_raw),
                    ignore_patterns=_UNFINISHED,
                    commit_message=commit_message or f"Upload {folder.root.name} with calt_hf",
                )
                return str(commit.commit_url if hasattr(commit, "commit_url") else commit)
            except Exception as error:
                reason = redact(f"{type(error).__name__}: {error}")  # the endpoint's URL may carry credentials
                if attempt == retries or not is_transient(error):
                    tries = f" after {attempt + 1} attempts" if attempt else ""
                    raise HubPushError(
                        f"pushing {folder} to the Hub dataset {repo_id} failed{tries} ({reason}). The local dataset in "
                        f"{folder} is complete; push it again with: "
                        f"{retry_command(folder.root, repo_id, private, include_raw, source)}"
                    ) from error
                logger.warning("pushing to %s failed (%s); retrying in %g s (%d of %d)", repo_id, reason, wait, attempt + 1, retries)
                time.sleep(wait)
                wait = min(2 * wait, _MAX_WAIT)
