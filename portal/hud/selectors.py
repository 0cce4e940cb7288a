"""Reads behind the HUD's widgets. Other apps' data is read defensively: a widget whose
source is missing or failing is reported as unavailable, never as a 500."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.core.cache import cache
from django.db.models import Count, Max, Q
from django.db.models.functions import TruncHour
from django.utils import timezone

LEDGER_CHECK_SECONDS = 60


def _windows(now: datetime) -> dict[str, datetime]:
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return {"today": today, "7d": now - timedelta(days=7), "30d": now - timedelta(days=30)}


def hud_sandboxes(user: Any) -> dict[str, Any]:
    """Sandboxes running now and launches per hour over the last 24 hours."""
    from sandboxes.models import Sandbox, SandboxState

    now = timezone.now()
    since = (now - timedelta(hours=23)).replace(minute=0, second=0, microsecond=0)
    per_hour = dict(
        Sandbox.objects.filter(created_at__gte=since)
        .annotate(hour=TruncHour("created_at"))
        .values("hour")
        .annotate(n=Count("id"))
        .values_list("hour", "n")
    )
    hours = [since + timedelta(hours=i) for i in range(24)]
    return {
        "running": Sandbox.objects.filter(state=SandboxState.RUNNING).count(),
        "launches_per_hour": [
            {"hour": h.strftime("%H:00"), "launches": per_hour.get(h, 0)} for h in hours
        ],
    }


def hud_agents(user: Any) -> dict[str, Any]:
    """Runs by state, and success/failure rates per profile for today / 7 d / 30 d."""
    from sandboxes.agents.models import Run, RunState

    now = timezone.now()
    by_state = dict.fromkeys(RunState.values, 0)
    for state, n in Run.objects.values_list("state").annotate(n=Count("id")):
        by_state[state] = n
    rates: dict[str, dict[str, Any]] = {}
    for label, since in _windows(now).items():
        rows = (
            Run.objects.filter(created_at__gte=since, ended_at__isnull=False)
            .values("profile_version__profile__name")
            .annotate(
                total=Count("id"),
                succeeded=Count("id", filter=Q(state=RunState.SUCCEEDED)),
                failed=Count("id", filter=Q(state__in=[RunState.FAILED, RunState.TIMED_OUT])),
            )
        )
        rates[label] = {
            row["profile_version__profile__name"]: {
                "ended": row["total"],
                "succeeded": row["succeeded"],
                "failed": row["failed"],
                "success_rate": round(row["succeeded"] / row["total"], 3) if row["total"] else None,
            }
            for row in rows
        }
    return {"by_state": by_state, "rates": rates}


def hud_polls(user: Any) -> dict[str, Any]:
    """Open polls the viewer may see, with participation."""
    from governance.models.choices import PollStatus
    from governance.selectors import polls_visible

    polls = (
        polls_visible(user=user)
        .filter(status=PollStatus.OPEN)
        .annotate(
            voted=Count("participations", distinct=True),
            electorate_size=Count("electorate", distinct=True),
        )
        .order_by("closes_at")[:10]
    )
    return {
        "open": [
            {
                "id": p.pk,
                "title": p.title,
                "voted": p.voted,
                "electorate": p.electorate_size,
                "closes_at": p.closes_at.isoformat(),
            }
            for p in polls
        ]
    }


def hud_contributions(user: Any) -> dict[str, Any]:
    """Contributions submitted and approved today / 7 d / 30 d."""
    from community.models.contributions import Contribution, ContributionStatus

    result: dict[str, Any] = {}
    for label, since in _windows(timezone.now()).items():
        result[label] = {
            "submitted": Contribution.objects.filter(created_at__gte=since).count(),
            "approved": Contribution.objects.filter(
                status=ContributionStatus.APPROVED, approved_at__gte=since
            ).count(),
        }
    return result


def hud_ledger(user: Any) -> dict[str, Any]:
    """The ledger's invariants (checked at most once a minute) and when they were checked."""
    cached = cache.get("hud:ledger")
    if cached is not None:
        return dict(cached)
    from community.health import ledger_health

    report = ledger_health()
    data = {
        "ok": report.ok,
        "status": "healthy" if report.ok else "violations",
        "failing": [c.name for c in report.checks if not c.ok],
        "checked_at": timezone.now().isoformat(),
        "transactions": report.transactions,
    }
    cache.set("hud:ledger", data, LEDGER_CHECK_SECONDS)
    return data


def hud_content(user: Any) -> dict[str, Any]:
    """Content freshness: the mirror's last sync and the last drift repair."""
    from directus.models import ContentItem
    from portal.models import Job

    last_sync = ContentItem.objects.aggregate(at=Max("synced_at"))["at"]
    reconcile = (
        Job.objects.filter(name__startswith="directus.reconcile", finished_at__isnull=False)
        .order_by("-finished_at")
        .first()
    )
    day_ago = timezone.now() - timedelta(hours=24)
    return {
        "items": ContentItem.objects.count(),
        "last_sync": last_sync.isoformat() if last_sync else None,
        "last_reconcile": reconcile.finished_at.isoformat()
        if reconcile and reconcile.finished_at
        else None,
        "last_reconcile_status": reconcile.status if reconcile else None,
        "failed_syncs_24h": Job.objects.filter(
            name="directus.sync_item", status=Job.Status.FAILED, finished_at__gte=day_ago
        ).count(),
    }


def hud_jobs(user: Any) -> dict[str, Any]:
    """Job queue depth and failures in the last 24 hours."""
    from portal.jobs import jobs_queue_depth
    from portal.models import Job

    depth = jobs_queue_depth()
    day_ago = timezone.now() - timedelta(hours=24)
    return {
        "queued": depth.get("queued", 0),
        "running": depth.get("running", 0),
        "failed_24h": Job.objects.filter(
            status=Job.Status.FAILED, finished_at__gte=day_ago
        ).count(),
    }


def _quantile(buckets: list[tuple[float, float]], q: float) -> float | None:
    """A quantile from cumulative histogram buckets [(upper bound, count)], interpolated."""
    if not buckets or buckets[-1][1] <= 0:
        return None
    target = q * buckets[-1][1]
    lower, below = 0.0, 0.0
    for bound, count in buckets:
        if count >= target:
            if bound == float("inf"):
                return lower
            share = (target - below) / (count - below) if count > below else 1.0
            return lower + (bound - lower) * share
        lower, below = bound, count
    return lower


def hud_api(user: Any) -> dict[str, Any]:
    """API latency p95 and error rate, as measured by this web process."""
    from portal.metrics import REGISTRY

    buckets: dict[float, float] = {}
    total = errors = 0.0
    for metric in REGISTRY.collect():
        for sample in metric.samples:
            route = sample.labels.get("route", "")
            if not route.startswith("api/"):
                continue
            if sample.name == "agora_http_request_duration_seconds_bucket":
                bound = float(sample.labels["le"])
                buckets[bound] = buckets.get(bound, 0.0) + sample.value
            elif sample.name == "agora_http_requests_total":
                total += sample.value
                if sample.labels.get("status", "").startswith("5"):
                    errors += sample.value
    p95 = _quantile(sorted(buckets.items()), 0.95)
    return {
        "requests": int(total),
        "p95_ms": round(p95 * 1000, 1) if p95 is not None else None,
        "error_rate": round(errors / total, 4) if total else 0.0,
        "scope": "this web process",
    }
