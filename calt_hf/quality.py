"""Data quality in every run: repeated problems, problems shared between splits, length distributions.

Problems are compared by an 8-byte BLAKE2b hash of their whitespace-normalised text, so a split of 10M
samples costs 80 MB, never a Python set of strings. For a problem whose list order does not matter
(``Problem.order_free``: gcd of [f, g], a sum of a list) a second hash of the text with the top-level list
sorted counts repeats and overlaps order-free too ([f, g] and [g, f] as one problem). Lengths (characters of the text form; packaging
measures them in tokens of the dataset's tokenizer, calt_hf/hf/tokenizer.py) and the values of the
statistics function are integers or few-digit numbers, so exact histograms (value -> count) give exact
quantiles in bounded memory. ``dedup`` drops repeated problems
through ``HashSet``, a sorted array of hashes with a small sorted buffer.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import Any

import numpy as np

from calt_hf.statistics import GatheredStatistics, as_float
from calt_hf.files import REGENERATE, DamagedFileError, read_json, write_atomically
from calt_hf.formats import TextFormat
from calt_hf.run_folder import HASHES_SUFFIX, HISTOGRAMS_SUFFIX, ORDER_FREE_HASHES_SUFFIX

logger = logging.getLogger(__name__)

HASH_DTYPE = np.dtype("<u8")
LENGTHS = ("problem_chars", "solution_chars")
QUANTILES = (0.5, 0.9, 0.99)
DEDUP_CHOICES = ("none", "within", "across")
_TEXT = TextFormat()


def _normalised(text: str) -> str:
    return " ".join(text.split())


def comparison_text(problem: Any, order_free: bool = False) -> str:
    """The whitespace-normalised text a string problem is compared by; ``order_free``: with its top-level
    list sorted by the items' texts, so that every order of the list gives the same text."""
    if order_free and not isinstance(problem, str):
        items, nested = [], False
        for item in problem:
            if not isinstance(item, str):
                item, nested = _TEXT.join(item), True
            items.append(_normalised(item))
        if all(items):
            # Normalising the joined list is joining the normalised items when none is blank: one split less.
            return (_TEXT.outer_sep if nested else _TEXT.inner_sep).join(sorted(items))
        problem = [item for _, item in sorted(zip(items, problem), key=itemgetter(0))]
    return _normalised(_TEXT.join(problem))


def problem_hashes(problems: Iterable[Any], order_free: bool = False) -> np.ndarray:
    """8-byte hashes of the problems' comparison texts (``comparison_text``)."""
    return _hashes(comparison_text(problem, order_free) for problem in problems)


def text_hashes(texts: Iterable[str]) -> np.ndarray:
    """8-byte hashes of problems already in their text form (``comparison_text`` without ``order_free``)."""
    return _hashes(map(_normalised, texts))


def _hashes(normalised: Iterable[str]) -> np.ndarray:
    digests = b"".join(hashlib.blake2b(text.encode(), digest_size=8).digest() for text in normalised)
    return np.frombuffer(digests, dtype=HASH_DTYPE)


def _histogram_key(value: Any) -> int | float:
    if type(value) is int:
        return value
    number = float(value)
    return int(number) if number.is_integer() else float(f"{number:.3g}")  # 3 significant digits: bounded


