"""Every write with rules for agent runs: profiles, start, execute, cancel, confirm, resume.

A run is executed by a durable job (``sandboxes.agents.tasks.run_execute_job``). The loop's
state is checkpointed on the run after every completed unit of work, every event is
published on the persisted topic ``run.<id>``, and nothing here needs a browser open.
Backends and model endpoints are never called inside a database transaction.
"""

from __future__ import annotations

import difflib
import logging
import time
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from portal.accounts.roles import user_has_role, user_role
from portal.api.errors import DomainError
from portal.audit import audit_record
from portal.hud import hud_notify
from portal.realtime import publish
from sandboxes.agents.cancel import PollingCancel
from sandboxes.agents.llm import LLMError
from sandboxes.agents.loop import AgentLoop, LoopState, loop_state_new
from sandboxes.agents.models import (
    ENDED_STATES,
    WORKING_STATES,
    ArtifactKind,
    Profile,
    ProfileVersion,
    Run,
    RunArtifact,
    RunLimit,
    RunState,
)
from sandboxes.agents.profiles import AgentProfile
from sandboxes.agents.providers import provider_build
from sandboxes.agents.sandbox_workspace import SandboxWorkspace
from sandboxes.agents.scripted import StepListError, steps_validate
from sandboxes.agents.selectors import profile_version_latest, run_can_control
from sandboxes.agents.workspace import Workspace, WorkspaceError, WorkspaceUnavailable
from sandboxes.models import Recipe, Sandbox, SandboxState
from sandboxes.models.sandboxes import ENDED_STATES as SANDBOX_ENDED
from sandboxes.services.lifecycle import sandbox_touch

logger = logging.getLogger(__name__)

DAY = timedelta(hours=24)
# Daily limits per role when a steward has not configured a ``RunLimit`` row.
DEFAULT_LIMITS: dict[str, tuple[int, int]] = {
    "member": (0, 0),
    "maintainer": (20, 2_000_000),
    "steward": (100, 10_000_000),
}
SANDBOX_START_TIMEOUT = 180.0
CANCEL_POLL_SECONDS = 0.2
SNAPSHOT_MAX_FILES = 300
SNAPSHOT_MAX_FILE_BYTES = 200_000
SNAPSHOT_MAX_TOTAL = 2_000_000
SNAPSHOT_SKIP_DIRS = frozenset({".git", "node_modules", "__pycache__", ".venv", "target"})
DIFF_MAX_CHARS = 500_000
_STATE_OF_OUTCOME = {
    "running": RunState.RUNNING,
    "awaiting_confirmation": RunState.AWAITING_CONFIRMATION,
}


def _invalid(message: str, field: str | None = None) -> DomainError:
    fields = {field: [message]} if field else None
    return DomainError(message, code="invalid", fields=fields)


def _forbidden(message: str) -> DomainError:
    return DomainError(message, code="forbidden", status_code=403)


def _conflict(message: str) -> DomainError:
    return DomainError(message, code="conflict", status_code=409)


# --- profiles -----------------------------------------------------------------------------


