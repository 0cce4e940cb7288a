"""Community API views: validate input, call a service or selector, serialize."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated, IsAuthenticatedOrReadOnly
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from community import selectors
from community.api import serializers as s
from community.defaults import defaults_ensure
from community.models import (
    Badge,
    BadgeAward,
    ContributionType,
    Contributor,
    Epoch,
    LedgerTransaction,
    ScoringPolicy,
)
from community.services.badges import badge_award, badge_create
from community.services.contributions import (
    contribution_claim,
    contribution_review,
    contribution_type_create,
)
from community.services.epochs import epoch_allocations, epoch_close, epoch_open, give_set
from community.services.ledger import contributor_grant, ledger_reverse, pool_fund
from community.services.money import currency_get, money_parse
from community.services.payouts import (
    payout_approve,
    payout_cancel,
    payout_pay,
    payout_reject,
    payout_request,
)
from community.services.scoring import policy_create
from portal.api.errors import DomainError
from portal.api.permissions import IsSteward


def _valid(serializer_class: type, data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class ContributionViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Contributions: approved ones are public; your own and (for maintainers) all others."""

    serializer_class = s.ContributionSerializer
    filterset_fields = ["status", "source", "type__slug", "epoch"]
    ordering_fields = ["created_at", "approved_at"]

    def get_queryset(self) -> QuerySet[Any]:
        qs = selectors.contributions_visible(self.request.user)
        if self.request.query_params.get("mine") and self.request.user.is_authenticated:
            qs = qs.filter(contributor__user=self.request.user)
        return qs

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = _valid(s.ContributionCreateSerializer, request.data)
        contribution = contribution_claim(
            user=request.user,
            type_slug=data["type"],
            title=data["title"],
            description=data["description"],
            link=data["link"],
            effort=data["effort"],
        )
        return Response(s.ContributionSerializer(contribution).data, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["get", "post"], serializer_class=s.ReviewSerializer)
    def reviews(self, request: Request, pk: str | None = None) -> Response:
        contribution = self.get_object()
        if request.method == "GET":
            reviews = contribution.reviews.select_related("reviewer")
            return Response(s.ReviewSerializer(reviews, many=True).data)
        data = _valid(s.ReviewCreateSerializer, request.data)
        review = contribution_review(
            contribution_id=contribution.pk,
            reviewer=request.user,
            decision=data["decision"],
            reason=data["reason"],
            rating=data["rating"],
        )
        return Response(s.ReviewSerializer(review).data, status=status.HTTP_201_CREATED)


class ContributionTypeViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """The All Contributors taxonomy plus stewards' custom types."""

    serializer_class = s.ContributionTypeSerializer
    lookup_field = "slug"
    pagination_class = None

    def get_queryset(self) -> QuerySet[Any]:
        defaults_ensure()
        return ContributionType.objects.filter(active=True)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = _valid(s.ContributionTypeSerializer, request.data)
        kind = contribution_type_create(
            actor=request.user,
            slug=data["slug"],
            name=data["name"],
            category=data["category"],
            required_approvals=data.get("required_approvals", 1),
            emoji=data.get("emoji", ""),
        )
        return Response(s.ContributionTypeSerializer(kind).data, status=status.HTTP_201_CREATED)


class EpochViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Epochs; ``allocations`` is the preview (open) or the frozen result (closed)."""

    serializer_class = s.EpochSerializer
    queryset = Epoch.objects.select_related("policy")
    filterset_fields = ["status", "method"]

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = _valid(s.EpochCreateSerializer, request.data)
        epoch = epoch_open(actor=request.user, **data)
        return Response(s.EpochSerializer(epoch).data, status=status.HTTP_201_CREATED)

    @action(
        detail=True,
        methods=["get"],
        serializer_class=s.AllocationRowSerializer,
        permission_classes=[IsAuthenticatedOrReadOnly],
    )
    def allocations(self, request: Request, pk: str | None = None) -> Response:
        epoch = self.get_object()
        rows = epoch_allocations(epoch)
        hidden = (
            set(Contributor.objects.filter(opt_out_listing=True).values_list("id", flat=True))
            if not (request.user.is_authenticated and request.user.is_steward)
            else set()
        )
        visible = [row for row in rows if row.contributor_id not in hidden]
        total = sum((row.amount for row in rows), 0)
        return Response(
            {
                "epoch": epoch.pk,
                "status": epoch.status,
                "preview": epoch.is_open,
                "pool": str(epoch.pool_amount),
                "allocated": str(total),
                "results": s.AllocationRowSerializer(visible, many=True).data,
            }
        )

    @action(detail=True, methods=["post"], permission_classes=[IsAuthenticated])
    def close(self, request: Request, pk: str | None = None) -> Response:
        epoch = epoch_close(epoch_id=int(pk or 0), actor=request.user)
        return Response(s.EpochSerializer(epoch).data)

    @action(
        detail=True,
        methods=["post"],
        permission_classes=[IsAuthenticated],
        serializer_class=s.GiveSerializer,
    )
    def give(self, request: Request, pk: str | None = None) -> Response:
        data = _valid(s.GiveSerializer, request.data)
        give_set(
            epoch_id=int(pk or 0),
            user=request.user,
            receiver_id=data["receiver"],
            amount=data["amount"],
        )
        return Response({"receiver": data["receiver"], "amount": data["amount"]})


class TransactionViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """The ledger: stewards see everything, others transactions touching their accounts."""

    serializer_class = s.TransactionSerializer
    permission_classes = [IsAuthenticated]
    filterset_fields = ["source"]

    def get_queryset(self) -> QuerySet[Any]:
        return selectors.transactions_visible(self.request.user)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if not request.user.is_steward:  # type: ignore[union-attr]
            raise DomainError("only stewards post to the ledger", code="forbidden", status_code=403)
        data = _valid(s.TransactionCreateSerializer, request.data)
        currency = currency_get(data["currency"])
        amount = money_parse(data["amount"], currency=currency)
        if data["kind"] == "funding":
            tx = pool_fund(
                currency=currency,
                amount=amount,
                actor=request.user,
                idempotency_key=data["idempotency_key"],
                memo=data["memo"],
            )
        else:
            contributor = Contributor.objects.filter(pk=data.get("contributor") or 0).first()
            if contributor is None:
                raise DomainError(
                    "grant: unknown contributor",
                    code="invalid",
                    fields={"contributor": ["unknown contributor"]},
                )
            tx = contributor_grant(
                contributor=contributor,
                currency=currency,
                amount=amount,
                actor=request.user,
                idempotency_key=data["idempotency_key"],
                memo=data["memo"],
            )
        return Response(s.TransactionSerializer(tx).data, status=status.HTTP_201_CREATED)

    @action(
        detail=True,
        methods=["post"],
        permission_classes=[IsSteward],
        serializer_class=s.ReasonSerializer,
    )
    def reverse(self, request: Request, pk: str | None = None) -> Response:
        tx = get_object_or_404(LedgerTransaction, pk=pk)
        data = _valid(s.ReasonSerializer, request.data)
        reversal = ledger_reverse(tx=tx, actor=request.user, memo=data["reason"])
        return Response(s.TransactionSerializer(reversal).data, status=status.HTTP_201_CREATED)


class BalanceViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Balances: your own accounts; stewards see every account."""

    serializer_class = s.BalanceSerializer
    permission_classes = [IsAuthenticated]
    filterset_fields = ["kind", "currency"]

    def get_queryset(self) -> QuerySet[Any]:
        return selectors.balances_visible(self.request.user).order_by("id")


class PayoutViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Payouts: request yours; stewards approve (two above the threshold), pay, reject."""

    serializer_class = s.PayoutSerializer
    permission_classes = [IsAuthenticated]
    filterset_fields = ["status"]

    def get_queryset(self) -> QuerySet[Any]:
        return selectors.payouts_visible(self.request.user)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = _valid(s.PayoutCreateSerializer, request.data)
        payout = payout_request(
            user=request.user, amount=data["amount"], currency=data["currency"], note=data["note"]
        )
        return Response(s.PayoutSerializer(payout).data, status=status.HTTP_201_CREATED)

    def _act(self, fn: Any, **kwargs: Any) -> Response:
        payout = self.get_object()  # 404 for payouts you cannot see
        result = fn(payout_id=payout.pk, **kwargs)
        return Response(s.PayoutSerializer(result).data)

    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        return self._act(payout_approve, steward=request.user)

    @action(detail=True, methods=["post"])
    def pay(self, request: Request, pk: str | None = None) -> Response:
        return self._act(payout_pay, steward=request.user)

    @action(detail=True, methods=["post"], serializer_class=s.ReasonSerializer)
    def reject(self, request: Request, pk: str | None = None) -> Response:
        data = _valid(s.ReasonSerializer, request.data)
        return self._act(payout_reject, steward=request.user, reason=data["reason"])

    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        return self._act(payout_cancel, user=request.user)


class LeaderboardView(APIView):
    """Per epoch (``?epoch=ID``) or all time; people who opted out are not listed."""

    permission_classes = [IsAuthenticatedOrReadOnly]

    def get(self, request: Request) -> Response:
        epoch_id = request.query_params.get("epoch")
        if epoch_id:
            if not epoch_id.isdigit():
                raise DomainError(
                    "epoch must be an id", code="invalid", fields={"epoch": ["must be an integer"]}
                )
            epoch = get_object_or_404(Epoch, pk=int(epoch_id))
            return Response({"epoch": epoch.pk, "results": selectors.leaderboard_epoch(epoch)})
        return Response({"epoch": None, "results": selectors.leaderboard_all_time()})


class MetricsView(APIView):
    """Rolling contributions and points: today, 7 and 30 days, per type and category."""

    permission_classes = [IsAuthenticatedOrReadOnly]

    def get(self, request: Request) -> Response:
        return Response(selectors.metrics_rolling())


class AllContributorsView(APIView):
    """The ``.all-contributorsrc`` document."""

    permission_classes = [IsAuthenticatedOrReadOnly]

    def get(self, request: Request) -> Response:
        return Response(selectors.all_contributors_export())


class BadgeViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Badges; stewards create custom badges and award them."""

    serializer_class = s.BadgeSerializer
    lookup_field = "slug"
    pagination_class = None

    def get_queryset(self) -> QuerySet[Any]:
        defaults_ensure()
        return Badge.objects.all()

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = _valid(s.BadgeSerializer, request.data)
        badge = badge_create(
            actor=request.user,
            slug=data["slug"],
            name=data["name"],
            description=data.get("description", ""),
            icon=data.get("icon", ""),
        )
        return Response(s.BadgeSerializer(badge).data, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["get", "post"], serializer_class=s.BadgeAwardSerializer)
    def awards(self, request: Request, slug: str | None = None) -> Response:
        badge = self.get_object()
        if request.method == "GET":
            awards = BadgeAward.objects.filter(badge=badge, contributor__opt_out_listing=False)
            return Response(s.BadgeAwardSerializer(awards[:500], many=True).data)
        data = _valid(s.BadgeAwardCreateSerializer, request.data)
        award = badge_award(
            actor=request.user,
            slug=badge.slug,
            contributor_id=data["contributor"],
            reason=data["reason"],
        )
        return Response(s.BadgeAwardSerializer(award).data, status=status.HTTP_201_CREATED)


class ScoringPolicyViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Policy versions; a new one (stewards) applies to epochs opened after it."""

    serializer_class = s.ScoringPolicySerializer
    lookup_field = "version"

    def get_queryset(self) -> QuerySet[Any]:
        defaults_ensure()
        return ScoringPolicy.objects.all()

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = request.data if isinstance(request.data, dict) else {}
        policy = policy_create(
            actor=request.user,
            category_weights=data.get("category_weights"),
            base_points=data.get("base_points"),
            effort_multipliers=data.get("effort_multipliers"),
            rating_multipliers=data.get("rating_multipliers"),
            default_base_points=data.get("default_base_points"),
            notes=str(data.get("notes", ""))[:2000],
        )
        return Response(s.ScoringPolicySerializer(policy).data, status=status.HTTP_201_CREATED)
