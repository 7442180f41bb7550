"""``DatasetPipeline``: calt-x 1.x's config-driven entry point (``calt.dataset.DatasetPipeline``).

CALT 1.x scripts build it from the ``dataset`` block of their YAML config and an instance generator;
``from calt_hf import DatasetPipeline`` runs the same script on calt_hf's core, writing a train and a
test split into ``save_dir``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, fields
from typing import Any

from calt_hf import backends
from calt_hf.options import RunOptions

#: The pipeline's fields a script gives (``from_config``'s arguments), not its config block.
_FROM_SCRIPT = ("instance_generator", "statistics_calculator")
#: Keys a calt-x ``dataset`` block may leave out beside those with a field default (``backend``), and their values.
_OPTIONAL = {"save_text": True, "save_json": True, "verbose": True}


@dataclass
class DatasetPipeline:
    """A train and a test split of ``instance_generator`` samples, generated with the named backend.

    The parameters are calt-x 1.x's, with its defaults (``backend="sagemath"``); the run itself is
    ``DatasetGenerator.run`` with every other option at its default.
    """

    instance_generator: Callable[[int], Any]
    statistics_calculator: Callable[[Any, Any], Any] | None
    save_dir: str
    save_text: bool
    save_json: bool
    num_train_samples: int
    num_test_samples: int
    batch_size: int
    n_jobs: int
    root_seed: int
    verbose: bool
    backend: str = "sagemath"

    def __post_init__(self) -> None:
        backends.check_name(self.backend)

    @classmethod
    def from_config(
        cls,
        config: Mapping[str, Any] | Any,
        instance_generator: Callable[[int], Any],
        statistics_calculator: Callable[[Any, Any], Any] | None = None,
    ) -> DatasetPipeline:
        """From a config block (an OmegaConf ``DictConfig`` or a dict) with ``save_dir``,
        ``num_train_samples``, ``num_test_samples``, ``batch_size``, ``n_jobs``, ``root_seed`` and,
        optionally, ``save_text``, ``save_json``, ``verbose`` (all true by default) and ``backend``."""
        keys = [key for key in fields(cls) if key.name not in _FROM_SCRIPT]
        optional = {key.name: key.default for key in keys if key.default is not MISSING} | _OPTIONAL
        required = [key.name for key in keys if key.name not in optional]
        missing = [key for key in required if key not in config]
        if missing:
            raise ValueError(f"the dataset config lacks {', '.join(missing)}; it needs {', '.join(required)}")
        values = {key: config[key] for key in required} | {key: config.get(key, default) for key, default in optional.items()}
        return cls(instance_generator=instance_generator, statistics_calculator=statistics_calculator, **values)

    def run(self) -> None:
        """Generate the train and test splits into ``save_dir``, every run option the pipeline has not at its default."""
        api = importlib.import_module(backends.public_module(self.backend))
        generator = api.DatasetGenerator(n_jobs=self.n_jobs, verbose=self.verbose, root_seed=self.root_seed)
        mine = {key.name for key in fields(self)}
        shared = {option.name: getattr(self, option.name) for option in fields(RunOptions) if option.name in mine}
        sizes = {"train": self.num_train_samples, "test": self.num_test_samples}
        generator.generate(RunOptions(sizes, self.instance_generator, **shared))
