"""A loopback fake of the Hugging Face Hub HTTP API, for end-to-end tests without network.

Tests of code that pushes to / loads from the Hub should exercise the real ``huggingface_hub`` and
``datasets`` clients (their request sequencing, validation and caching are part of what we test),
but must never talk to huggingface.co. ``HubServer`` answers the subset of the Hub API those
clients use, keeps repositories in memory and records every request, so a test can assert both on
the resulting repository content and on *how* the client got there.

Usage::

    with HubServer(tokens={"hf_test"}) as hub:
        env = hub.client_env(tmp_path / "hf_home", token="hf_test")
        subprocess.run([sys.executable, "-c", script], env=env, check=True)
        assert hub.files("user/name")["README.md"].startswith(b"---")

Implemented endpoints (``{type}`` is ``models``/``datasets``/``spaces``; ``{prefix}`` is ``""``,
``datasets/`` or ``spaces/``):

* ``POST /api/repos/create`` - 409 "You already created this <type> repo" when the id exists,
  whatever its type: ids are unique across repo types in this fake. huggingface_hub swallows every
  409 when ``exist_ok=True``, so a clash with another type only surfaces with ``exist_ok=False``,
  or later as ``RepositoryNotFoundError`` on upload.
* ``POST /api/validate-yaml`` - rejects every card while ``reject_yaml`` holds a reason (400 with
  ``{"errors": [{"message": ...}]}``, which huggingface_hub turns into ``ValueError``).
* ``GET /api/{type}/{repo}`` and ``.../revision/{rev}`` (siblings; sizes and LFS info with
  ``?blobs=true``; no ``cardData``, which would need a YAML parser).
* ``GET /api/{type}/{repo}/tree/{rev}[/{path}]`` (``recursive``, ``expand`` -> ``lastCommit``;
  never paginated) and ``POST /api/{type}/{repo}/paths-info/{rev}`` (form-encoded, as sent).
* ``POST /api/{type}/{repo}/preupload/{rev}``; ``POST /{prefix}{repo}.git/info/lfs/objects/batch``
  (basic transfer), ``PUT`` to the one-time ``/_lfs_storage/{signature}`` href it hands out (the
  client sends no Authorization header there, like an S3 pre-signed URL), ``POST
  /{prefix}{repo}.git/info/lfs/objects/verify``; ``POST /api/{type}/{repo}/commit/{rev}`` (NDJSON
  ``header``/``file``/``lfsFile``/``deletedFile``/``deletedFolder``; ``main`` only, no PRs).
* ``GET``/``HEAD /{prefix}{repo}/resolve/{rev}/{path}`` with ``ETag``, ``X-Repo-Commit``,
  ``X-Linked-Etag``/``X-Linked-Size`` (LFS files), ``Content-Length`` and ``Range`` support.
  Revisions are ``main`` or a full commit sha.

Anything else gets a JSON 404 and stays visible in ``requests`` (that is how the list above was
found).

Failure modes (``fault``, for the next ``fault_count`` requests, or all while it is None, whose path
matches ``fault_paths``): ``"401"`` (invalid credentials), ``"500"`` (internal error), ``"close"`` (the
connection is closed without an answer), ``"stall"`` (no answer for ``stall_seconds``, then closed),
``"echo"`` (400 whose error message quotes every request header, ``Authorization`` included, as a
careless proxy would). Authentication mirrors the Hub: a token the server does not know gets 401 "Invalid
credentials in Authorization header" everywhere (huggingface_hub raises ``HfHubHTTPError`` with
status 401); no token is fine for reads of public repos, private repos then look missing (404
``RepoNotFound``), and writes need a token.

Pointing the clients at the server (huggingface_hub 2.4, datasets 5.2):

* Both libraries read their settings into module constants *at import time*:
  ``huggingface_hub.constants.ENDPOINT``/``HUGGINGFACE_CO_URL_TEMPLATE``/``HF_HUB_DISABLE_XET``
  and ``datasets.config.HF_ENDPOINT``/``HUB_DATASETS_URL``/``HF_UPDATE_DOWNLOAD_COUNTS``. Passing
  ``HfApi(endpoint=...)`` is not enough: ``RepoCard.validate`` and ``hf_hub_url`` use the constants.
  The reliable way is a fresh interpreter whose environment comes from ``HubServer.client_env``:
  ``HF_ENDPOINT``, ``HF_HUB_DISABLE_XET=1`` (hf_xet is installed; with it uploads go through a Xet
  CAS instead of LFS), ``HF_UPDATE_DOWNLOAD_COUNTS=0`` (otherwise ``load_dataset`` sends a HEAD to
  s3.amazonaws.com), ``HF_HUB_DISABLE_TELEMETRY=1``, a fresh ``HF_HOME``/``HF_HUB_CACHE``/
  ``HF_DATASETS_CACHE``, ``NO_PROXY`` for 127.0.0.1, offline switches and ambient tokens removed.
* The client must also set ``datasets.config.USE_PARQUET_EXPORT = False`` (there is no env var):
  ``load_dataset("user/name")`` otherwise queries the dataset viewer at
  ``HF_ENDPOINT.replace("://", "://datasets-server.")``, i.e. it resolves the host name
  ``datasets-server.127.0.0.1`` through DNS. The error is swallowed, so nothing fails visibly.
* In-process use means setting all the constants listed above (plus ``USE_PARQUET_EXPORT``) on
  already-imported modules; prefer the subprocess. ``install_loopback_guard`` makes a client
  process refuse (and report on stderr) any non-loopback host lookup, so a leak fails loudly.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import os
import re
import secrets
import socket
import sys
import threading
import traceback
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.message import Message
from fnmatch import fnmatch
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

GUARD_MARKER = "hub_server guard: blocked non-loopback host"
"""Printed to stderr by a client process whose loopback guard refused a host lookup."""

INVALID_CREDENTIALS = "Invalid credentials in Authorization header"
"""The Hub's message for an unknown token; huggingface_hub special-cases this exact text."""

