"""Typed configuration for the command line, and turning a composed config into a ready-to-run job.

The dataclasses are registered in Hydra's ConfigStore as schemas: a wrong type or an unknown key fails
with Hydra's message before anything runs. Values the types cannot express (a field name, a degree
range) are checked by the objects themselves when ``build_job`` constructs them, which also happens
before any file is written.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import importlib
import importlib.resources
import inspect
import json
import shlex
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields, is_dataclass, make_dataclass, replace
from typing import Any, Dict, List, Optional, Union, get_args, get_origin, get_type_hints

from hydra import compose, initialize_config_module
from hydra.core.config_store import ConfigStore
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from hydra.errors import HydraException
from omegaconf import MISSING, DictConfig, OmegaConf

from calt_hf.hf.description import DatasetDescription
from calt_hf.hf.hub import TokenSource, check_repo_id, check_timeout
from calt_hf.hf.tokenizer import NUMBER_TOKENS
from calt_hf.options import RunOptions
from calt_hf.problems import PROBLEMS, Problem
from calt_hf.redaction import holds_secret
from calt_hf.sampling import check_choice, check_int, symbol_names
from calt_hf.files import write_atomically
from calt_hf.run_folder import RunFolder


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
    order: Optional[str] = None  # None: the backend's default (SymPy grevlex, Sage degrevlex), as in calt-x 1.x
    max_num_terms: Optional[int] = 10
    max_degree: int = 5
    min_degree: int = 0
    degree_sampling: str = "uniform"
    term_sampling: str = "uniform"
    max_coeff: Optional[int] = None
    num_bound: Optional[int] = None
    strictly_conditioned: bool = True
    nonzero_instance: bool = True
    nonzero_coeff: Optional[bool] = None  # None: the backend's calt-x default
    max_attempts: int = 1000


@dataclass
class CustomProblemConfig:
    """``problem=custom``: the user's own generator, ``target`` a dotted path (``my_module.my_generator``).

    A function is used as it is (``target(seed) -> (problem, solution)``); a class is instantiated with
    ``params`` (and with ``sampler=`` the sampler group's sampler, if its constructor has that argument),
    and the instance is the generator.
    """

    name: str = "custom"
    target: str = MISSING
    params: Dict[str, Any] = field(default_factory=dict)


@dataclass
class StatisticsConfig:
    """Per-sample statistics. ``target`` null: the problem's own (``PolynomialStatistics`` for polynomial
    problems, ``IntegerStatistics`` for integer ones, none for a custom function); otherwise a dotted path to
    a function ``(problem, solution) -> {category: {metric: number}}`` or to a class built as for
    ``problem.target``."""

    target: Optional[str] = None
    params: Dict[str, Any] = field(default_factory=dict)


@dataclass
class HfConfig:
    """Hugging Face packaging: Parquet shards under data/ and a dataset card README.md."""

    package: bool = True
    license: Optional[str] = None
    pretty_name: Optional[str] = None
    number_tokens: str = "auto"
    encoding: str = "text"  # text | expanded: also the columns problem_expanded, solution_expanded (calt_hf/expanded.py)


@dataclass
class HubConfig:
    """Optional upload to the Hub. The token is no config value (a config is printed, saved and quoted in
    the card): it comes from HF_TOKEN or ``hf auth login``, or from the variable or file named here."""

    push: bool = False
    repo_id: Optional[str] = None
    private: bool = False
    token_env: Optional[str] = None
    token_file: Optional[str] = None
    include_raw: bool = False
    timeout: float = 30.0
    retries: int = 3


@dataclass
class Config:
    """The whole run. ``problem`` is free-form: each problem checks its own parameters."""

    backend: BackendConfig = field(default_factory=BackendConfig)
    sampler: SamplerConfig = field(default_factory=SamplerConfig)
    problem: Any = None
    statistics: StatisticsConfig = field(default_factory=StatisticsConfig)
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
    max_index_factor: Optional[int] = None
    sample_timeout: Optional[float] = None
    dedup: str = "none"
    data_quality: bool = True
    hf: HfConfig = field(default_factory=HfConfig)
    hub: HubConfig = field(default_factory=HubConfig)


def problem_schema(problem_class: type[Problem]) -> type:
    """The structured config of a library problem, derived from the class so that config and code cannot
    disagree: the meta keys (defaults from the class), then the constructor's parameters, with their types
    (``int | None`` as ``Optional[int]``) and defaults."""
    nesting = dict(zip(("problem", "solution"), problem_class.nesting))
    fields: list[tuple[str, Any, Any]] = [
        ("name", str, field(default=problem_class.name)),
        ("backends", List[str], field(default_factory=lambda: list(problem_class.backends))),
        ("nesting", Dict[str, str], field(default_factory=lambda: dict(nesting))),
        ("run_defaults", Dict[str, Dict[str, Any]], field(default_factory=lambda: copy.deepcopy(problem_class.run_defaults))),
    ]
    hints = get_type_hints(problem_class.__init__)
    for parameter in list(inspect.signature(problem_class.__init__).parameters.values())[1:]:
        if parameter.name != "sampler":
            default = MISSING if parameter.default is parameter.empty else parameter.default
            if is_dataclass(default):  # a group of parameters (problem.basis.*): its own typed node
                fields.append((parameter.name, type(default), field(default_factory=functools.partial(replace, default))))
            else:
                fields.append((parameter.name, _schema_type(hints[parameter.name]), field(default=default)))
    return make_dataclass(f"{problem_class.__name__}Config", fields)


def _schema_type(hint: Any) -> Any:
    if get_origin(hint) in (Union, types.UnionType) and type(None) in get_args(hint):
        (inner,) = [arg for arg in get_args(hint) if arg is not type(None)]
        return Optional[inner]
    return hint


def register_configs() -> None:
    """Register the schemas that ``conf/`` extends: ``base_config`` and one ``problem_NAME_schema`` per
    problem (the group files name them as ``/problem_NAME_schema@_here_``). They are top-level entries,
    not group options, so that ``--help`` lists only real choices. Also the resolver
    ``${calt_hf.num_variables:${sampler.symbols}}``, the number of variables (a sweep's ``save_dir`` may name it)."""
    OmegaConf.register_new_resolver("calt_hf.num_variables", lambda symbols: len(symbol_names(symbols)), replace=True)
    store = ConfigStore.instance()
    store.store(name="base_config", node=Config)
    for name, problem_class in PROBLEMS.items():
        store.store(name=f"problem_{name}_schema", node=problem_schema(problem_class))
    store.store(name="problem_custom_schema", node=CustomProblemConfig)
    OmegaConf.register_new_resolver("calt_hf.variant", save_dir_variant, replace=True)
    OmegaConf.register_new_resolver("calt_hf.config_file", config_file, replace=True)


#: The package of the command line's configuration (``conf/`` in a checkout), and its primary config's name.
CONFIG_MODULE, CONFIG_NAME = "calt_hf.conf", "config"


def config_file() -> str:
    """Where the primary config lies, for ``--help`` to point at (``conf/config.yaml`` of a checkout, or the
    installed package's ``calt_hf/conf/config.yaml``)."""
    return str(importlib.resources.files(CONFIG_MODULE) / f"{CONFIG_NAME}.yaml")


#: Keys that say where a run's files go and how it works, or what only its card and tokenizer say: runs that
#: differ in nothing else make the same samples, and share the default save_dir (where a run adding
#: hf.license packages them again). Every other key decides the samples.
NOT_DECIDING_SAMPLES = ("save_dir", "batch_size", "verbose", "parallel", "resume", "overwrite", "hub",
                        "hf.license", "hf.pretty_name", "hf.number_tokens")
#: What the save_dir's hash reads for a library problem's ``backends``: each problem's config listed these two
#: before the backends a problem runs on were derived from the registry, so the folders named then keep their
#: names; the derived list, which grows with each backend registered, never enters the hash.
HASHED_BACKENDS = ["sympy", "sagemath"]
#: What the default save_dir names in words (``datasets/sympy_gcd_GF7``): two group choices and the field.
NAMED_IN_SAVE_DIR = ("backend", "problem", "sampler.field_str")


def save_dir_variant(*, _root_: DictConfig) -> str:
    """The default save_dir's tail (``${calt_hf.variant:}``): nothing when the settings that decide the samples
    are the problem's defaults on that backend (``datasets/sympy_gcd_GF7``, whatever the field), else ``-``
    and 8 hex digits of those settings (``datasets/sympy_gcd_GF7-3f0c9a1e``). So a run of another configuration
    never meets an earlier run's folder, and the same command finds its own folder again (to resume it)."""
    if _only_named_overrides():
        return ""
    settings = _samples_settings(_root_)
    default = _default_samples_settings(_root_.backend.name, _root_.problem.name)
    if default is not None:
        default = json.loads(default)
        default["sampler"]["field_str"] = settings["sampler"]["field_str"]
        if default == settings:
            return ""
    return "-" + hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode()).hexdigest()[:8]


