"""The sandbox lifecycle: launch (through a durable job), run, stop, fail; exec; sharing.

States: requested → starting → running → stopping → stopped, or failed / expired. Every
transition is timestamped (``SandboxTransition``), audited and published on the sandbox's
topic. Backends are never called inside a database transaction.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from portal.accounts.roles import user_has_role
from portal.api.errors import DomainError
from portal.audit import audit_record
from sandboxes.backends import backend_get, backends_enabled
from sandboxes.backends.base import BackendError, ExecResult, Handle, LaunchSpec, Limits
from sandboxes.events import sandbox_publish
from sandboxes.models import Recipe, RecipeVersion, Sandbox, SandboxState, SandboxTransition
from sandboxes.models.sandboxes import ENDED_STATES
from sandboxes.services.quotas import quota_check

logger = logging.getLogger(__name__)
TERMINAL_LOG_KEEP = 256 * 1024
EXEC_MAX_TIMEOUT = 600
EXEC_OUTPUT_LIMIT = 1 << 20
_ALLOWED: dict[str, set[str]] = {
    "": {SandboxState.REQUESTED},
    SandboxState.REQUESTED: {SandboxState.STARTING, SandboxState.STOPPED, SandboxState.FAILED},
    SandboxState.STARTING: {SandboxState.RUNNING, SandboxState.FAILED, SandboxState.STOPPING},
    SandboxState.RUNNING: {
        SandboxState.STOPPING,
        SandboxState.FAILED,
        SandboxState.STOPPED,
        SandboxState.EXPIRED,
    },
    SandboxState.STOPPING: {SandboxState.STOPPED, SandboxState.FAILED, SandboxState.EXPIRED},
}


def sandbox_handle(sandbox: Sandbox) -> Handle:
    return Handle(
        backend=sandbox.backend,
        sandbox_id=sandbox.backend_id,
        ref=sandbox.handle_ref,
        host=sandbox.handle_host,
    )


@transaction.atomic
def _transition(sandbox: Sandbox, to: str, *, actor: Any = None, reason: str = "") -> bool:
    """Move ``sandbox`` to state ``to`` if the current state allows it (row-locked)."""
    locked = Sandbox.objects.select_for_update().get(pk=sandbox.pk)
    previous = locked.state if locked.transitions.exists() else ""
    if to not in _ALLOWED.get(previous, set()):
        sandbox.refresh_from_db()
        return False
    now = timezone.now()
    locked.state = to
    locked.reason = reason[:300]
    update = ["state", "reason"]
    if to == SandboxState.RUNNING:
        locked.started_at = locked.last_activity_at = now
        locked.progress_step, locked.progress_pct = "running", 100
        update += ["started_at", "last_activity_at", "progress_step", "progress_pct"]
    if to in ENDED_STATES:
        locked.ended_at = now
        if locked.started_at:
            locked.wall_seconds = (now - locked.started_at).total_seconds()
        update += ["ended_at", "wall_seconds"]
    locked.save(update_fields=update)
    SandboxTransition.objects.create(
        sandbox=locked, from_state=previous, to_state=to, reason=reason[:300]
    )
    audit_record(
        actor=actor,
        action=f"sandbox.{to}",
        obj=locked,
        detail={"from": previous, "reason": reason[:300], "backend": locked.backend},
    )
    sandbox_publish(
        locked,
        "state",
        {"state": to, "previous": previous, "reason": reason, "at": now.isoformat()},
    )
    for field in update:
        setattr(sandbox, field, getattr(locked, field))
    return True


def _can_control(user: Any, sandbox: Sandbox) -> bool:
    return sandbox.owner_id == getattr(user, "pk", None) or user_has_role(user, "steward")


def sandbox_launch(*, user: Any, recipe: Recipe, backend: str = "") -> Sandbox:
    """Check role and quotas, record the request and queue the launch job."""
    from sandboxes.tasks import sandbox_start

    if not user_has_role(user, "maintainer"):
        raise DomainError(
            "only maintainers can launch sandboxes", code="forbidden", status_code=403
        )
    version = recipe.latest
    if version is None:
        raise DomainError("this recipe has no version to launch", code="invalid")
    enabled = backends_enabled()
    chosen = backend or version.backend or (enabled[0] if enabled else "")
    if chosen not in enabled:
        raise DomainError(
            f"backend {chosen!r} is not enabled here",
            code="invalid",
            fields={"backend": [f"choose one of: {', '.join(enabled)}"]},
        )
    if chosen == "docker" and not version.docker_image:
        raise DomainError("this recipe has no Docker image", code="invalid")
    with transaction.atomic():
        # Serialise one user's launches so two requests cannot both pass the quota.
        get_user_model().objects.select_for_update().filter(pk=user.pk).first()
        quota_check(user)
        sandbox = Sandbox.objects.create(
            owner=user,
            recipe_version=version,
            backend=chosen,
            progress_step="queued",
            progress_pct=5,
        )
        _transition(
            sandbox,
            SandboxState.REQUESTED,
            actor=user,
            reason=f"{recipe.slug} v{version.number} on {chosen}",
        )
        sandbox_start.enqueue(sandbox_id=sandbox.pk, _unique_key=f"sandbox-start-{sandbox.pk}")
    return sandbox


def launch_spec(sandbox: Sandbox) -> LaunchSpec:
    version: RecipeVersion = sandbox.recipe_version
    shell: tuple[str, ...] = ("/bin/bash", "--norc", "-i")
    if version.default_command:
        # Run the recipe's command in the terminal, then fall back to a shell.
        shell = ("/bin/bash", "-c", f"{version.default_command}; exec /bin/bash --norc -i")
    image = version.docker_image if sandbox.backend == "docker" else version.rootfs
    return LaunchSpec(
        sandbox_id=sandbox.backend_id,
        limits=Limits(
            cpus=version.cpus,
            memory_mb=version.memory_mb,
            pids=version.pids,
            disk_mb=version.disk_mb,
            cpu_seconds=version.cpu_seconds,
            max_age_seconds=version.max_age_minutes * 60,
        ),
        image=image,
        shell=shell,
        env=dict(version.env),
        setup=tuple(version.setup_commands),
        network=version.network,
        labels={"org.agora.sandbox.owner": str(sandbox.owner_id)},
    )


def sandbox_start_run(*, sandbox_id: int) -> Sandbox | None:
    """The launch job's body: start on the backend, publishing progress."""
    sandbox = Sandbox.objects.select_related("recipe_version").filter(pk=sandbox_id).first()
    if sandbox is None or not _transition(sandbox, SandboxState.STARTING):
        return sandbox

    def progress(step: str, percent: int) -> None:
        Sandbox.objects.filter(pk=sandbox.pk).update(progress_step=step[:80], progress_pct=percent)
        sandbox_publish(sandbox, "progress", {"step": step, "percent": percent})

    progress("preparing", 10)
    backend = backend_get(sandbox.backend)
    try:
        handle = backend.launch(launch_spec(sandbox), progress=progress)
    except BackendError as exc:
        _transition(sandbox, SandboxState.FAILED, reason=f"launch failed: {exc}")
        return sandbox
    Sandbox.objects.filter(pk=sandbox.pk).update(handle_ref=handle.ref, handle_host=handle.host)
    sandbox.handle_ref, sandbox.handle_host = handle.ref, handle.host
    if not _transition(sandbox, SandboxState.RUNNING):
        # Stopped while starting: do not leave it behind.
        backend.stop(handle)
        _transition(sandbox, SandboxState.STOPPED, reason="stopped while starting")
    return sandbox


