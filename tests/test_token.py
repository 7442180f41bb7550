"""The Hub token never leaves the user's machine: whatever the failure, no output stream and no file the
run leaves (save_dir, temporary and sweep folders, the Hugging Face caches, the working folder) holds it.

Every run is a fresh interpreter pointed at the loopback Hub of ``hub_server.py``, with its own ``HF_HOME``
and ``TMPDIR`` under the test's folder, so that everything the run could write is under ``tmp_path``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from hub_server import HubServer
from test_hub_push import generate, run_module

#: Not shaped like a Hugging Face token: only the redaction of the token's own value can mask it.
PLAIN_TOKEN = "plain-Secret-Value-7c1e9"
#: Shaped like one, and nowhere registered: only the shape can mask it.
SHAPED_TOKEN = "hf_" + "Zq8rT2vLx9Kd4mWp7sNc3yHb"


def client_env(hub: HubServer, tmp_path: Path, **variables: str) -> dict[str, str]:
    (tmp_path / "tmp").mkdir(exist_ok=True)
    return {**hub.client_env(tmp_path / "home"), "TMPDIR": str(tmp_path / "tmp"), **variables}


def assert_nowhere(token: str, tmp_path: Path, *outputs: str) -> None:
    """``token`` is in no output and in no file (name or content) under ``tmp_path``."""
    for output in outputs:
        assert token not in output
    files = [path for path in tmp_path.rglob("*") if path.is_file()]
    assert files, "the run left no file at all: nothing was checked"
    leaks = [path for path in files if token in str(path) or token.encode() in path.read_bytes()]
    assert leaks == []


@pytest.fixture
def hub():
    with HubServer(tokens={PLAIN_TOKEN}) as server:
        server.stall_seconds = 30
        yield server


@pytest.mark.parametrize("fault", HubServer.FAULTS)
def test_a_failed_push_shows_the_token_nowhere_and_says_how_to_retry(hub, tmp_path, fault):
    hub.fault = fault
    save_dir = tmp_path / "out"
    env = client_env(hub, tmp_path, HF_TOKEN=PLAIN_TOKEN)
    result = run_module("calt_hf.generate", generate(save_dir, "user/x", "hub.timeout=1", "hub.retries=1"), env, tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 3, output
    assert f"push it again with: HF_ENDPOINT={hub.url} python -m calt_hf.push {save_dir} user/x" in output
    assert "(the token comes from HF_TOKEN or `hf auth login`)" in output
    transient = fault in ("500", "close", "stall")
    assert ("after 2 attempts" in output) == transient
    assert len(hub.requests) == (2 if transient else 1 + (fault == "401"))  # 401: huggingface_hub looks once more
    if fault == "echo":  # the Hub's answer is printed, with the header it quoted masked
        assert "authorization: Bearer ***" in output
    assert_nowhere(PLAIN_TOKEN, tmp_path, result.stdout, result.stderr)


@pytest.mark.parametrize("fault", ["echo", "stall"])
def test_calt_hf_push_fails_with_status_3_and_shows_the_token_nowhere(hub, tmp_path, fault):
    save_dir = tmp_path / "out"
    env = client_env(hub, tmp_path, MY_TOKEN=PLAIN_TOKEN)
    made = run_module("calt_hf.generate", generate(save_dir, "user/x", "hub.push=false"), env, tmp_path)
    assert made.returncode == 0, made.stderr
    hub.fault = fault
    args = [str(save_dir), "user/x", "--token-env", "MY_TOKEN", "--timeout", "1", "--retries", "0"]
    result = run_module("calt_hf.push", args, env, tmp_path)
    assert result.returncode == 3
    assert f"HF_ENDPOINT={hub.url} python -m calt_hf.push {save_dir} user/x --token-env MY_TOKEN" in result.stderr
    assert "(the token comes from the environment variable MY_TOKEN)" in result.stderr
    assert_nowhere(PLAIN_TOKEN, tmp_path, result.stdout, result.stderr)


def test_calt_hf_push_retries_a_5xx_and_points_the_card_at_the_repo(hub, tmp_path):
    save_dir = tmp_path / "out"
    (tmp_path / "token").write_text(PLAIN_TOKEN + "\n")
    env = client_env(hub, tmp_path)
    made = run_module("calt_hf.generate", generate(save_dir, "user/x", "hub.push=false"), env, tmp_path)
    assert made.returncode == 0, made.stderr
    assert f'load_dataset("{save_dir}")' in (save_dir / "README.md").read_text()
    hub.fault, hub.fault_count = "500", 1
    args = [str(save_dir), "user/cards", "--token-file", str(tmp_path / "token"), "--timeout", "5", "--retries", "2"]
    result = run_module("calt_hf.push", args, env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "retrying in 1 s (1 of 2)" in result.stderr
    card = (save_dir / "README.md").read_text()
    assert 'dataset = load_dataset("user/cards")' in card and str(save_dir) not in card.split("## Loading")[1]
    assert 'tokenizer = AutoTokenizer.from_pretrained("user/cards")' in card
    assert hub.files("user/cards")["README.md"] == card.encode()
    (tmp_path / "token").unlink()  # the user's own token file: the one place the token is meant to be
    assert_nowhere(PLAIN_TOKEN, tmp_path, result.stdout, result.stderr)


FAILING_MODULE = textwrap.dedent(
    """
    import os

    def leaky_generator(seed):
        raise RuntimeError(f"cannot go on with token {os.environ['HF_TOKEN']} and {os.environ['OTHER']}")


    class LeakyProblem:
        def describe(self):  # fails while the job is built: no handler of ours, Hydra reports it
            leaky_generator(0)

        def __call__(self, seed):
            return "a", "b"
    """
)


def test_every_message_is_redacted_whoever_prints_it(tmp_path):
    """A failure that is no ValueError: Hydra prints "Error executing job with overrides" and the traceback,
    quoting the exception, which quotes both tokens."""
    (tmp_path / "mods").mkdir()
    (tmp_path / "mods" / "leaky.py").write_text(FAILING_MODULE)
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "mods"), "HF_TOKEN": PLAIN_TOKEN, "OTHER": SHAPED_TOKEN,
           "HF_HOME": str(tmp_path / "home"), "TMPDIR": str(tmp_path)}
    for target, reporter in (("leaky.LeakyProblem", "Error executing job with overrides"), ("leaky.leaky_generator", "error: sample 0")):
        args = ["-m", "problem=custom", f"problem.target={target}", "dataset_sizes={train: 5}",
                "verbose=false", "parallel.n_jobs=1", f"save_dir={tmp_path / 'out'}"]
        result = subprocess.run([sys.executable, "-m", "calt_hf.generate", *args], env=env, cwd=tmp_path,
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 1
        assert reporter in result.stderr and "RuntimeError: " in result.stderr
        assert "cannot go on with token *** and ***" in result.stderr
        for token in (PLAIN_TOKEN, SHAPED_TOKEN):
            assert token not in result.stdout + result.stderr


@pytest.mark.parametrize(
    "words",
    [
        [f"hub.token={SHAPED_TOKEN}"],
        [f"+hub.token={PLAIN_TOKEN}"],
        [f"hub={{push: true, repo_id: me/x, token: {PLAIN_TOKEN}}}"],
        ["--cfg", "job", f"hub.token={PLAIN_TOKEN}"],
        ["--help", f"hub.token={PLAIN_TOKEN}"],
        ["-m", f"hub.token={PLAIN_TOKEN},{SHAPED_TOKEN}"],
    ],
)
def test_a_token_on_the_command_line_is_refused_before_any_work_without_echoing_it(tmp_path, words):
    result = subprocess.run([sys.executable, "-m", "calt_hf.generate", *words, f"save_dir={tmp_path / 'out'}"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "hub.token is not a configuration value" in result.stderr
    assert "HF_TOKEN or `hf auth login`, or name where it is with hub.token_env=VARIABLE or hub.token_file=PATH" in result.stderr
    assert PLAIN_TOKEN not in result.stdout + result.stderr and SHAPED_TOKEN not in result.stdout + result.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_sweep_killed_mid_push_leaves_the_token_in_no_file(hub, tmp_path):
    hub.fault = "stall"  # the first job's push hangs: the sweep is killed there
    env = client_env(hub, tmp_path, MY_TOKEN=PLAIN_TOKEN, HF_TOKEN=PLAIN_TOKEN)
    args = ["-m", "problem=sum", "dataset_sizes={train: 30, test: 5}", "parallel.n_jobs=1", "verbose=false", "hub.push=true",
            "hub.repo_id=user/sweep", "hub.token_env=MY_TOKEN", "hub.timeout=30", "root_seed=1,2",
            "save_dir=sweep_${root_seed}"]
    out, err = tmp_path / "stdout", tmp_path / "stderr"
    with open(out, "w") as stdout, open(err, "w") as stderr:
        process = subprocess.Popen([sys.executable, "-m", "calt_hf.generate", *args], env=env, cwd=tmp_path,
                                   stdout=stdout, stderr=stderr, start_new_session=True)
        deadline = time.monotonic() + 120
        while not hub.requests and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert process.poll() is None, err.read_text()
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    sweep_records = list((tmp_path / "tmp").glob("calt_hf_sweep_*/multirun.yaml"))
    assert len(sweep_records) == 1 and "hub.token_env=MY_TOKEN" in sweep_records[0].read_text()  # left by the kill
    assert (tmp_path / "sweep_1" / "README.md").exists() and not (tmp_path / "sweep_2").exists()
    assert_nowhere(PLAIN_TOKEN, tmp_path)


@pytest.mark.parametrize(
    "words, key",
    [
        (["hf.pretty_name=${oc.env:HF_TOKEN}"], "hf.pretty_name"),
        (["hub.token_env=MY_TOKEN", "hf.license=mit ${oc.env:MY_TOKEN}"], "hf.license"),
        (["+statistics.params.note=${oc.env:HF_TOKEN}"], "statistics.params.note"),  # a free-form mapping
        (["problem=custom", "problem.target=leaky.TellingProblem"], "the dataset card's settings.where"),
    ],
)
def test_a_value_that_resolves_to_the_token_is_refused_before_any_work_without_showing_it(tmp_path, words, key):
    """An interpolation (or a problem's own description) that resolves to the token would be written into
    config.yaml and the card, which a push uploads: refused, naming the key, the token nowhere."""
    (tmp_path / "mods").mkdir()
    (tmp_path / "mods" / "leaky.py").write_text(TELLING_MODULE)
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "mods"), "HF_TOKEN": PLAIN_TOKEN, "MY_TOKEN": PLAIN_TOKEN,
           "HF_HOME": str(tmp_path / "home"), "TMPDIR": str(tmp_path)}
    args = ["problem=sum", "dataset_sizes={train: 5}", "parallel.n_jobs=1", "verbose=false", *words, "save_dir=out"]
    result = subprocess.run([sys.executable, "-m", "calt_hf.generate", *args], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    assert f"configuration error: {key} holds the Hub token" in result.stderr
    assert not (tmp_path / "out").exists()
    leaks = [path for path in tmp_path.rglob("*") if path.is_file() and PLAIN_TOKEN.encode() in path.read_bytes()]
    assert PLAIN_TOKEN not in result.stdout + result.stderr and leaks == []


TELLING_MODULE = textwrap.dedent(
    """
    import os


    class TellingProblem:
        def describe(self):
            return {"pretty_name": "telling", "settings": {"where": os.environ["HF_TOKEN"]}}

        def __call__(self, seed):
            return "a", "b"
    """
)


@pytest.mark.parametrize("place", ["env", "file"])
def test_a_token_pasted_into_the_command_line_is_masked_whatever_its_shape(tmp_path, place):
    """The token of hub.token_env / hub.token_file (not shaped like a Hugging Face token), pasted as a word of its
    own: Hydra's and argparse's errors quote the word, masked."""
    (tmp_path / "token").write_text(PLAIN_TOKEN + "\n")
    named = {"env": ["hub.token_env=MY_TOKEN"], "file": [f"hub.token_file={tmp_path / 'token'}"]}[place]
    env = {**os.environ, "MY_TOKEN": PLAIN_TOKEN, "HF_HOME": str(tmp_path / "home")}
    env.pop("HF_TOKEN", None)
    result = subprocess.run([sys.executable, "-m", "calt_hf.generate", *named, PLAIN_TOKEN, f"save_dir={tmp_path / 'out'}"],
                            env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "Error parsing override '***'" in result.stderr and PLAIN_TOKEN not in result.stdout + result.stderr
    flag = {"env": ["--token-env", "MY_TOKEN"], "file": [f"--token-file={tmp_path / 'token'}"]}[place]
    result = subprocess.run([sys.executable, "-m", "calt_hf.push", str(tmp_path / "out"), "me/x", *flag, PLAIN_TOKEN],
                            env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "unrecognized arguments: ***" in result.stderr and PLAIN_TOKEN not in result.stdout + result.stderr


def test_credentials_in_hf_endpoint_are_masked_in_the_retry_command(hub, tmp_path):
    hub.fault = "500"
    save_dir = tmp_path / "out"
    endpoint = hub.url.replace("://", "://calt:Endpoint-Pass-42@")
    env = client_env(hub, tmp_path, HF_TOKEN=PLAIN_TOKEN, HF_ENDPOINT=endpoint)
    result = run_module("calt_hf.generate", generate(save_dir, "user/x", "hub.retries=0"), env, tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 3, output
    assert f"push it again with: 'HF_ENDPOINT={hub.url.replace('://', '://***@')}' python -m calt_hf.push {save_dir}" in output
    assert "HF_ENDPOINT's credentials are shown as ***: give them as before" in output
    assert "Endpoint-Pass-42" not in output and "calt:" not in output
