"""A ``Workspace`` over a sandbox backend (bubblewrap, Docker …) and one sandbox handle.

The backend call runs in a background thread. On cancellation the command is killed
through the backend (``exec(cancel=…)`` kills its process group), then ``on_cancel`` runs
— stopping the run's own sandbox; in a sandbox the run did not launch (someone's existing
sandbox) only the command stops, and the sandbox and anything else in it stay up.
"""

from __future__ import annotations

import threading
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
CANCEL_GRACE = 5.0  # seconds to wait for the backend to confirm the command was killed


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
        self,
        handle: Any,
        command: str,
        *,
        timeout: float = ...,
        output_limit: int = ...,
        cancel: threading.Event | None = ...,
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
    ) -> None:
        self.backend = backend
        self.handle = handle
        self._refused = refused  # errors shown to the model ("no such file")
        self._gone = gone  # errors that end the run (the sandbox disappeared)
        self._on_cancel = on_cancel

    @classmethod
    def for_backend(
        cls,
        backend: BackendLike,
        handle: Any,
        *,
        on_cancel: Callable[[], None] | None = None,
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
        )

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
        stop = threading.Event()

        def target() -> None:
            try:
                box["result"] = self._call(
                    lambda: self.backend.exec(
                        self.handle,
                        command,
                        timeout=timeout,
                        output_limit=EXEC_OUTPUT_LIMIT,
                        cancel=stop,
                    )
                )
            except BaseException as exc:  # handed to the waiting thread
                box["error"] = exc

        thread = threading.Thread(target=target, name="agent-exec", daemon=True)
        thread.start()
        while thread.is_alive():
            thread.join(0.05)
            if thread.is_alive() and cancel_requested(cancel):
                stop.set()  # the backend kills the command's process group
                thread.join(CANCEL_GRACE)
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
