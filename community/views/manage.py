"""Steward pages: open and configure epochs, publish scoring policy versions, add custom
contribution types, define and award badges. Thin: parse the form, call the service,
show its errors next to the fields they concern.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from community.defaults import defaults_ensure
from community.models import (
    Badge,
    BadgeAward,
    ContributionType,
    Contributor,
    Currency,
    Epoch,
    EpochMethod,
    ScoringCategory,
)
from community.models.contributions import Effort
from community.services.badges import badge_award, badge_create
from community.services.contributions import contribution_type_create
from community.services.epochs import epoch_open, month_bounds
from community.services.scoring import policy_create, policy_current
from community.views.pages import _role_required
from portal.api.errors import DomainError

RATINGS = ("1", "2", "3", "4", "5")


class FormErrors(dict[str, list[str]]):
    """Field name → messages; ``non_field`` holds what belongs to no single field."""

    def add(self, exc: DomainError) -> None:
        if exc.fields:
            for name, problems in exc.fields.items():
                self.setdefault(name, []).extend(str(p) for p in problems)
        else:
            self.setdefault("non_field", []).append(exc.message)


def _render_invalid(
    request: HttpRequest, template: str, context: dict[str, Any], errors: FormErrors
) -> HttpResponse:
    return render(request, template, {**context, "errors": errors}, status=400)


def _moment(raw: str, field: str) -> datetime:
    try:
        value = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise DomainError(
            f"{field}: a date and time", code="invalid", fields={field: ["a date and time"]}
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@_role_required("steward")
def manage_home(request: HttpRequest) -> HttpResponse:
    defaults_ensure()
    return render(
        request,
        "community/manage/home.html",
        {
            "epochs": Epoch.objects.select_related("policy")[:10],
            "policy": policy_current(),
            "custom_types": ContributionType.objects.filter(is_custom=True),
            "badges": Badge.objects.filter(automatic=False),
        },
    )


@_role_required("steward")
@require_http_methods(["GET", "POST"])
def manage_epoch_open(request: HttpRequest) -> HttpResponse:
    defaults_ensure()
    start, end = month_bounds(datetime.now(UTC))
    latest = Epoch.objects.order_by("-ends_at").first()
    if latest is not None and latest.ends_at > start:
        start, end = latest.ends_at, month_bounds(latest.ends_at)[1]
    context: dict[str, Any] = {
        "currencies": Currency.objects.all(),
        "methods": EpochMethod.choices,
        "policy": policy_current(),
        "form": request.POST
        if request.method == "POST"
        else {
            "name": start.strftime("%Y-%m"),
            "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": end.strftime("%Y-%m-%dT%H:%M"),
            "currency": "USD",
            "pool_amount": "",
            "method": EpochMethod.PROPORTIONAL,
        },
    }
    if request.method == "POST":
        errors = FormErrors()
        try:
            starts_at = _moment(request.POST.get("starts_at", ""), "starts_at")
            ends_at = _moment(request.POST.get("ends_at", ""), "ends_at")
            epoch = epoch_open(
                actor=request.user,
                name=request.POST.get("name", ""),
                starts_at=starts_at,
                ends_at=ends_at,
                currency=request.POST.get("currency", ""),
                pool_amount=request.POST.get("pool_amount", ""),
                method=request.POST.get("method", ""),
            )
        except DomainError as exc:
            errors.add(exc)
            return _render_invalid(request, "community/manage/epoch_open.html", context, errors)
        messages.success(request, f"Epoch {epoch.name} is open.")
        return redirect("community:epoch", pk=epoch.pk)
    return render(request, "community/manage/epoch_open.html", context)


def _policy_rows(source: Any, current: Any) -> dict[str, Any]:
    """Form values: what was posted, else the current policy's."""

    def value(name: str, default: Any) -> str:
        return str(source.get(name, default)) if source is not None else str(default)

    return {
        "weights": [
            (
                c.value,
                c.label,
                value(f"weight_{c.value}", current.category_weights.get(c.value, "")),
            )
            for c in ScoringCategory
        ],
        "efforts": [
            (
                e.value,
                e.label,
                value(f"effort_{e.value}", current.effort_multipliers.get(e.value, "")),
            )
            for e in Effort
        ],
        "ratings": [
            (r, value(f"rating_{r}", current.rating_multipliers.get(r, ""))) for r in RATINGS
        ],
        "bases": [
            (t.slug, t.name, value(f"base_{t.slug}", current.base_points.get(t.slug, "")))
            for t in ContributionType.objects.order_by("name")
        ],
        "default_base_points": value("default_base_points", current.default_base_points),
        "notes": value("notes", ""),
    }


