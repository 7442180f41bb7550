"""Streaming statistics per metric, mergeable across workers, exactly reproducible.

Workers summarise their chunk of samples; the parent merges the partial summaries, so no per-sample
value crosses a process boundary or is kept in memory. The summaries are exact sums (see
``IncrementalStatistics``), so a split's statistics are the same bits whatever ``n_jobs``, ``batch_size``
or backend cut it into chunks. Standard deviations are population standard deviations, as in CALT.
"""

from __future__ import annotations

import math
import numbers
import operator
from fractions import Fraction
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from itertools import repeat
from typing import Any

Number = int | float
#: What a statistics function returns for one sample: ``{"problem": {"metric": value}, ...}``; a flat
#: ``{"metric": value}`` entry is accepted too.
SampleStatistics = Mapping[str, Mapping[str, Number] | Number]

__all__ = ["BaseStatisticsCalculator", "IncrementalStatistics", "MemoryEfficientStatisticsCalculator"]


class BaseStatisticsCalculator(ABC):
    """Interface of a per-sample statistics function: ``(problem, solution) -> {category: {metric: value}}``.

    Subclass it (or pass any callable of that shape) as ``statistics_calculator``. It runs in the workers
    on the backend's objects, before they become strings; each category ends up as a
    ``{category}_stats`` block of ``{split}_stats.yaml``.
    """

    @abstractmethod
    def __call__(self, problem: Any, solution: Any) -> dict[str, dict[str, Number]] | None:
        """Return e.g. ``{"problem": {"total_degree": 3}, "solution": {"total_degree": 2}}``, or None."""


