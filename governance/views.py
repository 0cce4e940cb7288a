"""Governance pages. Votes are cast from the page through the API (same services)."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from governance import selectors, services
from governance.models import Category, Comment, Poll, PollStatus, ProposalStatus
from governance.rendering import markdown_render
from governance.views_comments import comment_context
from governance.views_signoff import signoff_context
from portal.api.errors import DomainError


def proposal_list(request: HttpRequest) -> HttpResponse:
    filters = {k: request.GET.get(k, "").strip() for k in ("status", "category", "tag", "search")}
    proposals = selectors.proposals_filter(user=request.user, **filters)[:100]
    open_polls = selectors.polls_visible(user=request.user).filter(status=PollStatus.OPEN)
    return render(
        request,
        "governance/proposal_list.html",
        {
            "proposals": proposals,
            "filters": filters,
            "statuses": ProposalStatus.choices,
            "categories": Category.choices,
            "open_polls": open_polls[:10],
        },
    )


@login_required
def proposal_new(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        try:
            proposal = services.proposal_create(
                author=request.user,
                title=request.POST.get("title", ""),
                body=request.POST.get("body", ""),
                category=request.POST.get("category", "other"),
                tags=[t for t in request.POST.get("tags", "").split(",") if t.strip()],
            )
            if request.POST.get("submit_now"):
                services.proposal_submit(actor=request.user, proposal=proposal)
            return redirect("governance:proposal", pk=proposal.pk)
        except DomainError as exc:
            messages.error(request, exc.message)
    return render(
        request,
        "governance/proposal_new.html",
        {"categories": Category.choices, "form": request.POST},
    )


def proposal_similar(request: HttpRequest) -> HttpResponse:
    """htmx partial: proposals resembling the draft being typed."""
    title = request.GET.get("title", "")
    matches = selectors.proposals_similar(user=request.user, title=title) if len(title) > 3 else []
    return render(request, "governance/_similar.html", {"matches": matches})


def _threaded(comments: list[Comment]) -> list[tuple[Comment, int]]:
    children: dict[int | None, list[Comment]] = {}
    for comment in comments:
        children.setdefault(comment.parent_id, []).append(comment)
    ordered: list[tuple[Comment, int]] = []

    def walk(parent: int | None, depth: int) -> None:
        for comment in children.get(parent, []):
            ordered.append((comment, min(depth, 6)))
            walk(comment.pk, depth + 1)

    walk(None, 0)
    return ordered


def proposal_detail(request: HttpRequest, pk: int) -> HttpResponse:
    proposal = get_object_or_404(selectors.proposals_visible(user=request.user), pk=pk)
    comments = list(
        proposal.comments.select_related("author").prefetch_related("reactions", "edits")
    )
    revisions = list(proposal.revisions.all())
    latest_poll = proposal.polls.order_by("-created_at", "-id").first()
    return render(
        request,
        "governance/proposal_detail.html",
        {
            **(_poll_context(request, latest_poll) if latest_poll else {}),
            **signoff_context(request, proposal),
            "proposal": proposal,
            "body_html": markdown_render(proposal.body),
            "comments": [
                comment_context(c, request.user, depth) for c, depth in _threaded(comments)
            ],
            "revisions": revisions,
            "polls": proposal.polls.all(),
            "is_author": request.user.is_authenticated and proposal.author_id == request.user.pk,
        },
    )


def revision_diff(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    import difflib

    proposal = get_object_or_404(selectors.proposals_visible(user=request.user), pk=pk)
    current = get_object_or_404(proposal.revisions, number=number)
    previous = proposal.revisions.filter(number=number - 1).first()
    diff = difflib.unified_diff(
        (previous.body if previous else "").splitlines(),
        current.body.splitlines(),
        fromfile=f"r{number - 1}",
        tofile=f"r{number}",
        lineterm="",
    )
    return render(
        request,
        "governance/revision_diff.html",
        {"proposal": proposal, "revision": current, "diff": list(diff)},
    )


@login_required
@require_POST
def proposal_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    proposal = get_object_or_404(selectors.proposals_visible(user=request.user), pk=pk)
    try:
        if action == "comment":
            parent = None
            if request.POST.get("parent"):
                parent = get_object_or_404(Comment, pk=request.POST["parent"], proposal=proposal)
            services.comment_create(
                actor=request.user,
                proposal=proposal,
                body=request.POST.get("body", ""),
                parent=parent,
            )
        elif action == "submit":
            services.proposal_submit(actor=request.user, proposal=proposal)
        elif action == "second":
            services.proposal_second(actor=request.user, proposal=proposal)
        elif action == "withdraw":
            services.proposal_withdraw(actor=request.user, proposal=proposal)
        elif action == "revise":
            services.proposal_update(
                actor=request.user, proposal=proposal, body=request.POST.get("body", "")
            )
        elif action == "outcome":
            services.proposal_outcome_record(
                actor=request.user, proposal=proposal, outcome=request.POST.get("outcome", "")
            )
        elif action == "roadmap":
            task = services.proposal_roadmap_task_create(
                actor=request.user, proposal=proposal, title=request.POST.get("title", "")
            )
            messages.success(request, f"Roadmap task {task.code} created.")
        elif action == "open-vote":
            poll = services.proposal_open_vote(actor=request.user, proposal=proposal)
            return redirect("governance:poll", pk=poll.pk)
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("governance:proposal", pk=proposal.pk)


def poll_list(request: HttpRequest) -> HttpResponse:
    polls = selectors.polls_visible(user=request.user)[:100]
    return render(request, "governance/poll_list.html", {"polls": polls})


def _poll_context(request: HttpRequest, poll: Poll) -> dict[str, Any]:
    """What the vote box and the results panel need (shared by poll and proposal pages)."""
    options = [{"id": o.pk, "label": o.label} for o in poll.options.all()]
    user = request.user
    return {
        "poll": poll,
        "options": options,
        "poll_json": json.dumps(
            {
                "id": poll.pk,
                "method": poll.method,
                "status": poll.status,
                "visibility": poll.visibility,
                "options": options,
                "min": poll.min_selections,
                "max": poll.max_selections,
                "allow_none": poll.allow_none,
                "allow_block": poll.allow_block,
                "max_score": poll.max_score,
                "budget": poll.budget,
            }
        ),
        "participation": selectors.participation_count(poll=poll),
        "eligible": selectors.poll_is_eligible(poll=poll, user=user),
        "voted": selectors.poll_has_voted(poll=poll, user=user),
        "carried": selectors.delegation_weight_carried(poll=poll, user=user)
        if user.is_authenticated
        else 0,
        "results_visible": selectors.poll_results_visible(poll=poll),
    }


def poll_detail(request: HttpRequest, pk: int) -> HttpResponse:
    poll = get_object_or_404(
        selectors.polls_visible(user=request.user).prefetch_related("options"), pk=pk
    )
    return render(request, "governance/poll_detail.html", _poll_context(request, poll))


def receipts(request: HttpRequest) -> HttpResponse:
    """Receipts live in the voter's browser (localStorage): the server never keeps nonces."""
    return render(request, "governance/receipts.html")


def verify(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "governance/verify.html",
        {
            "poll_id": request.GET.get("poll", ""),
            "receipt": request.GET.get("receipt", ""),
        },
    )


@login_required
def delegations(request: HttpRequest) -> HttpResponse:
    user = request.user
    if request.method == "POST":
        category = request.POST.get("category", "")
        try:
            if request.POST.get("remove"):
                services.delegation_remove(delegator=user, category=category)
                messages.success(request, "Delegation removed.")
            else:
                username = request.POST.get("delegate", "").strip().lstrip("@")
                delegate = get_user_model().objects.filter(username=username).first()
                if delegate is None:
                    raise DomainError(f"no member called @{username}", code="unknown_user")
                services.delegation_set(delegator=user, delegate=delegate, category=category)
                messages.success(request, f"You now delegate to {delegate.name}.")
        except DomainError as exc:
            messages.error(request, exc.message)
        return redirect("governance:delegations")
    return render(
        request,
        "governance/delegations.html",
        {
            "given": selectors.delegations_of(user=user),
            "received": selectors.delegations_to(user=user),
            "categories": Category.choices,
            "delegate_votes": selectors.delegate_ballots_named(user=user),
        },
    )
