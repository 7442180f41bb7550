"""A split's progress on stderr, as tqdm shows it: a bar redrawn in place in a terminal (a widget in a notebook),
and in a pipe or a log, where every redraw (``\\r``) would pile up on one endless line, a plain line every
``LOG_SECONDS``. tqdm's environment variables keep their meaning (``TQDM_DISABLE=1``: no progress at all)."""

from __future__ import annotations

import io
import os
import sys
from typing import TextIO

from tqdm import std
from tqdm.auto import tqdm

#: Seconds between two lines of progress when stderr is no terminal.
LOG_SECONDS = 5.0
#: A line of progress without its bar: ``train:  42% 42000/100000 [00:12<00:17, 3400.00 samples/s]``.
LOG_FORMAT = "{desc}: {percentage:3.0f}% {n_fmt}/{total_fmt} [{elapsed}<{remaining}, {rate_fmt}{postfix}]"


class _Lines(io.TextIOBase):
    """The stream tqdm writes to, turning each of its frames (``\\r`` + text + padding) into a line of its own."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        frame = text.lstrip("\r").rstrip()  # tqdm pads a frame shorter than the last; its final "\n" is no frame
        if frame:
            self.stream.write(frame + "\n")
            self.stream.flush()
        return len(text)

    def flush(self) -> None:
        self.stream.flush()


def progress_bar(total: int, initial: int, desc: str, verbose: bool) -> std.tqdm:
    """The bar of a split of ``total`` samples, ``initial`` of them done already (a resumed run)."""
    if not verbose:
        return tqdm(disable=True)
    options = {"total": total, "initial": initial, "desc": desc, "unit": " samples"}  # disable: TQDM_DISABLE's
    in_place = tqdm.status_printer is not std.tqdm.status_printer or getattr(sys.stderr, "isatty", lambda: False)()
    if in_place:  # a notebook's widget, or a terminal
        return tqdm(dynamic_ncols=True, **options)
    interval = {} if "TQDM_MININTERVAL" in os.environ else {"mininterval": LOG_SECONDS}
    return tqdm(file=_Lines(sys.stderr), bar_format=LOG_FORMAT, **interval, **options)
