"""The command line: Hydra composition of every config, --help, --cfg, real runs in subprocesses (single,
multirun, a user's own generator), the saved config.yaml, and configuration errors."""

import itertools
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import sympy
import yaml
from hydra import compose, initialize_config_module
from hydra.errors import ConfigCompositionException
from omegaconf import OmegaConf

from calt_hf.config import build_job, register_configs
from calt_hf.generate import replace_mappings
from calt_hf.problems import PROBLEMS
from calt_hf.sympy import DatasetWriter

CONF = Path(__file__).resolve().parents[1] / "conf"
GROUPS = {group: sorted(p.stem for p in (CONF / group).glob("*.yaml")) for group in ("backend", "sampler", "problem")}


def run_cli(*overrides: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "calt_hf.generate", *overrides],
        cwd=cwd, capture_output=True, text=True, timeout=300, env=None if env is None else {**os.environ, **env},
    )


def compose_config(*overrides: str):
    register_configs()
    with initialize_config_module(config_module="calt_hf.conf", version_base="1.3"):
        return compose(config_name="config", overrides=list(overrides))


@pytest.mark.parametrize("backend", GROUPS["backend"])
@pytest.mark.parametrize("sampler", GROUPS["sampler"])
@pytest.mark.parametrize("problem", GROUPS["problem"])
def test_every_config_in_the_tree_composes_and_builds(problem, sampler, backend):
    extra = ["problem.target=calt_hf.problems.IntegerSumProblem"] if problem == "custom" else []
    cfg = compose_config(f"problem={problem}", f"sampler={sampler}", f"backend={backend}", *extra)
    assert cfg.problem.name == problem
    if problem != "custom":  # the file says what the class says
        problem_class = PROBLEMS[problem]
        assert list(cfg.problem.backends) == list(problem_class.backends)
        assert tuple(cfg.problem.nesting.values()) == problem_class.nesting
        assert OmegaConf.to_container(cfg.problem.run_defaults) == problem_class.run_defaults
        assert OmegaConf.get_type(cfg.problem).__name__ == f"{problem_class.__name__}Config"
    if (problem, backend, cfg.sampler.symbols) == ("factor", "sympy", "x, y"):  # over GF(7) in two variables: Sage only
        with pytest.raises(ValueError, match=r"SymPy factors over GF\(p\) in one variable only"):
            build_job(cfg)
        return
    if problem in ("groebner", "reduction", "border_basis") and cfg.sampler.symbols == "x":  # sampler=univariate: two symbols needed
        with pytest.raises(ValueError, match=rf"sampler.symbols='x' is not allowed for problem={problem}"):
            build_job(cfg)
        return
    job = build_job(cfg)
    assert job.options.dataset_sizes == {"train": 100000, "test": 1000}
    problem_generator = job.options.problem_generator
    assert problem_generator(1) is not None


@pytest.mark.parametrize(
    "overrides, expected",
    [
        (["problem=factor", "problem.bogus=1"], "Key 'bogus' not in 'FactorProblemConfig'"),
        (["problem=factor", "problem.max_count=abc"], "'abc' of type 'str' could not be converted to Integer"),
        (["problem=groebner", "problem.max_tries=null"], "field 'problem.max_tries' is not Optional"),
        (["problem=groebner_backward", "problem.basis.bogus=1"], "Key 'bogus' not in 'ShapeBasisOptions'"),
        (["problem=border_basis", "problem.transform.density=dense"], "'dense' of type 'str' could not be converted to Float"),
        (["problem=custom", "problem.min_count=2"], "Key 'min_count' not in 'CustomProblemConfig'"),
        (["statistics.nope=1"], "Key 'nope' not in 'StatisticsConfig'"),
    ],
)
def test_problem_and_statistics_keys_are_typed(overrides, expected):
    with pytest.raises(ConfigCompositionException) as info:
        compose_config(*overrides)
    assert expected in f"{info.value} {info.value.__cause__}"


