"""Command line: ``python -m calt_hf.generate backend=sympy problem=gcd [key=value ...]``.

Hydra composes ``conf/config.yaml`` with the ``backend``, ``sampler`` and ``problem`` groups; everything
is built and checked before any file is written; a configuration error exits with status 2, a failed
push to the Hub (after a complete local dataset) with status 3 and the command that retries it. A sweep
(``-m``) runs each job in this process, one after the other (Hydra's basic launcher), each to its own
``save_dir``. Everything printed passes through ``calt_hf.redaction``; ``hub.token=...`` is refused.
"""

from __future__ import annotations

import sys
from pathlib import Path

if not __package__:  # run as a script (``python calt_hf/generate.py``, as Hydra's tab completion does):
    # Python put calt_hf/ itself first on the path, where calt_hf/sympy.py would shadow SymPy.
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

import atexit
import errno
import gc
import logging
import shlex
import shutil
import signal
import tempfile
import traceback
from typing import Any

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, open_dict, read_write

from calt_hf import redaction
from calt_hf.config import CONFIG_MODULE, CONFIG_NAME, build_job, register_configs
from calt_hf.engine import EmptySplitError, SampleGenerationError, ShortSplitError, WorkerLostError
from calt_hf.hf.hub import HubPushError
from calt_hf.interrupts import signals_stop_the_run

logger = logging.getLogger("calt_hf.generate")

register_configs()


#: Mappings that a ``key={...}`` word replaces rather than merges into (Hydra's default for dicts, which
#: would keep ``test: 1000`` under ``dataset_sizes={train: 200}`` and refuse a new split name).
REPLACED_MAPPINGS = ("dataset_sizes",)


def replace_mappings(words: list[str]) -> list[str]:
    """The command line with each ``key=...`` of ``REPLACED_MAPPINGS`` as ``~key +key=...``: Hydra deletes
    the default mapping, then adds the one given."""
    replaced: list[str] = []
    for word in words:
        key, equals, _ = word.partition("=")
        replaced += [f"~{key}", f"+{word}"] if equals and key in REPLACED_MAPPINGS else [word]
    return replaced


#: Exit statuses (the README's table): a sample failed or the run broke, a configuration error (Hydra's own
#: included: an unknown group option, a malformed override), the local dataset is complete but its push failed.
EXIT_FAILED, EXIT_CONFIG, EXIT_PUSH = 1, 2, 3
_job_started = False


#: Why ``hub.token`` is refused, and what to do instead.
TOKEN_ADVICE = (
    "hub.token is not a configuration value (a config is printed, saved in config.yaml and quoted in the "
    "dataset card); give the token through HF_TOKEN or `hf auth login`, or name where it is with "
    "hub.token_env=VARIABLE or hub.token_file=PATH"
)


def _parsed_value(word: str) -> Any:
    """The value of a ``key=value`` word as Hydra reads it, or None if Hydra cannot (it reports that, redacted)."""
    try:
        return OverridesParser.create().parse_override(word).value()
    except Exception:
        return None


def gives_token(word: str) -> bool:
    """Whether a command line word sets ``hub.token``, as ``hub.token=...`` or inside ``hub={...}``."""
    key, equals, _ = word.partition("=")
    key = key.lstrip("+~")
    if key == "hub.token" or key.startswith("hub.token."):
        return True
    if key != "hub" or not equals:
        return False
    value = _parsed_value(word)
    return isinstance(value, dict) and "token" in value


#: The settings that name where the token is, and how ``redaction.add_secret_from`` reads each.
_TOKEN_PLACES = {"token_env": "env", "token_file": "file"}


def mask_named_tokens(words: list[str]) -> None:
    """Register for redaction the tokens that ``hub.token_env`` / ``hub.token_file`` name on the command line
    (also inside ``hub={...}`` and in sweeps), before Hydra parses it: a token pasted into the command line in
    the wrong place is then masked in Hydra's error, whatever its shape."""
    for word in words:
        key, equals, raw = word.partition("=")
        group, _, setting = key.lstrip("+~").partition(".")
        if group != "hub" or not equals or (setting and setting not in _TOKEN_PLACES):
            continue
        value = _parsed_value(word)
        if setting:
            values = {setting: raw.split(",") if value is None else getattr(value, "list", value)}
        else:
            values = value if isinstance(value, dict) else {}
        for name, where in _TOKEN_PLACES.items():
            found = values.get(name)
            for place in found if isinstance(found, list) else [found]:
                if isinstance(place, str):
                    redaction.add_secret_from(**{where: place.strip().strip("'\"")})


def main() -> None:
    """``python -m calt_hf.generate`` and ``calt-hf-generate``."""
    redaction.install()  # first: Hydra's messages, tracebacks and every logger print through it
    # The process's objects (SymPy's, pyarrow's, matplotlib's: ~165k) go with it: frozen at exit, Python's
    # finalization stops scanning them in its collections (0.43 -> 0.13 s at the end of every command). Every
    # exit handler still runs; only reference cycles left at exit stay uncollected, as memory the OS reclaims.
    atexit.register(gc.freeze)
    if any(gives_token(word) for word in sys.argv[1:]):
        print(f"configuration error: {TOKEN_ADVICE}", file=sys.stderr)
        sys.exit(2)
    mask_named_tokens(sys.argv[1:])
    sys.argv[1:] = replace_mappings(sys.argv[1:])
    try:
        _generate()
    except SystemExit as stop:
        # Hydra reports its own errors (composition, overrides) on stderr and exits 1, as it does for a job
        # that raised: before the job started, that was the configuration's fault.
        if stop.code == EXIT_FAILED and not _job_started:
            sys.exit(EXIT_CONFIG)
        raise
    except Exception:
        # With HYDRA_FULL_ERROR=1 Hydra raises its own errors instead of exiting: the traceback is what was
        # asked for, and the status still says that the configuration was at fault.
        if _job_started:
            raise
        traceback.print_exc()
        sys.exit(EXIT_CONFIG)