@transaction.atomic
def profile_version_create(
    *,
    actor: Any,
    name: str,
    new_profile: bool = False,
    base_version: int | None = None,
    **fields: Any,
) -> ProfileVersion:
    """A steward's edit: a new version of profile ``name`` (created if new).

    Fields not given are copied from the latest version; the result is validated by the
    runtime's ``AgentProfile`` before anything is written. Runs keep the version they
    started with. ``new_profile=True`` refuses an existing name; ``base_version`` (the
    version the editor started from) refuses to overwrite a newer version saved meanwhile.
    """
    if not user_has_role(actor, "steward"):
        raise _forbidden("only stewards can edit agent profiles")
    profile, created = Profile.objects.select_for_update().get_or_create(name=name)
    if new_profile and not created:
        raise _invalid(f"a profile named {name!r} already exists", "name")
    latest = profile.versions.order_by("-number").first()
    if base_version is not None and latest is not None and latest.number != base_version:
        author = latest.created_by.email if latest.created_by else "the installer"
        raise _conflict(
            f"{name} changed while you were editing: v{latest.number} was saved by {author} "
            f"at {latest.created_at:%Y-%m-%d %H:%M} UTC; reload to edit the latest version"
        )
    keys = (
        "purpose",
        "system_prompt",
        "tools",
        "max_steps",
        "max_wall_seconds",
        "max_tokens",
        "model",
        "shell_allowlist",
        "risky_policy",
    )
    unknown = sorted(set(fields) - set(keys))
    if unknown:
        raise _invalid(f"unknown profile field {unknown[0]!r}", unknown[0])
    values = {key: getattr(latest, key) for key in keys} if latest else {}
    values.update(fields)
    try:
        AgentProfile.from_dict({"name": name, **values})
    except (TypeError, ValueError) as exc:
        raise _invalid(f"invalid profile: {exc}") from None
    version = ProfileVersion.objects.create(
        profile=profile,
        number=(latest.number + 1) if latest else 1,
        created_by=actor,
        **values,
    )
    audit_record(
        actor=actor,
        action="agent_profile.version",
        obj=version,
        detail={"profile": name, "number": version.number},
    )
    return version


def profiles_shipped_install() -> int:
    """Create version 1 of each shipped profile that does not exist yet (idempotent)."""
    from sandboxes.agents.profiles import PROFILES

    created = 0
    for shipped in PROFILES.values():
        profile, _ = Profile.objects.get_or_create(name=shipped.name)
        if profile.versions.exists():
            continue
        values = shipped.as_dict()
        for key in ("name", "version"):
            values.pop(key)
        ProfileVersion.objects.create(profile=profile, number=1, **values)
        created += 1
    return created


# --- limits -------------------------------------------------------------------------------


def run_limits_for(user: Any) -> tuple[int, int]:
    """(runs per day, tokens per day) for the user's highest role."""
    role = user_role(user) or "member"
    row = RunLimit.objects.filter(role=role).first()
    if row is not None:
        return row.runs_per_day, int(row.tokens_per_day)
    return DEFAULT_LIMITS.get(role, (0, 0))


def run_usage_today(user: Any) -> dict[str, int]:
    since = timezone.now() - DAY
    runs = Run.objects.filter(owner=user, created_at__gte=since)
    tokens = runs.aggregate(p=Sum("prompt_tokens"), c=Sum("completion_tokens"))
    return {"runs": runs.count(), "tokens": int((tokens["p"] or 0) + (tokens["c"] or 0))}


def run_usage_for(user: Any, *, days: int) -> dict[str, Any]:
    """A user's agent usage over the last ``days`` days: runs, tokens, tools, CPU."""
    runs = Run.objects.filter(owner=user, created_at__gte=timezone.now() - timedelta(days=days))
    totals = runs.aggregate(
        p=Sum("prompt_tokens"),
        c=Sum("completion_tokens"),
        t=Sum("tool_calls"),
        cpu=Sum("cpu_seconds"),
    )
    return {
        "runs": runs.count(),
        "prompt_tokens": int(totals["p"] or 0),
        "completion_tokens": int(totals["c"] or 0),
        "tool_calls": int(totals["t"] or 0),
        "cpu_seconds": round(float(totals["cpu"] or 0), 3),
    }


def run_limit_check(user: Any) -> None:
    runs_per_day, tokens_per_day = run_limits_for(user)
    usage = run_usage_today(user)
    role = user_role(user)
    if usage["runs"] >= runs_per_day:
        raise DomainError(
            f"limit: {usage['runs']} of {runs_per_day} agent runs in the last 24 hours for "
            f"your role ({role})",
            code="quota_exceeded",
            status_code=429,
        )
    if usage["tokens"] >= tokens_per_day:
        raise DomainError(
            f"limit: {usage['tokens']} of {tokens_per_day} model tokens used in the last "
            f"24 hours for your role ({role})",
            code="quota_exceeded",
            status_code=429,
        )


# --- events -------------------------------------------------------------------------------


