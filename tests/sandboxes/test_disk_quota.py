"""The workspace has a total size bound (the recipe's disk limit), not only a per-file one."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sandboxes.backends.base import FileRefused, Handle, SandboxBackend

WRITE_THREE = (
    "for f in a b c; do head -c 3145728 /dev/zero > $f 2>>/tmp/err.txt || echo FAILED $f; done; "
    "cat /tmp/err.txt; du -sk /workspace | cut -f1"
)


def test_writes_from_inside_past_the_workspace_quota_fail(
    any_backend: SandboxBackend, launch: Callable[..., Handle]
) -> None:
    # Each 3 MiB file is under the per-file limit; together they pass the 8 MiB quota.
    handle = launch(disk_mb=8)
    result = any_backend.exec(handle, WRITE_THREE, timeout=30)
    text = result.output.decode()
    assert "FAILED c" in text, text
    assert "FAILED a" not in text and "FAILED b" not in text, text
    assert "No space left on device" in text, text
    used_kib = int(text.strip().splitlines()[-1])
    assert used_kib <= 8 * 1024, text
    # Freeing space makes writing possible again: a quota, not a broken workspace.
    again = any_backend.exec(handle, "rm -f b c && head -c 1048576 /dev/zero > d && echo OK")
    assert b"OK" in again.output, again


def test_upload_past_the_workspace_quota_is_refused_with_the_reason(
    any_backend: SandboxBackend, launch: Callable[..., Handle]
) -> None:
    handle = launch(disk_mb=8)
    any_backend.write_file(handle, "one.bin", b"x" * (5 << 20))
    with pytest.raises(FileRefused, match="quota"):
        any_backend.write_file(handle, "two.bin", b"x" * (5 << 20))


def test_bubblewrap_usage_reports_a_full_workspace(sandbox_root: Path) -> None:
    from sandboxes.backends.base import LaunchSpec, Limits
    from sandboxes.backends.bubblewrap import BubblewrapBackend

    backend = BubblewrapBackend(root=sandbox_root)
    handle = backend.launch(
        LaunchSpec(sandbox_id=f"quota{os.getpid()}{os.urandom(3).hex()}", limits=Limits(disk_mb=8))
    )
    try:
        before = backend.usage(handle)
        assert before.disk_limit_bytes == 8 << 20
        assert not before.disk_full
        backend.exec(handle, WRITE_THREE, timeout=30)
        after = backend.usage(handle)
        assert after.disk_full, after
    finally:
        backend.remove(handle)
    assert not os.path.ismount(Path(handle.ref) / "workspace"), "workspace left mounted"


@pytest.mark.django_db(transaction=True)
def test_a_full_workspace_is_recorded_audited_and_published(
    maintainer: Any, shell_recipe: Any
) -> None:
    from portal.jobs.testing import run_pending_jobs
    from portal.models import AuditEntry, RealtimeEvent
    from sandboxes.backends import backend_get
    from sandboxes.services import sandbox_launch, sandbox_stop, sandboxes_cull
    from sandboxes.services.lifecycle import sandbox_handle

    version = shell_recipe.latest
    version.disk_mb = 8
    version.save()
    sandbox = sandbox_launch(user=maintainer, recipe=shell_recipe, backend="bubblewrap")
    run_pending_jobs()
    sandbox.refresh_from_db()
    try:
        backend = backend_get("bubblewrap")
        sandboxes_cull()
        sandbox.refresh_from_db()
        assert sandbox.disk_full_at is None
        backend.exec(sandbox_handle(sandbox), WRITE_THREE, timeout=30)
        sandboxes_cull()
        sandbox.refresh_from_db()
        assert sandbox.disk_full_at is not None
        assert sandbox.state == "running"  # a full disk is not a reason to stop it
        entry = AuditEntry.objects.get(action="sandbox.disk_full", object_id=str(sandbox.pk))
        assert "8 MB disk limit" in entry.detail["message"]
        events = RealtimeEvent.objects.filter(topic=sandbox.topic, type="disk")
        assert [e.data["full"] for e in events] == [True]
        sandboxes_cull()  # recorded once, not on every pass
        assert AuditEntry.objects.filter(action="sandbox.disk_full").count() == 1
        backend.exec(sandbox_handle(sandbox), "rm -f a b c")
        sandboxes_cull()
        sandbox.refresh_from_db()
        assert sandbox.disk_full_at is None
    finally:
        sandbox_stop(actor=None, sandbox=sandbox)
