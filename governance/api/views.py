"""Governance API views: validate input → call a service → serialize the result."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.http import HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import permissions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from governance import selectors, services
from governance.api import serializers as s
from governance.models import Comment, Concern, Poll, Proposal, SignoffProcess, Tag
from governance.services.signoff import signoff_pending
from portal.api.errors import DomainError
from portal.api.pagination import Pagination
from portal.api.throttling import BatchedThrottlesMixin, ScopedRateThrottle


def _proposal(request: Request, pk: int) -> Proposal:
    return get_object_or_404(selectors.proposals_visible(user=request.user), pk=pk)


def _poll(request: Request, pk: int) -> Poll:
    return get_object_or_404(selectors.polls_visible(user=request.user), pk=pk)


def _users_by_id(user_ids: list[int]) -> list[Any]:
    users = list(get_user_model().objects.filter(pk__in=user_ids))
    if len(users) != len(set(user_ids)):
        raise DomainError(
            "unknown user ids in eligible_users",
            code="unknown_user",
            fields={"eligible_users": ["Unknown user ids."]},
        )
    return users


class ProposalListView(APIView):
    def get(self, request: Request) -> Response:
        qs = selectors.proposals_filter(
            user=request.user,
            status=request.query_params.get("status", ""),
            category=request.query_params.get("category", ""),
            tag=request.query_params.get("tag", ""),
            search=request.query_params.get("search", ""),
        )
        paginator = Pagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(s.ProposalSerializer(page, many=True).data)

    def post(self, request: Request) -> Response:
        data = s.ProposalInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        proposal = services.proposal_create(author=request.user, **data.validated_data)
        return Response(s.ProposalSerializer(proposal).data, status=status.HTTP_201_CREATED)


class ProposalSimilarView(APIView):
    def get(self, request: Request) -> Response:
        title = request.query_params.get("title", "")
        matches = (
            selectors.proposals_similar(
                user=request.user, title=title, body=request.query_params.get("body", "")
            )
            if title.strip()
            else []
        )
        return Response(
            [
                {"id": p.pk, "title": p.title, "status": p.status, "score": score}
                for p, score in matches
            ]
        )


class ProposalDetailView(APIView):
    def get(self, request: Request, pk: int) -> Response:
        return Response(s.ProposalSerializer(_proposal(request, pk)).data)

    def patch(self, request: Request, pk: int) -> Response:
        data = s.ProposalUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        proposal = services.proposal_update(
            actor=request.user, proposal=_proposal(request, pk), **data.validated_data
        )
        return Response(s.ProposalSerializer(proposal).data)


class ProposalActionView(APIView):
    """POST /proposals/{id}/<action>/ for submit, second, withdraw, open-vote, outcome."""

    action_name = ""

    def post(self, request: Request, pk: int) -> Response:
        proposal = _proposal(request, pk)
        user = request.user
        if self.action_name == "submit":
            services.proposal_submit(actor=user, proposal=proposal)
        elif self.action_name == "second":
            services.proposal_second(actor=user, proposal=proposal)
        elif self.action_name == "withdraw":
            services.proposal_withdraw(actor=user, proposal=proposal)
        elif self.action_name == "roadmap-tasks":
            task = services.proposal_roadmap_task_create(
                actor=user,
                proposal=proposal,
                title=str(request.data.get("title", "")),
                key=str(request.data.get("key", "GOV") or "GOV"),
            )
            return Response(
                {"task": task.code, "title": task.title}, status=status.HTTP_201_CREATED
            )
        elif self.action_name == "outcome":
            services.proposal_outcome_record(
                actor=user, proposal=proposal, outcome=str(request.data.get("outcome", ""))
            )
        elif self.action_name == "open-vote":
            data = s.PollInputSerializer(
                data={"title": proposal.title, "method": "yes_no", **request.data}
            )
            data.is_valid(raise_exception=True)
            fields = dict(data.validated_data)
            fields.pop("proposal", None)
            fields.pop("open_now", None)
            poll = services.proposal_open_vote(actor=user, proposal=proposal, **fields)
            return Response(s.PollSerializer(poll).data, status=status.HTTP_201_CREATED)
        proposal.refresh_from_db()
        return Response(s.ProposalSerializer(proposal).data)


class CommentListView(APIView):
    def get(self, request: Request, pk: int) -> Response:
        proposal = _proposal(request, pk)
        comments = proposal.comments.select_related("author").prefetch_related("reactions", "edits")
        return Response(s.CommentSerializer(comments, many=True).data)

    def post(self, request: Request, pk: int) -> Response:
        proposal = _proposal(request, pk)
        data = s.CommentInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        parent = None
        if data.validated_data.get("parent"):
            parent = get_object_or_404(Comment, pk=data.validated_data["parent"], proposal=proposal)
        comment = services.comment_create(
            actor=request.user, proposal=proposal, body=data.validated_data["body"], parent=parent
        )
        return Response(s.CommentSerializer(comment).data, status=status.HTTP_201_CREATED)


class CommentDetailView(APIView):
    def patch(self, request: Request, pk: int, comment_id: int) -> Response:
        comment = get_object_or_404(Comment, pk=comment_id, proposal=_proposal(request, pk))
        body = str(request.data.get("body", ""))
        comment = services.comment_edit(actor=request.user, comment=comment, body=body)
        return Response(s.CommentSerializer(comment).data)


class CommentReactionView(APIView):
    def post(self, request: Request, pk: int, comment_id: int) -> Response:
        comment = get_object_or_404(Comment, pk=comment_id, proposal=_proposal(request, pk))
        present = services.reaction_toggle(
            actor=request.user, comment=comment, emoji=str(request.data.get("emoji", ""))
        )
        return Response({"present": present})


class PollListView(APIView):
    def get(self, request: Request) -> Response:
        qs = selectors.polls_visible(user=request.user).prefetch_related("options")
        if request.query_params.get("status"):
            qs = qs.filter(status=request.query_params["status"])
        paginator = Pagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(s.PollSerializer(page, many=True).data)

    def post(self, request: Request) -> Response:
        data = s.PollInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        open_now = fields.pop("open_now", False)
        proposal_id = fields.pop("proposal", None)
        if proposal_id is not None:
            raise DomainError(
                "a proposal's poll is opened with POST /proposals/{id}/open-vote/",
                code="use_open_vote",
            )
        user_ids = fields.pop("eligible_users", None)
        eligible = _users_by_id(user_ids) if user_ids else None
        poll = services.poll_create(actor=request.user, eligible_users=eligible, **fields)
        if open_now:
            poll = services.poll_open(poll=poll, actor=request.user)
        return Response(s.PollSerializer(poll).data, status=status.HTTP_201_CREATED)


class PollDetailView(APIView):
    def get(self, request: Request, pk: int) -> Response:
        return Response(s.PollSerializer(_poll(request, pk)).data)

    def patch(self, request: Request, pk: int) -> Response:
        poll = _poll(request, pk)
        data = s.PollInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        changed = {k: v for k, v in data.validated_data.items() if k in request.data}
        changed.pop("proposal", None)
        changed.pop("open_now", None)
        user_ids = changed.pop("eligible_users", None)
        eligible = _users_by_id(user_ids) if user_ids is not None else None
        poll = services.poll_update(
            actor=request.user, poll=poll, eligible_users=eligible, **changed
        )
        return Response(s.PollSerializer(poll).data)


class PollActionView(APIView):
    action_name = ""

    def post(self, request: Request, pk: int) -> Response:
        poll = _poll(request, pk)
        if self.action_name == "open":
            poll = services.poll_open(poll=poll, actor=request.user)
        else:
            poll = services.poll_close(poll=poll, actor=request.user)
        return Response(s.PollSerializer(poll).data)


class BallotView(BatchedThrottlesMixin, APIView):
    """POST casts (rate-limited per user by the ``vote`` scope); GET shows my ballot."""

    permission_classes = [permissions.IsAuthenticated]
    throttle_scope = "vote"

    def get_throttles(self) -> list[BaseThrottle]:
        throttles = super().get_throttles()
        if self.request.method == "POST":
            throttles.append(ScopedRateThrottle())
        return throttles

    def get(self, request: Request, pk: int) -> Response:
        poll = _poll(request, pk)
        ballot = selectors.ballot_mine(poll=poll, user=request.user)
        return Response(
            {
                "voted": selectors.poll_has_voted(poll=poll, user=request.user),
                "eligible": selectors.poll_is_eligible(poll=poll, user=request.user),
                "ballot": {
                    "choice": ballot.choice,
                    "receipt": ballot.receipt,
                    "cast_at": ballot.cast_at,
                }
                if ballot
                else None,
                "carried": selectors.delegation_weight_carried(poll=poll, user=request.user),
            }
        )

    def post(self, request: Request, pk: int) -> Response:
        # The body is one JSON value under "choice", validated against the poll by the
        # service; a serializer would only re-walk it (this is the API's hottest write).
        body = request.data
        if not isinstance(body, dict) or "choice" not in body:
            raise DomainError(
                'send the ballot as {"choice": …}',
                code="invalid",
                fields={"choice": ["This field is required."]},
            )
        # The service reads the poll (as this user may see it) with its lock, in one query.
        cast = services.vote_cast(voter=request.user, poll=pk, choice=body["choice"])
        return Response(
            {
                "poll": cast.poll_id,
                "receipt": cast.receipt,
                "nonce": cast.nonce,
                "ballot": cast.ballot,
                "replaced": cast.replaced,
            },
            status=status.HTTP_201_CREATED,
        )


class ResultsView(APIView):
    def get(self, request: Request, pk: int) -> Response:
        poll = _poll(request, pk)
        body: dict[str, Any] = {
            "poll": poll.pk,
            "status": poll.status,
            "participation": selectors.participation_count(poll=poll),
            "eligible": poll.eligible_count,
        }
        if not selectors.poll_results_visible(poll=poll):
            body["result"] = None
            body["detail"] = "results are published when the poll closes"
            return Response(body)
        body["result"] = poll.result if poll.result else services.poll_tally(poll=poll)
        body["ballots"] = selectors.ballots_published(poll=poll)
        return Response(body)


class VerifyView(APIView):
    permission_classes = [permissions.AllowAny]

    def _answer(self, request: Request, pk: int, data: Any) -> Response:
        poll = _poll(request, pk)
        payload = s.VerifyInputSerializer(data=data)
        payload.is_valid(raise_exception=True)
        answer = services.ballot_verify(
            poll=poll,
            receipt=payload.validated_data["receipt"],
            nonce=payload.validated_data.get("nonce") or None,
        )
        if not selectors.poll_results_visible(poll=poll):
            answer.pop("choice", None)  # no choices leak from an open secret poll
        return Response(answer)

    def get(self, request: Request, pk: int) -> Response:
        return self._answer(request, pk, request.query_params)

    def post(self, request: Request, pk: int) -> Response:
        return self._answer(request, pk, request.data)


class DelegationListView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    def get(self, request: Request) -> Response:
        return Response(
            {
                "given": s.DelegationSerializer(
                    selectors.delegations_of(user=request.user), many=True
                ).data,
                "received": s.DelegationSerializer(
                    selectors.delegations_to(user=request.user), many=True
                ).data,
            }
        )

    def post(self, request: Request) -> Response:
        data = s.DelegationInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        delegate = get_user_model().objects.filter(pk=data.validated_data["delegate"]).first()
        if delegate is None:
            raise DomainError("no such member", code="unknown_user", status_code=404)
        delegation = services.delegation_set(
            delegator=request.user,
            delegate=delegate,
            category=data.validated_data.get("category", ""),
        )
        return Response(s.DelegationSerializer(delegation).data, status=status.HTTP_201_CREATED)


class DelegationDetailView(APIView):
    """DELETE /delegations/<scope>/ where scope is a category or ``global``."""

    permission_classes = [permissions.IsAuthenticated]

    def delete(self, request: Request, scope: str) -> Response:
        category = "" if scope == "global" else scope
        if not services.delegation_remove(delegator=request.user, category=category):
            raise DomainError("no delegation for that scope", code="not_found", status_code=404)
        return Response(status=status.HTTP_204_NO_CONTENT)


@csrf_exempt
def bench_bare_insert(request: HttpRequest) -> JsonResponse:
    """A plain Django view inserting one row: the cast benchmark's baseline."""
    tag = Tag.objects.create(name=f"bench-{uuid.uuid4().hex[:30]}")
    return JsonResponse({"id": tag.pk}, status=201)


