"""Files in a sandbox's workspace: list, download, upload (size-limited, contained)."""

from __future__ import annotations

from typing import Any

from portal.api.errors import DomainError
from portal.audit import audit_record
from sandboxes.backends import backend_get
from sandboxes.backends.base import BackendError, FileEntry, FileRefused
from sandboxes.models import Sandbox, SandboxState
from sandboxes.selectors import sandbox_can_view
from sandboxes.services.lifecycle import sandbox_handle, sandbox_touch

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024


def _check_readable(user: Any, sandbox: Sandbox) -> None:
    if not sandbox_can_view(user, sandbox):
        raise DomainError("not found", code="not_found", status_code=404)
    if not sandbox.handle_ref or sandbox.workspace_removed_at is not None:
        raise DomainError(
            "this sandbox has no workspace (not started, or removed)",
            code="conflict",
            status_code=409,
        )


def _refused(exc: BackendError) -> DomainError:
    if isinstance(exc, FileRefused):
        return DomainError(str(exc), code="file_refused", status_code=400)
    return DomainError(
        f"the sandbox could not do that: {exc}", code="backend_error", status_code=409
    )


def sandbox_files_list(*, user: Any, sandbox: Sandbox, path: str = "") -> list[FileEntry]:
    _check_readable(user, sandbox)
    try:
        return backend_get(sandbox.backend).list_files(sandbox_handle(sandbox), path)
    except BackendError as exc:
        raise _refused(exc) from exc


def sandbox_file_read(*, user: Any, sandbox: Sandbox, path: str) -> bytes:
    _check_readable(user, sandbox)
    try:
        return backend_get(sandbox.backend).read_file(
            sandbox_handle(sandbox), path, max_bytes=MAX_DOWNLOAD_BYTES
        )
    except BackendError as exc:
        raise _refused(exc) from exc


def sandbox_file_write(*, user: Any, sandbox: Sandbox, path: str, data: bytes) -> None:
    if sandbox.owner_id != getattr(user, "pk", None):
        raise DomainError(
            "only the sandbox's owner can upload files", code="forbidden", status_code=403
        )
    if sandbox.state != SandboxState.RUNNING:
        raise DomainError(
            f"the sandbox is {sandbox.state}, not running", code="conflict", status_code=409
        )
    if len(data) > MAX_UPLOAD_BYTES:
        raise DomainError(
            f"file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB",
            code="too_large",
            status_code=413,
        )
    try:
        backend_get(sandbox.backend).write_file(sandbox_handle(sandbox), path, data)
    except BackendError as exc:
        raise _refused(exc) from exc
    sandbox_touch(sandbox_id=sandbox.pk)
    audit_record(
        actor=user,
        action="sandbox.file.upload",
        obj=sandbox,
        detail={"path": path[:300], "bytes": len(data)},
    )
