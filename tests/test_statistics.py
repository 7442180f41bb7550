import math
import random
import statistics as py_statistics

import pytest

from calt_hf.statistics import BaseStatisticsCalculator, IncrementalStatistics, MemoryEfficientStatisticsCalculator, gather


def test_welford_matches_exact_population_statistics():
    rng = random.Random(0)
    values = [rng.uniform(-1e3, 1e3) for _ in range(5000)]
    summary = IncrementalStatistics()
    summary.update_batch(values)
    result = summary.get_statistics()
    assert result["mean"] == pytest.approx(py_statistics.fmean(values), rel=1e-12)
    assert result["std"] == pytest.approx(py_statistics.pstdev(values), rel=1e-9)
    assert (result["min"], result["max"]) == (min(values), max(values))


def test_merge_equals_one_pass_whatever_the_split():
    rng = random.Random(1)
    values = [rng.gauss(5, 2) for _ in range(1000)]
    whole = IncrementalStatistics()
    whole.update_batch(values)
    for cut in (0, 1, 17, 500, 999, 1000):
        left, right = IncrementalStatistics(), IncrementalStatistics()
        left.update_batch(values[:cut])
        right.update_batch(values[cut:])
        left.merge(right)
        assert left.count == whole.count
        for key, value in whole.get_statistics().items():
            assert left.get_statistics()[key] == pytest.approx(value, rel=1e-9, abs=1e-12)


def test_empty_and_single_value():
    empty = IncrementalStatistics()
    assert empty.get_statistics() == {"mean": 0.0, "std": 0.0, "min": 0.0, "max": 0.0}
    one = IncrementalStatistics()
    one.update(3)
    assert one.get_statistics() == {"mean": 3.0, "std": 0.0, "min": 3.0, "max": 3.0}


def test_overall_statistics_schema_and_values():
    calculator = MemoryEfficientStatisticsCalculator()
    calculator.update_batch(
        [0.5, 1.5],
        [
            {"problem": {"total_degree": 2, "label": "ignored"}, "solution": {"total_degree": 3}, "size": 4},
            {"problem": {"total_degree": 4}, "solution": {"total_degree": 5}, "size": 6},
        ],
    )
    overall = calculator.get_overall_statistics(total_time=2.0, num_samples=2)
    assert list(overall)[:4] == ["total_time", "num_samples", "samples_per_second", "generation_time"]
    assert overall["samples_per_second"] == 1.0
    assert overall["generation_time"] == {"mean": 1.0, "std": 0.5, "min": 0.5, "max": 1.5}
    assert overall["problem_stats"] == {"total_degree": {"mean": 3.0, "std": 1.0, "min": 2.0, "max": 4.0}}
    assert overall["solution_stats"]["total_degree"]["mean"] == 4.0
    assert overall["size_stats"] == {"mean": 5.0, "std": 1.0, "min": 4.0, "max": 6.0}


def test_calculator_merge_matches_single_calculator():
    samples = [{"problem": {"n": i % 7}, "solution": {"n": i % 3}} for i in range(100)]
    runtimes = [i / 100 for i in range(100)]
    whole = MemoryEfficientStatisticsCalculator()
    whole.update_batch(runtimes, samples)
    merged = MemoryEfficientStatisticsCalculator()
    for start in range(0, 100, 30):
        part = MemoryEfficientStatisticsCalculator()
        part.update_batch(runtimes[start : start + 30], samples[start : start + 30])
        merged.merge(part)
    expected = whole.get_overall_statistics(1.0, 100)
    actual = merged.get_overall_statistics(1.0, 100)
    assert actual.keys() == expected.keys()
    for key in ("problem_stats", "solution_stats"):
        for metric, values in expected[key].items():
            assert actual[key][metric] == pytest.approx(values)
    assert math.isclose(actual["generation_time"]["std"], expected["generation_time"]["std"], rel_tol=1e-9)


def test_base_statistics_calculator_is_abstract():
    with pytest.raises(TypeError):
        BaseStatisticsCalculator()

    class Degree(BaseStatisticsCalculator):
        def __call__(self, problem, solution):
            return {"problem": {"length": len(problem)}}

    assert Degree()("abc", "d") == {"problem": {"length": 3}}