class IncrementalStatistics:
    """Count, mean, population std, min and max of a stream of numbers, in constant memory.

    CALT keeps Welford's running mean and M2, whose last digits depend on how the stream was cut into
    chunks and merged (so on ``n_jobs`` and ``batch_size``). Here the sums of the values and of their
    squares are kept exactly (integers; a double is an integer multiple of 2**-1074), so merging in any
    order gives the same bits, and ``mean`` and ``M2`` are read off them.
    """

    __slots__ = ("count", "_int_sum", "_int_squares", "_sum", "_squares", "_unusual", "min_val", "max_val")

    def __init__(self) -> None:
        self.count = 0
        self._int_sum = self._int_squares = 0  # of the integer values (most statistics are counts)
        self._sum = self._squares = 0  # of the other values, times 2**_SCALE and 2**(2 * _SCALE)
        self._unusual: set[str] = set()  # "inf", "-inf", "nan" when seen: they make mean and std special
        self.min_val = math.inf
        self.max_val = -math.inf

    def update(self, value: float) -> None:
        """Add one value."""
        self.update_batch((value,))

    def update_batch(self, values: Iterable[float]) -> None:
        """Add several values."""
        values = list(values)
        if not values:
            return
        self.count += len(values)
        kinds = set(map(type, values))
        if kinds == {int}:  # counts, most statistics: C-level sums
            self._int_sum += sum(values)
            self._int_squares += sum(map(operator.mul, values, values))
        elif kinds != {float} or not self._add_finite_floats(values):
            self._add_each(values)
        low, high = min(values), max(values)
        self.min_val = low if low < self.min_val else self.min_val
        self.max_val = high if high > self.max_val else self.max_val

    def _add_finite_floats(self, values: list[float]) -> bool:
        """Add floats exactly over their largest denominator (one shift per batch, where ``_add_each`` shifts
        every value to 2**1074ths); False, adding nothing, when one is infinite or nan."""
        try:
            numerators, denominators = zip(*map(float.as_integer_ratio, values))
        except (OverflowError, ValueError):
            return False
        common = max(denominators)  # every denominator is a power of two, so it divides this one
        scaled = list(map(operator.mul, numerators, map(operator.floordiv, repeat(common), denominators)))
        shift = _SCALE - common.bit_length() + 1
        self._sum += sum(scaled) << shift
        self._squares += sum(map(operator.mul, scaled, scaled)) << (2 * shift)
        return True

    def _add_each(self, values: list[Any]) -> None:
        for value in values:
            if type(value) is int or isinstance(value, numbers.Integral):
                value = int(value)
                self._int_sum += value
                self._int_squares += value * value
                continue
            value = float(value)
            if not math.isfinite(value):
                self._unusual.add(str(value))
                continue
            numerator, denominator = value.as_integer_ratio()  # denominator: a power of two <= 2**1074
            scaled = numerator << (_SCALE - denominator.bit_length() + 1)
            self._sum += scaled
            self._squares += scaled * scaled

    def merge(self, other: IncrementalStatistics) -> None:
        """Fold in another summary, as if its values had been added here."""
        self.count += other.count
        self._int_sum += other._int_sum
        self._int_squares += other._int_squares
        self._sum += other._sum
        self._squares += other._squares
        self._unusual |= other._unusual
        self.min_val = min(self.min_val, other.min_val)
        self.max_val = max(self.max_val, other.max_val)

    @property
    def mean(self) -> float:
        return as_float(self._exact_mean()) if not self._unusual else self._special()

    @property
    def M2(self) -> float:  # noqa: N802 - Welford's name, as in CALT
        """Sum of squared deviations from the mean."""
        if self._unusual:
            return math.nan
        if not self.count:
            return 0.0
        return as_float(self._exact_squares() - self._exact_sum() ** 2 / self.count)

    def get_statistics(self) -> dict[str, float]:
        """``{"mean", "std", "min", "max"}``; all 0.0 before any value, as in CALT. Each is the double nearest
        the exact value, ±inf beyond the doubles' range (a statistic such as a coefficient of 400 digits)."""
        if self.count == 0:
            return {"mean": 0.0, "std": 0.0, "min": 0.0, "max": 0.0}
        if self._unusual:
            std = math.nan
        else:
            mean = self._exact_mean()
            std = _sqrt(max(self._exact_squares() / self.count - mean * mean, 0))
        return {"mean": self.mean, "std": std, "min": as_float(self.min_val), "max": as_float(self.max_val)}

    def _exact_sum(self) -> Fraction:
        return self._int_sum + Fraction(self._sum, _ONE)

    def _exact_squares(self) -> Fraction:
        return self._int_squares + Fraction(self._squares, _ONE * _ONE)

    def _exact_mean(self) -> Fraction:
        return self._exact_sum() / self.count if self.count else Fraction(0)

    def _special(self) -> float:
        """The mean when inf, -inf or nan were seen: the infinity if it is the only one, else nan."""
        return float(next(iter(self._unusual))) if len(self._unusual) == 1 else math.nan

    def __getstate__(self) -> tuple:
        return (self.count, self._int_sum, self._int_squares, self._sum, self._squares, sorted(self._unusual),
                self.min_val, self.max_val)

    def __setstate__(self, state: tuple) -> None:
        self.count, self._int_sum, self._int_squares, self._sum, self._squares, unusual, self.min_val, self.max_val = state
        self._unusual = set(unusual)


def as_float(value: Any) -> float:
    """The double nearest an exact number (an int, a Fraction), ±inf beyond the doubles' range, where ``float``
    raises OverflowError."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def _sqrt(value: Fraction | int) -> float:
    """The square root of a non-negative exact number as a double. Beyond the doubles' range the integer part's
    ``isqrt`` is used: the value is then above 2**1023, so dropping its fraction moves the root by less than
    one part in 2**500, far below a double's precision."""
    try:
        return math.sqrt(value)
    except OverflowError:
        return as_float(math.isqrt(int(value)))


#: Binary digits after the point in the exact sums: 2**-1074 is the smallest positive double.
_SCALE = 1074
_ONE = 1 << _SCALE


