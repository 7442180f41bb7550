"""Command line: ``python -m calt_hf.generate backend=sympy problem=gcd [key=value ...]``.

Hydra composes ``conf/config.yaml`` with the ``backend``, ``sampler`` and ``problem`` groups; everything
is built and checked before any file is written; a configuration error exits with status 2.
"""

from __future__ import annotations

import logging
import sys

import hydra
from omegaconf import DictConfig

from calt_hf.config import build_job, register_configs

logger = logging.getLogger("calt_hf.generate")

register_configs()


@hydra.main(version_base="1.3", config_path="pkg://calt_hf.conf", config_name="config")
def main(cfg: DictConfig) -> None:
    """Generate the dataset the composed config describes."""
    try:
        job = build_job(cfg)
    except ValueError as error:
        logger.error("configuration error: %s", error)
        sys.exit(2)
    job.run()


if __name__ == "__main__":
    main()
