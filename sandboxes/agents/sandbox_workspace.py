"""A ``Workspace`` over a sandbox backend (bubblewrap, Docker …) and one sandbox handle.

Backends run a command to completion (bounded by its timeout) and offer no way to stop
one command, so on cancellation this adapter stops waiting at once and calls
``on_cancel`` — typically stopping the run's sandbox — while the backend call finishes in
a background thread.

A sandbox the run did not launch (someone's existing sandbox) must survive the run, so
there commands are ``stoppable``: each runs in its own session under a small shell
watcher, and cancelling writes a stop marker file into the workspace (through the
backend's file API, which needs no command); the watcher sees it within ~0.2 s and kills
the command's process group. The sandbox and anything else running in it stay up.
"""

from __future__ import annotations

import contextlib
import shlex
import threading
import uuid
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from sandboxes.agents.cancel import Cancelled, CancelSignal, cancel_requested
from sandboxes.agents.workspace import (
    ExecOutcome,
    FileInfo,
    WorkspaceError,
    WorkspaceUnavailable,
)

EXEC_OUTPUT_LIMIT = 1 << 20
STOP_MARKER_PREFIX = ".agora-stop-"


def stoppable_command(command: str, marker: str) -> str:
    """``command`` in its own session, killed (whole process group) when ``marker``
    appears in the working directory; the exit status is the command's own."""
    m, c = shlex.quote(marker), shlex.quote(command)
    return (
        f'm="$PWD"/{m}; rm -f "$m"; '
        f"if command -v setsid >/dev/null 2>&1; then setsid sh -c {c} & "
        f"else sh -c {c} & fi; p=$!; "
        '( while kill -0 "$p" 2>/dev/null; do '
        'if [ -e "$m" ]; then kill -KILL -"$p" 2>/dev/null || kill -KILL "$p"; exit 0; fi; '
        "sleep 0.2; done ) & w=$!; "
        'wait "$p"; s=$?; kill "$w" 2>/dev/null; rm -f "$m"; exit "$s"'
    )


class _ExecResult(Protocol):
    @property
    def exit_code(self) -> int: ...
    @property
    def output(self) -> bytes: ...
    @property
    def timed_out(self) -> bool: ...


class _Entry(Protocol):
    @property
    def path(self) -> str: ...
    @property
    def is_dir(self) -> bool: ...
    @property
    def size(self) -> int: ...


class BackendLike(Protocol):
    """The slice of ``sandboxes.backends.base.SandboxBackend`` the tools need."""

    def exec(
        self, handle: Any, command: str, *, timeout: float = ..., output_limit: int = ...
    ) -> _ExecResult: ...
    def read_file(self, handle: Any, path: str, *, max_bytes: int) -> bytes: ...
    def write_file(self, handle: Any, path: str, data: bytes) -> None: ...
    def list_files(self, handle: Any, path: str = "") -> Sequence[_Entry]: ...


class SandboxWorkspace:
    def __init__(
        self,
        backend: BackendLike,
        handle: Any,
        *,
        refused: tuple[type[Exception], ...] = (),
        gone: tuple[type[Exception], ...] = (),
        on_cancel: Callable[[], None] | None = None,
        stoppable: bool = False,
    ) -> None:
        self.backend = backend
        self.handle = handle
        self._refused = refused  # errors shown to the model ("no such file")
        self._gone = gone  # errors that end the run (the sandbox disappeared)
        self._on_cancel = on_cancel
        self.stoppable = stoppable

    @classmethod
    def for_backend(
        cls,
        backend: BackendLike,
        handle: Any,
        *,
        on_cancel: Callable[[], None] | None = None,
        stoppable: bool = False,
    ) -> SandboxWorkspace:
        """With the backends' own error types: ``SandboxGone`` ends the run, any other
        ``BackendError`` becomes a failed tool result."""
        from sandboxes.backends.base import BackendError, SandboxGone

        return cls(
            backend,
            handle,
            refused=(BackendError,),
            gone=(SandboxGone,),
            on_cancel=on_cancel,
            stoppable=stoppable,
        )

    def _stop(self, marker: str) -> None:
        """Ask the watcher of a stoppable command to kill it."""
        with contextlib.suppress(Exception):  # the sandbox may be gone: nothing to stop
            self.backend.write_file(self.handle, marker, b"")

    def _call(self, function: Callable[[], Any]) -> Any:
        try:
            return function()
        except self._gone as exc:
            raise WorkspaceUnavailable(f"the sandbox is gone: {exc}") from exc
        except self._refused as exc:
            raise WorkspaceError(str(exc)) from exc

    def exec(
        self, command: str, *, timeout: float, cancel: CancelSignal | None = None
    ) -> ExecOutcome:
        box: dict[str, Any] = {}
        marker = f"{STOP_MARKER_PREFIX}{uuid.uuid4().hex[:16]}" if self.stoppable else ""
        argv_command = stoppable_command(command, marker) if marker else command

        def target() -> None:
            try:
                box["result"] = self._call(
                    lambda: self.backend.exec(
                        self.handle, argv_command, timeout=timeout, output_limit=EXEC_OUTPUT_LIMIT
                    )
                )
            except BaseException as exc:  # handed to the waiting thread
                box["error"] = exc

        thread = threading.Thread(target=target, name="agent-exec", daemon=True)
        thread.start()
        while thread.is_alive():
            thread.join(0.05)
            if thread.is_alive() and cancel_requested(cancel):
                if marker:
                    self._stop(marker)
                if self._on_cancel is not None:
                    self._on_cancel()
                raise Cancelled("cancelled while a command was running")
        if "error" in box:
            raise box["error"]
        result: _ExecResult = box["result"]
        return ExecOutcome(
            result.exit_code, result.output.decode(errors="replace"), result.timed_out
        )

    def read_file(self, path: str, *, max_bytes: int) -> bytes:
        data: bytes = self._call(
            lambda: self.backend.read_file(self.handle, path, max_bytes=max_bytes)
        )
        return data

    def write_file(self, path: str, data: bytes) -> None:
        self._call(lambda: self.backend.write_file(self.handle, path, data))

    def list_files(self, path: str = "") -> list[FileInfo]:
        entries: Sequence[_Entry] = self._call(lambda: self.backend.list_files(self.handle, path))
        return [FileInfo(entry.path, entry.is_dir, entry.size) for entry in entries]