@_role_required("steward")
@require_http_methods(["GET", "POST"])
def manage_policy(request: HttpRequest) -> HttpResponse:
    current = policy_current()
    post = request.POST if request.method == "POST" else None
    context = {"policy": current, **_policy_rows(post, current)}
    if post is not None:
        base = {
            slug: post[f"base_{slug}"].strip()
            for slug, _, _ in context["bases"]
            if post.get(f"base_{slug}", "").strip()
        }
        try:
            policy = policy_create(
                actor=request.user,
                category_weights={
                    c.value: post.get(f"weight_{c.value}", "") for c in ScoringCategory
                },
                base_points=base,
                effort_multipliers={e.value: post.get(f"effort_{e.value}", "") for e in Effort},
                rating_multipliers={
                    r: post[f"rating_{r}"] for r in RATINGS if post.get(f"rating_{r}", "").strip()
                },
                default_base_points=post.get("default_base_points", "").strip() or None,
                notes=post.get("notes", ""),
            )
        except DomainError as exc:
            errors = FormErrors()
            errors.add(exc)
            return _render_invalid(request, "community/manage/policy.html", context, errors)
        messages.success(
            request, f"Scoring policy v{policy.version} published; it applies from the next epoch."
        )
        return redirect("community:manage-policy")
    return render(request, "community/manage/policy.html", context)


@_role_required("steward")
@require_http_methods(["GET", "POST"])
def manage_types(request: HttpRequest) -> HttpResponse:
    defaults_ensure()
    context: dict[str, Any] = {
        "types": ContributionType.objects.order_by("-is_custom", "name"),
        "categories": ScoringCategory.choices,
        "form": request.POST if request.method == "POST" else {"required_approvals": "1"},
    }
    if request.method == "POST":
        errors = FormErrors()
        approvals = request.POST.get("required_approvals", "1").strip()
        try:
            if not approvals.isdigit():
                raise DomainError(
                    "required approvals must be 1 to 5",
                    code="invalid",
                    fields={"required_approvals": ["a whole number from 1 to 5"]},
                )
            kind = contribution_type_create(
                actor=request.user,
                slug=request.POST.get("slug", "").strip(),
                name=request.POST.get("name", "").strip(),
                category=request.POST.get("category", ""),
                required_approvals=int(approvals),
                emoji=request.POST.get("emoji", "").strip(),
            )
        except DomainError as exc:
            if exc.code == "duplicate_type":
                exc.fields = {"slug": [exc.message]}
            errors.add(exc)
            return _render_invalid(request, "community/manage/types.html", context, errors)
        messages.success(request, f"Contribution type {kind.name} added.")
        return redirect("community:manage-types")
    return render(request, "community/manage/types.html", context)


@_role_required("steward")
@require_http_methods(["GET", "POST"])
def manage_badges(request: HttpRequest) -> HttpResponse:
    defaults_ensure()
    action = request.POST.get("action") if request.method == "POST" else None
    context: dict[str, Any] = {
        "badges": Badge.objects.all(),
        "custom": Badge.objects.filter(automatic=False),
        "contributors": Contributor.objects.select_related("user").order_by("id")[:500],
        "awards": BadgeAward.objects.filter(badge__automatic=False).select_related(
            "badge", "contributor__user", "awarded_by"
        )[:50],
        "form": request.POST if action == "create" else {},
        "award_form": request.POST if action == "award" else {},
    }
    if action in ("create", "award"):
        errors = FormErrors()
        try:
            if action == "create":
                badge = badge_create(
                    actor=request.user,
                    slug=request.POST.get("slug", "").strip(),
                    name=request.POST.get("name", "").strip(),
                    description=request.POST.get("description", "").strip(),
                    icon=request.POST.get("icon", "").strip(),
                )
                done = f"Badge {badge.name} created."
            else:
                raw = request.POST.get("contributor", "")
                award = badge_award(
                    actor=request.user,
                    slug=request.POST.get("badge", ""),
                    contributor_id=int(raw) if raw.isdigit() else 0,
                    reason=request.POST.get("reason", "").strip(),
                )
                done = f"{award.badge.name} awarded."
        except DomainError as exc:
            if exc.code == "duplicate_badge":
                exc.fields = {"slug": [exc.message]}
            errors.add(exc)
            context["action"] = action
            return _render_invalid(request, "community/manage/badges.html", context, errors)
        messages.success(request, done)
        return redirect("community:manage-badges")
    return render(request, "community/manage/badges.html", context)
