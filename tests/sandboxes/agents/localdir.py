"""A plain directory as a ``Workspace``: the test double for unit tests of tool logic.

It isolates nothing (commands run as the test process), so it lives with the tests.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

from sandboxes.agents.cancel import Cancelled, CancelSignal, cancel_requested
from sandboxes.agents.workspace import ExecOutcome, FileInfo, WorkspaceError, workspace_path


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
