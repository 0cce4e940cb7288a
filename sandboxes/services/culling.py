"""Culling (idle, max age, CPU budget, retention) and reconciliation with the backends."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from portal.audit import audit_record
from sandboxes.backends import backend_get, backends_enabled
from sandboxes.backends.base import BackendError
from sandboxes.events import sandbox_publish
from sandboxes.models import GlobalQuota, Sandbox, SandboxState
from sandboxes.models.sandboxes import ENDED_STATES
from sandboxes.services.lifecycle import sandbox_fail, sandbox_handle, sandbox_stop

logger = logging.getLogger(__name__)
IDLE_WARNING = timedelta(minutes=1)
STUCK_STARTING = timedelta(minutes=10)

_EXIT_REASONS = {
    "memory": (SandboxState.FAILED, "killed: memory limit ({mem} MB) exceeded"),
    "cpu_time": (SandboxState.FAILED, "killed: CPU time limit ({cpu} s) used up"),
    "max_age": (SandboxState.EXPIRED, "expired: maximum age reached"),
    "exited": (SandboxState.STOPPED, "the shell exited"),
    "killed": (SandboxState.FAILED, "killed by the kernel (limit reached)"),
    "portal_exited": (SandboxState.FAILED, "the portal process that owned it stopped"),
}


def _ended_reason(sandbox: Sandbox, reason: str) -> tuple[str, str]:
    version = sandbox.recipe_version
    final, text = _EXIT_REASONS.get(reason, (SandboxState.FAILED, f"ended: {reason}"))
    return final, text.format(mem=version.memory_mb, cpu=version.cpu_seconds)


def sandboxes_cull() -> dict[str, int]:
    """One pass over running sandboxes; returns counts per action (for logs and tests)."""
    now = timezone.now()
    counts = {"ended": 0, "idle": 0, "warned": 0, "max_age": 0, "cpu": 0, "removed": 0}
    running = Sandbox.objects.filter(state=SandboxState.RUNNING).select_related("recipe_version")
    for sandbox in running:
        version = sandbox.recipe_version
        backend = backend_get(sandbox.backend)
        handle = sandbox_handle(sandbox)
        try:
            status = backend.status(handle)
            usage = backend.usage(handle)
        except BackendError as exc:
            logger.warning("culling sandbox %s: %s", sandbox.pk, exc)
            continue
        if usage.cpu_seconds > sandbox.cpu_seconds:
            Sandbox.objects.filter(pk=sandbox.pk).update(cpu_seconds=usage.cpu_seconds)
            sandbox.cpu_seconds = usage.cpu_seconds
        if usage.disk_full != (sandbox.disk_full_at is not None):
            sandbox_disk_full_record(sandbox=sandbox, full=usage.disk_full, now=now)
        if status.state != "running":
            reason = "lost" if status.state == "missing" else status.reason
            final, text = _ended_reason(sandbox, reason)
            if reason == "lost":
                text = "the backend lost the sandbox"
            sandbox_fail(sandbox=sandbox, reason=text, final=final)
            counts["ended"] += 1
            continue
        if sandbox.cpu_seconds > version.cpu_seconds:
            sandbox_stop(
                actor=None,
                sandbox=sandbox,
                final=SandboxState.FAILED,
                reason=_ended_reason(sandbox, "cpu_time")[1],
            )
            counts["cpu"] += 1
            continue
        started = sandbox.started_at or sandbox.created_at
        if now - started >= timedelta(minutes=version.max_age_minutes):
            sandbox_stop(
                actor=None,
                sandbox=sandbox,
                final=SandboxState.EXPIRED,
                reason=f"expired: maximum age of {version.max_age_minutes} min reached",
            )
            counts["max_age"] += 1
            continue
        last = max(filter(None, [sandbox.last_activity_at, started]))
        if status.last_input_at is not None:
            last = max(
                last,
                datetime.fromtimestamp(status.last_input_at, tz=UTC),
            )
        idle_limit = timedelta(minutes=version.idle_timeout_minutes)
        if now - last >= idle_limit:
            sandbox_stop(
                actor=None,
                sandbox=sandbox,
                final=SandboxState.EXPIRED,
                reason=f"expired: idle for {version.idle_timeout_minutes} min",
            )
            counts["idle"] += 1
        elif now - last >= idle_limit - IDLE_WARNING and sandbox.idle_warned_at is None:
            Sandbox.objects.filter(pk=sandbox.pk).update(idle_warned_at=now)
            sandbox_publish(
                sandbox,
                "idle_warning",
                {
                    "expires_at": (last + idle_limit).isoformat(),
                    "message": "This sandbox will stop in a minute unless you keep it alive.",
                },
            )
            counts["warned"] += 1
    stuck = Sandbox.objects.filter(
        state__in=[SandboxState.REQUESTED, SandboxState.STARTING],
        created_at__lt=now - STUCK_STARTING,
    )
    for sandbox in stuck:
        sandbox_fail(sandbox=sandbox, reason="launch did not finish in time")
        counts["ended"] += 1
    counts["removed"] = _remove_old_workspaces(now)
    return counts


def sandbox_disk_full_record(*, sandbox: Sandbox, full: bool, now: datetime) -> None:
    """Record (audit, event) that the workspace quota was reached, or freed again."""
    limit = sandbox.recipe_version.disk_mb
    with transaction.atomic():
        Sandbox.objects.filter(pk=sandbox.pk).update(disk_full_at=now if full else None)
        sandbox.disk_full_at = now if full else None
        if full:
            message = (
                f"quota: the workspace's {limit} MB disk limit is reached; "
                "writes fail until files are removed"
            )
            audit_record(
                actor=None,
                action="sandbox.disk_full",
                obj=sandbox,
                detail={"disk_mb": limit, "message": message},
            )
        else:
            message = "the workspace has free space again"
        sandbox_publish(sandbox, "disk", {"full": full, "disk_mb": limit, "message": message})


def _remove_old_workspaces(now: datetime) -> int:
    retention = timedelta(hours=GlobalQuota.current().workspace_retention_hours)
    old = Sandbox.objects.filter(
        state__in=ENDED_STATES, workspace_removed_at__isnull=True, ended_at__lt=now - retention
    )
    removed = 0
    for sandbox in old:
        if sandbox.handle_ref:
            try:
                backend_get(sandbox.backend).remove(sandbox_handle(sandbox))
            except BackendError as exc:
                logger.warning("removing sandbox %s: %s", sandbox.pk, exc)
                continue
        Sandbox.objects.filter(pk=sandbox.pk).update(workspace_removed_at=now)
        removed += 1
    return removed


def sandboxes_reconcile() -> dict[str, int]:
    """Make the database and the backends agree.

    Running in the database but lost by the backend → failed, with the reason. Held by the
    backend but unknown to the database (or long removed) → stopped and removed.
    """
    counts = {"failed": 0, "removed": 0}
    grace = timezone.now() - STUCK_STARTING
    for name in backends_enabled():
        backend = backend_get(name)
        try:
            held = {h.sandbox_id: h for h in backend.list_by_label()}
        except BackendError as exc:
            logger.warning("reconciling %s: %s", name, exc)
            continue
        active = Sandbox.objects.filter(backend=name).filter(
            Q(state__in=[SandboxState.RUNNING, SandboxState.STOPPING])
            | Q(state=SandboxState.STARTING, created_at__lt=grace)
        )
        for sandbox in active:
            handle = held.get(sandbox.backend_id)
            state = backend.status(handle).state if handle else "missing"
            if state != "running":
                detail = "is gone" if state == "missing" else "is no longer running"
                sandbox_fail(sandbox=sandbox, reason=f"the {name} backend lost it: it {detail}")
                counts["failed"] += 1
        known = dict(
            Sandbox.objects.filter(backend=name, backend_id__in=list(held)).values_list(
                "backend_id", "workspace_removed_at"
            )
        )
        for sandbox_id, handle in held.items():
            if sandbox_id not in known or known[sandbox_id] is not None:
                try:
                    backend.remove(handle)
                    counts["removed"] += 1
                except BackendError as exc:
                    logger.warning("removing unknown sandbox %s: %s", sandbox_id, exc)
    return counts
