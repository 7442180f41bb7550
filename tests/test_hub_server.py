"""End-to-end tests of the fake Hub in ``hub_server.py``, driven by the real clients.

huggingface_hub and datasets read ``HF_ENDPOINT`` and related settings at import time, so every
client step runs in a fresh interpreter configured by ``HubServer.client_env``. That interpreter
installs the loopback guard, so any attempt to reach a host other than the server fails the test.
"""

from __future__ import annotations

import http.client
import json
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import datasets
import pytest

from hub_server import GUARD_MARKER, INVALID_CREDENTIALS, HubServer

TOKEN = "hf_test"
REPO_ID = "user/name"
SPLITS = {
    "train": {"id": [1, 2, 3], "text": ["alpha", "beta", "gamma"]},
    "test": {"id": [4, 5], "text": ["delta", "epsilon"]},
}
CARD = textwrap.dedent("""\
    ---
    configs:
    - config_name: default
      data_files:
      - split: train
        path: data/train-*.parquet
      - split: test
        path: data/test-*.parquet
    ---
    # Test dataset
    """)

# Runs first in every client process. `outcome` turns a call into JSON-able data, so a script can
# report an expected failure (exception type, HTTP status, message) instead of crashing.
_PRELUDE = f"""
import json, sys
sys.path.insert(0, {str(Path(__file__).parent)!r})
from hub_server import install_loopback_guard
install_loopback_guard()

def outcome(call):
    try:
        return {{"ok": call()}}
    except Exception as error:
        response = getattr(error, "response", None)
        return {{"error": type(error).__name__, "status": getattr(response, "status_code", None),
                 "message": str(error)}}
"""

# argv: repo id, folder, token. Creates the private dataset repo, then uploads the folder.
_UPLOAD = """
import os
from huggingface_hub import HfApi
repo_id, folder, token = sys.argv[1:]
api = HfApi(endpoint=os.environ["HF_ENDPOINT"], token=token)
print(json.dumps([
    outcome(lambda: str(api.create_repo(repo_id, repo_type="dataset", private=True, exist_ok=True))),
    outcome(lambda: str(api.upload_folder(folder_path=folder, repo_id=repo_id, repo_type="dataset",
                                          allow_patterns=["README.md", "data/*.parquet"]))),
]))
"""

# argv: repo id. Loads anonymously (must fail: the repo is private), then with HF_TOKEN, downloaded
# and streamed (streaming reads the parquet files with Range requests instead of downloading them).
_LOAD = """
import datasets
datasets.config.USE_PARQUET_EXPORT = False  # else it queries datasets-server.<HF_ENDPOINT host>
repo_id = sys.argv[1]
print(json.dumps([
    outcome(lambda: datasets.load_dataset(repo_id, token=False)),
    outcome(lambda: {split: ds.to_list() for split, ds in datasets.load_dataset(repo_id).items()}),
    outcome(lambda: {split: list(ds) for split, ds in datasets.load_dataset(repo_id, streaming=True).items()}),
]))
"""


@pytest.fixture
def hub() -> Iterator[HubServer]:
    with HubServer(tokens={TOKEN}) as server:
        yield server


@pytest.fixture
def dataset_folder(tmp_path: Path) -> Path:
    """A dataset as a user would push it: a card declaring the splits plus one parquet file each."""
    folder = tmp_path / "dataset"
    (folder / "data").mkdir(parents=True)
    (folder / "README.md").write_text(CARD, encoding="utf-8")
    for split, columns in SPLITS.items():
        datasets.Dataset.from_dict(columns).to_parquet(folder / "data" / f"{split}-00000-of-00001.parquet")
    (folder / "notes.txt").write_text("excluded by allow_patterns")
    return folder