class Histogram:
    """Exact counts of (integer, or 3-significant-digit) values: summary statistics and exact quantiles."""

    def __init__(self, counts: dict | None = None) -> None:
        self.counts: Counter = Counter(counts or {})

    def add(self, values: Iterable[Any]) -> None:
        self.counts.update(_histogram_key(v) for v in values)

    def merge(self, other: Histogram) -> None:
        self.counts.update(other.counts)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def quantile(self, q: float) -> float:
        """The smallest value with at least a fraction ``q`` of the values at or below it."""
        threshold, running = q * self.total, 0
        for value, count in sorted(self.counts.items()):
            running += count
            if running >= threshold:
                return float(value)
        return 0.0

    def summary(self) -> dict[str, float]:
        """min, max, mean, population std and the 50th, 90th and 99th percentiles."""
        total = self.total
        if not total:
            return {key: 0.0 for key in ("min", "max", "mean", "std", "p50", "p90", "p99")}
        mean = math.fsum(v * c for v, c in self.counts.items()) / total
        variance = math.fsum(c * (v - mean) ** 2 for v, c in self.counts.items()) / total
        result = {"min": float(min(self.counts)), "max": float(max(self.counts)), "mean": mean, "std": math.sqrt(variance)}
        result.update({f"p{round(q * 100)}": self.quantile(q) for q in QUANTILES})
        return result

    def to_json(self) -> list[list[float]]:
        return [[value, count] for value, count in sorted(self.counts.items())]

    @classmethod
    def from_json(cls, items: list[list[float]]) -> Histogram:
        return cls({value: count for value, count in items})


@dataclass
class QualityMeasures:
    """Hashes of the problems (in order; order-free ones too for an order-free problem) and histograms of
    lengths and statistic values."""

    hashes: bytes = b""
    histograms: dict[str, Histogram] = field(default_factory=dict)
    order_free_hashes: bytes | None = None

    def merge(self, other: QualityMeasures) -> None:
        for name, histogram in other.histograms.items():
            self.histograms.setdefault(name, Histogram()).merge(histogram)


def text_rows(rows: Sequence[tuple]) -> list[tuple[str, str]]:
    """String rows (problems and solutions as strings or lists) in the text form, ``a | b || c``."""
    join = _TEXT.join
    return [(join(problem), join(solution)) for problem, solution in rows]


def measure(
    rows: Sequence[tuple], texts: Sequence[tuple[str, str]], statistics: GatheredStatistics, order_free: bool = False
) -> QualityMeasures:
    """The quality measures of a batch of string rows, their text forms (``text_rows``) and their statistics
    gathered per metric (``statistics.gather``; ``order_free``: with the order-free hashes too)."""
    problems, solutions = zip(*texts) if texts else ((), ())
    measures = QualityMeasures(text_hashes(problems).tobytes())
    if order_free:
        measures.order_free_hashes = problem_hashes((row[0] for row in rows), order_free=True).tobytes()
    for part, values in (("problem", problems), ("solution", solutions)):
        measures.histograms[f"{part}_chars"] = Histogram(Counter(map(len, values)))
    for category, metrics in statistics.items():
        for metric, numbers in metrics.items():
            keys = numbers if set(map(type, numbers)) == {int} else map(_histogram_key, numbers)  # ints are their keys
            measures.histograms[category if metric is None else f"{category} {metric}"] = Histogram(Counter(keys))
    return measures


