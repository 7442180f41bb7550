"""``RunOptions``: what a run generates and how, checked once, before any work.

``DatasetGenerator.run``'s keywords (all but the writer) and the command line's settings land in this one
typed object: ``run()`` builds it from its arguments, ``config.build_job`` from the composed config, and a
bad value raises ValueError naming the field (the command line's key where it has another name), the value
and what is allowed. The task of a run (``produce.GenerationTask.from_options``) is built from it.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from dataclasses import InitVar, dataclass, fields
from typing import Any

from calt_hf.expanded import check_encoding
from calt_hf.hf.description import DatasetDescription
from calt_hf.produce import ON_ERROR_CHOICES, ProblemGenerator
from calt_hf.quality import DEDUP_CHOICES
from calt_hf.sampling import check_choice, check_int
from calt_hf.files import validate_hf_split, validate_tag


#: The command line's key of each option it names otherwise (every other option is the config's top-level key of
#: the same name; ``config.Config`` is the schema).
CONFIG_KEYS = {"hf_dataset": "hf.package", "encoding": "hf.encoding"}


def validate_dataset_sizes(dataset_sizes: Any, hf_dataset: bool = False) -> dict[str, int]:
    """Check ``dataset_sizes``: a non-empty dict of valid split names (of a Hugging Face dataset, with
    ``hf_dataset``) to positive integers."""
    if not isinstance(dataset_sizes, Mapping):
        raise ValueError(f"dataset_sizes={dataset_sizes!r} is not allowed: it must be a dictionary of split name to sample "
                         "count, e.g. {'train': 1000, 'test': 100} (on the command line: 'dataset_sizes={train: 1000, test: 100}')")
    if not dataset_sizes:
        raise ValueError("dataset_sizes cannot be empty: give at least one split, e.g. {'train': 1000}")
    for split, size in dataset_sizes.items():
        try:
            (validate_hf_split if hf_dataset else validate_tag)(split)
        except ValueError as error:
            raise ValueError(f"dataset_sizes: {error}") from None
        if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
            raise ValueError(f"Number of samples must be a positive integer, got {size!r} for {split}")
    return dict(dataset_sizes)


def one_generator(problem_generator: ProblemGenerator | None, instance_generator: ProblemGenerator | None) -> Any:
    """The generator of a run given as ``problem_generator`` or, calt-x 1.x's name, ``instance_generator``."""
    if instance_generator is None:
        return problem_generator
    if problem_generator is not None:
        raise ValueError("problem_generator and instance_generator name the same argument (calt-x 0.x and 1.x): give one")
    return instance_generator


@dataclass(frozen=True)
class RunOptions:
    """The options of a run, as ``DatasetGenerator.run`` documents them, checked when built.

    ``keys`` (not stored) names fields in errors as the caller knows them (the command line: ``{"encoding":
    "hf.encoding"}``).
    """

    dataset_sizes: Mapping[str, int]
    problem_generator: ProblemGenerator
    statistics_calculator: Callable[[Any, Any], Any] | None = None
    batch_size: int = 100000
    save_dir: str | os.PathLike | None = None
    save_text: bool = True
    save_json: bool = True
    hf_dataset: bool = False
    description: DatasetDescription | None = None
    resume: bool = False
    overwrite: bool = False
    on_error: str = "raise"
    max_retries: int = 3
    sample_timeout: float | None = None
    fingerprint: Mapping[str, Any] | None = None
    checkpoint: bool = True
    dedup: str = "none"
    data_quality: bool = True
    encoding: str = "text"
    max_index_factor: int | None = None
    keys: InitVar[Mapping[str, str] | None] = None

    @classmethod
    def from_run(cls, arguments: Mapping[str, Any]) -> RunOptions:
        """From ``DatasetGenerator.run``'s arguments (its ``locals()``): each field under its own name, the generator
        as ``problem_generator`` or (calt-x 1.x) ``instance_generator``; the rest (the writer) is not an option."""
        values = {option.name: arguments[option.name] for option in fields(cls) if option.name in arguments}
        values["problem_generator"] = one_generator(arguments["problem_generator"], arguments["instance_generator"])
        return cls(**values)

    @classmethod
    def from_config(cls, cfg: Any, **objects: Any) -> RunOptions:
        """The options a composed config sets (an OmegaConf ``DictConfig`` of ``config.Config``'s schema): each field
        from its key (``CONFIG_KEYS``, else its own name), but the ``objects`` the caller built from the config
        (``problem_generator``, ``statistics_calculator``, ``description``, ``fingerprint``); errors name the keys."""
        from omegaconf import OmegaConf

        values = dict(objects)
        for option in fields(cls):
            node, *path = CONFIG_KEYS.get(option.name, option.name).split(".")
            if option.name in objects or node not in cfg:  # built by the caller, or no setting (checkpoint)
                continue
            value = cfg[node]
            for key in path:
                value = value[key]
            values[option.name] = OmegaConf.to_container(value) if OmegaConf.is_config(value) else value
        return cls(**values, keys=CONFIG_KEYS)

    def __post_init__(self, keys: Mapping[str, str] | None) -> None:
        object.__setattr__(self, "dataset_sizes", validate_dataset_sizes(self.dataset_sizes, self.hf_dataset))
        if self.problem_generator is None or not callable(self.problem_generator):
            raise ValueError(f"problem_generator must be provided: a callable taking a seed, got {self.problem_generator!r}")
        if self.statistics_calculator is not None and not callable(self.statistics_calculator):
            raise ValueError(f"statistics_calculator must be callable or None, got {self.statistics_calculator!r}")
        check_int("batch_size", self.batch_size, 1)
        check_choice("on_error", self.on_error, ON_ERROR_CHOICES)
        check_int("max_retries", self.max_retries, 0)
        check_int("max_index_factor", self.max_index_factor, 1, allow_none=True)
        timeout = self.sample_timeout
        if timeout is not None and (not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or not 0 < timeout < math.inf):
            raise ValueError(f"sample_timeout={timeout!r} is not allowed; use a positive, finite number of seconds or None")
        if self.resume and self.overwrite:
            raise ValueError("resume=True and overwrite=True exclude each other: choose one")
        if self.resume and not self.checkpoint:
            raise ValueError("resume=True needs checkpoint=True: without checkpoints there is nothing to resume from")
        check_choice("dedup", self.dedup, DEDUP_CHOICES)
        sampler = getattr(self.problem_generator, "sampler", None)
        check_encoding(self.encoding, (keys or {}).get("encoding", "encoding"), self.problem_generator, self.hf_dataset,
                       getattr(sampler, "field_str", None))
