"""Streaming statistics: Welford's algorithm per metric, mergeable across workers.

Workers summarise their chunk of samples; the parent merges the partial summaries (Chan et al.'s
parallel form of Welford's update), so no per-sample value crosses a process boundary or is kept in
memory. Standard deviations are population standard deviations, as in CALT.
"""

from __future__ import annotations

import math
import numbers
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
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
    """Count, mean, population std, min and max of a stream of numbers, in constant memory (Welford)."""

    __slots__ = ("count", "mean", "M2", "min_val", "max_val")

    def __init__(self) -> None:
        self.count = 0
        self.mean = 0.0
        self.M2 = 0.0  # sum of squared deviations from the running mean
        self.min_val = math.inf
        self.max_val = -math.inf

    def update(self, value: float) -> None:
        """Add one value."""
        self.count += 1
        delta = value - self.mean
        self.mean += delta / self.count
        self.M2 += delta * (value - self.mean)
        if value < self.min_val:
            self.min_val = value
        if value > self.max_val:
            self.max_val = value

    def update_batch(self, values: Iterable[float]) -> None:
        """Add several values: summarised in two exact passes, then merged (cheaper than one update each)."""
        values = [float(v) for v in values]
        if not values:
            return
        batch = IncrementalStatistics()
        batch.count = len(values)
        batch.mean = math.fsum(values) / batch.count
        batch.M2 = math.fsum((v - batch.mean) ** 2 for v in values)
        batch.min_val, batch.max_val = min(values), max(values)
        self.merge(batch)

    def merge(self, other: IncrementalStatistics) -> None:
        """Fold in another summary, as if its values had been added here (Chan et al. 1979)."""
        if other.count == 0:
            return
        if self.count == 0:
            self.count, self.mean, self.M2 = other.count, other.mean, other.M2
            self.min_val, self.max_val = other.min_val, other.max_val
            return
        total = self.count + other.count
        delta = other.mean - self.mean
        self.mean += delta * other.count / total
        self.M2 += other.M2 + delta * delta * self.count * other.count / total
        self.count = total
        self.min_val = min(self.min_val, other.min_val)
        self.max_val = max(self.max_val, other.max_val)

    def get_statistics(self) -> dict[str, float]:
        """``{"mean", "std", "min", "max"}``; all 0.0 before any value, as in CALT."""
        if self.count == 0:
            return {"mean": 0.0, "std": 0.0, "min": 0.0, "max": 0.0}
        variance = max(self.M2 / self.count, 0.0)
        return {
            "mean": float(self.mean),
            "std": math.sqrt(variance),
            "min": float(self.min_val),
            "max": float(self.max_val),
        }

    def __getstate__(self) -> tuple:
        return (self.count, self.mean, self.M2, self.min_val, self.max_val)

    def __setstate__(self, state: tuple) -> None:
        self.count, self.mean, self.M2, self.min_val, self.max_val = state


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
        self.runtime_stats.update_batch(runtimes)
        nested: dict[str, dict[str, list[float]]] = {}
        flat: dict[str, list[float]] = {}
        for sample in batch_sample_stats:
            for category, entry in (sample or {}).items():
                if isinstance(entry, Mapping):
                    metrics = nested.setdefault(category, {})
                    for name, value in entry.items():
                        if is_number(value):
                            metrics.setdefault(name, []).append(value)
                elif is_number(entry):
                    flat.setdefault(category, []).append(entry)
        for category, metrics in nested.items():
            known = self.sample_stats.setdefault(category, {})
            if isinstance(known, dict):  # a category keeps the shape it was first seen with
                for name, values in metrics.items():
                    known.setdefault(name, IncrementalStatistics()).update_batch(values)
        for category, values in flat.items():
            known = self.sample_stats.setdefault(category, IncrementalStatistics())
            if isinstance(known, IncrementalStatistics):
                known.update_batch(values)

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


def is_number(value: Any) -> bool:
    # numbers.Real covers int, float, bool, numpy scalars and gmpy2's mpz/mpq (SymPy's ZZ and QQ).
    return type(value) in (int, float) or isinstance(value, numbers.Real)
