"""Interrupting a sample that runs too long (``sample_timeout``)."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class SampleTimeout(Exception):
    """A sample ran longer than ``sample_timeout``."""


@contextmanager
def signal_time_limit(seconds: float) -> Iterator[None]:
    """Raise ``SampleTimeout`` in this (main) thread after ``seconds``, through SIGALRM.

    Interrupts Python code, hence SymPy. C code that never returns to the interpreter is interrupted
    only when it does; the Sage backend uses cysignals' alarm instead, which reaches into Singular.
    """

    def expire(signum: int, frame: Any) -> None:
        raise SampleTimeout(f"ran longer than sample_timeout={seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