@hydra.main(version_base="1.3", config_path=f"pkg://{CONFIG_MODULE}", config_name=CONFIG_NAME)
def _generate(cfg: DictConfig) -> None:
    """Generate the dataset the composed config describes."""
    global _job_started
    _job_started = True
    try:
        job = build_job(cfg, overrides=_command_words(HydraConfig.get()))
    except ValueError as error:
        logger.error("configuration error: %s", error)
        sys.exit(EXIT_CONFIG)
    try:
        with signals_stop_the_run():
            job.run()
    except KeyboardInterrupt as stop:  # Ctrl-C or SIGTERM (RunInterrupted): one line, the shell's status
        signum = getattr(stop, "signum", signal.SIGINT)
        logger.error("stopped by %s: completed chunks are staged in %s/.calt_hf and nothing unfinished looks "
                     "complete; continue with: %s", signal.Signals(signum).name, job.options.save_dir,
                     _resume_command(job))
        sys.exit(128 + signum)
    except ValueError as error:  # raised before any work: e.g. save_dir holds a run (resume / overwrite)
        logger.error("%s", error)
        sys.exit(EXIT_CONFIG)
    except HubPushError as error:
        logger.error("%s", error)
        sys.exit(EXIT_PUSH)
    except OSError as error:  # a full disk, a folder made read-only or removed during the run
        save_dir = job.options.save_dir
        if error.errno == errno.ENOSPC:
            free = shutil.disk_usage(save_dir).free if Path(save_dir).exists() else 0
            logger.error("error: no space left on the device writing %s (%.1f MB free there); nothing unfinished looks "
                         "complete and completed chunks stay staged: free some space, then continue with: %s",
                         error.filename or save_dir, free / 1e6, _resume_command(job))
        else:
            logger.error("error: %s (%s); nothing unfinished looks complete and completed chunks stay staged: once "
                         "that is put right, continue with: %s", error.strerror or error, error.filename or save_dir,
                         _resume_command(job))
        sys.exit(EXIT_FAILED)
    except ShortSplitError as error:  # what it generated is staged: a higher limit continues it
        logger.error("error: %s", error)
        logger.error("continue with: %s", _resume_command(job, f"max_index_factor={error.suggested_factor}"))
        sys.exit(EXIT_FAILED)
    except (SampleGenerationError, WorkerLostError, EmptySplitError) as error:
        logger.error("error: %s%s", error, _generator_traceback(error))
        logger.error("nothing unfinished in %s looks complete; fix the generator or drop or retry failing samples "
                     "(on_error=skip, on_error=resample), then run again with overwrite=true",
                     job.options.save_dir)
        sys.exit(EXIT_FAILED)


class PrivateSweepRecord(Callback):
    """Hydra saves a sweep's composed config, with its command line, as ``multirun.yaml`` in the sweep
    folder before any job runs. This callback points that folder at a private temporary one (mode 0700),
    removed when the sweep ends or, if a job stops it, when the process exits: a sweep leaves its datasets
    behind, and nothing else."""

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        self.folder = tempfile.TemporaryDirectory(prefix="calt_hf_sweep_")
        with read_write(config.hydra), open_dict(config.hydra):
            config.hydra.sweep.dir = self.folder.name

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        self.folder.cleanup()


class BelowWarning(logging.Filter):
    """Keeps warnings and errors off stdout: they go to stderr (``conf/hydra/job_logging/console.yaml``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno < logging.WARNING


def _resume_command(job: Any, *settings: str) -> str:
    """The run's reproducing command with ``resume=true`` (and ``settings``, ``key=value`` words that replace the
    command's own for those keys)."""
    command = job.options.description.command
    resumed = command if "resume=true" in command.split() else f"{command} resume=true"
    if not settings:
        return resumed
    keys = {setting.partition("=")[0] for setting in settings}
    return shlex.join([word for word in shlex.split(resumed) if word.partition("=")[0] not in keys] + list(settings))


def _generator_traceback(error: BaseException) -> str:
    """The worker's traceback of the generator's exception (the first block joblib sent back), or nothing."""
    cause = error.__cause__
    while cause is not None and not hasattr(cause, "tb"):  # joblib's _RemoteTraceback holds the text
        cause = cause.__cause__
    if cause is None:
        return ""
    first_block = str(cause.tb).strip().strip('"').split("\n\nThe above exception")[0]
    return "\n" + first_block.strip()


def _command_words(hydra_config: HydraConfig) -> list[str]:
    """The run's key=value words, with the group choices spelled out so the command stays reproducible."""
    deleted = {f"~{key}" for key in REPLACED_MAPPINGS}
    overrides = [word.removeprefix("+") if word.lstrip("+").partition("=")[0] in REPLACED_MAPPINGS else word
                 for word in hydra_config.overrides.task if word not in deleted]
    given = {word.split("=", 1)[0] for word in overrides}
    choices = [f"{group}={hydra_config.runtime.choices[group]}" for group in ("backend", "sampler", "problem")]
    return [word for word in choices if word.split("=", 1)[0] not in given] + overrides


if __name__ == "__main__":
    main()
