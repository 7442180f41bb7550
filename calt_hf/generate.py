"""Command line: ``python -m calt_hf.generate backend=sympy problem=gcd [key=value ...]``.

Hydra composes ``conf/config.yaml`` with the ``backend``, ``sampler`` and ``problem`` groups; everything
is built and checked before any file is written; a configuration error exits with status 2, a failed
push to the Hub (after a complete local dataset) with status 3 and the command that retries it.
"""

from __future__ import annotations

import logging
import sys

import hydra
from omegaconf import DictConfig

from hydra.core.hydra_config import HydraConfig

from calt_hf.config import build_job, register_configs
from calt_hf.hf.hub import HubPushError

logger = logging.getLogger("calt_hf.generate")

register_configs()


@hydra.main(version_base="1.3", config_path="pkg://calt_hf.conf", config_name="config")
def main(cfg: DictConfig) -> None:
    """Generate the dataset the composed config describes."""
    try:
        job = build_job(cfg, overrides=_command_words(HydraConfig.get()))
    except ValueError as error:
        logger.error("configuration error: %s", error)
        sys.exit(2)
    try:
        job.run()
    except ValueError as error:  # raised before any work: e.g. save_dir holds a run (resume / overwrite)
        logger.error("%s", error)
        sys.exit(2)
    except HubPushError as error:
        logger.error("%s", error)
        sys.exit(3)


def _command_words(hydra_config: HydraConfig) -> list[str]:
    """The run's key=value words, with the group choices spelled out so the command stays reproducible."""
    overrides = list(hydra_config.overrides.task)
    given = {word.split("=", 1)[0] for word in overrides}
    choices = [f"{group}={hydra_config.runtime.choices[group]}" for group in ("backend", "sampler", "problem")]
    return [word for word in choices if word.split("=", 1)[0] not in given] + overrides


if __name__ == "__main__":
    main()
