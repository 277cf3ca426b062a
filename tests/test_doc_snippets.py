"""The docs' Python examples run as written: README.md's, docs/isolation.md's,
docs/training.md's, coding_env's.

Every ```python block is run as a script, in a fresh interpreter, in an empty
directory. Blocks that talk to ``http://localhost:8000`` get the server their doc
starts before them (its last ``openenv serve ENV --port 8000`` block), started the
same way here on a free port, which is the one thing changed in the block; blocks
that call ``from_env`` start their own servers, as a user's would. A block that
needs a sandbox is skipped, with the reason, where sandboxes cannot run; one that
runs a container, where no container engine is installed.
"""

from __future__ import annotations

import os
import queue
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from openenv.runtime.programs import missing_for_sandboxed_programs

REPO = Path(__file__).resolve().parents[1]
DOCS = ["README.md", "docs/isolation.md", "docs/training.md", "envs/coding_env/README.md"]
README_SERVER = "http://localhost:8000"
SERVE_8000 = re.compile(r"^openenv serve (\S+) --port 8000\b", re.MULTILINE)
SANDBOXED = re.compile(r'isolation="sandbox"|coding_env|terminal_env|CodingEnv|TerminalEnv')
CONTAINERS = re.compile(r"from_docker_image|build_image|from_hub")

pytestmark = pytest.mark.timeout(300)

LAST_LINE = {
    'CodingEnv.from_env("coding_env")': "1.0",  # README: the solution passes every test
    'CodingEnv(base_url="http://localhost:8000")': "1.0 8 8",  # coding_env's README
}
"""What a block whose code holds the key prints last, as its comment says."""


@dataclass(frozen=True)
class Snippet:
    """A fenced block: its doc, the line of its opening fence, its text."""

    doc: str
    line: int
    code: str

    @property
    def id(self) -> str:
        return f"{self.doc}:{self.line}"

    def server(self) -> str | None:
        """The environment its doc serves on port 8000 before it, if the block uses that."""
        if README_SERVER not in self.code:
            return None
        served = [
            match.group(1)
            for block in blocks(self.doc, "bash")
            if block.line < self.line
            for match in SERVE_8000.finditer(block.code)
        ]
        assert served, f"{self.id} talks to {README_SERVER}, but its doc serves nothing there"
        return served[-1]


def blocks(doc: str, language: str) -> list[Snippet]:
    """The fenced ``language`` blocks of ``doc`` (a path under the repository), in order."""
    found: list[Snippet] = []
    lines = (REPO / doc).read_text().splitlines()
    start: int | None = None
    for number, line in enumerate(lines, 1):
        if start is None and line.strip() == f"```{language}":
            start = number
        elif start is not None and line.strip() == "```":
            found.append(Snippet(doc, start, "\n".join(lines[start : number - 1]) + "\n"))
            start = None
    return found


SNIPPETS = [snippet for doc in DOCS for snippet in blocks(doc, "python")]


def test_the_docs_have_the_snippets_this_file_runs() -> None:
    """Guards the extraction: a renamed fence or file must not make the tests below vanish."""
    per_doc = {doc: sum(1 for s in SNIPPETS if s.doc == doc) for doc in DOCS}
    assert per_doc["README.md"] >= 6, per_doc
    assert all(per_doc.values()), per_doc
    assert any("from_env(" in s.code for s in SNIPPETS)
    assert all(any(key in s.code for s in SNIPPETS) for key in LAST_LINE), LAST_LINE
    servers = {s.id: s.server() for s in SNIPPETS if README_SERVER in s.code}
    assert set(servers.values()) == {"echo_env", "coding_env"}, servers


class Served:
    """``openenv serve ENV --port 0`` in a subprocess; its URL from its start-up line."""

    def __init__(self, env: str) -> None:
        self.env = env
        self.process = subprocess.Popen(
            [sys.executable, "-m", "openenv", "serve", env, "--port", "0"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.base_url = self._announced()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def _announced(self, timeout: float = 60) -> str:
        while True:
            line = self.lines.get(timeout=timeout)
            assert line is not None, f"openenv serve exited: {self.process.wait()}"
            match = re.search(rf"serving {re.escape(self.env)} on (http://\S+) ", line)
            if match:
                return match.group(1)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


@pytest.fixture(scope="module")
def servers() -> Iterator[Callable[[str], str]]:
    """``servers(env)``: the URL of ``openenv serve env``, started on first use."""
    running: dict[str, Served] = {}

    def url(env: str) -> str:
        if env not in running:
            running[env] = Served(env)
            response = httpx.get(running[env].base_url + "/health", timeout=30)
            assert response.status_code == 200
        return running[env].base_url

    try:
        yield url
    finally:
        for served in running.values():
            served.stop()


@pytest.fixture
def echo_server(servers: Callable[[str], str]) -> str:
    return servers("echo_env")


def run_snippet(snippet: Snippet, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENENV_")}
    return subprocess.run(
        [sys.executable, "-c", snippet.code],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=240,
        env=env,
    )


@pytest.mark.parametrize("snippet", SNIPPETS, ids=[s.id for s in SNIPPETS])
def test_snippet_runs_as_written(
    snippet: Snippet, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if SANDBOXED.search(snippet.code):
        missing = missing_for_sandboxed_programs()
        if missing is not None:
            pytest.skip(f"needs sandboxes: {missing}")
    if CONTAINERS.search(snippet.code) and not (shutil.which("podman") or shutil.which("docker")):
        pytest.skip("needs a container engine: apt-get install podman (scripts/apt-packages.txt)")
    code = snippet.code
    env = snippet.server()
    if env is not None:
        code = code.replace(README_SERVER, request.getfixturevalue("servers")(env))
    result = run_snippet(Snippet(snippet.doc, snippet.line, code), tmp_path)
    assert result.returncode == 0, f"{snippet.id} failed:\n{result.stderr}"
    for key, last in LAST_LINE.items():
        if key in snippet.code:
            assert result.stdout.splitlines()[-1] == last, result.stdout
            assert f"# {last}" in snippet.code


def test_readme_quick_start_prints_what_it_says(echo_server: str, tmp_path: Path) -> None:
    """The first block's comments show its output; the async block echoes too."""
    first, asynchronous = [s for s in SNIPPETS if s.doc == "README.md"][:2]
    assert "# hi 0.2" in first.code
    code = first.code.replace(README_SERVER, echo_server)
    result = run_snippet(Snippet(first.doc, first.line, code), tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "hi 0.2", result.stdout
    assert re.fullmatch(r"episode_id='[^']+' step_count=1", lines[1]), result.stdout

    assert "asyncio.run(main())" in asynchronous.code
    code = asynchronous.code.replace(README_SERVER, echo_server)
    result = run_snippet(Snippet(asynchronous.doc, asynchronous.line, code), tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["hi"]


READER = '''
from openenv import Action, Environment, Observation, State


class ReadAction(Action):
    path: str
    write: bool = False


class ReadObservation(Observation):
    text: str = ""


class ReaderEnv(Environment[ReadAction, ReadObservation, State]):
    """Reads (or tries to write) a file, from inside its sandbox."""

    def _reset(self, seed=None, episode_id=None):
        return ReadObservation()

    def _step(self, action, timeout_s=None):
        try:
            with open(action.path, "a" if action.write else "r") as file:
                text = "written" if action.write and file.write("x") else file.read()
        except OSError as exc:
            text = f"{type(exc).__name__}: {exc.strerror}"
        return ReadObservation(text=text)
'''


def reader_env(folder: Path, policy: str) -> Path:
    """A folder environment whose ``openenv.yaml`` is ``policy`` (the doc's block)."""
    folder.mkdir()
    (folder / "reader_mod.py").write_text(READER)
    (folder / "openenv.yaml").write_text(
        f"name: reader\nenvironment: reader_mod:ReaderEnv\n{policy}"
    )
    return folder


def test_isolation_md_read_only_example(tmp_path: Path) -> None:
    """docs/isolation.md's ``openenv.yaml``: refused as it says where the path is missing;
    with the path there, the environment reads it in its sandbox and cannot write it."""
    from openenv import GenericEnvClient
    from openenv.runtime.sandbox import SandboxUnavailable, check_sandbox

    try:
        check_sandbox()
    except SandboxUnavailable as exc:
        pytest.skip(f"needs sandboxes: {exc}")
    doc = (REPO / "docs/isolation.md").read_text()
    [policy] = [b.code for b in blocks("docs/isolation.md", "yaml") if "read_only:" in b.code]
    documented = re.search(r"read_only: \[(\S+)\]", policy)
    assert documented is not None, policy
    path = documented.group(1)

    if not Path(path).exists():  # as written: the one line the doc quotes
        folder = reader_env(tmp_path / "as_written", policy)
        result = subprocess.run(
            [sys.executable, "-m", "openenv", "serve", str(folder), "--port", "0"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 1, result
        [line] = result.stderr.splitlines()
        quoted = re.search(r"`(error: sandbox\.read_only: [^`]+)`", doc)
        assert quoted is not None
        assert line == " ".join(quoted.group(1).split())

    dataset = tmp_path / "dataset"
    dataset.mkdir()
    (dataset / "task0.json").write_text('{"prompt": "add two numbers"}')
    folder = reader_env(tmp_path / "with_data", policy.replace(path, str(dataset)))
    with GenericEnvClient.from_env(folder) as env:
        env.reset()
        read = env.step({"path": str(dataset / "task0.json")}).observation["text"]
        assert read == '{"prompt": "add two numbers"}'
        written = env.step({"path": str(dataset / "task0.json"), "write": True})
        assert written.observation["text"] == "OSError: Read-only file system"
    assert (dataset / "task0.json").read_text() == '{"prompt": "add two numbers"}'
