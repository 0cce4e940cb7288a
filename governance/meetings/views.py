"""Meeting pages. Forms post to ``meeting_act``; live notes save through the API."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, time, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from governance.meetings import exchange, selectors, services
from governance.meetings.ical import calendar_render
from governance.meetings.models import (
    AgendaItem,
    AgendaTemplate,
    Amendment,
    AttendanceStatus,
    Cadence,
    Meeting,
    MeetingSeries,
)
from governance.models import Poll
from governance.rendering import markdown_render
from portal.api.errors import DomainError

CALENDAR_SALT = "meetings.calendar"


def calendar_token(user: Any) -> str:
    return signing.dumps({"u": user.pk}, salt=CALENDAR_SALT)


@login_required
def index(request: HttpRequest) -> HttpResponse:
    services.agenda_templates_ensure()
    upcoming = selectors.meetings_filter(
        user=request.user, upcoming=True, after=timezone.now() - timedelta(hours=12)
    )[:20]
    return render(
        request,
        "meetings/index.html",
        {
            "series_list": selectors.series_visible(user=request.user),
            "upcoming": upcoming,
            "templates": AgendaTemplate.objects.all(),
            "cadences": Cadence.choices,
            "may_create": request.user.has_role("maintainer"),  # type: ignore[union-attr]
            "calendar_url": f"/meetings/calendar/{calendar_token(request.user)}.ics",
            "today": timezone.localdate().isoformat(),
        },
    )


@login_required
@require_POST
def series_new(request: HttpRequest) -> HttpResponse:
    post = request.POST
    try:
        template = AgendaTemplate.objects.filter(slug=post.get("template", "")).first()
        usernames = post.get("attendees", "").replace(",", " ").split()
        attendees = list(get_user_model().objects.filter(username__in=usernames))
        unknown = set(usernames) - {u.username for u in attendees}
        if unknown:
            raise DomainError(f"default attendees: no user {', '.join(sorted(unknown))}")
        try:
            first_date = date.fromisoformat(post.get("first_date", ""))
            local_time = time.fromisoformat(post.get("local_time", ""))
        except ValueError:
            raise DomainError("first date and time: use YYYY-MM-DD and HH:MM") from None
        quorum = post.get("quorum", "").strip()
        series = services.series_create(
            actor=request.user,
            title=post.get("title", ""),
            cadence=post.get("cadence", ""),
            time_zone=post.get("time_zone", "UTC"),
            first_date=first_date,
            local_time=local_time,
            template=template,
            default_attendees=attendees,
            quorum=int(quorum) if quorum.isdigit() else None,
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("meetings:index")
    return redirect("meetings:series", pk=series.pk)


@login_required
def series_detail(request: HttpRequest, pk: int) -> HttpResponse:
    series = get_object_or_404(selectors.series_visible(user=request.user), pk=pk)
    return render(
        request,
        "meetings/series.html",
        {
            "series": series,
            "meetings": series.meetings.order_by("-starts_at")[:50],
            "may_manage": services.series_may_manage(request.user, series),
        },
    )


def series_calendar(request: HttpRequest, pk: int) -> HttpResponse:
    series = get_object_or_404(MeetingSeries, pk=pk)
    meetings = series.meetings.prefetch_related("agenda_items").order_by("starts_at")
    return HttpResponse(
        calendar_render(meetings, name=series.title), content_type="text/calendar; charset=utf-8"
    )


def user_calendar(request: HttpRequest, token: str) -> HttpResponse:
    try:
        data = signing.loads(token, salt=CALENDAR_SALT)
    except signing.BadSignature:
        raise Http404("unknown calendar") from None
    user = get_object_or_404(get_user_model(), pk=data.get("u"))
    return HttpResponse(
        calendar_render(selectors.meetings_for_user(user=user), name=f"Agora — {user}"),
        content_type="text/calendar; charset=utf-8",
    )


def _meeting_context(request: HttpRequest, pk: int) -> dict[str, Any]:
    meeting = selectors.meeting_detail(user=request.user, pk=pk)
    items = list(meeting.agenda_items.all())
    return {
        "meeting": meeting,
        "items": items,
        "attendance": list(meeting.attendance.all()),
        "decisions": list(meeting.decisions.all()),
        "actions": list(selectors.action_items_for(meeting)),
        "amendments": list(meeting.amendments.all()),
        "quorum": services.meeting_quorum(meeting),
        "may_chair": services.meeting_may_chair(request.user, meeting),
        "may_take_notes": services.meeting_may_take_notes(request.user, meeting),
        "attendance_statuses": AttendanceStatus.choices,
        "open_polls": Poll.objects.filter(status__in=["open", "closed"]).order_by("-id")[:20],
        "today": timezone.localdate().isoformat(),
        "next_meeting": services.next_meeting(meeting),
    }


@login_required
def meeting_detail(request: HttpRequest, pk: int) -> HttpResponse:
    get_object_or_404(Meeting, pk=pk)
    return render(request, "meetings/meeting.html", _meeting_context(request, pk))


# Parts of the meeting page that other attendees' changes refresh in place.
PANELS = {
    "decisions": "meetings/_decisions.html",
    "actions": "meetings/_actions.html",
}


@login_required
def meeting_panel(request: HttpRequest, pk: int, panel: str) -> HttpResponse:
    """The decisions or action items list alone, fetched when ``meeting.<id>`` says it
    changed (the event carries ids only; the list is rendered here, for this viewer)."""
    if panel not in PANELS:
        raise Http404("unknown panel")
    meeting = get_object_or_404(selectors.meetings_visible(user=request.user), pk=pk)
    context: dict[str, Any] = {"meeting": meeting}
    if panel == "decisions":
        context["decisions"] = list(meeting.decisions.select_related("poll").all())
    else:
        context["actions"] = list(selectors.action_items_for(meeting))
    return render(request, PANELS[panel], context)


@login_required
def minutes_review(request: HttpRequest, pk: int) -> HttpResponse:
    get_object_or_404(Meeting, pk=pk)
    context = _meeting_context(request, pk)
    text = services.minutes_text(context["meeting"])
    context["minutes_html"] = markdown_render(text)
    return render(request, "meetings/minutes.html", context)


@login_required
def minutes_markdown(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = get_object_or_404(Meeting, pk=pk)
    response = HttpResponse(
        exchange.meeting_export_markdown(meeting), content_type="text/markdown; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="meeting-{meeting.pk}.md"'
    return response


@login_required
def notes_export(request: HttpRequest, pk: int) -> HttpResponse:
    series = get_object_or_404(MeetingSeries, pk=pk)
    lines = exchange.notes_export(exchange.meetings_for_export(series=series))
    response = HttpResponse(
        "".join(line + "\n" for line in lines), content_type="application/x-ndjson"
    )
    response["Content-Disposition"] = f'attachment; filename="series-{series.pk}-notes.jsonl"'
    return response


def _user_named(name: str) -> Any:
    user = get_user_model().objects.filter(username=name.strip()).first()
    if user is None:
        raise DomainError(f"no user {name!r}")
    return user


def _act_attendance(request: HttpRequest, meeting: Meeting) -> str:
    user = _user_named(request.POST.get("user", "")) if request.POST.get("user") else request.user
    services.attendance_set(
        actor=request.user, meeting=meeting, user=user, status=request.POST.get("status", "")
    )
    return "attendance"


def _act_decision(request: HttpRequest, meeting: Meeting) -> str:
    poll_id = request.POST.get("poll", "")
    services.decision_record(
        actor=request.user,
        meeting=meeting,
        text=request.POST.get("text", ""),
        poll=Poll.objects.filter(pk=poll_id).first() if poll_id.isdigit() else None,
    )
    return "decisions"


def _act_action(request: HttpRequest, meeting: Meeting) -> str:
    try:
        due = date.fromisoformat(request.POST.get("due_date", ""))
    except ValueError:
        raise DomainError("due date: use YYYY-MM-DD") from None
    services.action_item_create(
        actor=request.user,
        meeting=meeting,
        assignee=request.POST.get("assignee", "").strip(),
        what=request.POST.get("what", ""),
        due_date=due,
    )
    return "actions"


def _act_agenda_add(request: HttpRequest, meeting: Meeting) -> str:
    minutes = request.POST.get("planned_minutes", "10")
    services.agenda_item_add(
        actor=request.user,
        meeting=meeting,
        title=request.POST.get("title", ""),
        planned_minutes=int(minutes) if minutes.isdigit() else 10,
    )
    return "agenda"


def _act_agenda_move(request: HttpRequest, meeting: Meeting) -> str:
    order = list(meeting.agenda_items.order_by("position", "id").values_list("pk", flat=True))
    item = int(request.POST.get("item", "0") or 0)
    if item in order:
        index = order.index(item)
        target = index - 1 if request.POST.get("direction") == "up" else index + 1
        if 0 <= target < len(order):
            order[index], order[target] = order[target], order[index]
            services.agenda_reorder(actor=request.user, meeting=meeting, order=order)
    return "agenda"


def _act_start(request: HttpRequest, meeting: Meeting) -> str:
    services.meeting_start(actor=request.user, meeting=meeting)
    return ""


def _act_end(request: HttpRequest, meeting: Meeting) -> str:
    services.meeting_end(actor=request.user, meeting=meeting)
    return ""


def _act_minutes(request: HttpRequest, meeting: Meeting) -> str:
    step = request.POST.get("step", "")
    if step == "submit":
        services.minutes_submit(actor=request.user, meeting=meeting)
    elif step == "approve":
        services.minutes_approve(actor=request.user, meeting=meeting)
    elif step == "publish":
        services.minutes_publish(actor=request.user, meeting=meeting)
    else:
        raise DomainError("unknown minutes step")
    return "minutes"


def _act_amend(request: HttpRequest, meeting: Meeting) -> str:
    item = get_object_or_404(AgendaItem, pk=request.POST.get("item"), meeting=meeting)
    services.amendment_propose(
        actor=request.user,
        meeting=meeting,
        item=item,
        text=request.POST.get("text", ""),
        reason=request.POST.get("reason", ""),
    )
    return "minutes"


def _act_amendment_decide(request: HttpRequest, meeting: Meeting) -> str:
    amendment = get_object_or_404(Amendment, pk=request.POST.get("amendment"), meeting=meeting)
    services.amendment_decide(
        actor=request.user, amendment=amendment, accept=request.POST.get("accept") == "1"
    )
    return "minutes"


ACTIONS: dict[str, Callable[[HttpRequest, Meeting], str]] = {
    "attendance": _act_attendance,
    "decision": _act_decision,
    "action": _act_action,
    "agenda-add": _act_agenda_add,
    "agenda-move": _act_agenda_move,
    "start": _act_start,
    "end": _act_end,
    "minutes": _act_minutes,
    "amend": _act_amend,
    "amendment-decide": _act_amendment_decide,
}


@login_required
@require_POST
def meeting_act(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    meeting = get_object_or_404(Meeting, pk=pk)
    handler = ACTIONS.get(action)
    if handler is None:
        raise Http404("unknown action")
    anchor = ""
    try:
        anchor = handler(request, meeting)
    except DomainError as exc:
        messages.error(request, exc.message)
    back = request.POST.get("next", "")
    url = back if back.startswith("/meetings/") else f"/meetings/{meeting.pk}/"
    return redirect(f"{url}#{anchor}" if anchor and "#" not in url else url)


@login_required
def templates_page(request: HttpRequest) -> HttpResponse:
    services.agenda_templates_ensure()
    if request.method == "POST":
        template = get_object_or_404(AgendaTemplate, slug=request.POST.get("slug", ""))
        items = []
        for line in request.POST.get("items", "").splitlines():
            if not line.strip():
                continue
            title, _, minutes = line.rpartition("|") if "|" in line else (line, "", "10")
            items.append(
                {
                    "title": title.strip(),
                    "minutes": int(minutes) if minutes.strip().isdigit() else 10,
                }
            )
        try:
            services.agenda_template_update(
                actor=request.user, template=template, name=request.POST.get("name"), items=items
            )
            messages.success(request, f"Saved “{template.name}”.")
        except DomainError as exc:
            messages.error(request, exc.message)
        return redirect("meetings:templates")
    return render(
        request,
        "meetings/templates.html",
        {
            "templates": AgendaTemplate.objects.all(),
            "may_edit": request.user.has_role("steward"),  # type: ignore[union-attr]
        },
    )
