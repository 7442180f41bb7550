"""The README and ``--help`` as a user meets them: every shell command runs verbatim through ``bash -c``, in
order, in one folder (the dataset sizes scaled down by overrides appended at the end, the split names kept)
and every Python block runs as a script; the quick start runs in a fresh copy of the project
(``test_quick_start.py``).

Pushes go to the loopback Hub of ``hub_server.py`` (``HF_ENDPOINT``), with a guard in every Python
process that refuses any other host.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import datasets
import pytest
import yaml
from hub_server import GUARD_MARKER, HubServer

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"
README = (ROOT / "README.md").read_text()
TOKEN = "hf_readme"
SMALL = {"train": 40}  # every other split: 8 samples
NOT_RUN = ("bash scripts/test.sh",)  # this suite itself


def fenced_blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```$", README, flags=re.M | re.S)


def shell_commands(block: str) -> list[str]:
    return [line for line in block.splitlines() if line.strip() and not line.startswith("#")]


def named_python_files() -> dict[str, str]:
    """Python blocks whose first line names a file (``# my_module.py``): files the commands use."""
    files = {}
    for block in fenced_blocks("python"):
        first = block.splitlines()[0]
        if re.fullmatch(r"# [\w/]+\.py", first):
            files[first[2:]] = block
    return files


def without_comment(command: str) -> str:
    return re.sub(r"\s+#\s.*$", "", command)


def scaled(command: str) -> str:
    """The command with small sizes for each split it names (train and test by default) appended, when it
    runs the generator; its trailing comment dropped."""
    command = without_comment(command)
    if "train_example.py" in command:  # a few steps of training (argparse keeps the last value given)
        return command + " --steps 3 --batch-size 8 --eval-samples 4 --max-length 32"
    if not re.search(r"(calt_hf\.generate|calt-hf-generate)", command.split("&&")[-1]) or re.search(r" (-sc|--cfg|--help)\b", command):
        return command
    given = re.search(r"dataset_sizes=['\"]?\{([^}]*)\}", command)
    splits = re.findall(r"(\w+)\s*:", given.group(1)) if given else ["train", "test"]
    splits += [s for s in re.findall(r"dataset_sizes\.(\w+)=", command) if s not in splits]
    return command + "".join(f" dataset_sizes.{split}={SMALL.get(split, 8)}" for split in splits)


def expected_splits(command: str) -> set[str]:
    return {word.split("=")[0].split(".")[1] for word in scaled(command).split() if word.startswith("dataset_sizes.")}


@pytest.fixture
def hub():  # one per test: a server stops itself after its max_lifetime, which this file's tests together exceed
    with HubServer(tokens={TOKEN}, max_lifetime=900) as server:  # the README's commands in order take a few minutes
        yield server


@pytest.fixture
def user_env(hub, tmp_path) -> dict[str, str]:
    """A user's shell: this environment's python and calt-hf-generate first on PATH, the loopback Hub."""
    guard = tmp_path / "guard"
    guard.mkdir()
    (guard / "sitecustomize.py").write_text(
        f"import sys\nsys.path.insert(0, {str(TESTS)!r})\nfrom hub_server import install_loopback_guard\ninstall_loopback_guard()\n"
    )
    env = hub.client_env(tmp_path / "hf_home", token=TOKEN)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    env["PYTHONPATH"] = str(guard)
    return env


def run_in_bash(command: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    result = subprocess.run(["bash", "-c", command], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert GUARD_MARKER not in result.stderr
    assert result.returncode == 0, f"{command}\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}"
    return result


def check_new_datasets(cwd: Path, before: set[Path], sizes: dict[str, int]) -> None:
    """Every folder the command made under datasets/ loads with `datasets`, with the command's splits and sizes."""
    for folder in sorted(set((cwd / "datasets").glob("*")) - before):
        loaded = datasets.load_dataset(str(folder))
        assert {split: len(rows) for split, rows in loaded.items()} == sizes, folder


def is_run_here(command: str) -> bool:
    """Not this suite itself, nor an install of extras (this environment was built with all of them)."""
    return command not in NOT_RUN and not command.startswith("pip install")


SHELL_BLOCKS = [block for block in fenced_blocks("bash")[1:] if any(map(is_run_here, shell_commands(block)))]


def quick_start_run() -> str:
    """The quick start's run, in the environment that its set-up makes (that set-up is test_quick_start's)."""
    return shell_commands(fenced_blocks("bash")[0])[0].split("&&")[-1].strip().removeprefix(".venv/bin/")


def test_every_shell_command_of_the_readme_runs_in_order_in_one_folder(user_env, tmp_path):
    """A new user's path: the quick start's run, then every command of the README in order, in one fresh folder
    holding the README's named Python files (``my_module.py``) and scripts/train_example.py; no run may meet the
    folder of an earlier one. Every run is scaled down (``scaled``), which gives it a folder of its own, so the
    quick start's is pinned to the folder its command names at the README's size (``--cfg job --resolve``), the one
    the README promises and its push recipe names (``python -m calt_hf.push datasets/sympy_gcd_GF7 ...``)."""
    cwd = tmp_path / "work"
    cwd.mkdir()
    for name, text in named_python_files().items():
        (cwd / name).write_text(text)
    (cwd / "scripts").mkdir()
    shutil.copy2(ROOT / "scripts" / "train_example.py", cwd / "scripts")  # run from the project's root
    named = yaml.safe_load(run_in_bash(f"{quick_start_run()} --cfg job --resolve", cwd, user_env).stdout)["save_dir"]
    assert f"`{named}/`" in README.split("---")[0]
    run_in_bash(f"{scaled(quick_start_run())} save_dir={named}", cwd, user_env)
    check_new_datasets(cwd, set(), {"train": SMALL["train"], "test": 8})
    for command in [command for block in SHELL_BLOCKS for command in filter(is_run_here, shell_commands(block))]:
        before = set((cwd / "datasets").glob("*"))
        run_in_bash(scaled(command), cwd, user_env)
        check_new_datasets(cwd, before, {split: SMALL.get(split, 8) for split in expected_splits(command)})


def test_every_example_of_help_is_a_readme_command(user_env, tmp_path):
    """``--help``'s examples are commands of the README (run as typed there, by
    test_every_shell_command_of_the_readme_runs_as_typed): one set of examples, every one of them run."""
    help_text = run_in_bash("python -m calt_hf.generate --help", tmp_path, user_env).stdout
    examples = [line.strip() for line in help_text.split("== Examples ==")[1].split("\n\n")[0].splitlines()[1:] if line.strip()]
    assert len(examples) >= 4
    in_readme = {without_comment(command) for block in SHELL_BLOCKS for command in shell_commands(block)}
    assert [command for command in examples if without_comment(command) not in in_readme] == []


def test_the_calt_modules_the_readme_names_are_calt_x_1_5s():
    """The modules that CALT code imports, as the README names them, are calt-x 1.5.0's (found as files: importing
    calt runs its trainer's imports)."""
    import importlib.util

    named = re.search(r"Code written for CALT's `([\w.]+)` / `([\w.]+)`", README).groups()
    site = Path(importlib.util.find_spec("calt").submodule_search_locations[0]).parent
    assert [module for module in named if not (site / module.replace(".", "/") / "__init__.py").is_file()] == []


@pytest.mark.parametrize("number", range(len([b for b in fenced_blocks("python") if not b.startswith("# ")])))
def test_every_python_example_runs_as_a_script(number, user_env, tmp_path):
    """As ``python example.py``; only the numbers inside ``dataset_sizes={...}`` are scaled down."""
    block = [b for b in fenced_blocks("python") if not b.startswith("# ")][number]
    small = re.sub(r"dataset_sizes=\{[^}]*\}",
                   lambda m: re.sub(r'("(\w+)"\s*:\s*)[\d_]+', lambda s: f"{s.group(1)}{SMALL.get(s.group(2), 8)}", m.group(0)),
                   block)
    (tmp_path / "example.py").write_text(small)
    run_in_bash("python example.py", tmp_path, user_env)
    for stats in tmp_path.rglob("*_stats.yaml"):
        assert stats.stat().st_size > 0


def test_the_exit_status_table_is_what_the_command_line_does(user_env, hub, tmp_path):
    """Each status of the README's table, produced the way a user meets it."""
    rows = re.findall(r"^\| (`\d+`(?:, `\d+`)*) \| .* \|$", README, flags=re.M)
    table = {code for row in rows for code in re.findall(r"`(\d+)`", row)}
    (tmp_path / "failing.py").write_text("def gen(seed):\n    raise RuntimeError('bad sample')\n")
    (tmp_path / "slow.py").write_text(
        "import pathlib, time\n\ndef gen(seed):\n    pathlib.Path('started').touch()\n    time.sleep(0.01)\n    return 'a', 'b'\n"
    )
    small = "dataset_sizes.train=20 dataset_sizes.test=5 verbose=false"
    commands = {
        "0": f"python -m calt_hf.generate {small} save_dir=ok",
        "1": f"PYTHONPATH=.:$PYTHONPATH python -m calt_hf.generate problem=custom problem.target=failing.gen {small} save_dir=bad",
        "2": "python -m calt_hf.generate problem=gcdd",
        "3": f"HF_TOKEN=hf_wrong python -m calt_hf.generate {small} save_dir=unpushed hub.push=true hub.repo_id=me/x",
    }
    stopped_by = {"130": (signal.SIGINT, os.killpg), "143": (signal.SIGTERM, os.kill)}  # Ctrl-C reaches the group
    assert table == set(commands) | set(stopped_by)
    for status, command in commands.items():
        result = subprocess.run(["bash", "-c", command], cwd=tmp_path, env=user_env, capture_output=True, text=True, timeout=300)
        assert result.returncode == int(status), (command, result.stderr[-3000:])
        if status != "0":
            assert result.stderr.strip() and "error" in result.stderr.lower()
            assert "Traceback (most recent call last)" not in result.stdout
    for status, (signum, send) in stopped_by.items():
        (tmp_path / "started").unlink(missing_ok=True)
        command = f"PYTHONPATH=.:$PYTHONPATH python -m calt_hf.generate problem=custom problem.target=slow.gen " \
                  f"dataset_sizes.train=5000 verbose=false save_dir=stopped{status}"
        process = subprocess.Popen(["bash", "-c", f"exec env {command}"], cwd=tmp_path, env=user_env, text=True,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        while not (tmp_path / "started").exists():
            assert process.poll() is None, process.stderr.read()
            time.sleep(0.02)
        send(process.pid, signum)
        _, stderr = process.communicate(timeout=120)
        assert process.returncode == int(status) and "continue with: " in stderr, stderr
    push_again = subprocess.run(
        ["bash", "-c", "HF_TOKEN=hf_wrong python -m calt_hf.push unpushed me/x"],
        cwd=tmp_path, env=user_env, capture_output=True, text=True, timeout=300,
    )
    assert push_again.returncode == 3 and push_again.stderr.startswith("error:")
