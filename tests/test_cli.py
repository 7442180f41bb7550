"""The command line: Hydra composition, a real run in a subprocess, and configuration errors."""

import subprocess
import sys
from pathlib import Path

import pytest
from hydra import compose, initialize_config_module

from calt_hf.config import build_job, register_configs
from calt_hf.sympy import DatasetWriter

CONF = Path(__file__).resolve().parents[1] / "conf"


def run_cli(*overrides: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "calt_hf.generate", *overrides], cwd=cwd, capture_output=True, text=True, timeout=300
    )


def compose_config(*overrides: str):
    register_configs()
    with initialize_config_module(config_module="calt_hf.conf", version_base="1.3"):
        return compose(config_name="config", overrides=list(overrides))


@pytest.mark.parametrize("problem", sorted(p.stem for p in (CONF / "problem").glob("*.yaml")))
def test_every_problem_config_composes_and_builds_on_sympy(problem):
    cfg = compose_config(f"problem={problem}", "backend=sympy")
    assert cfg.problem.name == problem
    if "sympy" not in cfg.problem.backends:
        with pytest.raises(ValueError, match="cannot run on backend=sympy"):
            build_job(cfg)
        return
    job = build_job(cfg)
    assert job.run_kwargs["dataset_sizes"] == {"train": 100000, "test": 1000}
    problem_generator = job.run_kwargs["problem_generator"]
    assert problem_generator(1) is not None


def test_defaults_are_the_documented_contract():
    cfg = compose_config()
    assert cfg.backend.name == "sympy" and cfg.problem.name == "gcd"
    assert dict(cfg.dataset_sizes) == {"train": 100000, "test": 1000}
    assert (cfg.root_seed, cfg.batch_size, cfg.save_text, cfg.save_json) == (42, 100000, True, True)
    assert (cfg.parallel.backend, cfg.parallel.n_jobs) == ("multiprocessing", -1)
    assert cfg.save_dir == "datasets/sympy_gcd_GF7"
    assert cfg.sampler.field_str == "GF7"


def test_a_run_from_the_command_line(tmp_path):
    result = run_cli(
        "backend=sympy",
        "problem=gcd",
        "dataset_sizes={train: 300, test: 30}",
        "sampler.field_str=GF31",
        "parallel.n_jobs=2",
        "verbose=false",
        f"save_dir={tmp_path / 'out'}",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    writer = DatasetWriter(tmp_path / "out")
    assert len(writer.load_dataset("train")) == 300 and len(writer.load_dataset_jsonl("test")) == 30
    assert (tmp_path / "out" / "train_stats.yaml").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # Hydra leaves no outputs/ or .hydra/


def test_default_save_dir_names_backend_problem_and_field(tmp_path):
    result = run_cli("problem=sum", "dataset_sizes={train: 50}", "verbose=false", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "datasets" / "sympy_sum_GF7" / "train_raw.txt").read_text().count("\n") == 50


@pytest.mark.parametrize(
    "override, expected",
    [
        ("problem=nope", "problem"),
        ("backend=maple", "backend"),
        ("batch_size=abc", "batch_size"),
        ("sampler.unknown_key=1", "unknown_key"),
        ("sampler.max_degree=2.5", "max_degree"),
        ("sampler.field_str=GF8", "sampler.field_str='GF8'"),
        ("sampler.min_degree=4", "sampler.min_degree=4 is above max_degree=3"),
        ("sampler.order=revlex", "sampler.order='revlex'"),
        ("problem=sum", "problem.min_count=0"),
        ("parallel.n_jobs=0", "parallel.n_jobs=0"),
        ("parallel.backend=spark", "parallel.backend='spark'"),
        ("dataset_sizes={train: -3}", "got -3 for train"),
        ("batch_size=0", "batch_size=0"),
    ],
)
def test_configuration_errors_name_the_key_and_write_nothing(tmp_path, override, expected):
    extra = ["problem.min_count=0"] if override == "problem=sum" else []
    result = run_cli(override, *extra, f"save_dir={tmp_path / 'out'}", cwd=tmp_path)
    assert result.returncode != 0
    assert expected in result.stderr + result.stdout
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []
