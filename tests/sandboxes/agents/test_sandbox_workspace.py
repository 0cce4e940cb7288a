"""Tools and the loop over a sandbox backend: a fake one for error mapping and cancel,
and a real bubblewrap sandbox for a scripted fixer run."""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from sandboxes.agents.cancel import CancelFlag, Cancelled
from sandboxes.agents.loop import AgentLoop, loop_state_new
from sandboxes.agents.profiles import FIXER
from sandboxes.agents.sandbox_workspace import SandboxWorkspace
from sandboxes.agents.scripted import ScriptedProvider
from sandboxes.agents.tools import tool_execute
from sandboxes.agents.workspace import WorkspaceUnavailable
from tests.sandboxes.agents.conftest import EventLog


class Refused(Exception):
    pass


class Gone(Exception):
    pass


@dataclass(frozen=True)
class Result:
    exit_code: int
    output: bytes
    timed_out: bool = False


@dataclass(frozen=True)
class Entry:
    path: str
    is_dir: bool
    size: int


class FakeBackend:
    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.gone = False
        self.release = threading.Event()
        self.cancelled: list[str] = []

    def exec(
        self,
        handle: Any,
        command: str,
        *,
        timeout: float = 60,
        output_limit: int = 0,
        cancel: threading.Event | None = None,
    ) -> Result:
        if self.gone:
            raise Gone("container vanished")
        if command == "block":
            deadline = time.monotonic() + 10
            while not self.release.is_set() and time.monotonic() < deadline:
                if cancel is not None and cancel.wait(0.01):
                    self.cancelled.append(command)  # a real backend kills the command here
                    return Result(-9, b"")
        return Result(0, f"ran {command}".encode())

    def read_file(self, handle: Any, path: str, *, max_bytes: int) -> bytes:
        if path not in self.files:
            raise Refused("no such file")
        return self.files[path][:max_bytes]

    def write_file(self, handle: Any, path: str, data: bytes) -> None:
        self.files[path] = data

    def list_files(self, handle: Any, path: str = "") -> list[Entry]:
        return [Entry(name, False, len(data)) for name, data in sorted(self.files.items())]


def fake_workspace(backend: FakeBackend, **kwargs: Any) -> SandboxWorkspace:
    return SandboxWorkspace(backend, "handle-1", refused=(Refused,), gone=(Gone,), **kwargs)


def test_backend_refusals_become_failed_tool_results() -> None:
    workspace = fake_workspace(FakeBackend())
    result = tool_execute(name="read_file", args={"path": "missing.txt"}, workspace=workspace)
    assert (result.ok, result.output) == (False, "error: no such file")

    written = tool_execute(
        name="write_file", args={"path": "a.txt", "content": "x"}, workspace=workspace
    )
    assert written.ok
    listed = tool_execute(name="list_files", args={}, workspace=workspace)
    assert listed.output == "a.txt  (1 bytes)"


def test_a_vanished_sandbox_fails_the_run(tmp_path: Path) -> None:
    backend = FakeBackend()
    backend.gone = True
    events = EventLog()
    loop = AgentLoop(
        profile=FIXER,
        provider=ScriptedProvider([{"tool": "shell", "args": {"command": "ls"}}, {"finish": "x"}]),
        workspace=fake_workspace(backend),
        emit=events,
    )

    state = loop.run(loop_state_new(profile=FIXER, task="x"))

    assert state.outcome == "failed"
    assert state.reason == "the sandbox is gone: container vanished"
    assert events.of("error")[-1]["kind"] == "workspace"


def test_cancel_stops_waiting_for_a_backend_command_and_calls_on_cancel() -> None:
    backend = FakeBackend()
    stopped: list[bool] = []
    workspace = fake_workspace(backend, on_cancel=lambda: stopped.append(True))
    cancel = CancelFlag()
    threading.Timer(0.2, cancel.cancel).start()
    started = time.monotonic()

    with pytest.raises(Cancelled):
        workspace.exec("block", timeout=30, cancel=cancel)

    assert time.monotonic() - started < 3
    assert backend.cancelled == ["block"]  # the command itself was cancelled in the backend
    assert stopped == [True]
    backend.release.set()


def test_gone_during_exec_is_workspace_unavailable() -> None:
    backend = FakeBackend()
    backend.gone = True
    with pytest.raises(WorkspaceUnavailable):
        fake_workspace(backend).exec("ls", timeout=5)


@pytest.fixture
def bubblewrap() -> Iterator[Any]:
    backends = pytest.importorskip("sandboxes.backends.bubblewrap")
    backend = backends.BubblewrapBackend(root=Path(tempfile.mkdtemp(prefix="agora-agent-test-")))
    usable, why = backend.available()
    if not usable:
        pytest.skip(f"bubblewrap backend unavailable: {why}")
    backend.root.chmod(0o711)  # the sandbox uid must traverse it
    try:
        yield backend
    finally:
        for handle in backend.list_by_label():
            backend.remove(handle)
        shutil.rmtree(backend.root, ignore_errors=True)


def test_scripted_fixer_run_in_a_real_bubblewrap_sandbox(bubblewrap: Any) -> None:
    from sandboxes.backends.base import LaunchSpec

    handle = bubblewrap.launch(LaunchSpec(sandbox_id=f"agent{os.getpid()}{os.urandom(2).hex()}"))
    events = EventLog()
    steps = [
        {"tool": "write_file", "args": {"path": "src/a.txt", "content": "hello from the agent\n"}},
        {"tool": "shell", "args": {"command": "cat src/a.txt"}},
        {"finish": "done"},
    ]
    loop = AgentLoop(
        profile=FIXER,
        provider=ScriptedProvider(steps),
        workspace=SandboxWorkspace.for_backend(bubblewrap, handle),
        emit=events,
    )

    state = loop.run(loop_state_new(profile=FIXER, task="write and show a file"))

    assert state.outcome == "succeeded", state.reason
    results = events.of("tool_result")
    assert results[0]["output"] == "wrote 21 bytes to src/a.txt"
    assert results[1]["output"] == "hello from the agent\n[exit code 0]"
    assert bubblewrap.read_file(handle, "src/a.txt", max_bytes=100) == b"hello from the agent\n"
    listed = tool_execute(name="list_files", args={"path": "src"}, workspace=loop.workspace)
    assert listed.output == "src/a.txt  (21 bytes)"
    found = tool_execute(name="search", args={"pattern": "agent"}, workspace=loop.workspace)
    assert found.output == "src/a.txt:1:hello from the agent"
