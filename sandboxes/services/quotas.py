"""Quotas: which one refuses a launch, and when it frees."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from portal.accounts.roles import user_has_role, user_role
from portal.api.errors import DomainError
from portal.audit import audit_record
from sandboxes.models import GlobalQuota, QuotaPolicy, Sandbox
from sandboxes.models.sandboxes import ACTIVE_STATES

DEFAULT_QUOTAS: dict[str, dict[str, int]] = {
    "member": {"max_concurrent": 0, "launches_per_day": 0, "cpu_minutes_per_day": 0},
    "maintainer": {"max_concurrent": 2, "launches_per_day": 30, "cpu_minutes_per_day": 120},
    "steward": {"max_concurrent": 5, "launches_per_day": 100, "cpu_minutes_per_day": 600},
}
DAY = timedelta(hours=24)
GLOBAL_RETRY_AFTER = 60


class QuotaExceeded(DomainError):
    code = "quota_exceeded"
    status_code = 429


@dataclass(frozen=True)
class QuotaUsage:
    role: str
    running: int
    max_concurrent: int
    launches_today: int
    launches_per_day: int
    cpu_minutes_today: float
    cpu_minutes_per_day: int


def quota_policy_for(user: Any) -> QuotaPolicy:
    role = user_role(user) or "member"
    defaults = DEFAULT_QUOTAS.get(role, DEFAULT_QUOTAS["member"])
    policy, _ = QuotaPolicy.objects.get_or_create(role=role, defaults=defaults)
    return policy


def quota_usage(user: Any) -> QuotaUsage:
    policy = quota_policy_for(user)
    since = timezone.now() - DAY
    mine = Sandbox.objects.filter(owner=user)
    cpu = mine.filter(created_at__gte=since).aggregate(s=Sum("cpu_seconds"))["s"] or 0.0
    return QuotaUsage(
        role=policy.role,
        running=mine.filter(state__in=ACTIVE_STATES).count(),
        max_concurrent=policy.max_concurrent,
        launches_today=mine.filter(created_at__gte=since).count(),
        launches_per_day=policy.launches_per_day,
        cpu_minutes_today=round(cpu / 60, 2),
        cpu_minutes_per_day=policy.cpu_minutes_per_day,
    )


def _refuse(message: str, *, which: str, frees_at: datetime | None, retry: int) -> None:
    headers = {"Retry-After": str(max(1, retry))}
    fields = {"quota": [which]}
    if frees_at is not None:
        fields["frees_at"] = [frees_at.isoformat()]
    raise QuotaExceeded(message, headers=headers, fields=fields)


def _hhmm(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%H:%M UTC")


def quota_check(user: Any) -> None:
    """Raise a 429 naming the quota that refuses a new sandbox for ``user``."""
    now = timezone.now()
    usage = quota_usage(user)
    if usage.running >= usage.max_concurrent:
        _refuse(
            f"quota: {usage.running} of {usage.max_concurrent} sandboxes running for your "
            f"role ({usage.role}); stop one to launch another",
            which="concurrent",
            frees_at=None,
            retry=60,
        )
    since = now - DAY
    recent = Sandbox.objects.filter(owner=user, created_at__gte=since).order_by("created_at")
    if usage.launches_today >= usage.launches_per_day:
        oldest = recent.first()
        frees = (oldest.created_at + DAY) if oldest else now + DAY
        _refuse(
            f"quota: {usage.launches_today} of {usage.launches_per_day} launches in the last "
            f"24 hours; the next one frees at {_hhmm(frees)}",
            which="launches_per_day",
            frees_at=frees,
            retry=int((frees - now).total_seconds()),
        )
    if usage.cpu_minutes_today >= usage.cpu_minutes_per_day:
        oldest = recent.filter(cpu_seconds__gt=0).first()
        frees = (oldest.created_at + DAY) if oldest else now + DAY
        _refuse(
            f"quota: {usage.cpu_minutes_today:g} of {usage.cpu_minutes_per_day} CPU minutes used "
            f"in the last 24 hours; some frees at {_hhmm(frees)}",
            which="cpu_minutes_per_day",
            frees_at=frees,
            retry=int((frees - now).total_seconds()),
        )
    cap = GlobalQuota.current().max_running
    active = Sandbox.objects.filter(state__in=ACTIVE_STATES).count()
    if active >= cap:
        _refuse(
            f"all {cap} sandbox slots on this site are in use; try again in a minute",
            which="global",
            frees_at=None,
            retry=GLOBAL_RETRY_AFTER,
        )


@transaction.atomic
def quota_update(*, actor: Any, role: str, **limits: int) -> QuotaPolicy:
    """Stewards set a role's limits (or the global cap with ``role="global"``)."""
    if not user_has_role(actor, "steward"):
        raise DomainError("only stewards can change quotas", code="forbidden", status_code=403)
    for name, value in limits.items():
        if int(value) < 0:
            raise DomainError(f"{name} must not be negative", code="invalid")
    if role == "global":
        quota = GlobalQuota.current()
        for name in ("max_running", "workspace_retention_hours"):
            if name in limits:
                setattr(quota, name, int(limits[name]))
        quota.save()
        audit_record(
            actor=actor,
            action="sandbox.quota.update",
            object_type="global",
            object_id="1",
            detail=limits,
        )
        return QuotaPolicy(role="global")
    if role not in DEFAULT_QUOTAS:
        raise DomainError(f"unknown role {role!r}", code="invalid")
    policy, _ = QuotaPolicy.objects.get_or_create(role=role, defaults=DEFAULT_QUOTAS[role])
    for name in ("max_concurrent", "launches_per_day", "cpu_minutes_per_day"):
        if name in limits:
            setattr(policy, name, int(limits[name]))
    policy.save()
    audit_record(actor=actor, action="sandbox.quota.update", obj=policy, detail=limits)
    return policy
