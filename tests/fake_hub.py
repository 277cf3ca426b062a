"""A local Hugging Face Hub for the tests: a real HTTP server on 127.0.0.1.

:class:`FakeHub` answers what ``huggingface_hub`` (the version in this venv) asks for

- to publish a Space (``openenv push``): ``whoami-v2``, ``repos/create``,
  ``validate-yaml``, ``preupload`` and ``commit`` (regular, base64 files);
- to download one (``snapshot_download(repo_id, repo_type="space")``, what
  ``EnvClient.from_env("owner/space", use_docker=False)`` calls):
  ``GET /api/spaces/OWNER/NAME/revision/REV`` (``sha`` and ``siblings``),
  ``GET /api/spaces/OWNER/NAME/tree/SHA?recursive=...`` (one page of files) and
  ``HEAD``/``GET /spaces/OWNER/NAME/resolve/SHA/PATH`` (``X-Repo-Commit``, ``ETag``,
  the bytes).

Everything else is a 404 that names the request. Publishing needs the token
:data:`TOKEN`; downloading a (public) Space needs none. A Space holds the files of
every commit to it, merged, as the Hub does; :meth:`FakeHub.seed` puts files there
directly. Each request is recorded in :attr:`FakeHub.calls`.

``serve(monkeypatch)`` starts one and points ``$HF_ENDPOINT`` (and huggingface_hub's
import-time copy of it) at it, with huggingface_hub's cache in a temporary folder;
``isolate_from_real_hub(monkeypatch)`` removes the developer's token and anything
that could reach huggingface.co.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

import pytest

TOKEN = "hf_test_token"
USER = "tester"
_REPO = r"([^/]+/[^/]+)"
PUBLISH = re.compile(rf"^/api/spaces/{_REPO}/(preupload|commit)/main$")
REVISION = re.compile(rf"^/api/spaces/{_REPO}/revision/([^/]+)$")
TREE = re.compile(rf"^/api/spaces/{_REPO}/tree/([^/]+)$")
RESOLVE = re.compile(rf"^/spaces/{_REPO}/resolve/([^/]+)/(.+)$")

Answer = tuple[int, Any, dict[str, str]]
"""Status, a JSON body (or bytes, sent as they are) and extra headers."""


@dataclass
class Commit:
    repo_id: str
    summary: str
    files: dict[str, bytes]


@dataclass
class Space:
    """A Space's files (all commits merged) and the oid of its last commit."""

    files: dict[str, bytes] = field(default_factory=dict)
    sha: str = "0" * 40


@dataclass
class FakeHub:
    """What huggingface_hub calls to publish and to download a Space, and nothing else."""

    url: str = ""
    calls: list[tuple[str, str]] = field(default_factory=list)
    authorizations: list[str | None] = field(default_factory=list)
    created: list[dict[str, Any]] = field(default_factory=list)
    commits: list[Commit] = field(default_factory=list)
    spaces: dict[str, Space] = field(default_factory=dict)
    forbidden: set[str] = field(default_factory=set)
    """Repositories that belong to someone else: creating them answers 403."""
    refuse_tokens: bool = False
    """Answer 401 to every request (a revoked or mistyped token)."""

    @property
    def repos(self) -> set[str]:
        return set(self.spaces)

    def seed(self, repo_id: str, files: dict[str, bytes | str]) -> str:
        """Commit ``files`` to the Space ``repo_id`` (created if need be); returns the oid."""
        encoded = {p: f.encode() if isinstance(f, str) else f for p, f in files.items()}
        return self._store(Commit(repo_id, "seeded", encoded))

    def downloads(self, repo_id: str) -> list[str]:
        """The paths of ``repo_id``'s files that were downloaded (GET), in order."""
        prefix = f"/spaces/{repo_id}/resolve/"
        return [
            path[len(prefix) :].split("/", 1)[1]
            for method, path in self.calls
            if method == "GET" and path.startswith(prefix)
        ]

    # -- the requests --------------------------------------------------------------------------

    def answer(self, method: str, path: str, body: bytes, authorization: str | None) -> Answer:
        if self.refuse_tokens:
            return _error(401, "Invalid credentials in Authorization header")
        if method in ("GET", "HEAD") and (
            REVISION.match(path) or TREE.match(path) or RESOLVE.match(path)
        ):
            return self._download(method, path)
        if authorization != f"Bearer {TOKEN}":
            return _error(401, "Invalid credentials in Authorization header")
        return self._publish(method, path, body)

    def _publish(self, method: str, path: str, body: bytes) -> Answer:
        if method == "GET" and path == "/api/whoami-v2":
            return 200, {"type": "user", "name": USER, "orgs": [], "auth": {}}, {}
        if method == "POST" and path == "/api/repos/create":
            payload = json.loads(body)
            self.created.append(payload)
            repo_id = f"{payload.get('organization') or USER}/{payload['name']}"
            if repo_id in self.forbidden:
                return _error(
                    403, "You don't have the rights to create a space under this namespace"
                )
            if repo_id in self.spaces:
                answer = {
                    "error": "You already created this space repo",
                    "url": self._page(repo_id),
                }
                return 409, answer, {"X-Error-Message": answer["error"]}
            self.spaces[repo_id] = Space()
            return 200, {"url": self._page(repo_id), "name": repo_id}, {}
        if method == "POST" and path == "/api/validate-yaml":
            return 200, {"errors": [], "warnings": []}, {}
        match = PUBLISH.match(path)
        if method == "POST" and match and match.group(1) in self.spaces:
            repo_id, what = match.groups()
            if what == "preupload":
                files = json.loads(body)["files"]
                modes = [
                    {"path": f["path"], "uploadMode": "regular", "shouldIgnore": False}
                    for f in files
                ]
                return 200, {"files": modes}, {}
            oid = self._store(_commit(repo_id, body))
            return 200, {"commitUrl": f"{self._page(repo_id)}/commit/{oid}", "commitOid": oid}, {}
        return _error(404, f"the fake Hub has no {method} {path}")

    def _store(self, commit: Commit) -> str:
        self.commits.append(commit)
        space = self.spaces.setdefault(commit.repo_id, Space())
        space.files.update(commit.files)
        space.sha = f"{len(self.commits):040x}"
        return space.sha

    def _download(self, method: str, path: str) -> Answer:
        match = REVISION.match(path) or TREE.match(path) or RESOLVE.match(path)
        assert match is not None
        repo_id, revision = match.group(1), unquote(match.group(2))
        space = self.spaces.get(repo_id)
        if space is None:
            return _error(404, "Repository not found", code="RepoNotFound")
        if revision not in ("main", space.sha):
            return _error(404, f"Invalid rev id: {revision}", code="RevisionNotFound")
        if REVISION.match(path):
            siblings = [{"rfilename": name} for name in sorted(space.files)]
            info = {"id": repo_id, "sha": space.sha, "sdk": "docker", "siblings": siblings}
            return 200, info, {}
        if TREE.match(path):
            tree = [
                {"type": "file", "path": name, "size": len(data), "oid": _git_oid(data)}
                for name, data in sorted(space.files.items())
            ]
            return 200, tree, {}
        name = unquote(match.group(3))
        if name not in space.files:
            return _error(404, f"{name} is not in {repo_id}", code="EntryNotFound")
        data = space.files[name]
        return 200, data, {"X-Repo-Commit": space.sha, "ETag": f'"{_git_oid(data)}"'}

    def _page(self, repo_id: str) -> str:
        return f"{self.url}/spaces/{repo_id}"