def test_every_key_of_config_yaml_is_documented():
    """A comment on every value (the entries of dataset_sizes are examples), and every top-level key there."""
    lines = (CONF / "config.yaml").read_text().split("\nhydra:")[0].splitlines()
    sizes = next(i for i, line in enumerate(lines) if line.startswith("dataset_sizes:"))
    examples = set(itertools.takewhile(lambda line: line.startswith("  "), lines[sizes + 1 :]))
    keys = [line for line in lines if ":" in line and not line.lstrip().startswith(("#", "-")) and line not in examples]
    assert [line for line in keys if "#" not in line and not line.endswith(":")] == []
    top = {line.split(":")[0] for line in keys if not line.startswith(" ")} - {"defaults"}
    assert top == set(compose_config()) - {"backend", "sampler", "problem"}


def test_help_lists_the_groups_their_options_and_the_problems(tmp_path):
    result = run_cli("--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    text = result.stdout
    for group, options in GROUPS.items():
        assert f"{group}: {', '.join(options)}\n" in text  # real choices only: no schemas among them
    described = text.split("== Examples ==")[0].split("problem   ")[1]
    assert all(name in described for name in GROUPS["problem"])
    assert "-m problem=gcd,sum" in text and "--cfg job" in text and "save_dir: datasets/" in text
    documented_in = tmp_path / re.search(r"every key is documented in (\S+)\)", text).group(1)  # from the user's folder
    assert documented_in.is_file() and "save_dir:" in documented_in.read_text()
    assert "max_multiplicity: 2" in run_cli("--help", "problem=factor", cwd=tmp_path).stdout
    assert list(tmp_path.iterdir()) == []


def test_the_default_command_of_every_library_problem_runs(tmp_path):
    """``python -m calt_hf.generate problem=NAME``, the problem's defaults on the default backend (SymPy), for every
    problem of conf/problem/ but custom (which needs a target): one sweep, small sizes."""
    names = [name for name in GROUPS["problem"] if name != "custom"]
    result = run_cli("-m", f"problem={','.join(names)}", "dataset_sizes.train=8", "dataset_sizes.test=4", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    made = {folder.name.split("-")[0]: folder for folder in (tmp_path / "datasets").iterdir()}
    assert set(made) == {f"sympy_{name}_GF7" for name in names}
    from datasets import load_dataset

    for folder in made.values():
        assert {split: len(rows) for split, rows in load_dataset(str(folder)).items()} == {"train": 8, "test": 4}


def test_progress_in_a_pipe_is_a_plain_line_every_few_seconds_and_tqdm_disable_silences_it(tmp_path):
    """stderr piped (a log): no in-place redraws (``\\r``), lines of the form the README shows, at most one every
    LOG_SECONDS per split beside its first and last; ``TQDM_DISABLE=1``: none."""
    from calt_hf.progress import LOG_SECONDS

    words = ["problem=sum", "dataset_sizes={train: 3000, test: 20}", "parallel.n_jobs=1", "hf.package=false"]
    result = run_cli(*words, "save_dir=logged", cwd=tmp_path)
    assert result.returncode == 0 and "\r" not in result.stderr, result.stderr[-2000:]
    lines = result.stderr.splitlines()
    pattern = r"(train|test): +(\d+)% (\d+)/(\d+) \[(\d\d):(\d\d)<[^,]*, [^\]]* samples/s\]"
    assert all(re.fullmatch(pattern, line) for line in lines), lines
    for split, size in (("train", 3000), ("test", 20)):
        shown = [re.fullmatch(pattern, line).groups() for line in lines if line.startswith(f"{split}:")]
        assert shown[0][1:4] == ("0", "0", str(size)) and shown[-1][1:4] == ("100", str(size), str(size))
        minutes, seconds = map(int, shown[-1][4:])
        assert len(shown) <= 2 + (60 * minutes + seconds) / LOG_SECONDS
    quiet = run_cli(*words, "save_dir=quiet", cwd=tmp_path, env={"TQDM_DISABLE": "1"})
    assert quiet.returncode == 0 and quiet.stderr == "", quiet.stderr[-2000:]


def test_cfg_job_prints_the_composed_config_and_runs_nothing(tmp_path):
    result = run_cli("problem=integer_factorization", "problem.max_prime=50", "--cfg", "job", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    printed = yaml.safe_load(result.stdout)
    assert printed["problem"]["name"] == "integer_factorization" and printed["problem"]["max_prime"] == 50
    assert printed["statistics"] == {"target": None, "params": {}}
    assert list(tmp_path.iterdir()) == []


def test_multirun_writes_each_run_to_its_own_save_dir_and_leaves_nothing_else(tmp_path):
    private_tmp = tmp_path / "tmp"
    private_tmp.mkdir()
    result = run_cli(
        "-m", "problem=gcd,sum", "sampler.field_str=GF7,GF31", "dataset_sizes={train: 20}", "verbose=false",
        "parallel.n_jobs=1", "hf.package=false", cwd=tmp_path, env={"TMPDIR": str(private_tmp)},
    )
    assert result.returncode == 0, result.stderr
    runs = sorted(p.name for p in (tmp_path / "datasets").iterdir())
    assert [run.split("-")[0] for run in runs] == ["sympy_gcd_GF31", "sympy_gcd_GF7", "sympy_sum_GF31", "sympy_sum_GF7"]
    assert len({run.split("-")[1] for run in runs}) == 4  # the sizes differ from the defaults: each run's own hash
    for run in runs:
        saved = yaml.safe_load((tmp_path / "datasets" / run / "config.yaml").read_text())
        assert f"{saved['backend']['name']}_{saved['problem']['name']}_{saved['sampler']['field_str']}-" in run
        assert len((tmp_path / "datasets" / run / "train_raw.txt").read_text().splitlines()) == 20
    assert sorted(p.name for p in tmp_path.iterdir()) == ["datasets", "tmp"]  # no multirun/ folder, no multirun.yaml
    assert list(private_tmp.iterdir()) == []  # Hydra's sweep record went to a private folder, now removed


CUSTOM_MODULE = textwrap.dedent(
    """
    import random

    def my_generator(seed):
        rng = random.Random(seed)
        a, b = rng.randint(1, 99), rng.randint(1, 99)
        return [a, b], a * b

    def my_statistics(problem, solution):
        return {"solution": {"digits": len(str(solution))}}

    class Shifted:  # a class target: built with its params and the sampler group's sampler
        def __init__(self, sampler, shift=1):
            self.sampler, self.shift = sampler, shift

        def __call__(self, seed):
            random.seed(seed)
            f = self.sampler.sample(1)[0]
            return f, f + self.shift
    """
)


def test_a_custom_generator_plugs_in_without_editing_the_package(tmp_path):
    (tmp_path / "mods").mkdir()
    (tmp_path / "mods" / "my_module.py").write_text(CUSTOM_MODULE)
    env = {"PYTHONPATH": str(tmp_path / "mods")}
    common = ["dataset_sizes={train: 60, test: 10}", "verbose=false", "parallel.n_jobs=2"]  # workers import it too
    result = run_cli(
        "problem=custom", "problem.target=my_module.my_generator", "statistics.target=my_module.my_statistics",
        "save_dir=function", *common, cwd=tmp_path, env=env,
    )
    assert result.returncode == 0, result.stderr
    rows = DatasetWriter(tmp_path / "function").load_dataset("train")
    assert len(rows) == 60 and all(int(a) * int(b) == int(product) for (a, b), product in rows)
    digits = yaml.safe_load((tmp_path / "function" / "train_stats.yaml").read_text())["solution_stats"]["digits"]
    assert 1 <= digits["min"] <= digits["max"] <= 4
    assert "problem.target=my_module.my_generator" in (tmp_path / "function" / "README.md").read_text()

    result = run_cli(
        "problem=custom", "problem.target=my_module.Shifted", "+problem.params.shift=3", "sampler.field_str=QQ",
        "statistics.target=calt_hf.problems.PolynomialStatistics", "save_dir=class", *common, cwd=tmp_path, env=env,
    )
    assert result.returncode == 0, result.stderr
    for problem, solution in DatasetWriter(tmp_path / "class").load_dataset("train"):
        assert sympy.sympify(solution.replace("^", "**")) - sympy.sympify(problem.replace("^", "**")) == 3
    stats = yaml.safe_load((tmp_path / "class" / "train_stats.yaml").read_text())
    assert stats["problem_stats"]["num_polynomials"]["mean"] == 1.0
    card = (tmp_path / "class" / "README.md").read_text()
    assert "my_module.Shifted" in card and "| field_str | `QQ` |" in card

    missing = run_cli("problem=custom", "save_dir=never", cwd=tmp_path, env=env)
    assert missing.returncode == 2 and "problem.target is missing" in missing.stdout + missing.stderr
    wrong = run_cli("problem=custom", "problem.target=my_module.nothing", "save_dir=never", cwd=tmp_path, env=env)
    assert wrong.returncode == 2 and "problem.target='my_module.nothing' does not exist" in wrong.stdout + wrong.stderr
    assert not (tmp_path / "never").exists()


def test_every_run_saves_its_config(tmp_path):
    overrides = ["problem=partial_sum", "sampler.field_str=GF31", "dataset_sizes={train: 40, test: 5}", "verbose=false",
                 "parallel.n_jobs=1", "save_dir=out"]
    result = run_cli(*overrides, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "out" / "config.yaml").read_text()
    command = text.splitlines()[1]
    assert command.startswith("# python -m calt_hf.generate backend=sympy sampler=default problem=partial_sum")
    saved = yaml.safe_load(text)
    composed = OmegaConf.to_container(compose_config(*overrides), resolve=True)
    composed["sampler"]["order"] = "grevlex"  # sampler.order=null: the backend's default, recorded by name
    assert saved == composed  # resolved
    assert "token" not in saved["hub"] and {"token_env", "token_file"} <= set(saved["hub"])  # names of places only
    from datasets import load_dataset

    assert load_dataset(str(tmp_path / "out"))["train"].num_rows == 40  # config.yaml is not taken for data


def test_defaults_are_the_documented_contract():
    cfg = compose_config()
    assert cfg.backend.name == "sympy" and cfg.problem.name == "gcd"
    assert dict(cfg.dataset_sizes) == {"train": 100000, "test": 1000}
    assert (cfg.root_seed, cfg.batch_size, cfg.save_text, cfg.save_json) == (42, 100000, True, True)
    assert (cfg.parallel.backend, cfg.parallel.n_jobs) == ("multiprocessing", -1)
    assert cfg.save_dir == "datasets/sympy_gcd_GF7"
    assert cfg.sampler.field_str == "GF7"
    assert cfg.hf.license is None and cfg.hf.number_tokens == "auto"  # no license line unless chosen


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
    [folder] = (tmp_path / "datasets").iterdir()
    assert re.fullmatch(r"sympy_sum_GF7-[0-9a-f]{8}", folder.name) and f"into datasets/{folder.name} " in result.stdout
    assert (folder / "train_raw.txt").read_text().count("\n") == 50


def printed_save_dir(tmp_path, *words):
    result = run_cli(*words, "--cfg", "job", "--resolve", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)["save_dir"]


def test_the_default_save_dir_tells_what_decides_the_samples(tmp_path):
    """The settings of a problem's defaults name its folder in words whatever else is set, or given again;
    any setting that decides the samples adds its hash (the same for the same settings, in any order)."""
    def save_dir(*words):
        return printed_save_dir(tmp_path, *words)

    same = ["backend=sympy", "sampler=default", "root_seed=42", "hub.push=true", "parallel.n_jobs=1", "hf.license=mit"]
    assert save_dir() == save_dir(*same) == "datasets/sympy_gcd_GF7"
    assert save_dir("problem=factor", "sampler.field_str=GF31") == "datasets/sympy_factor_GF31"
    seeded = save_dir("root_seed=7", "dataset_sizes.train=10")
    assert re.fullmatch(r"datasets/sympy_gcd_GF7-[0-9a-f]{8}", seeded) and seeded == save_dir("dataset_sizes.train=10", "root_seed=7")
    assert save_dir("root_seed=7") not in (seeded, "datasets/sympy_gcd_GF7")


def test_the_default_save_dir_keeps_its_name_when_a_backend_is_registered(tmp_path):
    """The backends a problem runs on are derived from the registry (backend=flint added one): that list never
    enters the hash, so folders named before keep their names (these, as main at 99d6ef0 printed them)."""
    assert printed_save_dir(tmp_path, "problem=sum", "sampler.field_str=GF31", "root_seed=1") == "datasets/sympy_sum_GF31-c2690dbf"
    assert printed_save_dir(tmp_path, "backend=sagemath", "problem=factor", "root_seed=3") == "datasets/sagemath_factor_GF7-54899534"
    assert printed_save_dir(tmp_path, "problem=border_basis", "root_seed=2") == "datasets/sympy_border_basis_GF7-423458e2"


#: Errors of a value that the job refuses once composed (``build_job``): the message names the key, the value
#: and what is allowed. The command line's handling of them (status 2, stderr only, no file) is one path for all,
#: run through the real command line below for two of them; each message is checked here in-process.
VALUE_ERRORS = [
    ("sampler.min_degree=4", "sampler.min_degree=4 is above max_degree=3"),
    ("sampler.order=revlex", "sampler.order='revlex'"),
    ("problem=sum", "problem.min_count=0"),
    ("parallel.n_jobs=0", "parallel.n_jobs=0"),
    ("dedup=sometimes", "dedup='sometimes'"),
    ("on_error=ignore", "on_error='ignore'"),
    ("parallel.backend=spark", "parallel.backend='spark'"),
    ("dataset_sizes={train: -3}", "got -3 for train"),
    ("batch_size=0", "batch_size=0"),
]


def _extra(override: str) -> list[str]:
    return {"problem=sum": ["problem.min_count=0"], "problem=factor": ["sampler=default"]}.get(override, [])  # x and y


@pytest.mark.parametrize(
    "override, expected",
    [
        ("problem=nope", "Could not find 'problem/nope'"),
        ("problem=gcdd", "Could not find 'problem/gcdd'"),
        ("sampler.symbols=x, y", "Ambiguous value for argument 'sampler.symbols=x, y'"),
        ("+parallel.njobs=2", "parallel.njobs is not a key of parallel"),
        ("+hub.tokn=x", "hub.tokn is not a key of hub"),
        ("parallel.n_jobs=[", "no viable alternative at input"),
        ("backend=maple", "backend"),
        ("batch_size=abc", "batch_size"),
        ("sampler.unknown_key=1", "unknown_key"),
        ("sampler.max_degree=2.5", "max_degree"),
        ("sampler.field_str=GF8", "sampler.field_str='GF8'"),
        ("problem=factor", "sampler.field_str=GF7 is not allowed for problem=factor on backend=sympy"),
        ("problem=custom", "problem.target is missing"),
        ("sampler.symbols='x,,y'", "sampler.symbols='x,,y' is not allowed: a name is missing between two commas"),
        ("sampler.max_degree=1000000000", "sampler.max_degree=1000000000 is not allowed; use an integer from 0 to 10,000"),
        ("dataset_sizes=null", "dataset_sizes=None is not allowed: it must be a dictionary of split name to sample count"),
    ],
)
def test_configuration_errors_name_the_key_and_write_nothing(tmp_path, override, expected):
    """Through the real command line: status 2 (Hydra's own errors too), the key named on stderr (nothing on
    stdout), no traceback, no file."""
    result = run_cli(override, *_extra(override), f"save_dir={tmp_path / 'out'}", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert expected in result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("override", ["parallel.n_jobs=[", "sampler.field_str=GF8"])
def test_hydra_full_error_keeps_status_2_for_configuration_errors(tmp_path, override):
    """HYDRA_FULL_ERROR=1 asks Hydra for the whole traceback of its own errors: given, and still status 2."""
    result = run_cli(override, f"save_dir={tmp_path / 'out'}", cwd=tmp_path, env={"HYDRA_FULL_ERROR": "1"})
    assert result.returncode == 2, result.stderr
    assert ("Traceback" in result.stderr) == override.startswith("parallel")
    assert list(tmp_path.iterdir()) == []


def test_n_jobs_above_the_cores_is_capped_and_says_so(tmp_path):
    import joblib

    cores = joblib.cpu_count()
    result = run_cli("problem=sum", "dataset_sizes={train: 20}", f"parallel.n_jobs={cores + 62}", "verbose=false",
                     f"save_dir={tmp_path / 'out'}", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (f"n_jobs={cores + 62} is more than the {cores} cores available here: running {cores} workers (more would "
            "only take memory; the output is the same for any n_jobs)") in result.stderr


@pytest.mark.parametrize("override, expected", VALUE_ERRORS)
def test_a_refused_value_is_named_before_any_work(tmp_path, override, expected):
    overrides = replace_mappings([override, *_extra(override), f"save_dir={tmp_path / 'out'}"])  # as the command line does
    with pytest.raises(ValueError, match=re.escape(expected)):
        build_job(compose_config(*overrides)).run()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "command_line, cword, expected",
    [
        ("calt-hf-generate problem=g", 1, {"problem=gcd", "problem=groebner", "problem=groebner_backward"}),
        ("python calt_hf/generate.py sampler.fi", 2, {"sampler.field_str="}),  # how Hydra completes a script
    ],
)
def test_tab_completion_as_hydra_installs_it(command_line, cword, expected):
    """``eval "$(calt-hf-generate -sc install=bash)"``, then what bash's completion calls on <Tab>."""
    script = (
        'eval "$(calt-hf-generate -sc install=bash)"\n'
        f'COMP_LINE="{command_line}"; COMP_POINT=${{#COMP_LINE}}; COMP_CWORD={cword}\n'
        'hydra_bash_completion; printf "%s\\n" "${COMPREPLY[@]}"'
    )
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(["bash", "-c", script], cwd=CONF.parent, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert set(result.stdout.split()) == expected


def test_every_setting_of_the_config_reaches_the_runs_options_and_every_keyword_of_run_is_one(tmp_path):
    """RunOptions.from_config takes each option from the config key of its name (or CONFIG_KEYS'), and run() builds
    the options from its arguments by name: a setting or keyword that no option has would be dropped silently."""
    import dataclasses
    import inspect

    from calt_hf.engine import DatasetGenerator
    from calt_hf.options import CONFIG_KEYS, RunOptions

    settings = {
        "dataset_sizes": {"train": 100000, "test": 1000}, "batch_size": 11, "save_dir": str(tmp_path / "out"), "save_text": False,
        "save_json": False, "resume": True, "overwrite": False, "on_error": "resample", "max_retries": 5, "max_index_factor": 4,
        "sample_timeout": 2.5, "dedup": "within", "data_quality": False, "hf_dataset": False, "encoding": "text",
    }
    words = [f"{CONFIG_KEYS.get(key, key)}={value}" for key, value in settings.items() if key != "dataset_sizes"]
    job = build_job(compose_config("problem=gcd", *words))
    assert {key: getattr(job.options, key) for key in settings} == settings
    built = {"problem_generator", "statistics_calculator", "description", "fingerprint", "checkpoint"}  # no setting of their own
    assert {option.name for option in dataclasses.fields(RunOptions)} == set(settings) | built
    keywords = set(inspect.signature(DatasetGenerator.run).parameters) - {"self", "dataset_writer", "instance_generator"}
    assert keywords == {option.name for option in dataclasses.fields(RunOptions)}
