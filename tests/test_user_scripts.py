"""Scripts as users write them: generators in ``__main__`` (a file run as ``python script.py``, or a
notebook-like ``__main__`` fed on stdin) that use a ring built at module level, a ``functools.cache``
helper, or a cache the user filled by trying the generator once. Each must run with the default
backend and give the same bytes as the same generator imported from a module; and code written for
calt-x 1.x must run with only the import changed."""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SHAPES = textwrap.dedent(
    """
    import functools
    import random
    import sys

    from sympy import GF, QQ
    from sympy.polys.rings import ring

    from calt_hf.sympy import DatasetGenerator

    R, x, y = ring("x,y", GF(7), "grevlex")

    def ring_at_module_level(seed):
        random.seed(seed)
        f = sum((random.randint(0, 6) * x**random.randint(0, 3) * y**random.randint(0, 3) for _ in range(3)), R.zero)
        g = x + random.randint(1, 6)
        return [f, g], f * g

    @functools.cache
    def _ring():
        return ring("a,b", GF(31), "lex")[0]

    def cached_helper(seed):
        A = _ring()
        a, b = A.gens
        random.seed(seed)
        f = a**random.randint(0, 4) + random.randint(1, 30) * b
        return [f, a + 1], f * (a + 1)

    _cache = {}

    def tried_first(seed):
        if "ring" not in _cache:
            _cache["ring"] = ring("u,v", QQ, "grevlex")
        Q, u, v = _cache["ring"]
        random.seed(seed)
        f = random.randint(-5, 5) * u + QQ(random.randint(1, 9), random.randint(1, 9)) * v
        return [f, u], f * u

    print(tried_first(0))  # the user tried it once: the cache now holds a ring

    def run_all(out):
        generator = DatasetGenerator(root_seed=3, verbose=False)  # the default backend and n_jobs
        for generate in (ring_at_module_level, cached_helper, tried_first):
            generator.run({"train": 150, "test": 20}, generate, save_dir=f"{out}/{generate.__name__}")
    """
)
MAIN = 'if __name__ == "__main__":\n    run_all(sys.argv[1])\n'
OUTPUTS = ("train_data.pkl", "train_raw.txt", "train_data.jsonl", "test_data.pkl", "test_raw.txt", "test_data.jsonl")


def _run(command: list[str], cwd: Path, stdin: str | None = None) -> None:
    result = subprocess.run(command, cwd=cwd, input=stdin, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]


def _files(folder: Path) -> dict[str, bytes]:
    return {
        f"{shape.name}/{name}": (shape / name).read_bytes()
        for shape in sorted(folder.iterdir())
        for name in OUTPUTS
    }


def test_generators_in_main_run_and_match_the_same_code_imported(tmp_path):
    (tmp_path / "script.py").write_text(SHAPES + MAIN)
    (tmp_path / "shapes.py").write_text(SHAPES)
    _run([sys.executable, "script.py", "as_script"], tmp_path)
    _run([sys.executable, "-", "from_stdin"], tmp_path, stdin=SHAPES + MAIN)
    _run([sys.executable, "-c", "import shapes; shapes.run_all('imported')"], tmp_path)
    imported = _files(tmp_path / "imported")
    assert len(imported) == 3 * len(OUTPUTS)
    assert "x^" in imported["ring_at_module_level/train_raw.txt"].decode()
    assert _files(tmp_path / "as_script") == imported
    assert _files(tmp_path / "from_stdin") == imported


