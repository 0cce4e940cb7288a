"""Community pages: thin views over services and selectors."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from community import selectors
from community.defaults import defaults_ensure
from community.health import ledger_health
from community.models import (
    Account,
    AccountKind,
    Badge,
    ContributionStatus,
    ContributionType,
    Contributor,
    Currency,
    Epoch,
    EpochStatus,
    LedgerTransaction,
    PayoutStatus,
)
from community.services.contributions import (
    contribution_claim,
    contribution_resubmit,
    contribution_review,
    contributor_for,
    contributor_update,
)
from community.services.epochs import epoch_allocations, epoch_close, give_set
from community.services.ledger import ledger_reverse, pool_fund
from community.services.money import currency_get, money_parse
from community.services.payouts import (
    approvals_needed,
    payout_approve,
    payout_available,
    payout_cancel,
    payout_pay,
    payout_reject,
    payout_request,
    payout_threshold_set,
)
from portal.api.errors import DomainError

View = Callable[..., HttpResponse]


def _role_required(role: str) -> Callable[[View], View]:
    def decorator(view: View) -> View:
        @wraps(view)
        @login_required
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.has_role(role):  # type: ignore[union-attr]
                return render(request, "community/forbidden.html", {"role": role}, status=403)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def _run(request: HttpRequest, action: Callable[[], Any], success: str) -> bool:
    """Call a service; show its DomainError to the user instead of failing."""
    try:
        action()
    except DomainError as exc:
        messages.error(request, exc.message)
        return False
    messages.success(request, success)
    return True


def home(request: HttpRequest) -> HttpResponse:
    defaults_ensure()
    context: dict[str, Any] = {
        "recent": selectors.contributions_visible(request.user)
        .filter(status=ContributionStatus.APPROVED)
        .order_by("-approved_at")[:10],
        "metrics": selectors.metrics_rolling(),
        "open_epoch": Epoch.objects.filter(status=EpochStatus.OPEN).order_by("starts_at").first(),
    }
    if request.user.is_authenticated:
        contributor = contributor_for(request.user)
        accounts = Account.objects.filter(
            kind=AccountKind.CONTRIBUTOR, contributor=contributor
        ).select_related("cached_balance", "currency")
        context.update(
            contributor=contributor,
            mine=contributor.contributions.select_related("type").all()[:50],
            balances=[
                {
                    "currency": a.currency_id,
                    "balance": a.cached_balance.balance,
                    "available": payout_available(contributor=contributor, currency=a.currency),
                }
                for a in accounts
            ],
            badges=contributor.badge_awards.select_related("badge", "epoch"),
        )
    return render(request, "community/home.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def claim(request: HttpRequest) -> HttpResponse:
    defaults_ensure()
    form = request.POST if request.method == "POST" else {}
    if request.method == "POST":
        try:
            contribution = contribution_claim(
                user=request.user,
                type_slug=request.POST.get("type", ""),
                title=request.POST.get("title", ""),
                description=request.POST.get("description", ""),
                link=request.POST.get("link", ""),
                effort=request.POST.get("effort", "medium"),
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "Thanks! Your contribution is waiting for review.")
            return redirect("community:contribution", pk=contribution.pk)
    types = ContributionType.objects.filter(active=True).order_by("name")
    return render(request, "community/claim.html", {"types": types, "form": form})


@login_required
@require_http_methods(["GET", "POST"])
def profile_edit(request: HttpRequest) -> HttpResponse:
    contributor = contributor_for(request.user)
    if request.method == "POST":
        if _run(
            request,
            lambda: contributor_update(
                contributor=contributor,
                actor=request.user,
                github_handle=request.POST.get("github_handle", ""),
                opt_out_money=request.POST.get("opt_out_money") == "on",
                opt_out_listing=request.POST.get("opt_out_listing") == "on",
            ),
            "Profile saved.",
        ):
            return redirect("community:profile-edit")
        contributor.refresh_from_db()
    return render(request, "community/profile_edit.html", {"contributor": contributor})


@require_http_methods(["GET", "POST"])
def contribution_detail(request: HttpRequest, pk: int) -> HttpResponse:
    contribution = get_object_or_404(selectors.contributions_visible(request.user), pk=pk)
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect("account_login")
        action = request.POST.get("action", "")
        if action == "resubmit":
            _run(
                request,
                lambda: contribution_resubmit(
                    contribution_id=pk,
                    user=request.user,
                    description=request.POST.get("description"),
                ),
                "Sent back for review.",
            )
        else:
            rating = request.POST.get("rating") or None
            _run(
                request,
                lambda: contribution_review(
                    contribution_id=pk,
                    reviewer=request.user,
                    decision=action,
                    reason=request.POST.get("reason", ""),
                    rating=int(rating) if rating and rating.isdigit() else None,
                ),
                "Review recorded.",
            )
        return redirect("community:contribution", pk=pk)
    user = request.user
    own = bool(
        user.is_authenticated
        and contribution.contributor
        and contribution.contributor.user_id == user.pk
    )
    return render(
        request,
        "community/contribution.html",
        {
            "c": contribution,
            "reviews": contribution.reviews.select_related("reviewer"),
            "can_review": user.is_authenticated
            and user.is_maintainer
            and not own
            and contribution.status == ContributionStatus.PENDING,
            "own": own,
        },
    )


@_role_required("maintainer")
def review_queue(request: HttpRequest) -> HttpResponse:
    queue = selectors.review_queue(request.user)
    return render(request, "community/review_queue.html", {"queue": queue[:200]})


def epoch_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "community/epochs.html",
        {"epochs": Epoch.objects.select_related("currency", "policy")[:100]},
    )


@require_http_methods(["GET", "POST"])
def epoch_detail(request: HttpRequest, pk: int) -> HttpResponse:
    epoch = get_object_or_404(Epoch.objects.select_related("currency", "policy"), pk=pk)
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect("account_login")
        if request.POST.get("action") == "close":
            _run(request, lambda: epoch_close(epoch_id=pk, actor=request.user), "Epoch closed.")
        elif request.POST.get("action") == "give":
            amount = request.POST.get("amount", "")
            _run(
                request,
                lambda: give_set(
                    epoch_id=pk,
                    user=request.user,
                    receiver_id=int(request.POST.get("receiver", "0") or 0),
                    amount=int(amount) if amount.isdigit() else -1,
                ),
                "GIVE updated.",
            )
        return redirect("community:epoch", pk=pk)
    rows = epoch_allocations(epoch)  # computed once for the board and the totals
    board = selectors.leaderboard_epoch(epoch, limit=50, rows=rows)
    chart = {
        "labels": [row["name"] for row in board[:20]],
        "amounts": [row["amount"] for row in board[:20]],
        "points": [row["points"] for row in board[:20]],
    }
    return render(
        request,
        "community/epoch.html",
        {
            "epoch": epoch,
            "board": board,
            "chart": chart,
            "allocated": sum((r.amount for r in rows), 0),
            "recipients": sum(1 for r in rows if r.amount > 0),
            "contributors": Contributor.objects.select_related("user").order_by("id")[:200]
            if epoch.method == "peer"
            else [],
        },
    )


@_role_required("steward")
@require_http_methods(["GET", "POST"])
def ledger_browser(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "reverse":
            tx = get_object_or_404(LedgerTransaction, pk=request.POST.get("transaction"))
            _run(
                request,
                lambda: ledger_reverse(
                    tx=tx, actor=request.user, memo=request.POST.get("memo", "")
                ),
                f"Transaction {tx.pk} reversed.",
            )
        elif action == "fund":

            def fund() -> None:
                currency = currency_get(request.POST.get("currency", ""))
                pool_fund(
                    currency=currency,
                    amount=money_parse(request.POST.get("amount"), currency=currency),
                    actor=request.user,
                    idempotency_key=request.POST.get("key", ""),
                    memo=request.POST.get("memo", ""),
                )

            _run(request, fund, "Pool funded.")
        return redirect("community:ledger")
    page = Paginator(
        LedgerTransaction.objects.prefetch_related("entries__account__contributor__user"), 50
    ).get_page(request.GET.get("page"))
    accounts = Account.objects.select_related("cached_balance", "contributor__user").order_by(
        "currency_id", "kind", "id"
    )[:500]
    import uuid

    return render(
        request,
        "community/ledger.html",
        {
            "page": page,
            "accounts": accounts,
            "currencies": Currency.objects.all(),
            "fund_key": f"fund:{uuid.uuid4()}",
        },
    )


@_role_required("steward")
def ledger_health_page(request: HttpRequest) -> HttpResponse:
    return render(request, "community/ledger_health.html", {"report": ledger_health()})


@login_required
@require_http_methods(["GET", "POST"])
def payouts(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    if request.method == "POST":
        action = request.POST.get("action")
        payout_id = int(request.POST.get("payout", "0") or 0)
        actions: dict[str, tuple[Callable[[], Any], str]] = {
            "request": (
                lambda: payout_request(
                    user=user,
                    amount=request.POST.get("amount", ""),
                    currency=request.POST.get("currency", ""),
                    note=request.POST.get("note", ""),
                ),
                "Payout requested.",
            ),
            "approve": (lambda: payout_approve(payout_id=payout_id, steward=user), "Approved."),
            "pay": (lambda: payout_pay(payout_id=payout_id, steward=user), "Marked paid."),
            "reject": (
                lambda: payout_reject(
                    payout_id=payout_id, steward=user, reason=request.POST.get("reason", "")
                ),
                "Rejected.",
            ),
            "cancel": (lambda: payout_cancel(payout_id=payout_id, user=user), "Cancelled."),
            "threshold": (
                lambda: payout_threshold_set(
                    steward=user,
                    currency=request.POST.get("currency", ""),
                    threshold=request.POST.get("threshold", ""),
                ),
                "Threshold saved.",
            ),
        }
        if action in actions:
            fn, message = actions[action]
            _run(request, fn, message)
        return redirect("community:payouts")
    rows = [
        {"p": p, "needed": approvals_needed(p), "approvals": len(p.approvals.all())}
        for p in selectors.payouts_visible(user)[:200]
    ]
    return render(
        request,
        "community/payouts.html",
        {
            "rows": rows,
            "currencies": Currency.objects.all(),
            "is_steward": user.is_steward,
            "open_statuses": [PayoutStatus.DRAFT, PayoutStatus.APPROVED],
        },
    )


def leaderboard(request: HttpRequest) -> HttpResponse:
    epoch_id = request.GET.get("epoch")
    epoch = Epoch.objects.filter(pk=epoch_id).first() if epoch_id and epoch_id.isdigit() else None
    board = selectors.leaderboard_epoch(epoch) if epoch else selectors.leaderboard_all_time()
    return render(
        request,
        "community/leaderboard.html",
        {"board": board, "epoch": epoch, "epochs": Epoch.objects.all()[:50]},
    )


def contributor_profile(request: HttpRequest, pk: int) -> HttpResponse:
    contributor = get_object_or_404(Contributor.objects.select_related("user"), pk=pk)
    user: Any = request.user
    is_self = user.is_authenticated and contributor.user_id == user.pk
    if contributor.opt_out_listing and not (is_self or (user.is_authenticated and user.is_steward)):
        raise Http404("no such contributor")
    contributions = contributor.contributions.filter(
        status=ContributionStatus.APPROVED
    ).select_related("type")[:100]
    return render(
        request,
        "community/contributor.html",
        {
            "person": contributor,
            "contributions": contributions,
            "badges": contributor.badge_awards.select_related("badge", "epoch"),
            "allocations": contributor.allocations.select_related("epoch__currency")[:24],
            "points": selectors.contributor_points_total(contributor),
            "all_badges": Badge.objects.all(),
        },
    )


def all_contributors(request: HttpRequest) -> JsonResponse:
    response = JsonResponse(selectors.all_contributors_export(), json_dumps_params={"indent": 2})
    response["Content-Disposition"] = 'attachment; filename=".all-contributorsrc"'
    return response
