"""Throughput and memory of calt_hf's generation, against the bare generator and CALT's reference.

    python scripts/bench.py                         # GCD and sum over GF(7)[x,y], SymPy, n_jobs=2
    python scripts/bench.py --cold                  # cold runs as a user meets them (issue 14's table)
    python scripts/bench.py --cold --repeat 3       # each cold run three times: the median and range of the ratios
    python scripts/bench.py --profile               # per-sample microseconds by stage, worker and parent
    python scripts/bench.py --ceiling               # the framework's rate with a trivial generator (Parquet on)
    python scripts/bench.py --rss                   # + peak RSS at 100k and 1M samples
    python scripts/bench.py --reference /path/to/venv/bin/python   # + CALT (calt-x) on the same tasks
    python scripts/bench.py --backend sagemath      # GCD, sum and random_product (R.random_element) in Sage

    python scripts/bench.py --checkpoint --dask      # + the cost of checkpoints, Dask LocalCluster vs loky (GCD)
    unshare --net sh -c 'ip link set lo up && python scripts/bench.py --ray'   # + a local Ray vs loky (GCD)
    python scripts/bench.py --packaging             # + time and peak RSS of packaging 100k and 1M samples
    python scripts/bench.py --quality               # + what the data quality report costs (gcd)
    python scripts/bench.py --stream                # + calt_hf's stream under a DataLoader of n_jobs workers vs run() (gcd)
    python scripts/bench.py --folder                # + recording and verifying a complete split's files
    python scripts/bench.py --tokenizer             # + fitting tokenizer.json and the token lengths (100k gcd, sum)
    python scripts/bench.py --backward              # ideals drawn backwards against forward groebner, both backends,
                                                    # n = 2..5 over GF(7), GF(31), QQ, and calt-x's classes in a bare loop
    python scripts/bench.py --backward --backends sympy --variables 3,4 --fields GF31 --scale 5   # the SymPy target
    python scripts/bench.py --backward --backends sympy,flint --variables 3,4 --fields GF31 --profile   # by stage

``--backward`` runs each configuration of Kera et al.'s grid (n variables over a field) through the whole command
line, in fresh processes, as a user making the papers' datasets meets it: ``problem=groebner_backward`` and, on the
same lex ring, the forward ``problem=groebner`` (its defaults: sampler group's polynomials, SymPy's 10 s timeout
with resampling); on Sage also calt-x's own ``GroebnerBasisSampler`` and ``GroebnerIdealTransformer`` with the same
parameters in a bare loop (one process, ``set_random_seed`` before each sample). Besides samples per second over
the whole command (start, imports and packaging included) it reports the CPU seconds of the whole process tree per
sample, which a machine shared with other work disturbs far less than the wall clock: ``n_jobs`` free cores would
run ``n_jobs / CPU`` samples a second.

Cold runs (``--cold``) are fresh processes, as a user's are: "run" is timed from before
``DatasetGenerator(...)`` to after ``run()`` returns (the pool starts cold inside it), "process" is the whole
``python`` command (start and imports included); the default command line job is timed end to end.

"Ideal" is n_jobs times the bare generator's single-core rate: the generator looped over the same
per-sample seeds in one process, seeded the same way as in a run: the problem library's generators seed
Python's ``random`` themselves (``seeds_itself``, so the core reseeds nothing for them); any other
generator is preceded by the core's reseeders (Python's, SymPy's, numpy's and the backend's). The full
run adds string conversion, the statistics function, checkpoints, writing the files and the pool.
A cold run also reports the mean time of the generator's own calls inside the workers (from the split's
statistics file) and their share of the run's wall time on n_jobs cores: the workers' CPU beyond it is what
calt_hf adds a sample; the gap between it and the bare rate is the generator running slower amid calt_hf's
stages (caches). Both are measured at the same moment as the run, so the VM's drift, which moves the bare
rate by tens of percent within minutes, does not blur them: when the ratio to the ideal and this share
disagree, the machine changed speed during the run.
"""

from __future__ import annotations

import argparse
import importlib
import json
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from statistics import median

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from calt_hf import backends  # noqa: E402
from calt_hf.problems import PROBLEMS, PolynomialStatistics  # noqa: E402
from calt_hf.run_folder import RunFolder  # noqa: E402
from calt_hf.seeding import default_reseeders, derive_seed  # noqa: E402

SAMPLER = {"symbols": "x, y", "field_str": "GF7", "order": "grevlex", "max_degree": 3, "max_num_terms": 4}
DEFAULT_SIZES = {"gcd": 20_000, "sum": 200_000, "random_product": 100_000}
DEFAULT_TASKS = {"sympy": "gcd,sum", "sagemath": "gcd,sum,random_product"}


class RandomElementProduct:
    """Sage only: two ``R.random_element(degree=3, terms=4)`` and their product. It does not seed Sage
    itself: it relies on the core's reseeding, the case ``reseed_backend=True`` exists for."""

    def __init__(self, sampler) -> None:
        self.sampler = sampler

    def __call__(self, seed: int):
        ring = self.sampler.get_ring()
        f, g = ring.random_element(degree=3, terms=4), ring.random_element(degree=3, terms=4)
        return [f, g], f * g


BENCH_TASKS = {"random_product": RandomElementProduct}


def trivial(seed: int) -> tuple[str, str]:
    """A generator that costs nothing: what the framework itself can carry, per sample."""
    return str(seed % 100_003), str(seed % 7)


def build(backend: str, task: str, **sampler_options):
    api = importlib.import_module(f"calt_hf.{backend}")
    sampler = api.PolynomialSampler(**{**SAMPLER, **sampler_options})
    problem = PROBLEMS[task] if task in PROBLEMS else BENCH_TASKS[task]
    return api, problem(sampler), PolynomialStatistics(sampler)


