"""Pushing to the Hub, end to end against the loopback Hub in ``hub_server.py``.

Every client step (our command line, ``python -m calt_hf.push``, ``load_dataset``) runs in a fresh
interpreter pointed at the server, with a guard that fails on any non-loopback host lookup.
"""

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hub_server import GUARD_MARKER, HubServer

from test_cli import compose_config

from calt_hf.config import build_job
from calt_hf.hf.package import load_dataset_dict
from calt_hf.seeding import derive_seed

TESTS = Path(__file__).resolve().parent
TOKEN = "hf_test"
GUARDED = "import sys, runpy; sys.path.insert(0, %r); from hub_server import install_loopback_guard; install_loopback_guard()\n" % str(TESTS)


def run_module(module: str, args: list[str], env: dict, cwd: Path) -> subprocess.CompletedProcess:
    code = GUARDED + f"sys.argv = [{module!r}] + {args!r}; runpy.run_module({module!r}, run_name='__main__')"
    result = subprocess.run([sys.executable, "-c", code], env=env, cwd=cwd, capture_output=True, text=True, timeout=300)
    assert GUARD_MARKER not in result.stderr
    return result


def generate(save_dir: Path, repo_id: str, *extra: str) -> list[str]:
    return [
        "problem=sum",
        "dataset_sizes={train: 120, test: 15}",
        "parallel.n_jobs=1",
        "verbose=false",
        f"save_dir={save_dir}",
        "hub.push=true",
        f"hub.repo_id={repo_id}",
        *extra,
    ]


def hub_rows(hub: HubServer, repo_id: str, tmp_path: Path) -> dict:
    code = GUARDED + (
        "import json, datasets; datasets.config.USE_PARQUET_EXPORT = False\n"
        f"d = datasets.load_dataset({repo_id!r})\n"
        "print(json.dumps({name: split.to_list() for name, split in d.items()}))"
    )
    env = hub.client_env(tmp_path / "reader_home", token=TOKEN)
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture
def hub():
    with HubServer(tokens={TOKEN}) as server:
        yield server


def test_push_then_load_from_the_hub(hub, tmp_path):
    save_dir = tmp_path / "out"
    result = run_module("calt_hf.generate", generate(save_dir, "user/sums", "hub.private=true"), hub.client_env(tmp_path / "home", token=TOKEN), tmp_path)
    assert result.returncode == 0, result.stderr
    files = hub.files("user/sums")
    assert "README.md" in files and "data/train-00000-of-00001.parquet" in files and "data/test-00000-of-00001.parquet" in files
    assert not any(name.endswith((".pkl", ".txt", ".jsonl", ".yaml")) for name in files if name != "lexer.yaml")
    assert files["README.md"] == (save_dir / "README.md").read_bytes()
    assert all(files[name] == (save_dir / name).read_bytes() for name in ("tokenizer.json", "tokenizer_config.json", "lexer.yaml"))
    assert len(hub.commits("user/sums")) == 2  # the repo's creation, then one upload commit
    local = load_dataset_dict(save_dir)
    assert hub_rows(hub, "user/sums", tmp_path) == {name: split.to_list() for name, split in local.items()}


def test_include_raw_uploads_the_documented_files(hub, tmp_path):
    save_dir = tmp_path / "out"
    args = generate(save_dir, "user/raw", "hub.include_raw=true")
    result = run_module("calt_hf.generate", args, hub.client_env(tmp_path / "home", token=TOKEN), tmp_path)
    assert result.returncode == 0, result.stderr
    files = hub.files("user/raw")
    assert files["train_raw.txt"] == (save_dir / "train_raw.txt").read_bytes() and "test_data.pkl" in files


def test_a_rejected_card_uploads_nothing_and_keeps_the_local_dataset(hub, tmp_path):
    hub.reject_yaml = "license: not a valid license"
    save_dir = tmp_path / "out"
    result = run_module("calt_hf.generate", generate(save_dir, "user/rejected"), hub.client_env(tmp_path / "home", token=TOKEN), tmp_path)
    assert result.returncode == 3
    assert f"python -m calt_hf.push {save_dir} user/rejected" in result.stderr
    paths = [request.path for request in hub.requests]
    first_validation = next(i for i, path in enumerate(paths) if path.endswith("validate-yaml"))
    assert not any(("preupload" in p or "lfs" in p or "commit" in p) for p in paths[first_validation:])
    assert load_dataset_dict(save_dir)["train"].num_rows == 120


