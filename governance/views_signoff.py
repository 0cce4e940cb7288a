"""Team sign-off on the proposal page: start it, mark "reviewed", raise and resolve
concerns. The rules live in ``governance.services.signoff``; these views only show them."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from governance import selectors, services
from governance.forms import ConcernForm, SignoffStartForm, form_error_apply
from governance.models import Concern, Proposal, SignoffProcess
from governance.services.signoff import signoff_pending
from governance.views_common import is_htmx, partial_response
from portal.api.errors import DomainError


def signoff_context(
    request: HttpRequest,
    proposal: Proposal,
    *,
    concern_form: ConcernForm | None = None,
    start_form: SignoffStartForm | None = None,
    error: str = "",
) -> dict[str, Any]:
    """What the sign-off panel shows. ``in_team``/``can_start`` only decide which buttons
    appear; the services decide whether the action is allowed."""
    process = SignoffProcess.objects.filter(proposal=proposal).select_related("team").first()
    user = request.user
    context: dict[str, Any] = {
        "proposal": proposal,
        "signoff": process,
        "concern_form": concern_form or ConcernForm(),
        "start_form": start_form or SignoffStartForm(),
        "signoff_error": error,
        "can_start": user.is_authenticated
        and (proposal.author_id == user.pk or user.has_role("steward")),
    }
    if process is not None:
        members = list(process.team.user_set.filter(is_active=True).order_by("username"))
        pending = signoff_pending(process)
        context.update(
            {
                "team_size": len(members),
                "signed_off": [u for u in members if u.pk not in pending],
                "pending": [u for u in members if u.pk in pending],
                "in_team": any(u.pk == user.pk for u in members),
                "has_signed_off": user.pk is not None and user.pk not in pending,
                "concerns": list(process.concerns.select_related("author").order_by("raised_at")),
            }
        )
    return context


def _proposal(request: HttpRequest, pk: int) -> Proposal:
    return get_object_or_404(selectors.proposals_visible(user=request.user), pk=pk)


def _answer(
    request: HttpRequest,
    proposal: Proposal,
    *,
    status: int = 200,
    error: str = "",
    **forms: Any,
) -> HttpResponse:
    if is_htmx(request):
        context = signoff_context(request, proposal, error=error, **forms)
        return partial_response(request, "governance/_signoff.html", context, status=status)
    if error:
        messages.error(request, error)
    return redirect(reverse("governance:proposal", args=[proposal.pk]) + "#signoff-panel")


def signoff_panel(request: HttpRequest, pk: int) -> HttpResponse:
    """The panel alone, for htmx refreshes after a realtime event."""
    proposal = _proposal(request, pk)
    context = signoff_context(request, proposal)
    return partial_response(request, "governance/_signoff.html", context)


@login_required
@require_POST
def signoff_start(request: HttpRequest, pk: int) -> HttpResponse:
    proposal = _proposal(request, pk)
    form = SignoffStartForm(request.POST)
    if not form.is_valid():
        return _answer(request, proposal, status=400, start_form=form, error="Check the form.")
    try:
        services.signoff_start(
            actor=request.user,
            proposal=proposal,
            team=form.cleaned_data["team"],
            disposition=form.cleaned_data["disposition"],
            fcp_days=form.cleaned_data["fcp_days"],
        )
    except DomainError as exc:
        form_error_apply(form, exc)
        return _answer(
            request, proposal, status=exc.status_code, start_form=form, error=exc.message
        )
    return _answer(request, proposal)


def _process(proposal: Proposal) -> SignoffProcess:
    return get_object_or_404(SignoffProcess, proposal=proposal)


@login_required
@require_POST
def signoff_review(request: HttpRequest, pk: int) -> HttpResponse:
    proposal = _proposal(request, pk)
    try:
        services.signoff_mark(actor=request.user, process=_process(proposal))
    except DomainError as exc:
        return _answer(request, proposal, status=exc.status_code, error=exc.message)
    return _answer(request, proposal)


@login_required
@require_POST
def concern_raise(request: HttpRequest, pk: int) -> HttpResponse:
    proposal = _proposal(request, pk)
    process = _process(proposal)
    form = ConcernForm(request.POST)
    if not form.is_valid():
        return _answer(request, proposal, status=400, concern_form=form, error="Name the concern.")
    try:
        services.concern_raise(
            actor=request.user,
            process=process,
            name=form.cleaned_data["name"],
            body=form.cleaned_data["body"],
        )
    except DomainError as exc:
        form_error_apply(form, exc)
        return _answer(
            request, proposal, status=exc.status_code, concern_form=form, error=exc.message
        )
    return _answer(request, proposal)


@login_required
@require_POST
def concern_resolve(request: HttpRequest, pk: int, concern_id: int) -> HttpResponse:
    proposal = _proposal(request, pk)
    concern = get_object_or_404(Concern, pk=concern_id, process=_process(proposal))
    try:
        services.concern_resolve(actor=request.user, concern=concern)
    except DomainError as exc:
        return _answer(request, proposal, status=exc.status_code, error=exc.message)
    return _answer(request, proposal)