def _finish(sandbox: Sandbox, final: str, *, actor: Any, reason: str) -> None:
    """Collect usage and the terminal log, then enter the final state."""
    if sandbox.handle_ref:
        backend = backend_get(sandbox.backend)
        handle = sandbox_handle(sandbox)
        try:
            usage = backend.usage(handle)
            log = backend.terminal_log(handle, tail=TERMINAL_LOG_KEEP)
        except BackendError:
            usage, log = None, b""
        fields: dict[str, Any] = {"terminal_log": log}
        if usage is not None:
            fields["cpu_seconds"] = max(usage.cpu_seconds, sandbox.cpu_seconds)
            if usage.memory_peak_bytes:
                fields["memory_peak_bytes"] = usage.memory_peak_bytes
        Sandbox.objects.filter(pk=sandbox.pk).update(**fields)
        for key, value in fields.items():
            setattr(sandbox, key, value)
    _transition(sandbox, final, actor=actor, reason=reason)


def sandbox_stop(
    *, actor: Any, sandbox: Sandbox, reason: str = "", final: str = SandboxState.STOPPED
) -> Sandbox:
    """Stop a sandbox (owner, steward, or the system with ``actor=None``)."""
    if actor is not None and not _can_control(actor, sandbox):
        raise DomainError("only the sandbox's owner can stop it", code="forbidden", status_code=403)
    sandbox.refresh_from_db()
    reason = reason or (f"stopped by {actor.email}" if actor is not None else "stopped")
    if sandbox.state in ENDED_STATES:
        return sandbox
    if sandbox.state == SandboxState.REQUESTED:
        _transition(sandbox, SandboxState.STOPPED, actor=actor, reason=reason)
        return sandbox
    if sandbox.state != SandboxState.STOPPING and not _transition(
        sandbox, SandboxState.STOPPING, actor=actor, reason=reason
    ):
        return sandbox
    if sandbox.handle_ref:
        try:
            backend_get(sandbox.backend).stop(sandbox_handle(sandbox), reason=reason)
        except BackendError as exc:
            logger.warning("stopping sandbox %s: %s", sandbox.pk, exc)
    _finish(sandbox, final, actor=actor, reason=reason)
    return sandbox