class HashSet:
    """A set of 8-byte hashes in a sorted numpy array (plus a small sorted buffer): 8 bytes an element."""

    def __init__(self, hashes: np.ndarray | None = None) -> None:
        self.main = np.unique(hashes) if hashes is not None else np.empty(0, HASH_DTYPE)
        self.buffer = np.empty(0, HASH_DTYPE)

    @staticmethod
    def _member(sorted_array: np.ndarray, values: np.ndarray) -> np.ndarray:
        if not len(sorted_array):
            return np.zeros(len(values), bool)
        positions = np.searchsorted(sorted_array, values).clip(max=len(sorted_array) - 1)
        return sorted_array[positions] == values

    def contains(self, values: np.ndarray) -> np.ndarray:
        return self._member(self.main, values) | self._member(self.buffer, values)

    def add(self, values: np.ndarray) -> None:
        self.buffer = np.union1d(self.buffer, values)
        if len(self.buffer) > max(1 << 16, len(self.main) // 8):
            self.main, self.buffer = np.union1d(self.main, self.buffer), np.empty(0, HASH_DTYPE)

    def first_new(self, values: np.ndarray) -> np.ndarray:
        """Mask of the values seen neither before nor earlier in ``values``; adds them."""
        keep = np.zeros(len(values), bool)
        if len(values):
            _, first = np.unique(values, return_index=True)
            keep[first] = True
            keep &= ~self.contains(values)
            self.add(values[keep])
        return keep


# --- files: hashes and histograms of each split, kept in the run's state folder --------------------------
def hashes_path(state_dir: Path, split: str, order_free: bool = False) -> Path:
    return state_dir / f"{split}{ORDER_FREE_HASHES_SUFFIX if order_free else HASHES_SUFFIX}"


def histograms_path(state_dir: Path, split: str) -> Path:
    return state_dir / f"{split}{HISTOGRAMS_SUFFIX}"


def save_measures(
    state_dir: Path, split: str, hashes: np.ndarray, histograms: dict[str, Histogram], order_free_hashes: np.ndarray | None
) -> None:
    state_dir.mkdir(parents=True, exist_ok=True)
    _save_array(hashes_path(state_dir, split), hashes)
    if order_free_hashes is None:
        hashes_path(state_dir, split, order_free=True).unlink(missing_ok=True)
    else:
        _save_array(hashes_path(state_dir, split, order_free=True), order_free_hashes)
    write_atomically(histograms_path(state_dir, split), json.dumps({k: h.to_json() for k, h in histograms.items()}))


def _save_array(path: Path, array: np.ndarray) -> None:
    """``np.save``'s bytes, written whole or not at all, with no copy of the array: ``np.save`` writes a file
    through ``ndarray.tofile``, whose error on a full disk names neither the file nor ENOSPC, and leaves half a file."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, np.lib.format.header_data_from_array_1_0(array))
    write_atomically(path, [header.getvalue(), memoryview(array)])


def read_hashes(path: Path) -> np.ndarray:
    """A split's problem hashes (a sorted array); DamagedFileError if the file is not that (never unpickled)."""
    with open(path, "rb") as handle:
        if handle.read(len(np.lib.format.MAGIC_PREFIX)) != np.lib.format.MAGIC_PREFIX:
            raise DamagedFileError(path, "not a NumPy array file")
    try:
        hashes = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as error:  # cut short, a header that does not parse
        raise DamagedFileError(path, f"not a whole NumPy array file: {error}") from None
    if hashes.dtype != HASH_DTYPE or hashes.ndim != 1:
        raise DamagedFileError(path, f"an array of {hashes.dtype} in {hashes.ndim} dimensions, not of hashes")
    return hashes


def load_hashes(state_dir: Path, split: str, order_free: bool = False) -> np.ndarray | None:
    """A split's problem hashes if it kept them; DamagedFileError if they are damaged."""
    path = hashes_path(state_dir, split, order_free)
    return read_hashes(path) if path.exists() else None


def read_histograms(path: Path) -> dict[str, Histogram]:
    """A split's histograms; DamagedFileError if the file is not that."""
    data = read_json(path)
    counts = [pair for items in data.values() for pair in items] if isinstance(data, dict) and all(
        isinstance(items, list) for items in data.values()) else None
    if counts is None or not all(isinstance(pair, list) and len(pair) == 2 and _is_number(pair[0]) and
                                 isinstance(pair[1], int) for pair in counts):
        raise DamagedFileError(path, "not a split's histograms (name: [[value, count], ...])")
    return {name: Histogram.from_json(items) for name, items in data.items()}


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def load_histograms(state_dir: Path, split: str) -> dict[str, Histogram]:
    """A split's histograms if it kept them; none (and a warning naming the file) if they are damaged: the
    figures then leave them out."""
    path = histograms_path(state_dir, split)
    if not path.exists():
        return {}
    try:
        return read_histograms(path)
    except DamagedFileError as error:
        logger.warning("%s; its figures are left out of the card; %s", error.what, REGENERATE)
        return {}


def sorted_in_place(hashes: bytearray) -> np.ndarray:
    """The hashes as a sorted array over the same memory (a split's hashes are a set: the order of its
    samples is not needed), so that counting and saving them needs no copy: 8 bytes a sample in all."""
    array = np.frombuffer(hashes, dtype=HASH_DTYPE)
    array.sort()
    return array


def _duplicates(hashes: np.ndarray) -> dict[str, int]:
    """Counts over sorted hashes: one boolean a sample, where ``np.unique`` would copy and sort them again."""
    distinct = int(len(hashes) > 0) + int(np.count_nonzero(hashes[1:] != hashes[:-1]))
    return {"samples": int(len(hashes)), "distinct_problems": distinct, "repeated": int(len(hashes)) - distinct}


def split_report(
    hashes: np.ndarray, histograms: dict[str, Histogram], dropped: int | None, order_free_hashes: np.ndarray | None = None
) -> dict[str, Any]:
    """The ``data_quality`` block of a split's statistics file (overlaps are added once all splits exist), from
    sorted hashes (``sorted_in_place``)."""
    report: dict[str, Any] = {"duplicates": _duplicates(hashes)}
    if order_free_hashes is not None:
        report["duplicates_order_free"] = _duplicates(order_free_hashes)
    report["lengths"] = {name: histograms[name].summary() for name in LENGTHS if name in histograms}
    if dropped is not None:
        report["dedup_dropped"] = dropped
    return report


def overlaps(hashes: dict[str, np.ndarray]) -> dict[str, dict[str, int]]:
    """For every split, how many of its samples have a problem that also occurs in each other split."""
    result: dict[str, dict[str, int]] = {}
    for split, values in hashes.items():
        result[split] = {
            other: int(np.isin(values, other_values).sum()) for other, other_values in hashes.items() if other != split
        }
    return result


#: Splits drawn in one figure, at most: a run of 2,000 tiny splits still draws one figure per statistic.
MAX_SPLITS_PER_FIGURE = 8
#: Bins of a figure, at most: a statistic spread wider gets bins of several integers (or of equal width).
MAX_BINS = 100


#: Fixed margins: ``tight_layout`` measures every label's text and costs most of a figure's time.
_MARGINS = {"left": 0.14, "right": 0.97, "bottom": 0.17, "top": 0.88}


def draw_histograms(images_dir: Path, histograms: dict[str, dict[str, Histogram]]) -> dict[str, str]:
    """One PNG per statistic (matplotlib's Agg canvas, without pyplot), its splits side by side as shares of
    their samples: ``{statistic: file name}``, for ``histograms`` as ``{split: {statistic: histogram}}``.

    Each split is drawn as bins (``MAX_BINS`` at most), an empty one at the bottom edge: a sparse tail shows its
    gaps, where a line through the values drawn would cross them as a plateau. The count axis is logarithmic (the
    tails are what a model-size question needs), integer statistics get integer ticks, and a statistic with fewer than three values over all splits (a constant, or a yes/no flag whose
    share is its mean) is not drawn: the card's tables say all there is. Nor is one with an integer beyond the
    doubles' range (a coefficient of 400 digits), which no axis can place.
    Past ``MAX_SPLITS_PER_FIGURE`` splits, the first ones are drawn and the title says how many. The legend
    sits above the plot, where it hides no line and needs no search for a free corner.

    One figure is drawn again for every statistic (``_Canvas``): building the axes and their ticks is a third of
    a figure's time, and each PNG has the same bytes as one drawn alone."""
    by_statistic: dict[str, dict[str, Histogram]] = {}
    for split, named in histograms.items():
        for name, histogram in named.items():
            if histogram.total:
                by_statistic.setdefault(name, {})[split] = histogram
    canvas: _Canvas | None = None
    files = {}
    for name, per_split in sorted(by_statistic.items()):
        values = {value for histogram in per_split.values() for value in histogram.counts}
        if len(values) < 3 or not all(map(_fits_a_double, values)):
            continue
        if canvas is None:
            images_dir.mkdir(parents=True, exist_ok=True)
            canvas = _Canvas()
        file_name = f"{name.replace(' ', '-')}.png"
        canvas.draw(name, per_split, images_dir / file_name)
        files[name] = file_name
    return files


def _bin_edges(values: set[int | float], integer: bool) -> np.ndarray:
    """The edges of at most ``MAX_BINS`` bins of equal width across ``values``; for integers, a whole number of
    integers a bin (one, over a range narrower than ``MAX_BINS``), each centred on its first."""
    low, high = min(values), max(values)
    if not integer:
        return np.linspace(low, high, MAX_BINS + 1)
    width = max(1, math.ceil((high - low + 1) / MAX_BINS))
    return float(low) - 0.5 + width * np.arange(math.ceil((high - low + 1) / width) + 1, dtype=float)


def _fits_a_double(value: int | float) -> bool:
    # A histogram's keys are ints and floats: only an int can pass the range, and ``as_float`` makes it ±inf.
    return isinstance(value, float) or math.isfinite(as_float(value))


class _Canvas:
    """A figure whose lines, scales, ticks, labels and legend are all set again for each statistic, so nothing of
    the previous one shows; the axes and their tick objects stay."""

    def __init__(self) -> None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        self.figure = Figure(figsize=(6, 2.8), dpi=100)
        FigureCanvasAgg(self.figure)
        self.axes = self.figure.subplots(gridspec_kw=_MARGINS)

    def draw(self, name: str, per_split: dict[str, Histogram], path: Path) -> None:
        from matplotlib.ticker import AutoLocator, LogFormatter, LogLocator, MaxNLocator

        axes = self.axes
        for drawn in [*axes.lines, *axes.patches]:
            drawn.remove()
        axes.set_prop_cycle(None)  # the first split's colour again
        shown = dict(list(per_split.items())[:MAX_SPLITS_PER_FIGURE])
        integer = all(float(value).is_integer() for histogram in shown.values() for value in histogram.counts)
        edges = _bin_edges({value for histogram in shown.values() for value in histogram.counts}, integer)
        lowest = 1.0
        for split, histogram in shown.items():
            values, counts = zip(*histogram.counts.items())
            shares = np.histogram(np.array(values, dtype=float), edges, weights=counts)[0] / histogram.total
            axes.stairs(shares, edges, baseline=0, linewidth=1.2, label=split)
            lowest = min(lowest, shares[shares > 0].min())
        axes.relim()  # the data limits of the new bins alone (the scale set next autoscales to them)
        axes.set_autoscaley_on(True)  # which the bottom set below turned off for the figure before
        axes.set_yscale("log")
        axes.set_ylim(bottom=lowest / 2)  # an empty bin drops to the bottom edge, below the rarest value's share
        # Plain-text labels (0.01, 2e-05): the default mathtext ones cost half the drawing.
        axes.yaxis.set_major_formatter(LogFormatter())
        axes.yaxis.set_minor_formatter(LogFormatter(labelOnlyBase=False))
        axes.yaxis.set_minor_locator(LogLocator(subs=(2.0, 5.0)))  # ticks are most of the drawing: 2 a decade, not 8
        axes.xaxis.set_major_locator(MaxNLocator(integer=True) if integer else AutoLocator())
        more = f" (first {len(shown)} of {len(per_split)} splits)" if len(per_split) > len(shown) else ""
        axes.set_title(f"{name}{more}", fontsize=10, loc="left", y=1.0)  # a fixed place: no search past the ticks
        axes.set_xlabel(name, fontsize=9)
        axes.set_ylabel("share of samples", fontsize=9)
        axes.legend(fontsize=8, loc="lower right", bbox_to_anchor=(1.0, 1.0), ncols=min(len(shown), 4), frameon=False,
                    borderaxespad=0.2, handlelength=1.5, columnspacing=1.0)
        self.figure.savefig(path, metadata={"Software": None})  # no version stamp: stable bytes