# The hub reserves ``error`` for its own protocol errors: a run's errors travel as ``run_error``.
HUB_TYPES = {"error": "run_error"}


def run_publish(run: Run, type: str, data: Mapping[str, Any]) -> None:
    """One event on the run's persisted topic (sent after the current transaction)."""
    publish(run.topic, HUB_TYPES.get(type, type), dict(data))


def _set_state(run: Run, state: str, reason: str = "", **extra: Any) -> None:
    run.state, run.reason = state, reason[:500]
    fields = {"state": state, "reason": run.reason, **extra}
    Run.objects.filter(pk=run.pk).update(**fields)
    for key, value in extra.items():
        setattr(run, key, value)
    run_publish(run, "state", {"step": run.last_step, "state": state, "reason": run.reason})
    hud_notify("agents")


# --- start --------------------------------------------------------------------------------


def run_start(
    *,
    user: Any,
    profile: str,
    task: str,
    recipe: Recipe | None = None,
    sandbox: Sandbox | None = None,
    steps: Any = None,
    shared: bool = False,
) -> Run:
    """Validate, check limits, launch or attach the sandbox and queue the run's job."""
    from sandboxes.agents.tasks import run_execute_job
    from sandboxes.services import sandbox_launch

    if not user_has_role(user, "maintainer"):
        raise _forbidden("only maintainers can start agent runs")
    version = profile_version_latest(profile)
    if version is None:
        names = ", ".join(Profile.objects.filter(archived=False).values_list("name", flat=True))
        raise _invalid(f"unknown agent profile {profile!r} (profiles: {names})", "profile")
    try:
        state = loop_state_new(profile=version.runtime(), task=task)
    except ValueError as exc:
        raise _invalid(str(exc), "task") from None
    if steps is not None and steps != "":
        try:
            parsed = steps_validate(steps)
        except StepListError as exc:
            raise _invalid(str(exc), "steps") from None
        step_list: list[dict[str, Any]] | None = [step.as_dict() for step in parsed]
        provider = "scripted"
    else:
        if not settings.LLM_BASE_URL:
            raise _invalid(
                "no model endpoint is configured here (LLM_BASE_URL); give a step list to "
                "run the scripted provider",
                "steps",
            )
        step_list, provider = None, "openai-compatible"
    if (recipe is None) == (sandbox is None):
        raise _invalid("choose either a recipe to launch or one of your running sandboxes")
    if sandbox is not None:
        if sandbox.owner_id != user.pk:
            raise _forbidden("you can only run agents in your own sandboxes")
        if sandbox.state != SandboxState.RUNNING:
            raise _conflict(f"the sandbox is {sandbox.state}, not running")
    with transaction.atomic():
        # Serialise one user's starts so two requests cannot both pass the limit.
        get_user_model().objects.select_for_update().filter(pk=user.pk).first()
        run_limit_check(user)
        owned = False
        if recipe is not None:
            sandbox = sandbox_launch(user=user, recipe=recipe)
            owned = True
        run = Run.objects.create(
            owner=user,
            profile_version=version,
            task=task,
            recipe=recipe,
            sandbox=sandbox,
            sandbox_owned=owned,
            steps=step_list,
            provider=provider,
            loop_state=state.to_json(),
            shared=shared,
        )
        run.job_id = run_execute_job.enqueue(run_id=run.pk)
        run.save(update_fields=["job_id"])
        audit_record(
            actor=user,
            action="agent_run.start",
            obj=run,
            detail={"profile": profile, "version": version.number, "provider": provider},
        )
        run_publish(run, "state", {"step": 0, "state": RunState.QUEUED, "reason": ""})
        hud_notify("agents")
    return run


# --- execute (the job's body) ----------------------------------------------------------------


class _RunFailure(Exception):
    pass


def _sandbox_alive(sandbox: Sandbox) -> bool:
    from sandboxes.backends import backend_get
    from sandboxes.backends.base import BackendError
    from sandboxes.services.lifecycle import sandbox_handle

    try:
        return backend_get(sandbox.backend).status(sandbox_handle(sandbox)).state == "running"
    except BackendError:
        return False


