"""Typed configuration for the command line, and turning a composed config into a ready-to-run job.

The dataclasses are registered in Hydra's ConfigStore as schemas: a wrong type or an unknown key fails
with Hydra's message before anything runs. Values the types cannot express (a field name, a degree
range) are checked by the objects themselves when ``build_job`` constructs them, which also happens
before any file is written.
"""

from __future__ import annotations

import importlib
import shlex
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Optional

from hydra.core.config_store import ConfigStore
from omegaconf import DictConfig, OmegaConf

from calt_hf.engine import validate_dataset_sizes
from calt_hf.hf.description import DatasetDescription
from calt_hf.hf.hub import check_repo_id
from calt_hf.problems import PROBLEMS, PolynomialStatistics
from calt_hf.sampling import check_choice, check_int
from calt_hf.worker import ON_ERROR_CHOICES


@dataclass
class ParallelConfig:
    """How the work is spread: a joblib backend name and a number of workers (-1: all cores)."""

    backend: str = "multiprocessing"
    n_jobs: int = -1
    address: Optional[str] = None


@dataclass
class BackendConfig:
    """A computer algebra backend: its name and the module holding its public API."""

    name: str = "sympy"
    module: str = "calt_hf.sympy"


@dataclass
class SamplerConfig:
    """``PolynomialSampler``'s parameters, under the same names."""

    symbols: str = "x, y"
    field_str: str = "GF7"
    order: str = "grevlex"
    max_num_terms: Optional[int] = 10
    max_degree: int = 5
    min_degree: int = 0
    degree_sampling: str = "uniform"
    term_sampling: str = "uniform"
    max_coeff: Optional[int] = None
    num_bound: Optional[int] = None
    strictly_conditioned: bool = True
    nonzero_instance: bool = True
    nonzero_coeff: bool = False
    max_attempts: int = 1000


@dataclass
class HfConfig:
    """Hugging Face packaging: Parquet shards under data/ and a dataset card README.md."""

    package: bool = True
    license: str = "mit"
    pretty_name: Optional[str] = None


@dataclass
class HubConfig:
    """Optional upload to the Hub. The token falls back to HF_TOKEN or a stored login; it is never logged."""

    push: bool = False
    repo_id: Optional[str] = None
    private: bool = False
    token: Optional[str] = None
    include_raw: bool = False


@dataclass
class Config:
    """The whole run. ``problem`` is free-form: each problem checks its own parameters."""

    backend: BackendConfig = field(default_factory=BackendConfig)
    sampler: SamplerConfig = field(default_factory=SamplerConfig)
    problem: Any = None
    dataset_sizes: dict[str, int] = field(default_factory=lambda: {"train": 100000, "test": 1000})
    save_dir: str = "datasets"
    root_seed: int = 42
    batch_size: int = 100000
    save_text: bool = True
    save_json: bool = True
    verbose: bool = True
    parallel: ParallelConfig = field(default_factory=ParallelConfig)
    resume: bool = False
    overwrite: bool = False
    on_error: str = "raise"
    max_retries: int = 3
    sample_timeout: Optional[float] = None
    hf: HfConfig = field(default_factory=HfConfig)
    hub: HubConfig = field(default_factory=HubConfig)


def register_configs() -> None:
    """Register the schemas that ``conf/`` extends (``base_config``, ``sampler/base_sampler``, ...)."""
    store = ConfigStore.instance()
    store.store(name="base_config", node=Config)
    store.store(group="backend", name="base_backend", node=BackendConfig)
    store.store(group="sampler", name="base_sampler", node=SamplerConfig)


#: Keys of a problem config that describe it rather than parameterise it.
PROBLEM_META_KEYS = frozenset({"name", "backends", "nesting"})


@dataclass
class Job:
    """A fully built run: everything constructed and checked, nothing generated yet."""

    generator: Any
    run_kwargs: dict[str, Any]
    hub: HubConfig | None = None

    def run(self) -> None:
        """Generate (and package), then push if asked; a failed push raises ``HubPushError``."""
        self.generator.run(**self.run_kwargs)
        if self.hub is not None:
            from calt_hf.hf.hub import push_to_hub

            push_to_hub(
                self.run_kwargs["save_dir"], self.hub.repo_id, self.hub.private, self.hub.token, self.hub.include_raw
            )


