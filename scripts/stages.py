"""Per-sample microseconds of each stage a run adds around the generator, in one process (no pool).

    python scripts/stages.py gcd                       # SymPy, GF(7)[x,y] as in bench.py, 3000 samples
    python scripts/stages.py sum --backend sagemath --samples 3000 --repeats 3

Each sample is generated, then its statistics, text conversion and format checks are timed right after the
generator, as the worker runs them (with the caches the generator left cold); encoding per format and the
quality measures are timed per batch of 100 rows. Each stage is the least over ``--repeats`` passes (the
machine may be shared). "ratio" is the generator's time over the generator's plus every stage's: the share
of the bare loop's rate that a worker can reach (the parent, the pool and Parquet not included).
"""

from __future__ import annotations

import argparse
import time

from bench import build

from calt_hf.conversion import to_strings
from calt_hf.quality import measure
from calt_hf.seeding import derive_seed
from calt_hf.writer import DatasetWriter, check_formats

BATCH = 100


def stage_times(backend: str, task: str, samples: int) -> dict[str, float]:
    """Seconds per stage over ``samples`` samples, one pass."""
    api, generator, statistics = build(backend, task)
    cas = api.DatasetGenerator.cas
    formats = DatasetWriter(None, True, True).output_formats()
    times: dict[str, float] = {}
    rows, sample_statistics = [], []

    def timed(stage: str, call, *args):
        began = time.perf_counter()
        result = call(*args)
        times[stage] = times.get(stage, 0.0) + time.perf_counter() - began
        return result

    for index in range(samples):
        problem, solution = timed("generator", generator, derive_seed(42, "train", index))
        sample_statistics.append(timed("statistics", statistics, problem, solution))
        row = timed("to_strings", lambda: (to_strings(problem, cas, "p"), to_strings(solution, cas, "s")))
        timed("check_formats", check_formats, *row, formats, "the sample")
        rows.append(row)
    batches = [slice(start, start + BATCH) for start in range(0, samples, BATCH)]
    for fmt in formats:
        for batch in batches:
            timed(f"encode {fmt.suffix}", fmt.encode, rows[batch])
    for batch in batches:
        timed("quality", measure, rows[batch], sample_statistics[batch])
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("task", choices=["gcd", "sum", "random_product"])
    parser.add_argument("--backend", default="sympy", choices=["sympy", "sagemath"])
    parser.add_argument("--samples", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    best: dict[str, float] = {}
    for _ in range(args.repeats):
        for stage, seconds in stage_times(args.backend, args.task, args.samples).items():
            best[stage] = min(best.get(stage, seconds), seconds)
    print(f"{args.task} ({args.backend}), microseconds per sample")
    for stage, seconds in best.items():
        print(f"  {stage:20s} {seconds / args.samples * 1e6:8.1f}")
    beyond = sum(seconds for stage, seconds in best.items() if stage != "generator")
    print(f"  {'beyond the generator':20s} {beyond / args.samples * 1e6:8.1f}")
    print(f"  ratio {best['generator'] / (best['generator'] + beyond):.3f}")


if __name__ == "__main__":
    main()