def _sandbox_ready(run: Run, cancel: PollingCancel) -> Sandbox:
    """The run's sandbox, running: started here if still requested, relaunched from the
    recipe when a resumed run's sandbox has ended (its workspace is then fresh)."""
    from sandboxes.services import sandbox_fail, sandbox_launch, sandbox_start_run

    sandbox = Sandbox.objects.filter(pk=run.sandbox_id).first() if run.sandbox_id else None
    if (
        sandbox is not None
        and sandbox.state == SandboxState.RUNNING
        and not _sandbox_alive(sandbox)
    ):
        # Bubblewrap sandboxes die with the worker that started them.
        sandbox_fail(sandbox=sandbox, reason="the backend lost it (its worker stopped)")
        sandbox.refresh_from_db()
    if sandbox is None or sandbox.state in SANDBOX_ENDED:
        if run.recipe is None:
            raise _RunFailure("the run's sandbox has ended")
        try:
            sandbox = sandbox_launch(user=run.owner, recipe=run.recipe)
        except DomainError as exc:
            raise _RunFailure(f"could not launch a new sandbox: {exc.message}") from None
        Run.objects.filter(pk=run.pk).update(sandbox=sandbox, sandbox_owned=True)
        run.sandbox, run.sandbox_owned = sandbox, True
        if run.last_step:
            run_publish(
                run,
                "notice",
                {
                    "step": run.last_step,
                    "message": "the previous sandbox ended; a new one "
                    "was launched from the recipe, so earlier file changes are gone",
                },
            )
    if sandbox.state == SandboxState.REQUESTED:
        sandbox_start_run(sandbox_id=sandbox.pk)
    deadline = time.monotonic() + SANDBOX_START_TIMEOUT
    sandbox.refresh_from_db()
    while sandbox.state in (SandboxState.REQUESTED, SandboxState.STARTING):
        if time.monotonic() > deadline:
            raise _RunFailure("the sandbox did not start in time")
        if cancel.is_cancelled():
            raise _RunFailure("cancelled while the sandbox was starting")
        time.sleep(0.2)
        sandbox.refresh_from_db()
    if sandbox.state != SandboxState.RUNNING:
        raise _RunFailure(f"the sandbox is {sandbox.state}: {sandbox.reason or 'no reason'}")
    return sandbox


def workspace_snapshot(workspace: Workspace) -> dict[str, str]:
    """The workspace's text files (bounded in count and size), path → text."""
    files: dict[str, str] = {}
    total = 0
    pending = [""]
    while pending and len(files) < SNAPSHOT_MAX_FILES:
        directory = pending.pop(0)
        try:
            entries = workspace.list_files(directory)
        except WorkspaceError:
            continue
        for entry in sorted(entries, key=lambda e: e.path):
            name = entry.path.rsplit("/", 1)[-1]
            if entry.is_dir:
                if name not in SNAPSHOT_SKIP_DIRS:
                    pending.append(entry.path)
                continue
            if entry.size > SNAPSHOT_MAX_FILE_BYTES or total + entry.size > SNAPSHOT_MAX_TOTAL:
                continue
            try:
                data = workspace.read_file(entry.path, max_bytes=SNAPSHOT_MAX_FILE_BYTES)
            except WorkspaceError:
                continue
            if b"\x00" in data:
                continue  # binary
            files[entry.path] = data.decode(errors="replace")
            total += len(data)
            if len(files) >= SNAPSHOT_MAX_FILES:
                break
    return files


def workspace_diff(before: Mapping[str, str], after: Mapping[str, str]) -> str:
    """A unified diff of the text files that changed, appeared or disappeared."""
    parts: list[str] = []
    for path in sorted(set(before) | set(after)):
        old, new = before.get(path), after.get(path)
        if old == new:
            continue
        parts.extend(
            difflib.unified_diff(
                (old or "").splitlines(keepends=True),
                (new or "").splitlines(keepends=True),
                fromfile=f"a/{path}" if old is not None else "/dev/null",
                tofile=f"b/{path}" if new is not None else "/dev/null",
            )
        )
        if parts and not parts[-1].endswith("\n"):
            parts[-1] += "\n\\ No newline at end of file\n"
    text = "".join(parts)
    if len(text) > DIFF_MAX_CHARS:
        text = text[:DIFF_MAX_CHARS] + "\n[diff truncated]\n"
    return text