CALT_1X = textwrap.dedent(
    """
    import random

    from omegaconf import OmegaConf

    from calt_hf import DatasetPipeline
    from calt_hf.sympy import BaseStatisticsCalculator, DatasetGenerator, DatasetWriter, PolynomialSampler

    sampler = PolynomialSampler(symbols="x, y", field_str="GF7", max_num_terms=3, max_degree=2)

    class Stats(BaseStatisticsCalculator):
        def __call__(self, problem, answer):
            return {"problem": {"num_polys": len(problem)}, "answer": {"num_terms": len(answer)}}

    def instance_generator(seed):
        random.seed(seed)
        polys = sampler.sample(num_samples=random.randint(2, 3))
        return polys, sum(polys[1:], polys[0])

    if __name__ == "__main__":
        writer = DatasetWriter(save_dir="generator", save_text=True, save_json=True)
        DatasetGenerator(backend="multiprocessing", n_jobs=2, verbose=False, root_seed=100).run(
            dataset_sizes={"train": 60, "test": 10},
            instance_generator=instance_generator,
            statistics_calculator=Stats(),
            dataset_writer=writer,
            batch_size=25,
        )
        cfg = OmegaConf.create({"dataset": {"save_dir": "pipeline", "num_train_samples": 60, "num_test_samples": 10,
                                            "batch_size": 25, "n_jobs": 2, "root_seed": 100, "backend": "sympy",
                                            "verbose": False}})
        DatasetPipeline.from_config(cfg.dataset, instance_generator=instance_generator,
                                    statistics_calculator=Stats()).run()
    """
)


def test_calt_1x_code_runs_with_only_the_import_changed(tmp_path):
    (tmp_path / "calt1.py").write_text(CALT_1X)
    _run([sys.executable, "calt1.py"], tmp_path)
    for name in ("train_raw.txt", "test_raw.txt", "train_data.jsonl", "test_data.pkl"):
        assert (tmp_path / "generator" / name).read_bytes() == (tmp_path / "pipeline" / name).read_bytes()
    lines = (tmp_path / "generator" / "train_raw.txt").read_text().splitlines()
    assert len(lines) == 60 and all(" # " in line and " | " in line.split(" # ")[0] for line in lines)
    stats = (tmp_path / "generator" / "train_stats.yaml").read_text()
    assert "problem_stats" in stats and "num_polys" in stats and "answer_stats" in stats


def test_instance_generator_and_problem_generator_exclude_each_other(tmp_path):
    from conftest import integer_sum_generator

    from calt_hf.sympy import DatasetGenerator

    with pytest.raises(ValueError, match="problem_generator and instance_generator"):
        DatasetGenerator(n_jobs=1).run(
            {"train": 2}, integer_sum_generator, instance_generator=integer_sum_generator, save_dir=tmp_path
        )
    assert not any(tmp_path.iterdir())


PANDAS_SCRIPT = textwrap.dedent(
    """
    import json
    import math
    import sys

    import pyarrow as pa

    from calt_hf.sympy import DatasetGenerator

    def pandas_loaded(seed):
        return str("pandas" in sys.modules), str(seed % 7)

    def lazily_uses_pandas(seed):  # imports pandas after the worker's first chunk: pyarrow's explicit path still works
        import pandas as pd
        table = pa.Table.from_pandas(pd.DataFrame({"v": [1.0, math.nan]}))
        return str(table.column("v").null_count), str(seed % 7)

    if __name__ == "__main__":
        runner = DatasetGenerator(n_jobs=2, verbose=False)
        runner.run({"train": 3000}, pandas_loaded, None, save_dir="probed", hf_dataset=True)
        runner.run({"train": 3000}, lazily_uses_pandas, None, save_dir="explicit", hf_dataset=True)
        import pandas as pd
        print(json.dumps({"own_process_nulls": pa.array(pd.Series([1.0, math.nan])).null_count}))
    """
)


def test_workers_skip_pyarrows_pandas_probe_and_the_users_process_keeps_it(tmp_path):
    """The workers write Parquet without importing pandas (pyarrow would, on its first ``pa.array``); a
    generator that uses pandas through pyarrow still can; the user's own process is left as it was."""
    from datasets import load_dataset

    (tmp_path / "script.py").write_text(PANDAS_SCRIPT)
    result = subprocess.run([sys.executable, "script.py"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout.splitlines()[-1]) == {"own_process_nulls": 1}
    assert set(load_dataset(str(tmp_path / "probed"))["train"]["problem"]) == {"False"}
    assert set(load_dataset(str(tmp_path / "explicit"))["train"]["problem"]) == {"1"}