def float_statistics(problem, solution):
    """Non-integer statistics whose floating-point sums depend on the order they are added in."""
    value = sum(problem) / 7.3 + 1e-9 * solution
    return {"problem": {"scaled": value, "inverse": 1 / (1 + solution)}, "solution": {"third": solution / 3}}


def timing_free(text: str) -> list[str]:
    """The card without its lines of times and rates (they are measured, not derived from the seed)."""
    return [line for line in text.splitlines() if "generation time" not in line and "Generated in" not in line]


def without_timings(stats_file) -> dict:
    import yaml

    stats = yaml.safe_load(stats_file.read_text())
    for key in ("total_time", "samples_per_second", "generation_time"):
        stats.pop(key)
    return stats


def test_statistics_files_and_card_are_identical_whatever_the_schedule(tmp_path):
    """The same seed gives the same statistics to the last bit, so the card's rounding cannot flip either."""
    from conftest import integer_sum_generator

    from calt_hf.sympy import DatasetGenerator

    outputs = []
    for name, backend, n_jobs, batch_size in (("a", "sequential", 1, 10_000), ("b", "loky", 2, 7), ("c", "loky", 2, 311)):
        DatasetGenerator(backend=backend, n_jobs=n_jobs, verbose=False).run(
            {"train": 1200, "test": 50}, integer_sum_generator, float_statistics, save_dir=tmp_path / name,
            batch_size=batch_size, hf_dataset=True,
        )
        stats = [without_timings(tmp_path / name / f"{split}_stats.yaml") for split in ("train", "test")]
        outputs.append((stats, timing_free((tmp_path / name / "README.md").read_text())))
    assert outputs[0][0][0]["problem_stats"]["scaled"]["mean"] > 0
    assert outputs[1] == outputs[0] and outputs[2] == outputs[0]


def test_exact_sums_give_the_same_bits_for_any_partition_and_merge_order():
    rng = random.Random(3)
    values = [rng.gauss(7.2675, 3) for _ in range(4000)] + [rng.randint(-5, 5) for _ in range(1000)]
    rng.shuffle(values)
    results = set()
    for cut in (1, 3, 64, 999, 5000):
        parts = []
        for start in range(0, len(values), cut):
            part = IncrementalStatistics()
            part.update_batch(values[start:start + cut])
            parts.append(part)
        total = IncrementalStatistics()
        for part in (reversed(parts) if cut % 2 else parts):
            total.merge(part)
        results.add(tuple(total.get_statistics().values()) + (total.mean, total.M2))
    assert len(results) == 1
    [result] = results
    assert result[0] == float(sum(map(__import__("fractions").Fraction, values)) / len(values))  # correctly rounded


def test_gather_collects_each_metric_once_for_the_summaries_and_the_histograms():
    """One walk over a batch's dictionaries serves both the statistics file and the data quality histograms:
    nested entries (any mapping) per metric, flat entries under None, non-numbers left out, first-seen order."""
    from types import MappingProxyType

    from calt_hf.quality import measure

    batch = [
        {"size": 4, "problem": {"terms": 3, "label": "x"}, "solution": MappingProxyType({"terms": 1.5})},
        None,
        {"problem": {"terms": 5, "degree": 2}, "size": "big", "solution": {"terms": 2.5}},
    ]
    gathered = gather(batch)
    assert gathered == {"size": {None: [4]}, "problem": {"terms": [3, 5], "degree": [2]}, "solution": {"terms": [1.5, 2.5]}}
    assert list(gathered) == ["size", "problem", "solution"] and list(gathered["problem"]) == ["terms", "degree"]
    calculator = MemoryEfficientStatisticsCalculator()
    calculator.update_gathered([0.1, 0.2, 0.3], gathered)
    overall = calculator.get_overall_statistics(1.0, 3)
    assert overall["size_stats"]["mean"] == 4.0 and overall["problem_stats"]["terms"]["max"] == 5.0
    assert overall["solution_stats"]["terms"]["mean"] == 2.0
    histograms = measure([("p", "s")] * 3, [("p", "s")] * 3, gathered).histograms
    assert list(histograms) == ["problem_chars", "solution_chars", "size", "problem terms", "problem degree", "solution terms"]
    assert histograms["problem terms"].counts == {3: 1, 5: 1} and histograms["solution terms"].counts == {1.5: 1, 2.5: 1}