def _samples_settings(cfg: DictConfig) -> dict[str, Any]:
    """The settings of ``cfg`` that decide the samples, resolved (all keys but ``NOT_DECIDING_SAMPLES``)."""
    settings = {key: OmegaConf.to_container(cfg[key], resolve=True) if OmegaConf.is_config(cfg[key]) else cfg[key]
                for key in cfg if key not in NOT_DECIDING_SAMPLES}
    for group, _, key in (dotted.partition(".") for dotted in NOT_DECIDING_SAMPLES):
        if key and isinstance(settings.get(group), dict):
            settings[group].pop(key, None)
    if isinstance(settings.get("problem"), dict) and "backends" in settings["problem"]:
        settings["problem"]["backends"] = HASHED_BACKENDS
    return settings


def _only_named_overrides() -> bool:
    """Whether this command line (in a Hydra run) sets nothing that decides the samples but what the default
    save_dir names: then the run has its problem's defaults, known without composing them a second time."""
    if not HydraConfig.initialized():
        return False
    keys = [word.lstrip("+~").partition("=")[0] for word in HydraConfig.get().overrides.task]
    return all(key in NAMED_IN_SAVE_DIR or key in NOT_DECIDING_SAMPLES or key.split(".")[0] in NOT_DECIDING_SAMPLES
               for key in keys)


