"""One redaction step for everything the program prints: the token never reaches a terminal or a log.

``install()`` (called first by each command line entry point) wraps ``sys.stdout`` and ``sys.stderr`` so
that every write, whoever makes it (our messages, Hydra's "Error executing job with overrides", a
traceback, huggingface_hub's logger, a Hub answer quoted in an exception), goes through ``redact``:
the values registered with ``add_secret`` and anything shaped like a Hugging Face token or a bearer
credential become ``***``. Logging handlers created before ``install()`` are pointed at the wrapped
streams, and any created later resolve ``sys.stderr``/``sys.stdout`` to them.
"""

from __future__ import annotations

import atexit
import logging
import os
import re
import sys
from typing import Any, TextIO

MASK = "***"

#: Hugging Face tokens (``hf_...``, OAuth ``hf_oauth_...``, the old ``api_...`` and ``api_org_...``), and the
#: credential of an echoed ``Authorization: Bearer ...`` header, whatever its shape.
TOKEN_SHAPES = re.compile(
    r"\bhf_(?:oauth_)?[A-Za-z0-9]{20,}|\bapi_(?:org_)?[A-Za-z0-9]{20,}"
    r"|(?<=[Bb]earer )[^\s'\",;}\]]+"
    r"|(?<=[Aa]uthorization: )(?![Bb]earer )[^\s'\",;}\]]+"
)

#: Environment variables huggingface_hub reads a token from.
TOKEN_VARIABLES = ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN")

_secrets: set[str] = set()


def add_secret(value: str | None) -> None:
    """Mask ``value`` (a token obtained from anywhere) in everything printed from now on."""
    if value and value.strip():
        _secrets.add(value.strip())


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