class _RunRecorder:
    """The loop's ``emit`` and ``checkpoint``: publish events, save the state."""

    def __init__(self, run: Run) -> None:
        self.run = run

    def emit(self, type: str, payload: Mapping[str, Any]) -> None:
        run_publish(self.run, type, payload)
        if type == "tool_result" and self.run.sandbox_id:
            # The agent's commands are activity: the idle culler must leave the sandbox be.
            sandbox_touch(sandbox_id=self.run.sandbox_id)

    def checkpoint(self, state: LoopState) -> None:
        fields: dict[str, Any] = {
            "loop_state": state.to_json(),
            "last_step": state.steps,
            "prompt_tokens": state.usage.prompt_tokens,
            "completion_tokens": state.usage.completion_tokens,
            "tool_calls": state.tool_calls,
        }
        new_state = _STATE_OF_OUTCOME.get(state.outcome)
        if new_state is not None and new_state != self.run.state:
            fields["state"] = new_state
            fields["reason"] = state.reason[:500]
            self.run.state = new_state
            hud_notify("agents")
        Run.objects.filter(pk=self.run.pk).update(**fields)
        self.run.last_step = state.steps


def _sandbox_release(run: Run, *, reason: str) -> None:
    """Record the sandbox's CPU time and stop it if the run launched it."""
    from sandboxes.backends import backend_get
    from sandboxes.backends.base import BackendError
    from sandboxes.services import sandbox_stop
    from sandboxes.services.lifecycle import sandbox_handle

    sandbox = Sandbox.objects.filter(pk=run.sandbox_id).first() if run.sandbox_id else None
    if sandbox is None:
        return
    if sandbox.handle_ref and sandbox.state not in SANDBOX_ENDED:
        try:
            usage = backend_get(sandbox.backend).usage(sandbox_handle(sandbox))
            Run.objects.filter(pk=run.pk).update(cpu_seconds=usage.cpu_seconds)
            run.cpu_seconds = usage.cpu_seconds
        except BackendError as exc:
            logger.warning("run %s: sandbox usage unavailable: %s", run.pk, exc)
    if run.sandbox_owned and sandbox.state not in SANDBOX_ENDED:
        try:
            sandbox_stop(actor=None, sandbox=sandbox, reason=reason)
        except Exception:
            logger.exception("run %s: stopping its sandbox %s failed", run.pk, sandbox.pk)


def _run_end(run: Run, state: str, reason: str, *, answer: str | None = None) -> None:
    """Store artifacts, release the sandbox and enter the final state."""
    if answer:
        RunArtifact.objects.update_or_create(
            run=run,
            kind=ArtifactKind.REPORT,
            defaults={"name": "report.md", "content": answer},
        )
    _sandbox_release(run, reason=f"agent run {run.pk} {state}")
    kinds = list(run.artifacts.values_list("kind", flat=True))
    if state != run.state or not run.ended_at:
        _set_state(run, state, reason, ended_at=timezone.now())
    run_publish(run, "artifacts", {"step": run.last_step, "kinds": kinds})


def _diff_store(run: Run, workspace: Workspace) -> None:
    if run.baseline is None:
        return
    try:
        diff = workspace_diff(run.baseline, workspace_snapshot(workspace))
    except (WorkspaceError, WorkspaceUnavailable) as exc:
        logger.warning("run %s: no diff: %s", run.pk, exc)
        return
    RunArtifact.objects.update_or_create(
        run=run, kind=ArtifactKind.DIFF, defaults={"name": "changes.diff", "content": diff}
    )