@functools.cache
def _default_samples_settings(backend: str, problem: str) -> str | None:
    """The sample-deciding settings (JSON) of ``backend=BACKEND problem=PROBLEM`` and nothing else; None if
    either is no option of its group."""
    overrides = [f"backend={backend}", f"problem={problem}"]
    try:
        if GlobalHydra.instance().is_initialized():  # within the command line's run
            cfg = compose(config_name=CONFIG_NAME, overrides=overrides)
        else:
            with initialize_config_module(config_module=CONFIG_MODULE, version_base="1.3"):
                cfg = compose(config_name=CONFIG_NAME, overrides=overrides)
    except HydraException:
        return None
    return json.dumps(_samples_settings(cfg), sort_keys=True, default=str)


#: Keys of a problem config that describe it rather than parameterise it.
PROBLEM_META_KEYS = frozenset({"name", "backends", "nesting", "run_defaults"})


class ConfigError(ValueError):
    """A configuration error whose message already names its key (``sampler.max_degree=...``)."""


@dataclass
class Job:
    """A fully built run: everything constructed and checked, nothing generated yet."""

    generator: Any
    options: RunOptions
    hub: HubConfig | None = None
    #: Read before any work, so that a missing token fails at once; never part of any config.
    token_source: TokenSource | None = None
    #: Saved as ``config.yaml`` in ``save_dir`` once the data is complete (a refused or failed run leaves
    #: the previous one's in place).
    config_text: str | None = None

    def run(self) -> None:
        """Generate (and package), save the config, then push if asked; a failed push raises ``HubPushError``.
        The folder stays locked to this run until the push is done."""
        folder = RunFolder(self.options.save_dir)
        with folder.claim():
            self.generator.generate(self.options, folder=folder)
            if self.config_text is not None:
                write_atomically(folder.config, self.config_text)
            if self.hub is not None:
                from calt_hf.hf.hub import push_to_hub

                push_to_hub(
                    folder, self.hub.repo_id, self.hub.private, self.token_source,
                    self.hub.include_raw, self.hub.timeout, self.hub.retries,
                )