def _error(status: int, message: str, code: str | None = None) -> Answer:
    headers = {"X-Error-Message": message, **({"X-Error-Code": code} if code else {})}
    return status, {"error": message}, headers


def _commit(repo_id: str, body: bytes) -> Commit:
    lines = [json.loads(line) for line in body.splitlines() if line.strip()]
    header, operations = lines[0], lines[1:]
    assert header["key"] == "header"
    files = {}
    for operation in operations:
        assert operation["key"] == "file", operation["key"]  # "regular" files only
        assert operation["value"]["encoding"] == "base64"
        files[operation["value"]["path"]] = base64.b64decode(operation["value"]["content"])
    return Commit(repo_id, header["value"]["summary"], files)


def _git_oid(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _handler(hub: FakeHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._serve("GET")

        def do_HEAD(self) -> None:
            self._serve("HEAD")

        def do_POST(self) -> None:
            self._serve("POST")

        def _serve(self, method: str) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            path = self.path.split("?", 1)[0]
            hub.calls.append((method, path))
            hub.authorizations.append(self.headers.get("Authorization"))
            status, answer, headers = hub.answer(
                method, path, body, self.headers.get("Authorization")
            )
            raw = isinstance(answer, bytes)
            data = answer if raw else json.dumps(answer).encode()
            self.send_response(status)
            self.send_header(
                "Content-Type", "application/octet-stream" if raw else "application/json"
            )
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            if method != "HEAD":
                self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


def isolate_from_real_hub(monkeypatch: pytest.MonkeyPatch) -> None:
    """No token of the developer's, and nothing that could reach huggingface.co."""
    from huggingface_hub import constants

    for name in ("HF_TOKEN", "HF_OIDC_RESOURCE", "HF_HUB_OFFLINE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_TELEMETRY", True)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)


def serve(monkeypatch: pytest.MonkeyPatch, *, refuse_tokens: bool = False) -> Iterator[FakeHub]:
    """A running :class:`FakeHub` that ``$HF_ENDPOINT`` names (a generator, for fixtures)."""
    from huggingface_hub import constants

    hub = FakeHub(refuse_tokens=refuse_tokens)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(hub))
    hub.url = f"http://127.0.0.1:{server.server_address[1]}"
    # huggingface_hub read $HF_ENDPOINT at import: our code reads it again at each call, and
    # anything that used the import-time value would land here too (and show in hub.calls).
    monkeypatch.setenv("HF_ENDPOINT", hub.url)
    monkeypatch.setattr(constants, "ENDPOINT", hub.url)
    template = hub.url + "/{repo_id}/resolve/{revision}/{filename}"  # files' URLs
    monkeypatch.setattr(constants, "HUGGINGFACE_CO_URL_TEMPLATE", template)
    cache = tempfile.TemporaryDirectory(prefix="fake-hub-cache-")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", cache.name)  # downloads land here
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield hub
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        cache.cleanup()