class MemoryEfficientStatisticsCalculator:
    """Generation times and per-sample statistics of one split, summarised incrementally.

    ``sample_stats`` maps a category to ``{metric: IncrementalStatistics}`` (or, for a flat numeric
    entry, to an ``IncrementalStatistics`` directly). Non-numeric metric values are ignored.
    """

    def __init__(self) -> None:
        self.runtime_stats = IncrementalStatistics()
        self.sample_stats: dict[str, dict[str, IncrementalStatistics] | IncrementalStatistics] = {}

    def update_batch(
        self, runtimes: Iterable[float], batch_sample_stats: Iterable[SampleStatistics | None]
    ) -> None:
        """Add the generation times and statistics dictionaries of a batch of samples.

        Values are gathered per metric first and summarised per batch (see ``IncrementalStatistics``).
        """
        self.update_gathered(runtimes, gather(batch_sample_stats))

    def update_gathered(self, runtimes: Iterable[float], gathered: GatheredStatistics) -> None:
        """``update_batch`` for statistics already gathered per metric (``gather``), which the data quality
        histograms take too: the batch's dictionaries are walked once."""
        self.runtime_stats.update_batch(runtimes)
        for category, metrics in gathered.items():
            nested = [(name, values) for name, values in metrics.items() if name is not None]
            if nested:
                known = self.sample_stats.setdefault(category, {})
                if isinstance(known, dict):  # a category keeps the shape it was first seen with
                    for name, values in nested:
                        known.setdefault(name, IncrementalStatistics()).update_batch(values)
            if None in metrics:
                known = self.sample_stats.setdefault(category, IncrementalStatistics())
                if isinstance(known, IncrementalStatistics):
                    known.update_batch(metrics[None])

    def merge(self, other: MemoryEfficientStatisticsCalculator) -> None:
        """Fold in the summary of another part of the same split (e.g. a worker's chunk)."""
        self.runtime_stats.merge(other.runtime_stats)
        for category, entry in other.sample_stats.items():
            if isinstance(entry, IncrementalStatistics):
                mine = self.sample_stats.setdefault(category, IncrementalStatistics())
                if isinstance(mine, IncrementalStatistics):
                    mine.merge(entry)
                continue
            metrics = self.sample_stats.setdefault(category, {})
            if isinstance(metrics, dict):
                for name, summary in entry.items():
                    metrics.setdefault(name, IncrementalStatistics()).merge(summary)

    def get_overall_statistics(self, total_time: float, num_samples: int) -> dict[str, Any]:
        """The ``{split}_stats.yaml`` document: times, throughput and a ``{category}_stats`` block each."""
        overall: dict[str, Any] = {
            "total_time": float(total_time),
            "num_samples": int(num_samples),
            "samples_per_second": num_samples / total_time if total_time > 0 else 0.0,
            "generation_time": self.runtime_stats.get_statistics(),
        }
        for category, entry in self.sample_stats.items():
            if isinstance(entry, IncrementalStatistics):
                overall[f"{category}_stats"] = entry.get_statistics()
            else:
                overall[f"{category}_stats"] = {name: s.get_statistics() for name, s in entry.items()}
        return overall


#: A batch's statistics per metric: ``{category: {metric: values}}``, a flat entry's values under metric None.
GatheredStatistics = dict[str, dict[str | None, list[Number]]]


def gather(batch_sample_stats: Iterable[SampleStatistics | None]) -> GatheredStatistics:
    """The numeric values of a batch of statistics dictionaries, per category and metric, in the order
    they first appear, as Python ints and floats (``plain_number``); non-numeric values are left out."""
    gathered: GatheredStatistics = {}
    for sample in batch_sample_stats:
        for category, entry in (sample or {}).items():
            if type(entry) is dict or isinstance(entry, Mapping):  # isinstance of an ABC is slow
                metrics = gathered.setdefault(category, {})
                for name, value in entry.items():
                    if type(value) is not int and type(value) is not float:
                        value = plain_number(value)
                        if value is None:
                            continue
                    metrics.setdefault(name, []).append(value)
            else:
                value = plain_number(entry)
                if value is not None:
                    gathered.setdefault(category, {}).setdefault(None, []).append(value)
    return gathered


def plain_number(value: Any) -> int | float | None:
    """A statistic's value as a Python int or float (None if it is no real number). numbers.Real covers int,
    float, bool, numpy scalars, gmpy2's mpz/mpq (SymPy's ZZ and QQ) and Sage's numbers. Converted once here,
    the summaries and histograms take their fast paths: Sage's ``Integer`` degrees went through the slow ones
    (9 us of a Sage sum sample, in a worker's loop)."""
    if type(value) is int or type(value) is float:
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return as_float(value)
    return None