def _check_known_keys(cfg: DictConfig) -> None:
    """Refuse keys the schemas do not have: Hydra's ``+key=value`` adds them to any group (``+parallel.njobs=2``
    would otherwise be accepted and ignored). Free-form mappings (``problem.params``, ``statistics.params``,
    ``dataset_sizes``) take any key."""
    groups: dict[str, type] = {
        "": Config, "backend": BackendConfig, "sampler": SamplerConfig, "statistics": StatisticsConfig,
        "parallel": ParallelConfig, "hf": HfConfig, "hub": HubConfig,
    }
    problem = cfg.get("problem")
    if isinstance(problem, DictConfig) and problem.get("name") in {**PROBLEMS, "custom": None}:
        name = problem.get("name")
        groups["problem"] = CustomProblemConfig if name == "custom" else problem_schema(PROBLEMS[name])
    for group, schema in groups.items():
        node = cfg if not group else cfg.get(group)
        if not isinstance(node, DictConfig):
            continue
        known = [f.name for f in fields(schema)]
        for key in node.keys():
            if key not in known:
                where = f"{group}." if group else ""
                raise ConfigError(
                    f"{where}{key} is not a key of {group or 'the configuration'} (a +{where}{key}=... override adds "
                    f"nothing that is used); its keys: {', '.join(known)}"
                )


def reproducing_command(overrides: list[str]) -> str:
    """The command line of this run (it holds no secret: ``hub.token`` is refused, the others name places)."""
    return shlex.join(["python", "-m", "calt_hf.generate", *overrides])


def build_job(cfg: DictConfig, overrides: list[str] | None = None) -> Job:
    """Construct backend, sampler, problem, statistics and generator from a composed config; ValueError
    (a ``ConfigError`` naming the key) if any is bad.

    ``overrides`` (the command line's key=value words) go into the dataset card as the reproducing command.
    """
    _check_known_keys(cfg)
    missing = sorted(OmegaConf.missing_keys(cfg))
    if missing:
        raise ConfigError(f"{missing[0]} is missing (??? in the config): give it, e.g. {missing[0]}=...")
    problem_cfg = OmegaConf.to_container(cfg.problem, resolve=True) if cfg.problem is not None else None
    _check_problem_chosen(problem_cfg)  # the default save_dir names it
    cfg.save_dir = cfg.save_dir  # resolved now, from the settings as given (the sampler's order is named below)
    api = importlib.import_module(cfg.backend.module)
    required_order = getattr(PROBLEMS.get(problem_cfg["name"]), "term_order", None)
    if cfg.sampler.order is None and required_order is not None:
        cfg.sampler.order = required_order  # the problem's ring has one order (another set explicitly is refused by it)
    # The order under the backend's own name (Sage: degrevlex, never grevlex), so that config.yaml, the
    # card and the sampler all say what the backend runs.
    cfg.sampler.order = api.PolynomialSampler.canonical_order(cfg.sampler.order)
    statistics_cfg = OmegaConf.to_container(cfg.statistics, resolve=True)
    problem, statistics, sampler = build_generator(
        OmegaConf.to_container(cfg.backend), OmegaConf.to_container(cfg.sampler, resolve=True), problem_cfg, statistics_cfg
    )
    with _naming("parallel"):
        generator = api.DatasetGenerator(
            backend=cfg.parallel.backend,
            n_jobs=cfg.parallel.n_jobs,
            verbose=cfg.verbose,
            root_seed=cfg.root_seed,
            address=cfg.parallel.address,
        )
    check_choice("hf.number_tokens", cfg.hf.number_tokens, NUMBER_TOKENS)
    hub, token_source = _hub(cfg)
    description = _description(cfg, problem, problem_cfg, sampler, hub, reproducing_command(overrides or []))
    options = RunOptions.from_config(
        cfg, problem_generator=problem, statistics_calculator=statistics, description=description,
        # What a resumed run must share with the original, in the config's own terms (the sampler only
        # if something was built from it).
        fingerprint={"problem": problem_cfg, "sampler": sampler.config if sampler.built else None, "statistics": statistics_cfg},
    )
    config = resolved_config(cfg)
    refuse_secrets(config, "")
    refuse_secrets(asdict(description), "the dataset card's ")
    return Job(generator, options, hub, token_source, saved_config(config, description.command))


