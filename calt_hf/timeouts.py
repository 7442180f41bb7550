"""Interrupting a sample that runs too long (``sample_timeout``)."""

from __future__ import annotations

import signal
import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any


class SampleTimeout(Exception):
    """A sample ran longer than ``sample_timeout``."""


@contextmanager
def _cysignals_alarm(seconds: float) -> Iterator[None]:
    from cysignals.alarm import AlarmInterrupt, alarm, cancel_alarm

    alarm(seconds)
    try:
        yield
    except AlarmInterrupt:
        raise SampleTimeout(f"ran longer than sample_timeout={seconds} s") from None
    finally:
        cancel_alarm()


@contextmanager
def _python_alarm(seconds: float) -> Iterator[None]:
    def expire(signum: int, frame: Any) -> None:
        raise SampleTimeout(f"ran longer than sample_timeout={seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def signal_time_limit(seconds: float) -> AbstractContextManager[None]:
    """Raise ``SampleTimeout`` in this (main) thread after ``seconds``, through SIGALRM.

    Where cysignals is loaded (Sage), it owns SIGALRM: its alarm interrupts C code such as Singular too,
    and replacing its C-level handler with a Python one could not be undone. Elsewhere a Python handler
    interrupts Python code, hence SymPy.
    """
    return _cysignals_alarm(seconds) if "cysignals" in sys.modules else _python_alarm(seconds)