def test_gathered_numbers_are_plain_ints_and_floats_with_the_same_summaries():
    """numpy, fractions, bools and integers beyond a float's precision arrive as Python ints and floats (the summaries'
    and histograms' fast paths), and summarise exactly as the numbers themselves."""
    import numpy as np
    from fractions import Fraction

    huge = 2**70 + 1  # not exact as a float
    batch = [{"m": {"a": np.int64(3), "b": Fraction(1, 4), "c": True, "d": huge, "e": np.float64(0.5)}},
             {"m": {"a": 5, "b": Fraction(3, 4), "c": False, "d": -huge, "e": 1.5}}]
    gathered = gather(batch)
    assert gathered == {"m": {"a": [3, 5], "b": [0.25, 0.75], "c": [1, 0], "d": [huge, -huge], "e": [0.5, 1.5]}}
    assert {type(v) for values in gathered["m"].values() for v in values} == {int, float}
    calculator = MemoryEfficientStatisticsCalculator()
    calculator.update_batch([0.1, 0.2], batch)
    summary = calculator.get_overall_statistics(1.0, 2)["m_stats"]
    assert summary["a"] == {"mean": 4.0, "std": 1.0, "min": 3.0, "max": 5.0}
    assert summary["d"]["mean"] == 0.0 and summary["c"]["mean"] == 0.5 and summary["b"]["max"] == 0.75


def test_statistics_beyond_the_doubles_range_are_the_nearest_doubles_not_an_error():
    """A statistic such as a coefficient of 400 digits: ±inf where no double holds it, exact roots where one does."""
    huge = IncrementalStatistics()
    huge.update_batch([10**400, 3 * 10**400, -(10**400)])
    assert huge.get_statistics() == {"mean": math.inf, "std": math.inf, "min": -math.inf, "max": math.inf}
    assert huge.mean == math.inf and huge.M2 == math.inf
    # Values near 10**200: their squares (the variance) pass the doubles' range, the std does not.
    wide = IncrementalStatistics()
    wide.update_batch([10**200, 3 * 10**200])
    assert wide.get_statistics() == {"mean": 2e200, "std": 1e200, "min": 1e200, "max": 3e200}
    flat = MemoryEfficientStatisticsCalculator()
    flat.update_batch([0.1], [{"problem": {"value": __import__("fractions").Fraction(-(10**400), 3)}}])
    assert flat.get_overall_statistics(1.0, 1)["problem_stats"]["value"]["min"] == -math.inf


def huge_value_statistics(problem, solution):
    return {"problem": {"value": 10**400 * sum(problem), "count": len(problem)}}


def test_a_run_with_statistics_beyond_the_doubles_range_completes_and_packages(tmp_path):
    """Such a statistic used to stop the run at the end of its first split (OverflowError), its work lost."""
    import yaml
    from datasets import load_dataset
    from conftest import integer_sum_generator

    from calt_hf.sympy import DatasetGenerator

    DatasetGenerator(n_jobs=2, verbose=False).run(
        {"train": 300, "test": 30}, integer_sum_generator, huge_value_statistics, save_dir=tmp_path, hf_dataset=True
    )
    stats = yaml.safe_load((tmp_path / "train_stats.yaml").read_text())
    assert stats["problem_stats"]["value"] == {"mean": math.inf, "std": math.inf, "min": math.inf, "max": math.inf}
    assert stats["problem_stats"]["count"]["max"] == 10
    images = {path.name for path in (tmp_path / "images").iterdir()}
    assert "problem-count.png" in images and "problem-value.png" not in images  # no axis places 10**400
    assert "| problem value | inf |" in (tmp_path / "README.md").read_text()
    assert len(load_dataset(str(tmp_path))["train"]) == 300