def bare_rate(generator, n: int, reseeders=()) -> float:
    """Samples per second of the generator alone, on one core, after the given reseeders."""
    seeds = [derive_seed(42, "train", i) for i in range(n)]
    began = time.perf_counter()
    for seed in seeds:
        for reseed in reseeders:
            reseed(seed)
        generator(seed)
    return n / (time.perf_counter() - began)


def core_reseeders(api, generator) -> tuple:
    """The reseeders a run applies before each sample of this generator."""
    if getattr(generator, "seeds_itself", False):
        return ()
    return default_reseeders() + api.DatasetGenerator.cas.reseeders


def full_rate(api, generator, statistics, n: int, n_jobs: int, backend: str = "loky", address: str | None = None, **options) -> float:
    """Samples per second of ``DatasetGenerator.run`` after a first small run (SymPy's caches warm; a cluster's
    workers started; local workers are forked anew by each run)."""
    runner = api.DatasetGenerator(backend=backend, n_jobs=n_jobs, verbose=False, address=address)
    with tempfile.TemporaryDirectory() as save_dir:
        runner.run({"warmup": 200}, generator, statistics, save_dir=save_dir)
        began = time.perf_counter()
        runner.run({"train": n}, generator, statistics, save_dir=save_dir, **options)
        return n / (time.perf_counter() - began)


_COLD_RUN = """
import json, resource, sys, tempfile, time
began = time.perf_counter()
sys.path.insert(0, {repo!r})
from scripts.bench import build, split_stats, trivial
if {task!r} == "trivial":
    import calt_hf.sympy as api
    generator, statistics = trivial, None
else:
    api, generator, statistics = build({backend!r}, {task!r})
imported = time.perf_counter()
cpu = time.process_time()
with tempfile.TemporaryDirectory() as save_dir:
    start = time.perf_counter()
    {generator_class}(n_jobs={n_jobs}, verbose=False).run(
        {{"train": {n}}}, generator, statistics, save_dir=save_dir{options}
    )
    done = time.perf_counter()
    parent_cpu = time.process_time() - cpu
    children = resource.getrusage(resource.RUSAGE_CHILDREN)  # the run's workers, reaped when its pool closed
    worker_cpu = children.ru_utime + children.ru_stime
    generator_seconds = split_stats(save_dir, "train")["generation_time"]["mean"]  # the generator alone, in the workers
print(json.dumps({{"imports": imported - began, "run": done - start, "parent_cpu": parent_cpu, "worker_cpu": worker_cpu,
                  "generator_seconds": generator_seconds}}))
"""


def stream_rate(api, generator, n: int, n_jobs: int) -> float:
    """Rows per second of ``DatasetGenerator.stream`` cut for and read by a DataLoader of ``n_jobs`` workers (forked
    anew for each pass, as ``run`` forks its pool), after a first small pass."""
    from torch.utils.data import DataLoader

    runner = api.DatasetGenerator(verbose=False)
    for size in (200, n):
        began = time.perf_counter()
        rows = sum(1 for _ in DataLoader(runner.stream(generator, stop=size, n_jobs=n_jobs), batch_size=None, num_workers=n_jobs))
    return rows / (time.perf_counter() - began)


def split_stats(save_dir: str | Path, split: str) -> dict:
    """A split's ``{split}_stats.yaml`` (CALT writes the same file, with ``generation_time`` and ``total_time``)."""
    return yaml.safe_load(RunFolder.of(save_dir).stats_file(split).read_text())


def cold_run(
    backend: str, task: str, n: int, n_jobs: int, package: bool = False, reference: str | None = None
) -> dict[str, float]:
    """One run in a fresh process: seconds of ``run()`` (cold pool included) and of the whole command, and the
    CPU seconds of the parent and of its workers during the run. ``reference``: a Python with calt-x (and
    calt_hf, for the generator) installed, to run CALT's ``DatasetGenerator`` on the same task instead."""
    code = _COLD_RUN.format(
        repo=str(REPO), backend=backend, task=task, n=n, n_jobs=n_jobs,
        generator_class=f"__import__('calt.dataset.{backend}', fromlist=['_']).DatasetGenerator" if reference else "api.DatasetGenerator",
        options="" if reference else f", hf_dataset={package}",
    )
    began = time.perf_counter()
    output = subprocess.run([reference or sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    measured = json.loads(output.splitlines()[-1])
    measured["process"] = time.perf_counter() - began
    return measured


def cli_job(extra: tuple[str, ...] = ()) -> dict[str, float]:
    """Seconds of the default command line job (100k + 1k GCD samples, packaged, card), end to end, and of
    each split as its statistics file records it (``total_time``; the rest is start, packaging and exit), and
    the mean seconds of the generator's own calls in the train split's workers."""
    with tempfile.TemporaryDirectory() as save_dir:
        began = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "calt_hf.generate", f"save_dir={save_dir}/run", "verbose=false", *extra],
            check=True, capture_output=True, cwd=save_dir,
        )
        seconds = time.perf_counter() - began
        stats = {split: split_stats(Path(save_dir) / "run", split) for split in ("train", "test")}
        return {"seconds": seconds, **{f"{split}_seconds": stats[split]["total_time"] for split in stats},
                "generator_seconds": stats["train"]["generation_time"]["mean"]}


