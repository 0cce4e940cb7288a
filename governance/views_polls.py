"""Creating polls from a form (standalone, or a proposal's vote), opening and closing them.
Who may create and which rule combinations are valid is decided by the services; their
errors come back onto the form's fields."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from governance import selectors, services
from governance.forms import PollForm, form_error_apply
from governance.models import CategorySettings, Poll, PollStatus, Proposal
from portal.api.errors import DomainError


def _initial(title: str = "") -> dict[str, object]:
    closes = (timezone.now() + timedelta(days=7)).replace(second=0, microsecond=0)
    return {"title": title, "closes_at": closes}


def _render_form(
    request: HttpRequest,
    form: PollForm,
    *,
    proposal: Proposal | None = None,
    editing: Poll | None = None,
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "governance/poll_form.html",
        {"form": form, "proposal": proposal, "editing": editing},
        status=status,
    )


@login_required
def poll_new(request: HttpRequest) -> HttpResponse:
    """A standalone poll (``poll_create`` lets maintainers and stewards)."""
    if request.method != "POST":
        return _render_form(request, PollForm(initial=_initial()))
    form = PollForm(request.POST)
    if not form.is_valid():
        return _render_form(request, form, status=400)
    try:
        # One transaction: a poll that cannot open as asked is not left behind as a draft.
        with transaction.atomic():
            poll = services.poll_create(actor=request.user, **form.service_kwargs())
            if form.cleaned_data.get("open_now"):
                poll = services.poll_open(poll=poll, actor=request.user)
    except DomainError as exc:
        form_error_apply(form, exc)
        return _render_form(request, form, status=exc.status_code)
    messages.success(request, f"Poll “{poll.title}” created ({poll.get_status_display()}).")
    return redirect("governance:poll", pk=poll.pk)


@login_required
def proposal_poll_new(request: HttpRequest, pk: int) -> HttpResponse:
    """Open a proposal's vote with chosen rules (``proposal_open_vote`` checks the
    category's discussion period, seconds and who may open it)."""
    proposal = get_object_or_404(selectors.proposals_visible(user=request.user), pk=pk)
    if request.method != "POST":
        initial = _initial(proposal.title)
        # the category's delegation setting is the default, as for the quick "Open the vote"
        initial["allow_delegation"] = (
            CategorySettings.objects.filter(category=proposal.category)
            .values_list("delegation_enabled", flat=True)
            .first()
            is not False
        )
        form = PollForm(initial=initial, for_proposal=True)
        return _render_form(request, form, proposal=proposal)
    form = PollForm(request.POST, for_proposal=True)
    if not form.is_valid():
        return _render_form(request, form, proposal=proposal, status=400)
    try:
        poll = services.proposal_open_vote(
            actor=request.user, proposal=proposal, **form.service_kwargs()
        )
    except DomainError as exc:
        form_error_apply(form, exc)
        return _render_form(request, form, proposal=proposal, status=exc.status_code)
    messages.success(request, "The vote is set up.")
    return redirect("governance:poll", pk=poll.pk)


@login_required
def poll_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit a draft poll (its creator or a steward), with every rule of the create form.
    Once the poll opens its settings are frozen and the page refuses (409)."""
    poll = get_object_or_404(
        selectors.polls_visible(user=request.user).select_related("proposal"), pk=pk
    )
    if not selectors.poll_may_manage(poll=poll, user=request.user):
        raise PermissionDenied("only the poll's creator or a steward may edit it")
    for_proposal = poll.proposal_id is not None
    if poll.status != PollStatus.DRAFT:
        return render(request, "governance/poll_frozen.html", {"poll": poll}, status=409)
    if request.method != "POST":
        form = PollForm(
            initial=PollForm.initial_from(poll), for_proposal=for_proposal, editing=True
        )
        return _render_form(request, form, proposal=poll.proposal, editing=poll)
    form = PollForm(request.POST, for_proposal=for_proposal, editing=True)
    if not form.is_valid():
        return _render_form(request, form, proposal=poll.proposal, editing=poll, status=400)
    try:
        poll = services.poll_update(actor=request.user, poll=poll, **form.update_kwargs())
    except DomainError as exc:
        form_error_apply(form, exc)
        return _render_form(
            request, form, proposal=poll.proposal, editing=poll, status=exc.status_code
        )
    messages.success(request, f"Poll “{poll.title}” saved.")
    return redirect("governance:poll", pk=poll.pk)


@login_required
@require_POST
def poll_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Open a draft poll now, or close an open one early (creator or steward)."""
    poll = get_object_or_404(selectors.polls_visible(user=request.user), pk=pk)
    actions = {"open": services.poll_open, "close": services.poll_close}
    if action not in actions:
        return HttpResponse(status=404)
    try:
        poll = actions[action](poll=poll, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("governance:poll", pk=pk)
    messages.success(request, f"Poll {poll.get_status_display().lower()}.")
    return redirect("governance:poll", pk=pk)
