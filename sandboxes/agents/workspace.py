"""Where an agent's tools act: the ``Workspace`` protocol and path safety.

Tools never touch a backend directly, so the same tool code drives a bubblewrap or Docker
sandbox (``sandbox_workspace.SandboxWorkspace``) and, in unit tests, a plain directory.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from typing import NamedTuple, Protocol

from sandboxes.agents.cancel import CancelSignal

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