def stage_profile(backend: str, task: str, n: int, built: tuple | None = None) -> dict[str, float]:
    """Microseconds per sample of each stage a worker runs, in this process, over ``n`` samples (formats
    encoded in chunks of 100 as in a run); ``built``: ``build``'s triple for another generator."""
    from calt_hf.conversion import to_strings
    from calt_hf.hf.survey import TextSurvey
    from calt_hf.quality import measure, text_rows
    from calt_hf.statistics import MemoryEfficientStatisticsCalculator, gather
    from calt_hf.formats import check_formats
    from calt_hf.writer import DatasetWriter

    api, generator, statistics = built or build(backend, task)
    cas = api.DatasetGenerator.cas
    formats = DatasetWriter(tempfile.gettempdir(), True, True, True).output_formats()
    seeds = [derive_seed(42, "train", i) for i in range(n)]
    seconds: dict[str, float] = {}

    def timed(stage: str, call, *args):
        began = time.perf_counter()
        value = call(*args)
        seconds[stage] = seconds.get(stage, 0.0) + time.perf_counter() - began
        return value

    rows, sample_statistics = [], []
    for fmt in formats:  # import what each format needs before timing
        fmt.encode([("1", "1")])
    for seed in seeds:
        problem, solution = timed("generator", generator, seed)
        sample_statistics.append(timed("statistics", statistics, problem, solution))
        row = timed("to_strings", lambda: (to_strings(problem, cas, "p"), to_strings(solution, cas, "s")))
        timed("check_formats", check_formats, *row, formats, "the sample")
        rows.append(row)
    survey, summary = TextSurvey("whole"), MemoryEfficientStatisticsCalculator()
    for start in range(0, n, 100):
        chunk = rows[start : start + 100]
        for fmt in formats:
            timed(f"encode {fmt.suffix.strip('_')}", fmt.encode, chunk)
        gathered = timed("statistics summary", gather, sample_statistics[start : start + 100])
        timed("statistics summary", summary.update_gathered, [0.0] * len(chunk), gathered)
        texts = timed("text form", text_rows, chunk)
        timed("quality", measure, chunk, texts, gathered)
        timed("survey (hf_dataset)", survey.add, texts)
    return {stage: total / n * 1e6 for stage, total in seconds.items()}


def packaging_cost(n: int) -> dict[str, float]:
    """Time and peak RSS of ``package_dataset`` (Parquet shards streamed from JSON Lines, then the card) for
    a save_dir of ``n`` sum samples, in a fresh process."""
    with tempfile.TemporaryDirectory() as save_dir:
        api, generator, statistics = build("sympy", "sum")
        api.DatasetGenerator(n_jobs=2, verbose=False).run({"train": n}, generator, statistics, save_dir=save_dir)
        code = (
            "import resource, sys, time; sys.path.insert(0, %r)\n"
            "from calt_hf.hf.package import package_dataset\n"
            "t = time.perf_counter(); package_dataset(%r); elapsed = time.perf_counter() - t\n"
            "print(elapsed, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
        ) % (str(REPO), save_dir)
        output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
        seconds, rss_kib = output.split()[-2:]
        return {"seconds": float(seconds), "peak_rss_mib": int(rss_kib) / 1024}


def tokenizer_cost(task: str, n: int) -> dict[str, float]:
    """Seconds packaging spends on the tokenizer of ``n`` samples when the run kept no survey of its texts (a
    folder of CALT's, or one surveyed in the other number mode): one pass over the shards for the vocabulary
    and the token lengths. A run with ``hf_dataset`` surveys its chunks in the workers instead."""
    from calt_hf.hf.package import survey_shards
    from calt_hf.hf.parquet import kinds_of_file
    from calt_hf.hf.tokenizer import fit_tokenizer

    with tempfile.TemporaryDirectory() as save_dir:
        api, generator, statistics = build("sympy", task)
        api.DatasetGenerator(n_jobs=2, verbose=False).run({"train": n}, generator, statistics, save_dir=save_dir, hf_dataset=True)
        kinds = kinds_of_file(RunFolder.of(save_dir).shards("train")[0])
        began = time.perf_counter()
        survey = survey_shards(Path(save_dir), "train", kinds, "whole")
        tokenizer = fit_tokenizer(survey)
        seconds = time.perf_counter() - began
    return {"seconds": seconds, "vocabulary": tokenizer.get_vocab_size(), "problem_p99": survey.token_lengths()["problem_tokens"].quantile(0.99)}


def folder_cost(n: int) -> dict[str, float]:
    """Seconds to record (sizes and SHA-256) and to verify the final files of a complete split of ``n`` sum
    samples with Parquet shards: what each split's completion, and each resume that skips it, pays."""
    from calt_hf.checkpoint import SplitCheckpoint

    with tempfile.TemporaryDirectory() as save_dir:
        api, generator, statistics = build("sympy", "sum")
        api.DatasetGenerator(n_jobs=2, verbose=False).run({"train": n}, generator, statistics, save_dir=save_dir, hf_dataset=True)
        checkpoint = SplitCheckpoint(Path(save_dir), "train")
        began = time.perf_counter()
        checkpoint.record_files()
        recorded = time.perf_counter()
        assert not checkpoint.damage()
        verified = time.perf_counter()
        megabytes = sum(size for size, _ in checkpoint.recorded()["files"].values()) / 1e6
    return {"megabytes": megabytes, "record_seconds": recorded - began, "verify_seconds": verified - recorded}


def tree_rss_kib(pid: int) -> int:
    """Resident memory of a process and all its descendants, from /proc."""
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        try:
            with open(f"/proc/{current}/status") as status:
                total += next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
            with open(f"/proc/{current}/task/{current}/children") as children:
                stack.extend(int(child) for child in children.read().split())
        except (FileNotFoundError, ProcessLookupError, StopIteration):
            continue
    return total