def sandbox_fail(*, sandbox: Sandbox, reason: str, final: str = SandboxState.FAILED) -> None:
    """The backend ended the sandbox on its own (limit hit, shell exited, lost)."""
    sandbox.refresh_from_db()
    if sandbox.state in ENDED_STATES:
        return
    if sandbox.handle_ref:
        with contextlib.suppress(BackendError):
            backend_get(sandbox.backend).stop(sandbox_handle(sandbox), reason=reason)
    _finish(sandbox, final, actor=None, reason=reason)


def sandbox_touch(*, sandbox_id: int) -> None:
    """Record activity (terminal input, exec) so the idle culler leaves it alone."""
    Sandbox.objects.filter(pk=sandbox_id).update(
        last_activity_at=timezone.now(), idle_warned_at=None
    )


def sandbox_keep_alive(*, user: Any, sandbox: Sandbox) -> Sandbox:
    if sandbox.owner_id != user.pk:
        raise DomainError(
            "only the sandbox's owner can keep it alive", code="forbidden", status_code=403
        )
    if sandbox.state != SandboxState.RUNNING:
        raise DomainError(f"the sandbox is {sandbox.state}", code="conflict", status_code=409)
    sandbox_touch(sandbox_id=sandbox.pk)
    sandbox.refresh_from_db()
    sandbox_publish(sandbox, "keepalive", {"at": timezone.now().isoformat()})
    return sandbox


def sandbox_exec(
    *, user: Any, sandbox: Sandbox, command: str, timeout: float = 60, stdin: bytes | None = None
) -> ExecResult:
    """Run one command in a running sandbox (owner only), for automation and agents."""
    if sandbox.owner_id != getattr(user, "pk", None):
        raise DomainError(
            "only the sandbox's owner can run commands in it", code="forbidden", status_code=403
        )
    if sandbox.state != SandboxState.RUNNING:
        raise DomainError(
            f"the sandbox is {sandbox.state}, not running", code="conflict", status_code=409
        )
    if not command.strip() or len(command) > 100_000:
        raise DomainError("command must be 1 to 100000 characters", code="invalid")
    timeout = max(1.0, min(float(timeout), EXEC_MAX_TIMEOUT))
    audit_record(actor=user, action="sandbox.exec", obj=sandbox, detail={"command": command[:500]})
    sandbox_touch(sandbox_id=sandbox.pk)
    try:
        return backend_get(sandbox.backend).exec(
            sandbox_handle(sandbox),
            command,
            timeout=timeout,
            output_limit=EXEC_OUTPUT_LIMIT,
            stdin=stdin,
        )
    except BackendError as exc:
        raise DomainError(
            f"the sandbox could not run the command: {exc}", code="backend_error", status_code=409
        ) from exc


@transaction.atomic
def sandbox_invite(*, user: Any, sandbox: Sandbox, viewer: Any) -> None:
    """Let another maintainer watch the terminal read-only (pairing)."""
    if sandbox.owner_id != user.pk:
        raise DomainError("only the owner can invite", code="forbidden", status_code=403)
    if not user_has_role(viewer, "maintainer"):
        raise DomainError("only maintainers can be invited", code="invalid")
    if viewer.pk == user.pk:
        raise DomainError("you already own this sandbox", code="invalid")
    sandbox.viewers.add(viewer)
    audit_record(actor=user, action="sandbox.invite", obj=sandbox, detail={"viewer": viewer.pk})


@transaction.atomic
def sandbox_uninvite(*, user: Any, sandbox: Sandbox, viewer: Any) -> None:
    if sandbox.owner_id != user.pk:
        raise DomainError("only the owner can remove viewers", code="forbidden", status_code=403)
    sandbox.viewers.remove(viewer)
    audit_record(actor=user, action="sandbox.uninvite", obj=sandbox, detail={"viewer": viewer.pk})