def _hub(cfg: DictConfig) -> tuple[HubConfig | None, TokenSource | None]:
    """The push's settings and where its token is (read now, so that a missing token fails before any work);
    none without ``hub.push``."""
    if not cfg.hub.push:
        return None, None
    check_repo_id(cfg.hub.repo_id)
    if not cfg.hf.package:
        raise ValueError("hub.push=true needs hf.package=true: only a packaged dataset can be pushed")
    hub = HubConfig(**OmegaConf.to_container(cfg.hub, resolve=True))
    check_timeout("hub.timeout", hub.timeout)
    check_int("hub.retries", hub.retries, 0)
    token_source = TokenSource(hub.token_env, hub.token_file)
    token_source.read()
    return hub, token_source


def _description(
    cfg: DictConfig, problem: Any, problem_cfg: dict[str, Any], sampler: _SamplerFactory, hub: HubConfig | None, command: str
) -> DatasetDescription:
    """What the dataset card says of the run: the problem's own description, the settings, the command."""
    told = problem.describe() if callable(getattr(problem, "describe", None)) else {}
    settings = told.get("settings", {})
    if problem_cfg["name"] == "custom":
        told.setdefault("pretty_name", f"custom problem {problem_cfg['target']}")
        custom = {"problem": "custom", "target": problem_cfg["target"], "params": problem_cfg["params"]}
        settings = {**(sampler().settings() if sampler.built else {}), **settings, **custom}
    return DatasetDescription(
        pretty_name=cfg.hf.pretty_name or f"{told['pretty_name']} ({cfg.backend.name})",
        settings={"backend": cfg.backend.name, "root_seed": cfg.root_seed, **settings},
        command=command,
        license=cfg.hf.license,
        number_tokens=cfg.hf.number_tokens,
        load_path=cfg.hub.repo_id if hub else cfg.save_dir,
        **{key: told[key] for key in ("problem", "solution", "order_free", "method", "references") if key in told},
    )


def refuse_secrets(value: Any, where: str) -> None:
    """ConfigError naming the key if a string of ``value`` (a resolved config, the card's description: keys
    and values) holds the Hub token or anything shaped like one, without showing it: ``config.yaml`` and the
    card are uploaded by a push."""
    if isinstance(value, dict):
        for key, inner in value.items():
            named = f"{where}{key}"
            refuse_secrets(key, named)
            refuse_secrets(inner, f"{named}.")
    elif isinstance(value, (list, tuple)):
        for index, inner in enumerate(value):
            refuse_secrets(inner, f"{where.removesuffix('.')}[{index}].")
    elif isinstance(value, str) and holds_secret(value):
        raise ConfigError(
            f"{where.removesuffix('.')} holds the Hub token or a value shaped like a Hugging Face token (not shown "
            "here), which config.yaml and the dataset card would keep and a push would upload; remove it (an "
            "interpolation such as ${oc.env:HF_TOKEN} resolves to the token): the token is only ever read from "
            "HF_TOKEN, `hf auth login`, hub.token_env or hub.token_file"
        )


def _check_problem_chosen(problem_cfg: Any) -> None:
    if not isinstance(problem_cfg, dict) or "name" not in problem_cfg:
        raise ConfigError("problem: choose a problem, e.g. problem=gcd")


def build_generator(
    backend: dict[str, str], sampler_cfg: dict[str, Any], problem_cfg: Any, statistics_cfg: dict[str, Any]
) -> tuple[Any, Callable | None, _SamplerFactory]:
    """The problem generator, its statistics function and the sampler factory that a run's config groups
    name (``backend``: its ``name`` and ``module``); a ``ConfigError`` naming the key if one is bad. What
    ``build_job`` runs, and what ``calt_hf.evaluate`` rebuilds from a folder's ``config.yaml``."""
    _check_problem_chosen(problem_cfg)
    sampler = _SamplerFactory(importlib.import_module(backend["module"]), sampler_cfg)
    # A problem may refuse a sampler setting (factor: sampler.field_str=GF7 with SymPy and two symbols).
    with _naming("problem", {key.name: "sampler" for key in fields(SamplerConfig)}):
        problem = _build_problem(problem_cfg, backend["name"], sampler)
    with _naming("statistics"):
        if statistics_cfg["target"] is None:
            default = getattr(problem, "default_statistics", None)
            statistics = default() if callable(default) else None
        else:
            statistics = load_target(statistics_cfg["target"], statistics_cfg["params"], sampler)
    return problem, statistics, sampler