def run_execute(*, run_id: int) -> None:
    """The job's body: bring the sandbox up, run the loop until it ends or waits.

    A bug must not leave the run ``running`` forever: it fails with the error instead.
    """
    try:
        _run_execute(run_id)
    except Exception as exc:
        logger.exception("agent run %s failed", run_id)
        run = Run.objects.filter(pk=run_id).first()
        if run is not None and run.state not in ENDED_STATES:
            _run_end(run, RunState.FAILED, f"internal error: {type(exc).__name__}: {exc}")


def _run_execute(run_id: int) -> None:
    from sandboxes.backends import backend_get
    from sandboxes.services import sandbox_stop
    from sandboxes.services.lifecycle import sandbox_handle

    claimed = Run.objects.filter(pk=run_id, state=RunState.QUEUED).update(
        state=RunState.STARTING, cancel_requested=False
    )
    if not claimed:
        return
    run = Run.objects.select_related("profile_version__profile", "owner", "recipe").get(pk=run_id)
    if run.started_at is None:
        run.started_at = timezone.now()
        Run.objects.filter(pk=run.pk).update(started_at=run.started_at)
    run_publish(run, "state", {"step": run.last_step, "state": RunState.STARTING, "reason": ""})
    cancel = PollingCancel(
        lambda: Run.objects.filter(pk=run_id, cancel_requested=True).exists(),
        interval=CANCEL_POLL_SECONDS,
    )
    try:
        sandbox = _sandbox_ready(run, cancel)
        profile = run.profile_version.runtime()
        provider = provider_build(profile=profile, steps=run.steps)
    except _RunFailure as exc:
        cancelled = cancel.is_cancelled()
        _run_end(
            run,
            RunState.CANCELLED if cancelled else RunState.FAILED,
            "cancelled by request" if cancelled else str(exc),
        )
        return
    except LLMError as exc:
        run_publish(run, "error", {"step": run.last_step, "kind": exc.kind, "message": str(exc)})
        _run_end(run, RunState.FAILED, f"model provider: {exc}")
        return
    backend = backend_get(sandbox.backend)

    def stop_sandbox() -> None:
        # The command itself is killed through the backend; a sandbox the run launched
        # ends with the run, someone's existing sandbox outlives it.
        if run.sandbox_owned:
            sandbox_stop(actor=None, sandbox=sandbox, reason=f"agent run {run.pk} cancelled")

    workspace = SandboxWorkspace.for_backend(
        backend,
        sandbox_handle(sandbox),
        on_cancel=stop_sandbox,
    )
    if run.baseline is None:
        run.baseline = workspace_snapshot(workspace)
        Run.objects.filter(pk=run.pk).update(baseline=run.baseline)
    recorder = _RunRecorder(run)
    loop = AgentLoop(
        profile=profile,
        provider=provider,
        workspace=workspace,
        emit=recorder.emit,
        cancel=cancel,
        checkpoint=recorder.checkpoint,
    )
    state = LoopState.from_json(run.loop_state)
    state = loop.run(state)
    if not state.finished:
        return  # waiting for a human's decision; the sandbox stays up
    run.refresh_from_db()
    if state.outcome != "cancelled":
        _diff_store(run, workspace)
    _run_end(run, state.outcome, state.reason, answer=state.answer)


# --- control ------------------------------------------------------------------------------


def run_cancel(*, actor: Any, run: Run) -> Run:
    """Stop a run: the loop and its current tool stop soon after (owner or steward)."""
    if not run_can_control(actor, run):
        raise _forbidden("only the run's owner or a steward can cancel it")
    with transaction.atomic():
        locked = Run.objects.select_for_update().get(pk=run.pk)
        if locked.state in ENDED_STATES:
            raise _conflict(f"the run already ended ({locked.state})")
        working = locked.state in WORKING_STATES
        locked.cancel_requested = True
        locked.save(update_fields=["cancel_requested"])
        audit_record(actor=actor, action="agent_run.cancel", obj=locked)
    if not working:
        # Queued, waiting for a decision or interrupted: no job is running it.
        run.refresh_from_db()
        if run.state == RunState.AWAITING_CONFIRMATION:
            state = LoopState.from_json(run.loop_state)
            state.awaiting, state.outcome, state.reason = None, "cancelled", "cancelled"
            Run.objects.filter(pk=run.pk).update(loop_state=state.to_json())
        _run_end(run, RunState.CANCELLED, f"cancelled by {getattr(actor, 'email', 'request')}")
    run.refresh_from_db()
    return run