_LFS_PATTERNS = ("*.7z", "*.arrow", "*.bin", "*.gz", "*.h5", "*.npy", "*.npz", "*.parquet", "*.pt",
                 "*.safetensors", "*.tar", "*.tfrecord", "*.zip", "*.zst")
_GITATTRIBUTES = "".join(f"{pattern} filter=lfs diff=lfs merge=lfs -text\n" for pattern in _LFS_PATTERNS)
_LFS_MIN_SIZE = 10 * 1024 * 1024  # the Hub stores bigger files in LFS whatever their name
_URL_PREFIXES = {"model": "", "dataset": "datasets/", "space": "spaces/"}
_KIND_TO_TYPE = {"models": "model", "datasets": "dataset", "spaces": "space", "": "model",
                 "datasets/": "dataset", "spaces/": "space"}  # API path segment or URL prefix
_REPO = r"(?P<repo_id>[^/]+/[^/]+)"
_API_REPO = r"/api/(?P<kind>models|datasets|spaces)/" + _REPO
_GIT_REPO = r"/(?P<kind>datasets/|spaces/)?" + _REPO
_REV = r"(?P<rev>[^/]+)"  # clients quote the revision with safe="", so it is one segment


def _utc_now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _git_blob_oid(content: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()


def _is_true(value: str | None) -> bool:
    return value is not None and value.lower() in ("1", "true")


@dataclass(frozen=True)
class StoredFile:
    """A file at some commit; ``lfs`` says whether the Hub would keep it in LFS storage."""

    content: bytes
    lfs: bool

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()

    @property
    def pointer(self) -> bytes:
        """The git-lfs pointer git stores instead of the content (its blob is the file's git oid)."""
        return (f"version https://git-lfs.github.com/spec/v1\noid sha256:{self.sha256}\n"
                f"size {len(self.content)}\n").encode()

    @property
    def git_oid(self) -> str:
        return _git_blob_oid(self.pointer if self.lfs else self.content)

    @property
    def etag(self) -> str:
        """What huggingface_hub uses as cache key: sha256 for LFS files, the git oid otherwise."""
        return self.sha256 if self.lfs else self.git_oid


@dataclass(frozen=True)
class Commit:
    """One commit: its metadata and the full snapshot of the repo after it."""

    oid: str
    title: str
    description: str
    date: str
    files: Mapping[str, StoredFile]


@dataclass
class Repo:
    """A repository: its history and the LFS objects uploaded to it (which commits may reference)."""

    repo_type: str
    repo_id: str
    private: bool
    created_at: str
    commits: list[Commit] = field(default_factory=list)
    lfs_objects: dict[str, bytes] = field(default_factory=dict)  # sha256 -> content

    @property
    def url_path(self) -> str:
        return _URL_PREFIXES[self.repo_type] + self.repo_id

    def at(self, revision: str) -> Commit:
        """The commit ``revision`` names: ``main`` (the only branch) or a full commit sha."""
        if revision == "main":
            return self.commits[-1]
        for commit in self.commits:
            if commit.oid == revision:
                return commit
        raise _HubError(404, f"Invalid rev id: {revision}", code="RevisionNotFound")

    def add_commit(self, title: str, description: str, files: Mapping[str, StoredFile]) -> Commit:
        parent = self.commits[-1].oid if self.commits else ""
        digest = json.dumps([self.url_path, parent, title, sorted((p, f.git_oid) for p, f in files.items())])
        commit = Commit(hashlib.sha1(digest.encode()).hexdigest(), title, description, _utc_now(), dict(files))
        self.commits.append(commit)
        return commit


@dataclass
class RecordedRequest:
    """One request as the server saw it (path unquoted, no query), filled in once answered.

    ``handled`` is False for requests no endpoint matched: what a client needs and the fake lacks.
    """

    method: str
    path: str
    status: int | None = None
    handled: bool = False


@dataclass
class _Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: Message
    body: bytes

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class _Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, payload: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> _Response:
        return cls(status, json.dumps(payload).encode(), {"Content-Type": "application/json", **(headers or {})})


class _HubError(Exception):
    """An error answer in the Hub's format: JSON ``error`` plus the ``X-Error-*`` headers."""

    def __init__(self, status: int, message: str, *, code: str | None = None,
                 headers: Mapping[str, str] | None = None, payload: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        error_headers = {"X-Error-Message": message, **({"X-Error-Code": code} if code else {}), **(headers or {})}
        self.response = _Response.json({"error": message, **(payload or {})}, status, error_headers)


class HubServer:
    """In-memory Hub on 127.0.0.1 serving from a daemon thread; see the module docstring.

    Attributes a test may set or read between client calls (handlers use them under one lock):
        tokens: bearer tokens the server accepts.
        reject_yaml: when set, every ``/api/validate-yaml`` call fails with this reason.
        requests: every request received, in order.
        fault, fault_count, fault_paths, stall_seconds: the failure mode (see the module docstring).
    """

    FAULTS = ("401", "500", "close", "stall", "echo")

    def __init__(self, tokens: Iterable[str] = ("hf_test",), *, max_lifetime: float = 300.0) -> None:
        self.tokens = set(tokens)
        self.reject_yaml: str | None = None
        self.requests: list[RecordedRequest] = []
        self.fault: str | None = None
        self.fault_count: int | None = None
        self.fault_paths = ""
        self.stall_seconds = 60.0
        self._released = threading.Event()  # ends stalls when the server stops
        self._repos: dict[str, Repo] = {}  # by id alone: ids are unique across repo types
        self._pending_uploads: dict[str, tuple[Repo, str, int]] = {}  # signature -> (repo, oid, size)
        self._lock = threading.Lock()
        self._httpd = _HubHTTPServer(self)
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="hub-server", daemon=True)
        # A forgotten server must not outlive a hung test run.
        self._safety_stop = threading.Timer(max_lifetime, self.stop)
        self._safety_stop.daemon = True
        self._stopped = False

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> HubServer:
        self._thread.start()
        self._safety_stop.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket; idempotent, callable from any thread."""
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
        self._released.set()
        self._safety_stop.cancel()
        if self._thread.is_alive():
            self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> HubServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def client_env(self, hf_home: str | os.PathLike[str], *, token: str | None = None,
                   base: Mapping[str, str] | None = None) -> dict[str, str]:
        """Environment for a client process that must talk to this server and nothing else.

        Starts from ``base`` (default: ``os.environ``), drops settings that would redirect or
        disable the clients or leak a real token, and isolates all caches under ``hf_home``.
        """
        env = dict(os.environ if base is None else base)
        for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_TOKEN_PATH", "HF_HUB_OFFLINE",
                     "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE", "HUGGINGFACE_CO_STAGING"):
            env.pop(name, None)
        home = Path(hf_home)
        env.update(HF_ENDPOINT=self.url, HF_HUB_DISABLE_XET="1", HF_UPDATE_DOWNLOAD_COUNTS="0",
                   HF_HUB_DISABLE_TELEMETRY="1", HF_HOME=str(home), HF_HUB_CACHE=str(home / "hub"),
                   HF_DATASETS_CACHE=str(home / "datasets"))
        for name in ("NO_PROXY", "no_proxy"):
            env[name] = ",".join(filter(None, [env.get(name), "127.0.0.1", "localhost"]))
        if token is not None:
            env["HF_TOKEN"] = token
        return env

    def files(self, repo_id: str, revision: str = "main") -> dict[str, bytes]:
        """Content of every file of ``repo_id`` at ``revision``; KeyError for an unknown repo."""
        with self._lock:
            return {path: stored.content for path, stored in self._repos[repo_id].at(revision).files.items()}

    def commits(self, repo_id: str) -> list[Commit]:
        """History of ``repo_id``, oldest first (the first one is the ``.gitattributes`` commit)."""
        with self._lock:
            return list(self._repos[repo_id].commits)

    def repo(self, repo_id: str) -> Repo:
        """The live repository object (type, visibility, history); KeyError for an unknown repo."""
        with self._lock:
            return self._repos[repo_id]

    # -- request handling; everything below runs under self._lock -------------------------------

    def _take_fault(self, request: _Request) -> str | None:
        """The failure mode this request meets (recording it), or None to serve it."""
        if self.fault is None or self.fault_count == 0 or not re.search(self.fault_paths, request.path):
            return None
        if self.fault not in self.FAULTS:
            raise ValueError(f"fault={self.fault!r}; use one of {self.FAULTS}")
        if self.fault_count is not None:
            self.fault_count -= 1
        status = {"401": 401, "500": 500, "echo": 400}.get(self.fault)
        self.requests.append(RecordedRequest(request.method, unquote(request.path), status, handled=True))
        return self.fault

    def _fault_response(self, fault: str, request: _Request) -> _Response:
        if fault == "401":
            return _HubError(401, INVALID_CREDENTIALS).response
        if fault == "500":
            return _HubError(500, "Internal Error - We're working hard to fix this as soon as possible!").response
        headers = "; ".join(f"{name}: {value}" for name, value in request.headers.items())
        return _HubError(400, f"Bad request, received headers: {headers}").response

    def _handle(self, request: _Request) -> _Response:
        record = RecordedRequest(request.method, unquote(request.path))
        self.requests.append(record)
        try:
            response = self._route(request, record)
        except _HubError as error:
            response = error.response
        except Exception:  # a bug in this server: make it visible in the client's error
            traceback.print_exc()
            response = _Response.json({"error": traceback.format_exc()}, 500)
        record.status = response.status
        return response

    def _route(self, request: _Request, record: RecordedRequest) -> _Response:
        for methods, pattern, handler in self._routes():
            match = re.fullmatch(pattern, request.path)
            if match is not None and request.method in methods:
                record.handled = True
                args = {name: unquote(value) for name, value in match.groupdict().items() if value is not None}
                if "repo_id" in args:
                    args["repo_type"] = _KIND_TO_TYPE[args.pop("kind", "")]
                return handler(request, **args)
        raise _HubError(404, f"Not handled by the fake Hub: {request.method} {request.path}")

    def _routes(self) -> list[tuple[tuple[str, ...], str, Callable[..., _Response]]]:
        return [
            (("POST",), r"/api/repos/create", self._create_repo),
            (("POST",), r"/api/validate-yaml", self._validate_yaml),
            (("GET",), _API_REPO + r"(?:/revision/" + _REV + ")?", self._repo_info),
            (("GET",), _API_REPO + r"/tree/" + _REV + r"(?:/(?P<path>.*))?", self._tree),
            (("POST",), _API_REPO + r"/paths-info/" + _REV, self._paths_info),
            (("POST",), _API_REPO + r"/preupload/" + _REV, self._preupload),
            (("POST",), _API_REPO + r"/commit/" + _REV, self._commit),
            (("POST",), _GIT_REPO + r"\.git/info/lfs/objects/batch", self._lfs_batch),
            (("POST",), _GIT_REPO + r"\.git/info/lfs/objects/verify", self._lfs_verify),
            (("PUT",), r"/_lfs_storage/(?P<signature>[0-9a-f]+)", self._lfs_put),
            (("GET", "HEAD"), _GIT_REPO + r"/resolve/" + _REV + r"/(?P<path>.+)", self._resolve),
        ]

    def _authenticate(self, request: _Request, *, write: bool) -> bool:
        """Whether a valid token was sent; raise like the Hub for a bad one, or none on a write."""
        header = request.headers.get("Authorization")
        if header is None:
            if write:
                raise _HubError(401, "You must be authenticated to perform this action")
            return False
        scheme, _, token = header.partition(" ")
        if scheme != "Bearer" or token not in self.tokens:
            raise _HubError(401, INVALID_CREDENTIALS)
        return True

    def _find_repo(self, request: _Request, repo_type: str, repo_id: str, *, write: bool = False) -> Repo:
        authenticated = self._authenticate(request, write=write)
        repo = self._repos.get(repo_id)
        if repo is None or repo.repo_type != repo_type or (repo.private and not authenticated):
            raise _HubError(404, "Repository not found", code="RepoNotFound")
        return repo

    def _create_repo(self, request: _Request) -> _Response:
        self._authenticate(request, write=True)
        body = request.json()
        if not body.get("organization"):
            raise _HubError(400, "This fake Hub has no users: pass a namespaced repo id ('user/name')")
        repo_id, repo_type = f"{body['organization']}/{body['name']}", body.get("type") or "model"
        existing = self._repos.get(repo_id)
        if existing is not None:
            raise _HubError(409, f"You already created this {existing.repo_type} repo",
                           payload={"url": f"{self.url}/{existing.url_path}"})
        repo = Repo(repo_type, repo_id, private=body.get("visibility") == "private", created_at=_utc_now())
        repo.add_commit("initial commit", "", {".gitattributes": StoredFile(_GITATTRIBUTES.encode(), lfs=False)})
        self._repos[repo_id] = repo
        return _Response.json({"url": f"{self.url}/{repo.url_path}", "name": repo_id, "id": repo_id})

    def _validate_yaml(self, request: _Request) -> _Response:
        self._authenticate(request, write=False)
        if self.reject_yaml is not None:
            raise _HubError(400, self.reject_yaml, payload={"errors": [{"message": self.reject_yaml}]})
        return _Response.json({"errors": [], "warnings": []})

    def _repo_info(self, request: _Request, repo_type: str, repo_id: str, rev: str = "main") -> _Response:
        repo = self._find_repo(request, repo_type, repo_id)
        commit = repo.at(rev)
        with_blobs = _is_true(request.param("blobs"))
        siblings = [_sibling(path, stored, with_blobs) for path, stored in sorted(commit.files.items())]
        return _Response.json({
            "_id": hashlib.sha1(repo.url_path.encode()).hexdigest()[:24], "id": repo_id,
            "author": repo_id.split("/")[0], "sha": commit.oid, "lastModified": commit.date,
            "createdAt": repo.created_at, "private": repo.private, "gated": False, "disabled": False,
            "downloads": 0, "likes": 0, "tags": [], "siblings": siblings,
        })

    def _tree(self, request: _Request, repo_type: str, repo_id: str, rev: str, path: str = "") -> _Response:
        repo = self._find_repo(request, repo_type, repo_id)
        commit = repo.at(rev)
        folder = path.strip("/")
        if folder and folder not in _folders(commit.files):
            raise _HubError(404, f"{folder} does not exist on {rev}", code="EntryNotFound")
        recursive = _is_true(request.param("recursive"))
        under = [p for p in sorted(_folders(commit.files) | set(commit.files)) if _is_under(p, folder, recursive)]
        expand = _is_true(request.param("expand"))
        return _Response.json([_tree_entry(repo, commit, p, expand) for p in under])

    def _paths_info(self, request: _Request, repo_type: str, repo_id: str, rev: str) -> _Response:
        repo = self._find_repo(request, repo_type, repo_id)
        commit = repo.at(rev)
        form = parse_qs(request.body.decode())
        existing = _folders(commit.files) | set(commit.files)
        expand = _is_true(form.get("expand", [None])[0])
        paths = [p.strip("/") for p in form.get("paths", [])]
        return _Response.json([_tree_entry(repo, commit, p, expand) for p in paths if p in existing])

    def _preupload(self, request: _Request, repo_type: str, repo_id: str, rev: str) -> _Response:
        head = self._find_repo(request, repo_type, repo_id, write=True).at(rev)
        files = []
        for item in request.json()["files"]:
            sample = base64.b64decode(item["sample"])
            lfs = item["size"] >= _LFS_MIN_SIZE or b"\0" in sample or any(
                fnmatch(item["path"].rsplit("/", 1)[-1], pattern) for pattern in _LFS_PATTERNS)
            remote = head.files.get(item["path"])
            # huggingface_hub skips unchanged files by comparing this with sha256 / git sha1.
            remote_oid = None if remote is None else (remote.sha256 if remote.lfs else _git_blob_oid(remote.content))
            files.append({"path": item["path"], "uploadMode": "lfs" if lfs else "regular",
                          "shouldIgnore": False, "oid": remote_oid})
        return _Response.json({"files": files, "commitOid": head.oid})

    def _lfs_batch(self, request: _Request, repo_type: str, repo_id: str) -> _Response:
        repo = self._find_repo(request, repo_type, repo_id, write=True)
        body = request.json()
        if body.get("operation") != "upload":
            raise _HubError(400, "This fake Hub only implements LFS uploads")
        objects = []
        for obj in body["objects"]:
            entry: dict[str, Any] = {"oid": obj["oid"], "size": obj["size"], "authenticated": True}
            if obj["oid"] not in repo.lfs_objects:
                signature = secrets.token_hex(16)
                self._pending_uploads[signature] = (repo, obj["oid"], obj["size"])
                entry["actions"] = {
                    "upload": {"href": f"{self.url}/_lfs_storage/{signature}"},
                    "verify": {"href": f"{self.url}/{repo.url_path}.git/info/lfs/objects/verify"},
                }
            objects.append(entry)
        return _Response.json({"transfer": "basic", "objects": objects, "hash_algo": "sha256"},
                              headers={"Content-Type": "application/vnd.git-lfs+json"})

    def _lfs_put(self, request: _Request, signature: str) -> _Response:
        if signature not in self._pending_uploads:
            raise _HubError(403, "Unknown or already used upload URL")
        repo, oid, size = self._pending_uploads.pop(signature)
        if len(request.body) != size or hashlib.sha256(request.body).hexdigest() != oid:
            raise _HubError(400, f"Uploaded content does not match oid {oid} / size {size}")
        repo.lfs_objects[oid] = request.body
        return _Response(200, headers={"ETag": f'"{hashlib.md5(request.body).hexdigest()}"'})

    def _lfs_verify(self, request: _Request, repo_type: str, repo_id: str) -> _Response:
        repo = self._find_repo(request, repo_type, repo_id, write=True)
        body = request.json()
        content = repo.lfs_objects.get(body["oid"])
        if content is None or len(content) != body["size"]:
            raise _HubError(404, f"LFS object {body['oid']} was not uploaded")
        return _Response.json({"success": True})

    def _commit(self, request: _Request, repo_type: str, repo_id: str, rev: str) -> _Response:
        repo = self._find_repo(request, repo_type, repo_id, write=True)
        if rev != "main":
            raise _HubError(404, f"This fake Hub only commits to main, not {rev}", code="RevisionNotFound")
        if request.param("create_pr"):
            raise _HubError(400, "This fake Hub does not implement pull requests")
        lines = [json.loads(line) for line in request.body.splitlines() if line.strip()]
        header = next((line["value"] for line in lines if line["key"] == "header"), None)
        if header is None:
            raise _HubError(400, "The commit payload has no header line")
        files = dict(repo.at(rev).files)
        for line in lines:
            _apply_operation(repo, files, line["key"], line["value"])
        commit = repo.add_commit(header["summary"], header.get("description", ""), files)
        return _Response.json({"success": True, "commitOid": commit.oid, "hookOutput": "",
                               "commitUrl": f"{self.url}/{repo.url_path}/commit/{commit.oid}"})

    def _resolve(self, request: _Request, repo_type: str, repo_id: str, rev: str, path: str) -> _Response:
        commit = self._find_repo(request, repo_type, repo_id).at(rev)
        stored = commit.files.get(path)
        headers = {"X-Repo-Commit": commit.oid}
        if stored is None:
            raise _HubError(404, "Entry not found", code="EntryNotFound", headers=headers)
        headers |= {"ETag": f'"{stored.etag}"', "Accept-Ranges": "bytes", "Content-Type": "application/octet-stream"}
        if stored.lfs:  # the Hub sends these on its redirect to the CDN; clients prefer them to ETag
            headers |= {"X-Linked-Etag": f'"{stored.sha256}"', "X-Linked-Size": str(len(stored.content))}
        byte_range = request.headers.get("Range")
        if byte_range is None:
            return _Response(200, stored.content, headers)
        start, end = _parse_range(byte_range, len(stored.content))
        headers["Content-Range"] = f"bytes {start}-{end}/{len(stored.content)}"
        return _Response(206, stored.content[start:end + 1], headers)


def _apply_operation(repo: Repo, files: dict[str, StoredFile], key: str, value: Mapping[str, Any]) -> None:
    """Apply one NDJSON commit line to the snapshot ``files``."""
    if key == "file":
        files[value["path"]] = StoredFile(base64.b64decode(value["content"]), lfs=False)
    elif key == "lfsFile":
        content = repo.lfs_objects.get(value["oid"])
        if content is None:
            raise _HubError(400, f"LFS object {value['oid']} for {value['path']} was never uploaded")
        files[value["path"]] = StoredFile(content, lfs=True)
    elif key == "deletedFile":
        if files.pop(value["path"], None) is None:
            raise _HubError(404, f"A file with this name doesn't exist: {value['path']}", code="EntryNotFound")
    elif key == "deletedFolder":
        for path in [p for p in files if _is_under(p, value["path"].strip("/"), recursive=True)]:
            del files[path]
    elif key != "header":
        raise _HubError(400, f"Unknown commit operation {key!r}")


def _folders(files: Iterable[str]) -> set[str]:
    return {path.rsplit("/", depth)[0] for path in files for depth in range(1, path.count("/") + 1)}


def _is_under(path: str, folder: str, recursive: bool) -> bool:
    if folder and not path.startswith(folder + "/"):
        return False
    rest = path[len(folder) + 1:] if folder else path
    return recursive or "/" not in rest


def _last_commit_touching(repo: Repo, commit: Commit, path: str) -> Commit:
    """Newest commit up to ``commit`` that changed ``path`` (a file, or anything below a folder)."""
    def state(snapshot: Commit) -> list[tuple[str, str]]:
        return sorted((p, f.git_oid) for p, f in snapshot.files.items()
                      if p == path or _is_under(p, path, recursive=True))

    history = repo.commits[:repo.commits.index(commit) + 1]
    for index in range(len(history) - 1, 0, -1):
        if state(history[index]) != state(history[index - 1]):
            return history[index]
    return history[0]


def _tree_entry(repo: Repo, commit: Commit, path: str, expand: bool) -> dict[str, Any]:
    stored = commit.files.get(path)
    if stored is None:
        children = sorted((p, f.git_oid) for p, f in commit.files.items() if _is_under(p, path, recursive=True))
        entry: dict[str, Any] = {"type": "directory", "path": path, "size": 0,
                                 "oid": hashlib.sha1(json.dumps(children).encode()).hexdigest()}
    else:
        entry = {"type": "file", "path": path, "size": len(stored.content), "oid": stored.git_oid}
        if stored.lfs:
            entry["lfs"] = {"oid": stored.sha256, "size": len(stored.content), "pointerSize": len(stored.pointer)}
    if expand:
        last = _last_commit_touching(repo, commit, path)
        entry["lastCommit"] = {"id": last.oid, "title": last.title, "date": last.date}
    return entry


def _sibling(path: str, stored: StoredFile, with_blobs: bool) -> dict[str, Any]:
    if not with_blobs:
        return {"rfilename": path}
    sibling: dict[str, Any] = {"rfilename": path, "size": len(stored.content), "blobId": stored.git_oid}
    if stored.lfs:
        sibling["lfs"] = {"sha256": stored.sha256, "size": len(stored.content), "pointerSize": len(stored.pointer)}
    return sibling


def _parse_range(header: str, size: int) -> tuple[int, int]:
    """Inclusive ``(start, end)`` of a single-range ``Range`` header, or 416 like S3."""
    match = re.fullmatch(r"\s*bytes=(\d*)-(\d*)\s*", header)
    if match is None or match.group(1) == match.group(2) == "":
        raise _HubError(400, f"Unsupported Range header: {header}")
    first, last = match.groups()
    if first:
        start, end = int(first), min(int(last), size - 1) if last else size - 1
    else:
        start, end = max(size - int(last), 0), size - 1
    if start >= size or start > end:
        raise _HubError(416, "Requested range not satisfiable", headers={"Content-Range": f"bytes */{size}"})
    return start, end


class _HubHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, hub: HubServer) -> None:
        super().__init__(("127.0.0.1", 0), _RequestHandler)
        self.hub = hub


class _RequestHandler(BaseHTTPRequestHandler):
    """HTTP glue: parse, hand the request to the hub under its lock, write the answer."""

    server: _HubHTTPServer
    protocol_version = "HTTP/1.1"  # keep-alive, as the clients pool connections
    timeout = 30  # lets threads blocked on idle keep-alive connections end

    def do_GET(self) -> None:
        self._serve()

    # DELETE has no endpoint yet: accepting it gets such calls a JSON 404 and a place in the log.
    do_HEAD = do_POST = do_PUT = do_DELETE = do_GET

    def _serve(self) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        request = _Request(self.command, url.path, parse_qs(url.query), self.headers, self.rfile.read(length))
        hub = self.server.hub
        with hub._lock:
            fault = hub._take_fault(request)
            response = hub._handle(request) if fault is None else None
        if fault in ("close", "stall"):
            if fault == "stall":
                hub._released.wait(hub.stall_seconds)
            self.close_connection = True
            return
        if response is None:
            response = hub._fault_response(fault, request)
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def log_message(self, format: str, *args: Any) -> None:
        """Silenced: ``HubServer.requests`` is the log."""


def install_loopback_guard() -> None:
    """Make this process refuse every host lookup except loopback, reporting it on stderr.

    Meant for client subprocesses: libraries swallow some connection errors (dataset viewer
    and download-count calls in ``datasets``), so the report is what makes such a leak visible.
    """
    real_getaddrinfo = socket.getaddrinfo

    def loopback_only(host: str | bytes | None, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        if name is not None and name != "localhost" and not _is_loopback_ip(name):
            print(f"{GUARD_MARKER}: {name}", file=sys.stderr, flush=True)
            raise OSError(f"{GUARD_MARKER}: {name}")
        return real_getaddrinfo(host, *args, **kwargs)

    socket.getaddrinfo = loopback_only


def _is_loopback_ip(name: str) -> bool:
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False
