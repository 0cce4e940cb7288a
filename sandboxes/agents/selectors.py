"""Reads of profiles, runs and their events, scoped to the requesting user."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet

from portal.accounts.roles import user_has_role
from portal.models import RealtimeEvent
from portal.realtime.events import Envelope
from sandboxes.agents.models import Profile, ProfileVersion, Run

EVENTS_PAGE_MAX = 1000


def profiles_active() -> QuerySet[Profile]:
    return Profile.objects.filter(archived=False).prefetch_related("versions")


def profile_version_latest(name: str) -> ProfileVersion | None:
    return (
        ProfileVersion.objects.select_related("profile")
        .filter(profile__name=name, profile__archived=False)
        .order_by("-number")
        .first()
    )


def profile_versions(profile: Profile) -> list[ProfileVersion]:
    """Every version of ``profile``, newest first, with its author and number of runs."""
    return list(
        profile.versions.select_related("created_by")
        .annotate(run_count=Count("runs"))
        .order_by("-number")
    )


def profiles_with_history() -> QuerySet[Profile]:
    """Every profile (archived too) with its versions newest first: the stewards' list."""
    versions = ProfileVersion.objects.select_related("created_by").order_by("-number")
    return Profile.objects.prefetch_related(Prefetch("versions", queryset=versions))


def run_can_view(user: Any, run: Run) -> bool:
    """The owner and stewards always; other signed-in users only when the owner shared it."""
    if not getattr(user, "is_authenticated", False):
        return False
    return run.owner_id == user.pk or run.shared or user_has_role(user, "steward")


def run_can_control(user: Any, run: Run) -> bool:
    """Cancel, confirm, resume: the owner and stewards."""
    if not getattr(user, "is_authenticated", False):
        return False
    return run.owner_id == user.pk or user_has_role(user, "steward")


def runs_visible(
    user: Any, *, profile: str = "", state: str = "", owner: str = ""
) -> QuerySet[Run]:
    """Run history: the user's own runs and shared ones (every run for stewards)."""
    qs = Run.objects.select_related("owner", "profile_version__profile", "sandbox", "recipe")
    if not getattr(user, "is_authenticated", False):
        return qs.none()
    if not user_has_role(user, "steward"):
        qs = qs.filter(Q(owner=user) | Q(shared=True))
    if profile:
        qs = qs.filter(profile_version__profile__name=profile)
    if state:
        qs = qs.filter(state=state)
    if owner:
        qs = qs.filter(Q(owner__email__iexact=owner) | Q(owner__username__iexact=owner))
    return qs


def run_get_for_user(user: Any, pk: int | str) -> Run | None:
    try:
        run = Run.objects.select_related(
            "owner", "profile_version__profile", "sandbox", "recipe"
        ).get(pk=pk)
    except (Run.DoesNotExist, ValueError):
        return None
    return run if run_can_view(user, run) else None


def run_events(*, run: Run, after_seq: int = 0, limit: int = 500) -> list[Envelope]:
    """The run's persisted events with ``seq > after_seq``, oldest first."""
    limit = max(1, min(limit, EVENTS_PAGE_MAX))
    topic = run.topic
    rows = (
        RealtimeEvent.objects.filter(topic=topic, seq__gt=after_seq)
        .order_by("seq")
        .values_list("seq", "type", "data", "ts")[:limit]
    )
    return [
        {"topic": topic, "seq": seq, "type": type_, "data": data, "ts": ts.isoformat()}
        for seq, type_, data, ts in rows
    ]