def run_confirm(*, actor: Any, run: Run, approved: bool) -> Run:
    """The owner's (or a steward's) decision on the command waiting for approval."""
    from sandboxes.agents.tasks import run_execute_job

    if not run_can_control(actor, run):
        raise _forbidden("only the run's owner or a steward can answer its prompt")
    with transaction.atomic():
        locked = Run.objects.select_for_update().get(pk=run.pk)
        if locked.state != RunState.AWAITING_CONFIRMATION:
            raise _conflict(f"the run is {locked.state}, not waiting for a confirmation")
        state = LoopState.from_json(locked.loop_state)
        recorder = _RunRecorder(locked)
        # Resolving a confirmation asks no model and touches no workspace.
        loop = AgentLoop(
            profile=locked.profile_version.runtime(),
            provider=None,  # type: ignore[arg-type]
            workspace=None,  # type: ignore[arg-type]
            emit=recorder.emit,
        )
        try:
            loop.resolve_confirmation(state, approved=approved, by=actor.email)
        except ValueError as exc:
            raise _conflict(str(exc)) from None
        locked.loop_state = state.to_json()
        locked.state = RunState.QUEUED
        locked.reason = ""
        locked.job_id = run_execute_job.enqueue(run_id=locked.pk)
        locked.save(update_fields=["loop_state", "state", "reason", "job_id"])
        audit_record(
            actor=actor, action="agent_run.confirm", obj=locked, detail={"approved": approved}
        )
    run.refresh_from_db()
    return run


def run_resume(*, actor: Any, run: Run) -> Run:
    """Continue an interrupted run from its last checkpoint."""
    from sandboxes.agents.tasks import run_execute_job

    if not run_can_control(actor, run):
        raise _forbidden("only the run's owner or a steward can resume it")
    with transaction.atomic():
        locked = Run.objects.select_for_update().get(pk=run.pk)
        if locked.state != RunState.INTERRUPTED:
            raise _conflict(f"the run is {locked.state}; only interrupted runs can resume")
        locked.job_id = run_execute_job.enqueue(run_id=locked.pk)
        locked.save(update_fields=["job_id"])
        _set_state(locked, RunState.QUEUED, f"resumed by {actor.email}")
        audit_record(actor=actor, action="agent_run.resume", obj=locked)
    run.refresh_from_db()
    return run


def _worker_alive(locked_by: str) -> bool | None:
    """Whether the worker holding a job is alive, when it ran on this host (else None)."""
    import socket

    from portal.procs import pid_alive

    parts = locked_by.split(":")
    if len(parts) < 2 or parts[0] != socket.gethostname() or not parts[1].isdigit():
        return None
    return pid_alive(int(parts[1]))


def runs_reconcile() -> int:
    """Mark runs whose worker died ``interrupted`` (with the last completed step)."""
    from portal.models import Job

    now = timezone.now()
    count = 0
    for run in Run.objects.filter(state__in=WORKING_STATES):
        job = Job.objects.filter(pk=run.job_id).first() if run.job_id else None
        if job is not None and job.status == Job.Status.QUEUED:
            continue
        if job is not None and job.status == Job.Status.RUNNING:
            lease_ok = job.locked_until is not None and job.locked_until > now
            if lease_ok and _worker_alive(job.locked_by) is not False:
                continue
        updated = Run.objects.filter(pk=run.pk, state__in=WORKING_STATES).update(
            state=RunState.INTERRUPTED
        )
        if not updated:
            continue
        run.refresh_from_db()
        _set_state(
            run,
            RunState.INTERRUPTED,
            f"the worker stopped after step {run.last_step}; resume to continue from there",
        )
        count += 1
    return count