def peak_rss(backend: str, task: str, n: int, n_jobs: int, batch_size: int) -> dict[str, float]:
    """Run a generation in a fresh process; peak RSS of that process and of its whole tree (MiB)."""
    code = (
        "import sys, tempfile; sys.path.insert(0, %r)\n"
        "from scripts.bench import build\n"
        "api, generator, statistics = build(%r, %r)\n"
        "with tempfile.TemporaryDirectory() as d:\n"
        "    api.DatasetGenerator(n_jobs=%d, verbose=False).run({'train': %d}, generator, statistics, save_dir=d, batch_size=%d)\n"
        # VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec, so it would report this script's own peak
        "print(next(int(line.split()[1]) for line in open('/proc/self/status') if line.startswith('VmHWM')))\n"
    ) % (str(REPO), backend, task, n_jobs, n, batch_size)
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    peak_tree = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak_tree
        while not done.is_set():
            peak_tree = max(peak_tree, tree_rss_kib(process.pid))
            time.sleep(0.05)

    sampler_thread = threading.Thread(target=sample, daemon=True)
    sampler_thread.start()
    began = time.perf_counter()
    output, _ = process.communicate()
    elapsed = time.perf_counter() - began
    done.set()
    sampler_thread.join()
    if process.returncode:
        raise RuntimeError(f"RSS run failed with status {process.returncode}")
    return {"parent_mib": int(output.split()[-1]) / 1024, "tree_mib": peak_tree / 1024, "seconds": elapsed}


