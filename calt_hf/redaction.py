"""One redaction step for everything the program prints: the token never reaches a terminal or a log.

``install()`` (called first by each command line entry point) wraps ``sys.stdout`` and ``sys.stderr`` so
that every write, whoever makes it (our messages, Hydra's "Error executing job with overrides", a
traceback, huggingface_hub's logger, a Hub answer quoted in an exception), goes through ``redact``:
the values registered with ``add_secret``, anything shaped like a Hugging Face token or a bearer
credential, and the user information of a URL (``http://user:pass@host``, as ``HF_ENDPOINT`` may hold)
become ``***``. Logging handlers created before ``install()`` are pointed at the wrapped streams, and any
created later resolve ``sys.stderr``/``sys.stdout`` to them. ``holds_secret`` tells whether a value that
is about to be written to a file (a config, a dataset card) holds a token.
"""

from __future__ import annotations

import atexit
import logging
import os
import re
import sys
from pathlib import Path
from typing import Any, TextIO

MASK = "***"

#: Hugging Face tokens (``hf_...``, OAuth ``hf_oauth_...``, the old ``api_...`` and ``api_org_...``).
HUB_TOKEN_SHAPE = r"\bhf_(?:oauth_)?[A-Za-z0-9]{20,}|\bapi_(?:org_)?[A-Za-z0-9]{20,}"
#: Those, the credential of an echoed ``Authorization: Bearer ...`` header, whatever its shape, and the
#: user information of a URL (``user:password@`` or ``token@``).
TOKEN_SHAPES = re.compile(
    HUB_TOKEN_SHAPE
    + r"|(?<=[Bb]earer )[^\s'\",;}\]]+"
    r"|(?<=[Aa]uthorization: )(?![Bb]earer )[^\s'\",;}\]]+"
    r"|(?<=://)[^/\s@'\"]+(?=@)"
)
_HUB_TOKEN = re.compile(HUB_TOKEN_SHAPE)

#: Environment variables huggingface_hub reads a token from.
TOKEN_VARIABLES = ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN")

_secrets: set[str] = set()


def add_secret(value: str | None) -> None:
    """Mask ``value`` (a token obtained from anywhere) in everything printed from now on."""
    if value and value.strip():
        _secrets.add(value.strip())


def add_secret_from(env: str | None = None, file: str | None = None) -> None:
    """Mask the token that the environment variable ``env`` or the file ``file`` holds, if it can be read:
    called before a command line is parsed, so that a token pasted into it in the wrong place is masked
    in the parser's error too, whatever its shape."""
    if env:
        add_secret(os.environ.get(env))
    if file:
        try:
            add_secret(Path(file).expanduser().read_text(encoding="utf-8"))
        except (OSError, UnicodeError, ValueError):  # unreadable: reading it for real says so, naming the setting
            pass


def holds_secret(text: str) -> bool:
    """Whether ``text`` holds a registered secret (as a word of its own: ``hf_test`` in ``my_hf_test`` is
    another word) or anything shaped like a Hugging Face token."""
    if _HUB_TOKEN.search(text):
        return True
    return any(re.search(rf"(?<![A-Za-z0-9_]){re.escape(secret)}(?![A-Za-z0-9_])", text) for secret in _secrets)


def redact(text: str) -> str:
    """``text`` with every registered secret and every token-shaped word replaced by ``***``."""
    for secret in sorted(_secrets, key=len, reverse=True):  # longest first: one secret may contain another
        text = text.replace(secret, MASK)
    return TOKEN_SHAPES.sub(MASK, text)


class RedactingStream:
    """A text stream that redacts what it forwards. Text is held back until a line end (``\\n`` or ``\\r``,
    so progress bars still move) or a flush, so a token written in pieces is still seen whole."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self._pending = ""

    def write(self, text: str) -> int:
        self._pending += text
        cut = max(self._pending.rfind("\n"), self._pending.rfind("\r")) + 1
        if cut:
            self.stream.write(redact(self._pending[:cut]))
            self._pending = self._pending[cut:]
        return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        if self._pending:
            self.stream.write(redact(self._pending))
            self._pending = ""
        self.stream.flush()

    def __getattr__(self, name: str) -> Any:  # fileno, isatty, encoding, ...: the wrapped stream's
        return getattr(self.stream, name)


def install() -> None:
    """Redact ``sys.stdout``, ``sys.stderr`` and every logging handler writing to them (idempotent); the
    token variables huggingface_hub reads are registered as secrets."""
    for variable in TOKEN_VARIABLES:
        add_secret(os.environ.get(variable))
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is None or isinstance(stream, RedactingStream):
            continue
        wrapped = RedactingStream(stream)
        setattr(sys, name, wrapped)
        atexit.register(wrapped.flush)
        for handler in _stream_handlers():
            if handler.stream is stream:
                handler.setStream(wrapped)


def _stream_handlers() -> list[logging.StreamHandler]:
    known = list(logging.Logger.manager.loggerDict.values())
    loggers = [logging.getLogger(), *(logger for logger in known if isinstance(logger, logging.Logger))]
    return [h for logger in loggers for h in logger.handlers if isinstance(h, logging.StreamHandler)]