class _SamplerFactory:
    """Builds the ``sampler`` group's sampler the first time something asks for it, so a problem that uses
    none (the integer tasks, most custom functions) ignores that group, its errors included."""

    def __init__(self, api: Any, config: dict[str, Any]) -> None:
        self.api, self.config = api, config
        self.sampler: Any = None

    @property
    def built(self) -> bool:
        return self.sampler is not None

    def __call__(self) -> Any:
        if self.sampler is None:
            with _naming("sampler"):
                self.sampler = self.api.PolynomialSampler(**self.config)
        return self.sampler


def _build_problem(problem_cfg: dict[str, Any], backend_name: str, sampler: Callable[[], Any]) -> Any:
    """The generator a problem config names: a library problem or (``custom``) the user's target."""
    name = problem_cfg["name"]
    if name == "custom":
        problem = load_target(problem_cfg["target"], problem_cfg["params"], sampler)
        _check_backend(name, backend_name, getattr(problem, "backends", (backend_name,)))
        return problem
    if name not in PROBLEMS:
        raise ValueError(f"name={name!r} is unknown; available: {', '.join(sorted([*PROBLEMS, 'custom']))}")
    problem_class = PROBLEMS[name]
    _check_backend(name, backend_name, problem_class.backends)
    params = {k: v for k, v in problem_cfg.items() if k not in PROBLEM_META_KEYS}
    return problem_class(sampler(), **params) if problem_class.uses_sampler else problem_class(**params)


def _check_backend(name: str, backend_name: str, backends: tuple[str, ...]) -> None:
    if backend_name not in backends:
        raise ConfigError(f"problem={name} cannot run on backend={backend_name}; it runs on: {', '.join(backends)}")


def load_target(path: str, params: dict[str, Any], sampler: Callable[[], Any]) -> Callable:
    """The object at the dotted ``path``: a function as it is; a class instantiated with ``params`` (and with
    ``sampler=sampler()`` when its constructor takes a ``sampler``), the instance being the callable."""
    module_name, _, attribute = path.rpartition(".")
    if not module_name or not attribute:
        raise ValueError(f"target={path!r} is not a dotted path such as my_module.my_generator")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise ValueError(f"target={path!r} cannot be imported ({error}); is its folder on PYTHONPATH?") from error
    if not hasattr(module, attribute):
        raise ValueError(f"target={path!r} does not exist: module {module_name} has no {attribute!r}")
    target = getattr(module, attribute)
    if inspect.isclass(target):
        if "sampler" in inspect.signature(target).parameters:
            params = {"sampler": sampler(), **params}
        target = target(**params)
    elif params:
        raise ValueError(f"params={params} cannot be given to target={path!r}: only a class takes parameters")
    if not callable(target):
        raise ValueError(f"target={path!r} is not callable")
    return target


def resolved_config(cfg: DictConfig) -> dict[str, Any]:
    """The run's composed config, resolved, without Hydra's own settings."""
    config = OmegaConf.to_container(cfg, resolve=True)
    config.pop("hydra", None)
    return config


def saved_config(config: dict[str, Any], command: str) -> str:
    """The run's resolved config as ``config.yaml`` records it, the reproducing command on top."""
    header = f"# The composed configuration of a calt_hf run. Reproduce it with:\n# {command}\n"
    return header + OmegaConf.to_yaml(config)


@contextmanager
def _naming(group: str, owners: dict[str, str] | None = None) -> Iterator[None]:
    """Make errors raised while building a config group's object name the key (``sampler.max_degree=...``);
    ``owners`` maps keys of other groups that the object may complain about to their group."""
    try:
        yield
    except ConfigError:
        raise
    except (ValueError, TypeError) as error:
        message = str(error)
        key = message.split("=", 1)[0]
        if "=" in message and all(part.isidentifier() for part in key.split(".")):  # a key, or a group's (basis.max_degree)
            raise ConfigError(f"{(owners or {}).get(key, group)}.{message}") from error
        raise ConfigError(f"{group}: {message}") from error