def reference_rate(python: str, task: str, n: int, n_jobs: int) -> float:
    """Samples per second of CALT's own DatasetGenerator (calt-x) on the same generator, in its own venv."""
    code = (
        "import sys, tempfile, time; sys.path.insert(0, %r)\n"
        "from calt.dataset.sympy import DatasetGenerator\n"
        "from scripts.bench import build\n"
        "api, generator, statistics = build('sympy', %r)\n"
        "with tempfile.TemporaryDirectory() as d:\n"
        "    g = DatasetGenerator(n_jobs=%d, verbose=False)\n"
        "    g.run({'warmup': 200}, generator, statistics, save_dir=d)\n"
        "    t = time.perf_counter(); g.run({'train': %d}, generator, statistics, save_dir=d)\n"
        "    print(%d / (time.perf_counter() - t))\n"
    ) % (str(REPO), task, n_jobs, n, n)
    result = subprocess.run([python, "-c", code], capture_output=True, text=True, check=True)
    return float(result.stdout.split()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", default="sympy", choices=backends.names())
    parser.add_argument("--tasks", help="comma-separated problem names (default: gcd,sum; + random_product in Sage)")
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the default sample counts")
    parser.add_argument("--rss", action="store_true", help="also measure peak RSS at 100k and 1M samples (sum task)")
    parser.add_argument("--reference", metavar="PYTHON", help="a Python with calt-x installed, to measure CALT too")
    parser.add_argument("--checkpoint", action="store_true", help="also measure what checkpoints cost (gcd)")
    parser.add_argument("--dask", action="store_true", help="also measure a Dask LocalCluster against loky (gcd)")
    parser.add_argument("--ray", action="store_true", help="also measure a local Ray against loky (gcd; as root, "
                        "inside `unshare --net` with lo up, as tests/cluster_check.py runs it)")
    parser.add_argument("--packaging", action="store_true", help="also measure packaging 100k and 1M samples")
    parser.add_argument("--stream", action="store_true", help="also measure calt_hf.stream under a DataLoader against run() (gcd)")
    parser.add_argument("--quality", action="store_true", help="also measure what the data quality report costs (gcd)")
    parser.add_argument("--folder", action="store_true", help="also measure recording and verifying a split's files")
    parser.add_argument("--tokenizer", action="store_true", help="also measure fitting the tokenizer to 100k samples")
    parser.add_argument("--cold", action="store_true", help="cold runs in fresh processes and the default CLI job, instead")
    parser.add_argument("--repeat", type=int, default=1, help="with --cold: run each K times, with the median of their ratios")
    parser.add_argument("--profile", action="store_true", help="per-sample microseconds by worker stage, instead")
    parser.add_argument("--ceiling", action="store_true", help="also the rate with a trivial generator, Parquet on")
    parser.add_argument("--backward", action="store_true", help="ideals drawn backwards against forward groebner, instead")
    parser.add_argument("--backends", help="samples/s of each problem (--tasks, default gcd,sum,product,factor) on each of "
                        "these backends, whole command, cold, side by side (the README's table); with --backward: its "
                        "backends (default sympy,flint,sagemath)")
    parser.add_argument("--variables", default="2,3,4,5", help="with --backward: the numbers of variables")
    parser.add_argument("--fields", default="GF7,GF31,QQ", help="with --backward: the fields")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error(f"--repeat {args.repeat} is not allowed: give a number of runs of at least 1")

    results: dict[str, dict] = {}
    if args.backward:
        args.backends = args.backends or "sympy,flint,sagemath"
    if args.backward and args.profile:
        backward_profile(args, results)
    elif args.backward:
        backward_table(args, results)
    elif args.backends:
        backend_table(args, results)
    elif args.profile:
        for task in (args.tasks or DEFAULT_TASKS[args.backend]).split(","):
            stages = results[f"profile_{task}"] = stage_profile(args.backend, task, int(3000 * args.scale))
            print(f"{args.backend}/{task} (us per sample): " + ", ".join(f"{k} {v:.1f}" for k, v in stages.items()), flush=True)
    elif args.cold:
        cold_table(args, results)
    else:
        warm_table(args, results)
    if args.ceiling:
        n = int(500_000 * args.scale)
        run = results["ceiling"] = cold_run("sympy", "trivial", n, args.n_jobs, package=True)
        print(
            f"trivial generator, {n:,} samples with Parquet: {n / run['run']:,.0f} samples/s "
            f"(parent {run['parent_cpu'] / n * 1e6:.1f} us CPU a sample, workers {run['worker_cpu'] / n * 1e6:.1f} us)",
            flush=True,
        )
    extras(args, results)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


COLD_SIZES = {"gcd": (12_000, 100_000), "sum": (40_000, 160_000)}


_PARALLEL_BARE = """
import sys, time
sys.path.insert(0, {repo!r})
from scripts.bench import build, core_reseeders
from calt_hf.seeding import derive_seed
api, generator, _ = build({backend!r}, {task!r}, **{sampler_options!r})
reseeders = core_reseeders(api, generator)
seeds = [derive_seed(42, "train", i) for i in range({part}, {m}, {n_jobs})]
done, began = 0, time.perf_counter()
for seed in seeds:
    for reseed in reseeders:
        reseed(seed)
    generator(seed)
    done += 1
    if time.perf_counter() - began > {seconds}:
        break
print(done / (time.perf_counter() - began))
"""


def parallel_bare_rate(backend: str, task: str, n_jobs: int, m: int = 20_000, seconds: float = 2.0, **sampler_options) -> float:
    """Samples per second of ``n_jobs`` bare generator loops running at once in fresh processes (each over
    its share of the run's first ``m`` seeds, for about ``seconds``): what the cores can do right now."""
    processes = [
        subprocess.Popen([sys.executable, "-c", _PARALLEL_BARE.format(repo=str(REPO), backend=backend, task=task, part=part,
                                                                       m=m, n_jobs=n_jobs, seconds=seconds,
                                                                       sampler_options=sampler_options)],
                         stdout=subprocess.PIPE, text=True)
        for part in range(n_jobs)
    ]
    return sum(float(process.communicate()[0].split()[-1]) for process in processes)


def cold_table(args, results: dict) -> None:
    """Issue 14's table: each task cold at two sizes against the ideal, and the default command line job.

    The ideal is measured right before and right after each run (``parallel_bare_rate``, averaged), so that
    a machine whose speed drifts (a shared VM) does not move the ratio. ``--repeat K`` runs each K times, one
    after the other, and adds the median and range of the K ratios: one run's ratio moves by several
    hundredths with the machine."""
    jobs = [(task, int(n * args.scale)) for task in (args.tasks or "gcd,sum").split(",") for n in COLD_SIZES.get(task, (20_000,))]
    for task, n in jobs:
        ratios = []
        for _ in range(args.repeat):
            run, ideal = _with_ideal(args.backend, task, n, args.n_jobs, lambda: cold_run(args.backend, task, n, args.n_jobs))
            results.setdefault(f"cold_{task}_{n}", []).append({**run, "ideal_seconds": ideal})
            ratios.append(ideal / run["run"])
            print(
                f"cold {args.backend}/{task} {n:,}: run {run['run']:.2f} s, ideal {ideal:.2f} s: {ideal / run['run']:.2f} of ideal "
                f"(whole command {run['process']:.2f} s: {ideal / run['process']:.2f}); per sample: bare {1e6 * ideal * args.n_jobs / n:.0f} us, "
                f"workers {run['worker_cpu'] / n * 1e6:.0f} us CPU (the generator's own calls {run['generator_seconds'] * 1e6:.0f} us: "
                f"{n * run['generator_seconds'] / args.n_jobs / run['run']:.2f} of the run's wall on n_jobs cores), "
                f"parent {run['parent_cpu'] / n * 1e6:.1f} us CPU",
                flush=True,
            )
            if args.reference:
                calt = cold_run(args.backend, task, n, args.n_jobs, reference=args.reference)
                results.setdefault(f"cold_{task}_{n}_calt", []).append(calt)
                print(
                    f"  CALT (calt-x) the same, cold: run {calt['run']:.2f} s, whole command {calt['process']:.2f} s; "
                    f"calt_hf {calt['run'] / run['run']:.2f}x as fast (whole command {calt['process'] / run['process']:.2f}x)",
                    flush=True,
                )
        _print_spread(f"cold {args.backend}/{task} {n:,}", ratios)
    if args.backend == "sympy" and not args.tasks:
        ratios = []
        for _ in range(args.repeat):
            job, ideal = _with_ideal("sympy", "gcd", 101_000, args.n_jobs, cli_job)
            results.setdefault("cli_default_job", []).append({**job, "ideal_seconds": ideal})
            seconds, train = job["seconds"], job["train_seconds"]
            ratios.append(ideal / seconds)
            rest = seconds - train - job["test_seconds"]
            print(
                f"default CLI job (101k GCD, packaged): {seconds:.1f} s end to end, ideal {ideal:.1f} s: {ideal / seconds:.2f}; "
                f"train split {train:.1f} s ({ideal * 100 / 101 / train:.2f} of its ideal share; the generator's own calls "
                f"{job['generator_seconds'] * 1e6:.0f} us: {100_000 * job['generator_seconds'] / args.n_jobs / train:.2f} of its wall "
                f"on n_jobs cores), test {job['test_seconds']:.2f} s, "
                f"the rest (start, packaging, exit) {rest:.2f} s",
                flush=True,
            )
        _print_spread("default CLI job", ratios)


def _with_ideal(backend: str, task: str, n: int, n_jobs: int, call, **sampler_options):
    """``call()``'s result and the ideal seconds of ``n`` samples: ``n`` over the bare rate of ``n_jobs`` loops,
    measured right before and right after the call (averaged), as close to it as the machine's drift allows."""
    before = parallel_bare_rate(backend, task, n_jobs, **sampler_options)
    result = call()
    return result, 2 * n / (before + parallel_bare_rate(backend, task, n_jobs, **sampler_options))


def _print_spread(label: str, ratios: list[float]) -> None:
    """The median and range of repeated runs' ratios to the ideal (nothing for a single run)."""
    if len(ratios) > 1:
        print(f"  {label}, {len(ratios)} runs: median {median(ratios):.2f} of ideal ({min(ratios):.2f}-{max(ratios):.2f})", flush=True)


def warm_table(args, results: dict) -> None:
    """Each task with a warm pool, with and without statistics, and CALT's reference."""
    for task in (args.tasks or DEFAULT_TASKS[args.backend]).split(","):
        n = int(DEFAULT_SIZES.get(task, 20_000) * args.scale)
        api, generator, statistics = build(args.backend, task)
        bare = bare_rate(generator, max(2000, n // 5), core_reseeders(api, generator))
        ideal = args.n_jobs * bare
        row = {"samples": n, "bare_per_s": bare, "ideal_per_s": ideal}
        for label, stats in (("full", statistics), ("full_no_stats", None)):
            rate = full_rate(api, generator, stats, n, args.n_jobs)
            row[f"{label}_per_s"], row[f"{label}_of_ideal"] = rate, rate / ideal
        if args.reference and args.backend == "sympy":
            rate = reference_rate(args.reference, task, n, args.n_jobs)
            row["calt_per_s"], row["calt_of_ideal"] = rate, rate / ideal
        results[task] = row
        print(
            f"{args.backend}/{task}: bare {bare:,.0f}/s, ideal {ideal:,.0f}/s, full {row['full_per_s']:,.0f}/s "
            f"({row['full_of_ideal']:.0%}), without statistics {row['full_no_stats_per_s']:,.0f}/s "
            f"({row['full_no_stats_of_ideal']:.0%})"
            + (f", CALT {row['calt_per_s']:,.0f}/s ({row['calt_of_ideal']:.0%})" if "calt_per_s" in row else ""),
            flush=True,
        )



#: ``--backends`` (without ``--backward``): each problem's sampler beside ``SAMPLER`` (issue 32's fields: GCD and factor
#: over GF(7)[x, y], the default job's ring; sum and product over GF(31)[x, y]) and its training samples (times ``--scale``;
#: the test split is a hundredth of it, as the default job's 1,000 beside 100,000).
TABLE_TASKS = {"gcd": ({}, 100_000), "sum": ({"field_str": "GF31"}, 100_000), "product": ({"field_str": "GF31"}, 100_000),
               "factor": ({}, 20_000)}


def sampler_overrides(options: dict) -> list[str]:
    """The command line's ``sampler.*`` overrides for ``SAMPLER`` with ``options``: the whole sampler group is set,
    so a problem's own sampler default (factor's univariate one) gives way to the table's ring."""
    return ["sampler=default"] + [f"sampler.{key}='{value}'" if isinstance(value, str) and " " in value else
                                  f"sampler.{key}={value}" for key, value in {**SAMPLER, **options}.items()]


def backend_table(args, results: dict) -> None:
    """Samples per second of each problem on each backend: the whole command line job (``python -m
    calt_hf.generate``, cold, packaged, ``n_jobs`` workers) and against ``n_jobs`` bare loops of the same generator
    measured right before and after it (``_with_ideal``); then each backend against the first one. A backend that
    cannot run a problem (SymPy factoring in two variables over GF(p)) gets a dash."""
    backend_names = args.backends.split(",")
    rows = {}
    print(f"samples/s, whole command, cold, n_jobs={args.n_jobs} (the train split alone; of {args.n_jobs} bare loops)", flush=True)
    for task in (args.tasks or ",".join(TABLE_TASKS)).split(","):
        options, size = TABLE_TASKS[task]
        samples = int(size * args.scale)
        for backend in backend_names:
            sampler = {**SAMPLER, **options}
            api = importlib.import_module(f"calt_hf.{backend}")
            try:
                PROBLEMS[task](api.PolynomialSampler(**sampler))
            except ValueError as refusal:
                print(f"{task:8} {backend:9} -: {str(refusal).split(';')[0]}", flush=True)
                continue
            job, ideal = _with_ideal(backend, task, samples, args.n_jobs,
                                     lambda: cli_job(problem_job(backend, task, samples, args.n_jobs, options)), **options)
            train = job["train_seconds"]
            row = rows[task, backend] = results[f"table_{task}_{backend}"] = {
                "samples": samples, "per_second": samples / job["seconds"], "split_per_second": samples / train,
                "ideal_per_second": samples / ideal, "split_of_ideal": ideal / train, "command_of_ideal": ideal / job["seconds"],
            }
            print(f"{task:8} {backend:9} {row['per_second']:8,.0f} ({row['split_per_second']:,.0f}; "
                  f"{row['split_of_ideal']:.2f} of {args.n_jobs} bare loops at {row['ideal_per_second']:,.0f}/s)", flush=True)
        base = rows.get((task, backend_names[0]))
        for backend in backend_names[1:]:
            if base and (task, backend) in rows:
                row = rows[task, backend]
                print(f"{task:8} {backend} / {backend_names[0]}: {row['per_second'] / base['per_second']:.1f}x whole command, "
                      f"{row['split_per_second'] / base['split_per_second']:.1f}x the train split", flush=True)


def problem_job(backend: str, task: str, samples: int, n_jobs: int, options: dict) -> tuple[str, ...]:
    """The command line of one table entry."""
    return (f"backend={backend}", f"problem={task}", f"dataset_sizes={{train: {samples}, test: {max(samples // 100, 1)}}}",
            f"parallel.n_jobs={n_jobs}", *sampler_overrides(options))


#: Samples per configuration of ``--backward`` (times ``--scale``): the backward problem's by backend and field, the
#: forward one's by backend (SymPy's forward samples take 3 ms to many seconds each).
BACKWARD_SIZES = {("sympy", "GF"): 20_000, ("sympy", "QQ"): 2_000, ("flint", "GF"): 20_000, ("flint", "QQ"): 2_000,
                  ("sagemath", "GF"): 4_000, ("sagemath", "QQ"): 1_000}
FORWARD_SIZES = {"sympy": 200, "flint": 200, "sagemath": 1_000}
#: The papers' datasets: 1,000,000 training and 1,000 test samples a configuration.
KERA_SAMPLES = 1_001_000


def variable_names(n: int) -> str:
    return ", ".join(f"x{i}" for i in range(n))


def cli_rate(backend: str, problem: str, n: int, field: str, samples: int, n_jobs: int) -> dict[str, float]:
    """One command line job in a fresh process (packaged, as by default): samples per second over the whole
    command, the split's own rate (its stats file), the CPU of the whole process tree a sample, and how many
    attempts timed out."""
    with tempfile.TemporaryDirectory() as save_dir:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        began = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "calt_hf.generate", f"backend={backend}", f"problem={problem}", "sampler.order=lex",
             f"sampler.symbols='{variable_names(n)}'", f"sampler.field_str={field}", f"dataset_sizes={{train: {samples}}}",
             f"parallel.n_jobs={n_jobs}", f"save_dir={save_dir}/run", "verbose=false"],
            check=True, capture_output=True, cwd=save_dir,
        )
        wall = time.perf_counter() - began
        after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the command and its workers, all reaped
        stats = split_stats(Path(save_dir) / "run", "train")
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return {"samples": samples, "seconds": wall, "per_second": samples / wall, "split_per_second": stats["samples_per_second"],
            "cpu_us": cpu / samples * 1e6, "timed_out": (stats.get("errors") or {}).get("timed_out", 0)}


_CALT_BARE = """
import sys, time
sys.path.insert(0, {tests!r})
sys.path.insert(0, {repo!r})
from dataclasses import asdict
import sage.all__sagemath_singular as sage
from test_calt_parity import load_calt_sage
from calt_hf.problems.groebner_backward import ShapeBasisOptions, ShapeTransformOptions
basis = load_calt_sage("dataset/sagemath/utils/ideal_sampler/groebner.py").GroebnerBasisSampler
transform = load_calt_sage("dataset/sagemath/utils/ideal_invariant_transformer/groebner.py").GroebnerIdealTransformer
base = sage.QQ if {field!r} == "QQ" else sage.GF(int({field!r}[2:]))
ring = sage.PolynomialRing(base, [f"x{{i}}" for i in range({n})], order="lex")
sampler, transformer = basis(ring, **asdict(ShapeBasisOptions())), transform(ring, **ShapeTransformOptions().for_variables({n}))
done, began, cpu = 0, time.perf_counter(), time.process_time()
while time.perf_counter() - began < {seconds}:
    sage.set_random_seed(done)
    transformer.transform(sampler.sample(1)[0])
    done += 1
print(done / (time.perf_counter() - began), (time.process_time() - cpu) / done * 1e6)
"""


def calt_bare_rate(n: int, field: str, seconds: float = 20.0) -> dict[str, float]:
    """calt-x's own classes (Sage), Kera et al.'s parameters, in a bare loop in one fresh process: samples per
    second and CPU microseconds a sample."""
    code = _CALT_BARE.format(tests=str(REPO / "tests"), repo=str(REPO), field=field, n=n, seconds=seconds)
    rate, cpu_us = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()[-2:]
    return {"per_second": float(rate), "cpu_us": float(cpu_us)}


def backward_table(args, results: dict) -> None:
    """Kera et al.'s grid through the command line: backward against forward on the same ring, and (Sage) calt-x."""
    print("backend   n field | backward: samples/s whole command (split), CPU us/sample, 1M+1k in | forward: samples/s "
          "(split), timed out | backward/forward | calt-x bare loop: samples/s, CPU us/sample | ours/calt-x", flush=True)
    for backend in args.backends.split(","):
        for n in map(int, args.variables.split(",")):
            for field in args.fields.split(","):
                kind = "QQ" if field == "QQ" else "GF"
                backward = cli_rate(backend, "groebner_backward", n, field, int(BACKWARD_SIZES[backend, kind] * args.scale), args.n_jobs)
                forward = cli_rate(backend, "groebner", n, field, int(FORWARD_SIZES[backend] * args.scale), args.n_jobs)
                row = results[f"backward_{backend}_{n}_{field}"] = {"backward": backward, "forward": forward}
                line = (
                    f"{backend:9} {n} {field:5} | {backward['per_second']:7,.0f} ({backward['split_per_second']:,.0f}), "
                    f"{backward['cpu_us']:6,.0f}, {KERA_SAMPLES / backward['per_second'] / 3600:5.2f} h | "
                    f"{forward['per_second']:6,.1f} ({forward['split_per_second']:,.1f}), {forward['timed_out']} | "
                    f"{backward['per_second'] / forward['per_second']:6,.0f}x"
                )
                if backend == "sagemath":
                    calt = row["calt_bare"] = calt_bare_rate(n, field)
                    line += f" | {calt['per_second']:6,.1f}, {calt['cpu_us']:7,.0f} | {backward['per_second'] / calt['per_second']:5.1f}x"
                print(line, flush=True)


def backward_build(backend: str, problem: str, n: int, field: str) -> tuple:
    """``build``'s triple for a problem drawn backwards, as the command line builds it: Kera et al.'s defaults on
    the lex ring of ``n`` variables over ``field``."""
    api = importlib.import_module(f"calt_hf.{backend}")
    generator = PROBLEMS[problem](api.PolynomialSampler(variable_names(n), field, order="lex"))
    return api, generator, generator.default_statistics()


def backward_profile(args, results: dict) -> None:
    """Per-sample stages (generator, text, statistics, formats, ...) of both problems drawn backwards, in this
    process, for each backend, n and field: CPU and wall microseconds a sample."""
    for backend in args.backends.split(","):
        for n in map(int, args.variables.split(",")):
            for field in args.fields.split(","):
                for problem in ("groebner_backward", "border_basis"):
                    if problem == "border_basis" and n < 2:
                        continue
                    samples = int((3000 if field != "QQ" else 300) * args.scale)
                    began = time.process_time()
                    stages = stage_profile(backend, problem, samples, backward_build(backend, problem, n, field))
                    cpu_us = (time.process_time() - began) / samples * 1e6
                    results[f"profile_{backend}_{problem}_{n}_{field}"] = {**stages, "cpu_us": cpu_us}
                    print(f"{backend:8} {problem:17} n={n} {field:5} (us per sample, wall): "
                          + ", ".join(f"{k} {v:.0f}" for k, v in stages.items()) + f" | CPU {cpu_us:.0f} us in all", flush=True)


def extras(args, results: dict) -> None:
    """The optional measurements (checkpoints, Dask, quality, packaging, folder, tokenizer, RSS)."""
    if args.checkpoint or args.dask or args.ray or args.quality or args.stream:
        gcd_extras(args, results)
    file_extras(args, results)


def gcd_extras(args, results: dict) -> None:
    """Checkpoints, the stream, the quality report, Dask and Ray: each against loky's run of gcd."""
    api, generator, statistics = build(args.backend, "gcd")
    n = int(DEFAULT_SIZES["gcd"] * args.scale)
    loky = full_rate(api, generator, statistics, n, args.n_jobs)
    results["gcd_loky_per_s"] = loky
    if args.checkpoint:
        plain = full_rate(api, generator, statistics, n, args.n_jobs, checkpoint=False)
        results["checkpoint_cost"] = 1 - loky / plain
        print(f"checkpoints on gcd: {loky:,.0f}/s with, {plain:,.0f}/s without: cost {1 - loky / plain:.1%}", flush=True)
    if args.stream:
        streamed = results["gcd_stream_per_s"] = stream_rate(api, generator, n, args.n_jobs)
        print(f"stream of gcd, DataLoader of {args.n_jobs} workers: {streamed:,.0f}/s against run()'s {loky:,.0f}/s with "
              f"{args.n_jobs} processes ({streamed / loky:.0%})", flush=True)
    if args.quality:
        bare_report = full_rate(api, generator, statistics, n, args.n_jobs, data_quality=False)
        results["quality_cost"] = 1 - loky / bare_report
        print(f"data quality report on gcd: {loky:,.0f}/s with, {bare_report:,.0f}/s without: cost {1 - loky / bare_report:.1%}", flush=True)
    cluster_extras(args, results, api, generator, statistics, n, loky)


def cluster_extras(args, results: dict, api, generator, statistics, n: int, loky: float) -> None:
    """Dask's LocalCluster and a local Ray, each reused across runs, against loky's rate on gcd."""
    if args.dask:
        import dask
        from distributed import LocalCluster

        # One LocalCluster that runs after run reuse, as a user's cluster is (workers may start child processes).
        with dask.config.set({"distributed.worker.daemon": False}), LocalCluster(
            n_workers=args.n_jobs, threads_per_worker=1, host="127.0.0.1", dashboard_address=None
        ) as cluster:
            dask_rate = full_rate(api, generator, statistics, n, args.n_jobs, backend="dask", address=cluster.scheduler_address)
        results["gcd_dask_local_per_s"] = dask_rate
        print(f"Dask LocalCluster (reused across runs) on gcd: {dask_rate:,.0f}/s against loky's {loky:,.0f}/s ({dask_rate / loky:.0%})", flush=True)
    if args.ray:
        import ray

        # One local Ray, started here and reused by the warm-up run and the measured one (as a running cluster is).
        ray.init(num_cpus=args.n_jobs, include_dashboard=False, log_to_driver=False, _node_ip_address="127.0.0.1")
        try:
            ray_rate = full_rate(api, generator, statistics, n, args.n_jobs, backend="ray")
        finally:
            ray.shutdown()
        results["gcd_ray_local_per_s"] = ray_rate
        print(f"Ray, local (reused across runs) on gcd: {ray_rate:,.0f}/s against loky's {loky:,.0f}/s ({ray_rate / loky:.0%})", flush=True)


def file_extras(args, results: dict) -> None:
    """Packaging, the folder's record, the tokenizer and peak RSS."""
    if args.packaging:
        for n in (100_000, 1_000_000):
            cost = packaging_cost(n)
            results[f"packaging_{n}"] = cost
            print(f"packaging {n:,} samples: {cost['seconds']:.1f} s, peak RSS {cost['peak_rss_mib']:.0f} MiB", flush=True)
    if args.folder:
        cost = results["folder_100000"] = folder_cost(100_000)
        print(
            f"final files of 100,000 sum samples ({cost['megabytes']:.0f} MB): recorded in {cost['record_seconds']:.2f} s, "
            f"verified in {cost['verify_seconds']:.2f} s",
            flush=True,
        )
    if args.tokenizer:
        for task in ("gcd", "sum"):
            cost = results[f"tokenizer_{task}_100000"] = tokenizer_cost(task, 100_000)
            print(f"tokenizer of 100,000 {task} samples: {cost['seconds']:.1f} s, {cost['vocabulary']} tokens, "
                  f"problem p99 {cost['problem_p99']:.0f} tokens", flush=True)
    if args.rss:
        task = "sum"
        for n in (100_000, 1_000_000):
            memory = peak_rss(args.backend, task, n, args.n_jobs, batch_size=100_000)
            results[f"rss_{task}_{n}"] = memory
            print(
                f"peak RSS {args.backend}/{task} {n:,} samples: parent {memory['parent_mib']:.0f} MiB, "
                f"whole tree {memory['tree_mib']:.0f} MiB ({memory['seconds']:.0f} s)",
                flush=True,
            )

if __name__ == "__main__":
    main()