class SignoffView(APIView):
    """POST /proposals/{id}/signoff/ starts a team sign-off; GET shows its state."""

    def get(self, request: Request, pk: int) -> Response:
        process = get_object_or_404(SignoffProcess, proposal=_proposal(request, pk))
        return Response(_signoff_data(process))

    def post(self, request: Request, pk: int) -> Response:
        proposal = _proposal(request, pk)
        team = Group.objects.filter(name=str(request.data.get("team", ""))).first()
        if team is None:
            raise DomainError("no such team", code="unknown_team", status_code=404)
        process = services.signoff_start(
            actor=request.user,
            proposal=proposal,
            team=team,
            disposition=str(request.data.get("disposition", "")),
            fcp_days=int(request.data.get("fcp_days", 10) or 10),
        )
        return Response(_signoff_data(process), status=status.HTTP_201_CREATED)


class SignoffActionView(APIView):
    """POST /proposals/{id}/signoff/{review|concerns|concerns/<cid>/resolve}/."""

    action_name = ""

    def post(self, request: Request, pk: int, concern_id: int | None = None) -> Response:
        process = get_object_or_404(SignoffProcess, proposal=_proposal(request, pk))
        if self.action_name == "review":
            services.signoff_mark(actor=request.user, process=process)
        elif self.action_name == "concern":
            services.concern_raise(
                actor=request.user,
                process=process,
                name=str(request.data.get("name", "")),
                body=str(request.data.get("body", "")),
            )
        else:
            concern = get_object_or_404(Concern, pk=concern_id, process=process)
            services.concern_resolve(actor=request.user, concern=concern)
        process.refresh_from_db()
        return Response(_signoff_data(process))


