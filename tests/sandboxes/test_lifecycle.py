"""The sandbox lifecycle through the services, on a real bubblewrap backend."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from portal.api.errors import DomainError
from portal.jobs.testing import run_pending_jobs
from portal.models import AuditEntry, RealtimeEvent
from sandboxes.backends import backend_get
from sandboxes.models import Sandbox, SandboxState
from sandboxes.services import (
    quota_update,
    sandbox_exec,
    sandbox_keep_alive,
    sandbox_launch,
    sandbox_stop,
    sandboxes_cull,
    sandboxes_reconcile,
)
from sandboxes.services.lifecycle import sandbox_handle

pytestmark = pytest.mark.django_db(transaction=True)


def test_launch_goes_through_a_job_and_records_every_transition(
    maintainer: Any, shell_recipe: Any
) -> None:
    sandbox = sandbox_launch(user=maintainer, recipe=shell_recipe, backend="bubblewrap")
    assert sandbox.state == SandboxState.REQUESTED
    run_pending_jobs()
    sandbox.refresh_from_db()
    assert sandbox.state == SandboxState.RUNNING
    assert sandbox.started_at is not None
    sandbox_stop(actor=maintainer, sandbox=sandbox)
    states = list(sandbox.transitions.values_list("to_state", flat=True))
    assert states == ["requested", "starting", "running", "stopping", "stopped"]
    actions = set(
        AuditEntry.objects.filter(object_id=str(sandbox.pk)).values_list("action", flat=True)
    )
    assert {"sandbox.requested", "sandbox.running", "sandbox.stopped"} <= actions
    events = RealtimeEvent.objects.filter(topic=f"sandbox.{sandbox.pk}")
    types = list(events.values_list("type", flat=True))
    assert "progress" in types and "state" in types
    assert backend_get("bubblewrap").status(sandbox_handle(sandbox)).state == "exited"


def test_member_without_maintainer_role_cannot_launch(member: Any, shell_recipe: Any) -> None:
    with pytest.raises(DomainError) as err:
        sandbox_launch(user=member, recipe=shell_recipe)
    assert err.value.status_code == 403
    assert not Sandbox.objects.exists()


def test_concurrent_quota_refuses_with_429_naming_the_quota(
    maintainer: Any, steward: Any, shell_recipe: Any
) -> None:
    quota_update(actor=steward, role="maintainer", max_concurrent=1)
    first = sandbox_launch(user=maintainer, recipe=shell_recipe, backend="bubblewrap")
    with pytest.raises(DomainError) as err:
        sandbox_launch(user=maintainer, recipe=shell_recipe, backend="bubblewrap")
    assert err.value.status_code == 429
    assert "1 of 1 sandboxes running" in err.value.message
    assert err.value.headers["Retry-After"]
    sandbox_stop(actor=maintainer, sandbox=first)
    sandbox_launch(user=maintainer, recipe=shell_recipe, backend="bubblewrap")


def test_launches_per_day_quota_says_when_it_frees(
    maintainer: Any, steward: Any, shell_recipe: Any
) -> None:
    quota_update(actor=steward, role="maintainer", launches_per_day=1)
    first = sandbox_launch(user=maintainer, recipe=shell_recipe, backend="bubblewrap")
    sandbox_stop(actor=maintainer, sandbox=first)
    with pytest.raises(DomainError) as err:
        sandbox_launch(user=maintainer, recipe=shell_recipe, backend="bubblewrap")
    assert "1 of 1 launches" in err.value.message and "frees at" in err.value.message
    assert 0 < int(err.value.headers["Retry-After"]) <= 24 * 3600


def test_global_cap_answers_429_with_retry_after(
    maintainer: Any, steward: Any, shell_recipe: Any
) -> None:
    quota_update(actor=steward, role="global", max_running=0)
    with pytest.raises(DomainError) as err:
        sandbox_launch(user=maintainer, recipe=shell_recipe, backend="bubblewrap")
    assert err.value.status_code == 429
    assert err.value.headers["Retry-After"] == "60"
    assert "slots" in err.value.message


def test_exec_runs_in_the_sandbox_and_only_for_the_owner(
    launched: Any, other_member: Any, maintainer: Any
) -> None:
    result = sandbox_exec(user=maintainer, sandbox=launched, command="echo $((6*7)); id -u")
    assert result.exit_code == 0
    assert result.output.splitlines()[0] == b"42"
    assert result.output.splitlines()[1] != b"0"
    with pytest.raises(DomainError):
        sandbox_exec(user=other_member, sandbox=launched, command="id")


def test_idle_sandbox_is_warned_then_expired_unless_kept_alive(
    launched: Any, maintainer: Any
) -> None:
    idle = launched.recipe_version.idle_timeout_minutes
    almost = timezone.now() - timedelta(minutes=idle) + timedelta(seconds=30)
    Sandbox.objects.filter(pk=launched.pk).update(last_activity_at=almost, started_at=almost)
    assert sandboxes_cull()["warned"] == 1
    assert RealtimeEvent.objects.filter(topic=launched.topic, type="idle_warning").exists()
    sandbox_keep_alive(user=maintainer, sandbox=launched)
    assert sandboxes_cull()["idle"] == 0
    long_ago = timezone.now() - timedelta(minutes=idle + 1)
    Sandbox.objects.filter(pk=launched.pk).update(last_activity_at=long_ago, started_at=long_ago)
    assert sandboxes_cull()["idle"] == 1
    launched.refresh_from_db()
    assert launched.state == SandboxState.EXPIRED
    assert "idle" in launched.reason


def test_max_age_expires_a_busy_sandbox(launched: Any) -> None:
    old = timezone.now() - timedelta(minutes=launched.recipe_version.max_age_minutes + 1)
    Sandbox.objects.filter(pk=launched.pk).update(started_at=old, last_activity_at=timezone.now())
    assert sandboxes_cull()["max_age"] == 1
    launched.refresh_from_db()
    assert launched.state == SandboxState.EXPIRED


def test_limit_kill_is_recorded_as_the_reason(maintainer: Any, shell_recipe: Any) -> None:
    version = shell_recipe.latest
    version.cpu_seconds = 1
    version.save()
    sandbox = sandbox_launch(user=maintainer, recipe=shell_recipe, backend="bubblewrap")
    run_pending_jobs()
    sandbox.refresh_from_db()
    backend_get("bubblewrap").exec(sandbox_handle(sandbox), "while :; do :; done", timeout=15)
    sandboxes_cull()
    sandbox.refresh_from_db()
    assert sandbox.state == SandboxState.FAILED
    assert "CPU time" in sandbox.reason


def test_reconcile_fails_lost_sandboxes_and_removes_unknown_ones(
    launched: Any, maintainer: Any, shell_recipe: Any
) -> None:
    backend = backend_get("bubblewrap")
    backend.remove(sandbox_handle(launched))  # the backend loses it
    from sandboxes.backends.base import LaunchSpec

    stray = backend.launch(LaunchSpec(sandbox_id="stray0123456789a"))  # unknown to the DB
    counts = sandboxes_reconcile()
    launched.refresh_from_db()
    assert launched.state == SandboxState.FAILED
    assert "lost" in launched.reason
    assert counts["removed"] >= 1
    assert backend.status(stray).state == "missing"


def test_retention_removes_old_workspaces(launched: Any, maintainer: Any) -> None:
    sandbox_stop(actor=maintainer, sandbox=launched)
    Sandbox.objects.filter(pk=launched.pk).update(ended_at=timezone.now() - timedelta(days=3))
    assert sandboxes_cull()["removed"] == 1
    assert backend_get("bubblewrap").status(sandbox_handle(launched)).state == "missing"
