"""Where an agent's tools act: the ``Workspace`` protocol and path safety.

Tools never touch a backend directly, so the same tool code drives a bubblewrap or Docker
sandbox (through an adapter over ``SandboxBackend``) and, in unit tests, a plain directory.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple, Protocol

from sandboxes.agents.cancel import Cancelled, CancelSignal, cancel_requested

WORKDIR = "/workspace"


class WorkspaceError(Exception):
    """A file operation failed or was refused (missing file, not a file, outside the workspace)."""


class WorkspaceUnavailable(Exception):
    """The sandbox behind the workspace is gone; the run cannot continue."""


class ExecOutcome(NamedTuple):
    exit_code: int
    output: str
    timed_out: bool = False


@dataclass(frozen=True)
class FileInfo:
    path: str  # relative to the workspace
    is_dir: bool
    size: int


class Workspace(Protocol):
    """The operations tools need. Paths are relative to the workspace root and already
    checked by ``workspace_path``; implementations must still refuse escapes (symlinks)."""

    def exec(
        self, command: str, *, timeout: float, cancel: CancelSignal | None = None
    ) -> ExecOutcome:
        """Run ``sh -c command`` in the workspace, stdout and stderr merged; raise
        ``Cancelled`` (after stopping the command) once ``cancel`` is set."""
        ...

    def read_file(self, path: str, *, max_bytes: int) -> bytes: ...

    def write_file(self, path: str, data: bytes) -> None: ...

    def list_files(self, path: str = "") -> list[FileInfo]: ...


def workspace_path(path: str) -> str:
    """Normalise a model-supplied path to one relative to the workspace ('' is the root).

    Raises ``WorkspaceError`` for absolute paths elsewhere, ``..`` escapes and NUL bytes.
    """
    if "\x00" in path:
        raise WorkspaceError("path contains a NUL byte")
    raw = path.strip()
    if raw == WORKDIR or raw.startswith(WORKDIR + "/"):
        raw = raw[len(WORKDIR) :].lstrip("/")
    if raw.startswith("/"):
        raise WorkspaceError(f"path {path!r} is absolute; use a path relative to the workspace")
    normal = posixpath.normpath(raw) if raw else "."
    if normal == ".." or normal.startswith("../"):
        raise WorkspaceError(f"path {path!r} leaves the workspace")
    return "" if normal == "." else normal


class LocalDirWorkspace:
    """A directory on this machine. For unit tests of tool logic only: it isolates nothing."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def _resolve(self, path: str) -> Path:
        target = (self.root / workspace_path(path)).resolve()
        if target != self.root and self.root not in target.parents:
            raise WorkspaceError(f"path {path!r} leaves the workspace")
        return target

    def exec(
        self, command: str, *, timeout: float, cancel: CancelSignal | None = None
    ) -> ExecOutcome:
        process = subprocess.Popen(
            ["/bin/sh", "-c", command],
            cwd=self.root,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group, so a kill takes the children too
        )
        deadline = time.monotonic() + timeout
        try:
            while True:
                # communicate() with a timeout keeps what it read so far, so the pipe never
                # fills up while we wait.
                try:
                    output = process.communicate(timeout=0.05)[0]
                    break
                except subprocess.TimeoutExpired:
                    pass
                if cancel_requested(cancel):
                    _kill_group(process)
                    raise Cancelled("cancelled while a command was running")
                if time.monotonic() > deadline:
                    _kill_group(process)
                    output = process.communicate()[0]
                    return ExecOutcome(124, output.decode(errors="replace"), timed_out=True)
        finally:
            if process.poll() is None:
                _kill_group(process)
        return ExecOutcome(process.returncode, output.decode(errors="replace"))

    def read_file(self, path: str, *, max_bytes: int) -> bytes:
        target = self._resolve(path)
        if not target.is_file():
            raise WorkspaceError(f"{path!r} is not a file")
        with target.open("rb") as handle:
            return handle.read(max_bytes)

    def write_file(self, path: str, data: bytes) -> None:
        target = self._resolve(path)
        if target == self.root or target.is_dir():
            raise WorkspaceError(f"{path!r} is a directory")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)

    def list_files(self, path: str = "") -> list[FileInfo]:
        target = self._resolve(path)
        if not target.is_dir():
            raise WorkspaceError(f"{path!r} is not a directory")
        entries = []
        for child in sorted(target.iterdir()):
            relative = child.relative_to(self.root).as_posix()
            is_dir = child.is_dir()
            entries.append(FileInfo(relative, is_dir, 0 if is_dir else child.stat().st_size))
        return entries


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