def test_a_bad_token_fails_clearly_never_shows_the_token_and_the_push_can_be_retried(hub, tmp_path):
    save_dir = tmp_path / "out"
    secret = "hf_wrong_secret_123"
    env = {**hub.client_env(tmp_path / "home"), "MY_TOKEN": secret}
    result = run_module("calt_hf.generate", generate(save_dir, "user/retry", "hub.token_env=MY_TOKEN"), env, tmp_path)
    assert result.returncode == 3
    assert "Invalid credentials" in result.stderr
    assert f"HF_ENDPOINT={hub.url} python -m calt_hf.push {save_dir} user/retry --token-env MY_TOKEN" in result.stderr
    assert "the token comes from the environment variable MY_TOKEN" in result.stderr
    assert secret not in result.stderr + result.stdout
    assert secret not in (save_dir / "README.md").read_text()
    retry = run_module("calt_hf.push", [str(save_dir), "user/retry"], hub.client_env(tmp_path / "home", token=TOKEN), tmp_path)
    assert retry.returncode == 0, retry.stderr
    assert "data/train-00000-of-00001.parquet" in hub.files("user/retry")


def test_push_config_errors_come_before_any_work(tmp_path):
    env = {key: value for key, value in os.environ.items() if key not in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN")}
    env["HF_HOME"] = str(tmp_path / "home")
    push = ["hub.push=true", "hub.repo_id=me/x"]
    for extra, message in (
        (["hub.push=true"], "hub.repo_id=None"),
        (["hub.push=true", "hub.repo_id=no-slash"], "hub.repo_id='no-slash'"),
        (push, "pushing to the Hub needs a token and none was found; set HF_TOKEN, run `hf auth login`"),
    ):
        result = subprocess.run(
            [sys.executable, "-m", "calt_hf.generate", *extra, f"save_dir={tmp_path / 'out'}"],
            cwd=tmp_path, capture_output=True, text=True, timeout=120, env=env,
        )
        assert result.returncode == 2 and message in result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "extra, message",
    [
        (["hub.token_env=EMPTY"], "hub.token_env='EMPTY': the environment variable EMPTY is not set or empty"),
        (["hub.token_file=/nonexistent/token"], "hub.token_file='/nonexistent/token' cannot be read (FileNotFoundError)"),
        (["hub.token_env=EMPTY", "hub.token_file=x"], "hub.token_env and hub.token_file are both given"),
        (["hub.token_env=EMPTY", "hub.timeout=0"], "hub.timeout=0.0 is not allowed; use a positive number of seconds"),
        (["hub.token_env=EMPTY", "hub.retries=-1"], "hub.retries=-1"),
    ],
)
def test_token_source_and_push_settings_are_checked_when_the_job_is_built(monkeypatch, extra, message):
    monkeypatch.setenv("EMPTY", "")
    cfg = compose_config("hub.push=true", "hub.repo_id=me/x", *extra)
    with pytest.raises(ValueError, match=re.escape(message)):
        build_job(cfg)


def test_push_is_refused_during_a_run_and_uploads_only_finished_recorded_files_after_a_kill(hub, tmp_path):
    """``python -m calt_hf.push`` while a run writes into the folder is refused (its lock); after that run is killed
    (its ``.part`` files left behind), only the files recorded for complete splits go up."""
    save_dir = tmp_path / "out"
    env = hub.client_env(tmp_path / "home", token=TOKEN)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(TESTS), env.get("PYTHONPATH")]))
    words = ["problem=custom", "problem.target=conftest.gated_generator", "parallel.n_jobs=2", "verbose=false", f"save_dir={save_dir}"]
    assert run_module("calt_hf.generate", [*words, "dataset_sizes={train: 50}"], env, tmp_path).returncode == 0
    hold = tmp_path / "hold"
    hold.touch()  # the run adding a test split waits at its sample 11995, with 10,000 rows in a Parquet part file
    held = {"CALT_HF_TEST_HOLD": str(hold), "CALT_HF_TEST_HOLD_SEED": str(derive_seed(42, "test", 11995))}
    live = subprocess.Popen(
        [sys.executable, "-m", "calt_hf.generate", *words, "dataset_sizes={train: 50, test: 12000}", "resume=true"],
        cwd=tmp_path, env={**env, **held}, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not (save_dir / "data" / "test-00000.part").exists():
            assert live.poll() is None and time.monotonic() < deadline, "the run never wrote its first row group"
            time.sleep(0.01)
        during = run_module("calt_hf.push", [str(save_dir), "user/live", "--include-raw"], env, tmp_path)
        assert during.returncode == 2
        assert f"is in use by another calt_hf run (PID {live.pid}); wait for it to end, then push again" in during.stderr
        with pytest.raises(KeyError):  # nothing was sent
            hub.files("user/live")
    finally:
        os.killpg(live.pid, signal.SIGKILL)
        live.wait(timeout=60)
    assert (save_dir / "data" / "test-00000.part").exists() and (save_dir / "test_data.pkl.part").exists()
    after = run_module("calt_hf.push", [str(save_dir), "user/live", "--include-raw"], env, tmp_path)
    assert after.returncode == 0, after.stderr[-2000:]
    files = hub.files("user/live")
    assert not [name for name in files if name.endswith(".part") or name.startswith(("test", "data/test"))]
    for name in ("README.md", "data/train-00000-of-00001.parquet", "train_data.pkl", "train_stats.yaml", "config.yaml"):
        assert files[name] == (save_dir / name).read_bytes(), name