def reproducing_command(overrides: list[str]) -> str:
    """The command line of this run, without secrets (``hub.token``)."""
    kept = [o for o in overrides if not o.lstrip("+~").startswith("hub.token")]
    return shlex.join(["python", "-m", "calt_hf.generate", *kept])


def build_job(cfg: DictConfig, overrides: list[str] | None = None) -> Job:
    """Construct backend, sampler, problem and generator from a composed config; ValueError if any is bad.

    ``overrides`` (the command line's key=value words) go into the dataset card as the reproducing command.
    """
    backend_name = cfg.backend.name
    problem_cfg = OmegaConf.to_container(cfg.problem, resolve=True) if cfg.problem is not None else None
    if not isinstance(problem_cfg, dict) or "name" not in problem_cfg:
        raise ValueError("problem: choose a problem, e.g. problem=gcd")
    problem_name = problem_cfg["name"]
    if problem_name not in PROBLEMS:
        raise ValueError(f"problem.name={problem_name!r} is unknown; available: {', '.join(sorted(PROBLEMS))}")
    problem_class = PROBLEMS[problem_name]
    if backend_name not in problem_class.backends:
        raise ValueError(
            f"problem={problem_name} cannot run on backend={backend_name}; it runs on: {', '.join(problem_class.backends)}"
        )
    api = importlib.import_module(cfg.backend.module)
    with _naming("sampler"):
        sampler = api.PolynomialSampler(**OmegaConf.to_container(cfg.sampler, resolve=True))
    params = {k: v for k, v in problem_cfg.items() if k not in PROBLEM_META_KEYS}
    with _naming("problem"):
        problem = problem_class(sampler, **params)
    with _naming("parallel"):
        generator = api.DatasetGenerator(
            backend=cfg.parallel.backend,
            n_jobs=cfg.parallel.n_jobs,
            verbose=cfg.verbose,
            root_seed=cfg.root_seed,
            address=cfg.parallel.address,
        )
    check_int("batch_size", cfg.batch_size, 1)
    check_choice("on_error", cfg.on_error, ON_ERROR_CHOICES)
    check_int("max_retries", cfg.max_retries, 0)
    if cfg.sample_timeout is not None and cfg.sample_timeout <= 0:
        raise ValueError(f"sample_timeout={cfg.sample_timeout} is not allowed; use a positive number of seconds or null")
    hub = None
    if cfg.hub.push:
        check_repo_id(cfg.hub.repo_id)
        if not cfg.hf.package:
            raise ValueError("hub.push=true needs hf.package=true: only a packaged dataset can be pushed")
        hub = HubConfig(**OmegaConf.to_container(cfg.hub, resolve=True))
    told = problem.describe()
    description = DatasetDescription(
        pretty_name=cfg.hf.pretty_name or f"{told['pretty_name']} ({backend_name})",
        problem=told["problem"],
        solution=told["solution"],
        settings={"backend": backend_name, "root_seed": cfg.root_seed, **told["settings"]},
        command=reproducing_command(overrides or []),
        license=cfg.hf.license,
        load_path=cfg.hub.repo_id if hub else cfg.save_dir,
    )
    run_kwargs = {
        "dataset_sizes": validate_dataset_sizes(dict(cfg.dataset_sizes)),
        "problem_generator": problem,
        "statistics_calculator": PolynomialStatistics(sampler),
        "batch_size": cfg.batch_size,
        "save_dir": cfg.save_dir,
        "save_text": cfg.save_text,
        "save_json": cfg.save_json,
        "hf_dataset": cfg.hf.package,
        "description": description,
        "resume": cfg.resume,
        "overwrite": cfg.overwrite,
        "on_error": cfg.on_error,
        "max_retries": cfg.max_retries,
        "sample_timeout": cfg.sample_timeout,
        # What a resumed run must share with the original, in the config's own terms.
        "fingerprint": {"problem": problem_cfg, "sampler": OmegaConf.to_container(cfg.sampler, resolve=True)},
    }
    return Job(generator, run_kwargs, hub)


@contextmanager
def _naming(group: str) -> Iterator[None]:
    """Make errors raised while building a config group's object name the key (``sampler.max_degree=...``)."""
    try:
        yield
    except (ValueError, TypeError) as error:
        message = str(error)
        key = message.split("=", 1)[0]
        if "=" in message and key.isidentifier():
            raise ValueError(f"{group}.{message}") from error
        raise ValueError(f"{group}: {message}") from error
