"""Stopping a run cleanly: SIGINT and SIGTERM become an exception in the parent, and workers die with it.

A signal's default action ends the parent where it stands: SIGTERM leaves ``.part`` files and live loky
workers behind, SIGINT a long traceback. Raised as ``RunInterrupted`` in the main thread instead, the
signal unwinds the run through its normal cleanup (unfinished files removed, the pool terminated),
and the command line turns it into one line and the shell's status (130, 143). Worker processes ignore
the terminal's SIGINT (the parent stops them) and, on Linux, get SIGKILL from the kernel when their
parent dies, however it dies (``PR_SET_PDEATHSIG``); elsewhere a thread watches the parent.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_PR_SET_PDEATHSIG = 1


class RunInterrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM asked the run to stop (a KeyboardInterrupt, so code that catches Ctrl-C catches it)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def exit_status(self) -> int:
        """What a shell reports for a process ended by this signal: 128 + its number."""
        return 128 + self.signum


@contextmanager
def signals_stop_the_run() -> Iterator[None]:
    """While the block runs, SIGINT and SIGTERM raise ``RunInterrupted`` in it (main thread only; elsewhere
    Python cannot install handlers, and the block runs as it is). Repeats are ignored while it unwinds."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    stopping = False

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        if not stopping:
            stopping = True
            raise RunInterrupted(signum)

    previous = {signum: signal.signal(signum, stop) for signum in STOP_SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def die_with_parent(parent_pid: int) -> None:
    """Worker initializer: ignore the terminal's Ctrl-C, end on SIGTERM (a worker forked from the run inherits
    the run's handlers, ``signals_stop_the_run``) and end when ``parent_pid`` (the run) is gone.

    Where cysignals is loaded (Sage), SIGINT's Python handler stays cysignals' own: its alarms
    (``sample_timeout``) reach Python code through it, as they do in a fresh process that imports Sage."""
    if "cysignals" in sys.modules:
        from cysignals.signals import python_check_interrupt

        signal.signal(signal.SIGINT, python_check_interrupt)
    else:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent_pid:  # the parent died before the request took effect
            os._exit(1)
        return

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="calt_hf-parent-watch", daemon=True).start()