def _run_client(hub: HubServer, hf_home: Path, script: str, *args: str, token: str | None = TOKEN) -> list[Any]:
    """Run ``script`` in a fresh interpreter against ``hub``; return the JSON it printed last."""
    result = subprocess.run(
        [sys.executable, "-c", _PRELUDE + textwrap.dedent(script), *args],
        env=hub.client_env(hf_home, token=token), capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert GUARD_MARKER not in result.stderr, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def _upload(hub: HubServer, folder: Path, tmp_path: Path, token: str = TOKEN) -> list[Any]:
    """Outcomes of create_repo and upload_folder, with ``token`` as the only credential around."""
    return _run_client(hub, tmp_path / "upload_home", _UPLOAD, REPO_ID, str(folder), token, token=None)


def _rows(columns: dict[str, list[Any]]) -> list[dict[str, Any]]:
    return [dict(zip(columns, values)) for values in zip(*columns.values())]


def _accepts_connections(host: str, port: int) -> bool:
    try:
        socket.create_connection((host, port), timeout=1).close()
    except ConnectionError:  # refused, or reset when the listening socket closes mid-handshake
        return False
    return True


def test_upload_folder_then_load_dataset_round_trip(hub: HubServer, dataset_folder: Path, tmp_path: Path) -> None:
    created, uploaded = _upload(hub, dataset_folder, tmp_path)

    assert created == {"ok": f"{hub.url}/datasets/{REPO_ID}"}
    assert "ok" in uploaded, uploaded
    local = {p.relative_to(dataset_folder).as_posix(): p.read_bytes()
             for p in dataset_folder.rglob("*") if p.is_file() and p.name != "notes.txt"}
    remote = hub.files(REPO_ID)
    assert remote.keys() == local.keys() | {".gitattributes"}
    assert {path: remote[path] for path in local} == local
    assert hub.repo(REPO_ID).private
    assert [c.title for c in hub.commits(REPO_ID)] == ["initial commit", "Upload folder using huggingface_hub"]
    # The parquet files went through LFS (batch, one PUT each, verify); the card was committed inline.
    assert sum(r.method == "PUT" for r in hub.requests) == 2
    assert hub.requests[-1].path == f"/api/datasets/{REPO_ID}/commit/main"

    anonymous, downloaded, streamed = _run_client(hub, tmp_path / "load_home", _LOAD, REPO_ID)

    assert anonymous["error"] == "DatasetNotFoundError"
    expected = {split: _rows(columns) for split, columns in SPLITS.items()}
    assert downloaded == {"ok": expected}
    assert streamed == {"ok": expected}
    assert any(r.status == 206 for r in hub.requests)
    assert [r for r in hub.requests if not r.handled or r.status is None or r.status >= 500] == []


def test_metadata_apis_describe_the_stored_files(hub: HubServer, dataset_folder: Path, tmp_path: Path) -> None:
    assert all("ok" in result for result in _upload(hub, dataset_folder, tmp_path))
    script = """
    from huggingface_hub import HfApi
    api, repo_id = HfApi(), sys.argv[1]
    info = api.dataset_info(repo_id, files_metadata=True)
    tree = api.list_repo_tree(repo_id, repo_type="dataset", recursive=True, expand=True)
    paths = api.get_paths_info(repo_id, ["README.md", "data", "missing.txt"], repo_type="dataset")
    print(json.dumps([
        info.sha,
        {s.rfilename: [s.size, s.lfs.sha256 if s.lfs else None] for s in info.siblings},
        [[entry.path, type(entry).__name__, entry.last_commit.title] for entry in tree],
        [[entry.path, type(entry).__name__] for entry in paths],
    ]))
    """
    sha, siblings, tree, paths = _run_client(hub, tmp_path / "read_home", script, REPO_ID)

    initial, upload = hub.commits(REPO_ID)
    assert sha == upload.oid
    assert siblings == {path: [len(stored.content), stored.sha256 if stored.lfs else None]
                        for path, stored in upload.files.items()}
    assert [path for path, info in siblings.items() if info[1]] == [
        "data/test-00000-of-00001.parquet", "data/train-00000-of-00001.parquet"]
    assert tree == [
        [".gitattributes", "RepoFile", initial.title],
        ["README.md", "RepoFile", upload.title],
        ["data", "RepoFolder", upload.title],
        ["data/test-00000-of-00001.parquet", "RepoFile", upload.title],
        ["data/train-00000-of-00001.parquet", "RepoFile", upload.title],
    ]
    assert paths == [["README.md", "RepoFile"], ["data", "RepoFolder"]]


def test_rejected_card_uploads_nothing(hub: HubServer, dataset_folder: Path, tmp_path: Path) -> None:
    hub.reject_yaml = "configs: data_files must be a list"

    created, uploaded = _upload(hub, dataset_folder, tmp_path)

    assert "ok" in created
    assert uploaded["error"] == "ValueError"
    assert "Invalid metadata in README.md" in uploaded["message"]
    assert hub.reject_yaml in uploaded["message"]
    assert [(r.method, r.path, r.status) for r in hub.requests] == [
        ("POST", "/api/repos/create", 200),
        ("POST", "/api/validate-yaml", 400),
    ]
    assert hub.files(REPO_ID).keys() == {".gitattributes"}


def test_bad_token_is_rejected_with_401(hub: HubServer, dataset_folder: Path, tmp_path: Path) -> None:
    created, uploaded = _upload(hub, dataset_folder, tmp_path, token="hf_wrong")

    for result in (created, uploaded):
        assert result["error"] == "HfHubHTTPError"
        assert result["status"] == 401
        assert INVALID_CREDENTIALS in result["message"]
    assert {r.status for r in hub.requests} == {401}
    with pytest.raises(KeyError):
        hub.repo(REPO_ID)


def test_create_repo_conflicts_across_repo_types(hub: HubServer, tmp_path: Path) -> None:
    script = """
    from huggingface_hub import HfApi
    api = HfApi()
    create = lambda repo_type, exist_ok: str(api.create_repo(sys.argv[1], repo_type=repo_type, exist_ok=exist_ok))
    print(json.dumps([outcome(lambda: create("dataset", False)), outcome(lambda: create("dataset", True)),
                      outcome(lambda: create("model", False)), outcome(lambda: create("model", True))]))
    """
    first, again, as_model, as_model_exist_ok = _run_client(hub, tmp_path / "hf_home", script, REPO_ID)

    assert "ok" in first and "ok" in again
    assert as_model["status"] == 409
    assert "You already created this dataset repo" in as_model["message"]
    # huggingface_hub swallows any 409 when exist_ok=True: the clash goes unnoticed at creation.
    assert "ok" in as_model_exist_ok
    assert hub.repo(REPO_ID).repo_type == "dataset"


def test_server_listens_on_loopback_and_stops_itself() -> None:
    with HubServer(max_lifetime=0.5) as hub:
        host, port = hub.url.removeprefix("http://").split(":")
        assert host == "127.0.0.1"
        connection = http.client.HTTPConnection(host, int(port), timeout=5)
        connection.request("GET", "/api/unknown")
        response = connection.getresponse()
        assert response.status == 404
        assert "Not handled by the fake Hub" in json.loads(response.read())["error"]
        connection.close()
        assert [(r.path, r.handled) for r in hub.requests] == [("/api/unknown", False)]

        deadline = time.monotonic() + 5
        while _accepts_connections(host, int(port)):
            assert time.monotonic() < deadline, "the safety timer did not stop the server"
            time.sleep(0.1)