def _signoff_data(process: SignoffProcess) -> dict[str, Any]:
    return {
        "team": process.team.name,
        "status": process.status,
        "disposition": process.disposition,
        "fcp_ends_at": process.fcp_ends_at,
        "signed_off": sorted(process.signoffs.values_list("user__username", flat=True)),
        "pending": sorted(
            process.team.user_set.filter(pk__in=signoff_pending(process)).values_list(
                "username", flat=True
            )
        ),
        "concerns": [
            {
                "id": c.pk,
                "name": c.name,
                "author": c.author.username,
                "resolved": bool(c.resolved_at),
            }
            for c in process.concerns.select_related("author")
        ],
    }


# --- OpenAPI descriptions (the views above are plain APIViews) ---------------------------
def _doc(view: type[APIView], prefix: str, **methods: dict[str, Any]) -> None:
    """Describe a view's methods; ``prefix=""`` lets views serving several routes keep
    operation ids derived from their paths."""
    decorated = {
        method: extend_schema(operation_id=f"{prefix}_{method}" if prefix else None, **spec)
        for method, spec in methods.items()
    }
    extend_schema_view(**decorated)(view)


_ANY = OpenApiTypes.OBJECT
_doc(
    ProposalListView,
    "proposals_list",
    get={"responses": s.ProposalSerializer(many=True)},
    post={"request": s.ProposalInputSerializer, "responses": {201: s.ProposalSerializer}},
)
_doc(ProposalSimilarView, "proposals_similar", get={"responses": _ANY})
_doc(
    ProposalDetailView,
    "proposal",
    get={"responses": s.ProposalSerializer},
    patch={"request": s.ProposalUpdateSerializer, "responses": s.ProposalSerializer},
)
_doc(ProposalActionView, "", post={"request": _ANY, "responses": _ANY})
_doc(
    CommentListView,
    "comments",
    get={"responses": s.CommentSerializer(many=True)},
    post={"request": s.CommentInputSerializer, "responses": {201: s.CommentSerializer}},
)
_doc(CommentDetailView, "comment", patch={"request": _ANY, "responses": s.CommentSerializer})
_doc(CommentReactionView, "comment_reaction", post={"request": _ANY, "responses": _ANY})
_doc(
    SignoffView,
    "signoff",
    get={"responses": _ANY},
    post={"request": _ANY, "responses": {201: _ANY}},
)
_doc(SignoffActionView, "", post={"request": _ANY, "responses": _ANY})
_doc(
    PollListView,
    "polls",
    get={"responses": s.PollSerializer(many=True)},
    post={"request": s.PollInputSerializer, "responses": {201: s.PollSerializer}},
)
_doc(
    PollDetailView,
    "poll",
    get={"responses": s.PollSerializer},
    patch={"request": s.PollInputSerializer, "responses": s.PollSerializer},
)
_doc(PollActionView, "", post={"request": None, "responses": s.PollSerializer})
_doc(
    BallotView,
    "ballot",
    get={"responses": _ANY},
    post={"request": s.BallotInputSerializer, "responses": {201: _ANY}},
)
_doc(ResultsView, "results", get={"responses": _ANY})
_doc(
    VerifyView,
    "verify",
    get={"parameters": [s.VerifyInputSerializer], "responses": _ANY},
    post={"request": s.VerifyInputSerializer, "responses": _ANY},
)
_doc(
    DelegationListView,
    "delegations",
    get={"responses": _ANY},
    post={"request": s.DelegationInputSerializer, "responses": {201: s.DelegationSerializer}},
)
_doc(DelegationDetailView, "delegation", delete={"responses": {204: None}})
