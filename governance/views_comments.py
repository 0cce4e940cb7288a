"""Comment editing (with visible history) and reactions, as htmx fragments."""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from governance import selectors, services
from governance.forms import CommentEditForm, form_error_apply
from governance.models import Comment
from governance.rendering import markdown_render
from governance.views_common import is_htmx, partial_response
from portal.api.errors import DomainError

QUICK_REACTIONS = ("👍", "🎉", "❤️", "👀", "😕")
MAX_DEPTH = 6


def reactions_summary(comment: Comment, user: Any) -> list[dict[str, Any]]:
    """Each emoji with its count and whether the viewer gave it (quick ones always)."""
    reactions = list(comment.reactions.all())
    counts = Counter(r.emoji for r in reactions)
    mine = {r.emoji for r in reactions if r.user_id == user.pk}
    emojis = list(counts) + [e for e in QUICK_REACTIONS if e not in counts]
    return [{"emoji": e, "count": counts.get(e, 0), "mine": e in mine} for e in emojis]


def comment_context(comment: Comment, user: Any, depth: int) -> dict[str, Any]:
    return {
        "c": comment,
        "depth": depth,
        "html": markdown_render(comment.body),
        "edits": [(e, markdown_render(e.body)) for e in comment.edits.all()],
        "reactions": reactions_summary(comment, user),
    }


def _depth(comment: Comment) -> int:
    depth, parent_id = 0, comment.parent_id
    while parent_id is not None and depth < MAX_DEPTH:
        depth += 1
        parent_id = Comment.objects.filter(pk=parent_id).values_list("parent_id", flat=True)[0]
    return depth


def _comment(request: HttpRequest, comment_id: int) -> Comment:
    visible = selectors.proposals_visible(user=request.user)
    qs = Comment.objects.select_related("author").prefetch_related("reactions", "edits")
    return get_object_or_404(qs, pk=comment_id, proposal__in=visible)


def _render_comment(request: HttpRequest, comment: Comment) -> HttpResponse:
    context = {
        "item": comment_context(comment, request.user, _depth(comment)),
        "proposal": comment.proposal,
    }
    return partial_response(request, "governance/_comment.html", context)


def comment_fragment(request: HttpRequest, comment_id: int) -> HttpResponse:
    """One comment (after an edit is cancelled, or a realtime ``comment.edited``)."""
    return _render_comment(request, _comment(request, comment_id))


@login_required
def comment_edit(request: HttpRequest, comment_id: int) -> HttpResponse:
    """GET: the edit form in place of the comment. POST: save through ``comment_edit``."""
    comment = _comment(request, comment_id)
    form = CommentEditForm(request.POST or None, initial={"body": comment.body})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.comment_edit(
                    actor=request.user, comment=comment, body=form.cleaned_data["body"]
                )
            except DomainError as exc:
                form_error_apply(form, exc)
                status = exc.status_code
            else:
                if not is_htmx(request):
                    return redirect(_comment_url(comment))
                return _render_comment(request, _comment(request, comment_id))
        else:
            status = 400
        if not is_htmx(request):
            messages.error(
                request, "; ".join(str(e) for errs in form.errors.values() for e in errs)
            )
            return redirect(_comment_url(comment))
    context = {"c": comment, "form": form, "depth": _depth(comment)}
    if not is_htmx(request):  # the Edit link followed without JavaScript
        return render(request, "governance/comment_edit_page.html", {**context, "depth": 0})
    return partial_response(request, "governance/_comment_edit.html", context, status=status)


def comment_reactions(request: HttpRequest, comment_id: int) -> HttpResponse:
    """The reaction bar alone (refreshed on a realtime ``comment.reaction``)."""
    comment = _comment(request, comment_id)
    context = {"c": comment, "reactions": reactions_summary(comment, request.user)}
    return partial_response(request, "governance/_reactions.html", context)


@login_required
@require_POST
def comment_react(request: HttpRequest, comment_id: int) -> HttpResponse:
    """Toggle the viewer's reaction; answers with the comment's reaction bar."""
    comment = _comment(request, comment_id)
    error, status = "", 200
    try:
        services.reaction_toggle(
            actor=request.user, comment=comment, emoji=request.POST.get("emoji", "")
        )
    except DomainError as exc:
        error, status = exc.message, exc.status_code
    if not is_htmx(request):
        if error:
            messages.error(request, error)
        return redirect(_comment_url(comment))
    comment = _comment(request, comment_id)
    context = {"c": comment, "reactions": reactions_summary(comment, request.user), "error": error}
    return partial_response(request, "governance/_reactions.html", context, status=status)


def _comment_url(comment: Comment) -> str:
    return reverse("governance:proposal", args=[comment.proposal_id]) + f"#comment-{comment.pk}"
