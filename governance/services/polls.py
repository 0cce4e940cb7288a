"""Poll configuration, opening (electorate snapshot), closing and the scheduled tick."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from governance import weights
from governance.models import (
    Category,
    EligibleVoter,
    Method,
    Poll,
    PollOption,
    PollStatus,
    Proposal,
    ProposalStatus,
    Visibility,
    Weighting,
)
from governance.models.choices import OPTION_METHODS
from governance.services.delegation import delegation_resolve_first_hop
from governance.topics import poll_event, proposal_event
from portal.accounts.roles import user_roles
from portal.api.errors import DomainError
from portal.audit import audit_record

CONFIG_FIELDS = {
    "title",
    "description",
    "method",
    "visibility",
    "is_public",
    "eligible_roles",
    "weighting",
    "allow_delegation",
    "quorum_count",
    "quorum_percent",
    "majority_kind",
    "majority_base",
    "majority_fraction",
    "allow_block",
    "min_selections",
    "max_selections",
    "allow_none",
    "max_score",
    "budget",
    "opens_at",
    "closes_at",
    "extend_until_quorum",
    "max_closes_at",
}
EXTENSION_STEP = timedelta(days=1)


def _locked(obj: Poll) -> Poll:
    """Lock the row and refresh the caller's instance, so callers see the new state."""
    Poll.objects.select_for_update().filter(pk=obj.pk).first()
    obj.refresh_from_db()
    return obj


def _may_manage(actor: Any, poll: Poll) -> bool:
    return poll.created_by_id == actor.pk or bool(actor.has_role("steward"))


def _validate(poll: Poll, options: list[str] | None) -> None:
    if poll.method not in Method.values:
        raise DomainError(f"unknown method {poll.method!r}", code="unknown_method")
    if poll.visibility == Visibility.SECRET and poll.allow_delegation:
        raise DomainError(
            "secret polls cannot use delegation (a delegate's weight needs a voter on the ballot)",
            code="secret_no_delegation",
        )
    count = len(options) if options is not None else poll.options.count()
    if poll.method in OPTION_METHODS and count < 2:
        raise DomainError("this method needs at least two options", code="too_few_options")
    if poll.method not in OPTION_METHODS and count:
        raise DomainError("this method takes no options", code="options_not_allowed")
    if poll.method == Method.SINGLE:
        poll.min_selections = poll.max_selections = 1
    if poll.method in (Method.MULTIPLE, Method.APPROVAL) and poll.max_selections > count:
        raise DomainError("max_selections exceeds the number of options", code="bad_limits")
    if poll.method == Method.APPROVAL:
        poll.min_selections = min(poll.min_selections, 1)
    if poll.min_selections > poll.max_selections:
        raise DomainError("min_selections exceeds max_selections", code="bad_limits")
    if poll.majority_kind == "custom" and not (
        poll.majority_fraction and 0 < poll.majority_fraction <= 1
    ):
        raise DomainError("a custom majority needs a fraction in (0, 1]", code="bad_majority")
    if poll.opens_at and poll.closes_at <= poll.opens_at:
        raise DomainError("the poll must close after it opens", code="bad_window")
    if poll.max_closes_at and poll.max_closes_at < poll.closes_at:
        raise DomainError("the extension limit is before the closing time", code="bad_window")
    bad_roles = set(poll.eligible_roles or []) - {"member", "maintainer", "steward"}
    if bad_roles:
        raise DomainError(f"unknown roles: {sorted(bad_roles)}", code="bad_roles")
    if not 0 <= Decimal(poll.quorum_percent) <= 100:
        raise DomainError("quorum percent must be between 0 and 100", code="bad_quorum")


@transaction.atomic
def poll_create(
    *,
    actor: Any,
    title: str,
    method: str,
    closes_at: datetime,
    options: list[str] | None = None,
    proposal: Proposal | None = None,
    eligible_users: list[Any] | None = None,
    **rules: Any,
) -> Poll:
    """Create a draft poll. Standalone polls are created by maintainers and stewards."""
    if proposal is None and not actor.has_role("maintainer"):
        raise DomainError(
            "standalone polls are created by maintainers", code="not_allowed", status_code=403
        )
    unknown = set(rules) - CONFIG_FIELDS
    if unknown:
        raise DomainError(f"unknown poll settings: {sorted(unknown)}", code="unknown_setting")
    poll = Poll(
        title=title.strip(),
        method=method,
        closes_at=closes_at,
        proposal=proposal,
        created_by=actor,
        **rules,
    )
    if proposal is not None:
        poll.is_public = proposal.is_public
    if not poll.title:
        raise DomainError("a poll needs a title", code="title_required")
    labels = _labels_clean(options or [])
    _validate(poll, labels)
    poll.save()
    PollOption.objects.bulk_create(
        [PollOption(poll=poll, label=label, position=i) for i, label in enumerate(labels)]
    )
    if eligible_users:
        poll.eligible_users.set(eligible_users)
    audit_record(
        actor=actor,
        action="governance.poll.create",
        obj=poll,
        detail={"method": method, "visibility": poll.visibility},
    )
    return poll


def _labels_clean(options: list[str]) -> list[str]:
    labels = [o.strip() for o in options if o and o.strip()]
    if len(set(labels)) != len(labels):
        raise DomainError("options must be distinct", code="duplicate_option")
    return labels


@transaction.atomic
def poll_update(
    *,
    actor: Any,
    poll: Poll,
    options: list[str] | None = None,
    eligible_users: list[Any] | None = None,
    **rules: Any,
) -> Poll:
    """Change a draft poll. Every setting is frozen once the poll opens.

    ``options`` and ``eligible_users`` replace the current ones when given (an empty
    ``eligible_users`` list clears the explicit electorate); ``None`` leaves them as they are.
    """
    poll = _locked(poll)
    if not _may_manage(actor, poll):
        raise DomainError(
            "only the poll's creator or a steward", code="not_allowed", status_code=403
        )
    if poll.status != PollStatus.DRAFT:
        raise DomainError(
            "the poll is open: its settings are frozen", code="poll_frozen", status_code=409
        )
    unknown = set(rules) - CONFIG_FIELDS
    if unknown:
        raise DomainError(f"unknown poll settings: {sorted(unknown)}", code="unknown_setting")
    if poll.proposal_id is not None:
        # A proposal's poll is exactly as public as its proposal.
        rules.pop("is_public", None)
    for name, value in rules.items():
        setattr(poll, name, value)
    if isinstance(rules.get("title"), str):
        poll.title = poll.title.strip()
        if not poll.title:
            raise DomainError("a poll needs a title", code="title_required")
    labels = _labels_clean(options) if options is not None else None
    _validate(poll, labels)
    poll.save()
    if labels is not None:
        current = list(poll.options.order_by("position").values_list("label", flat=True))
        if current != labels:
            poll.options.all().delete()
            PollOption.objects.bulk_create(
                [PollOption(poll=poll, label=label, position=i) for i, label in enumerate(labels)]
            )
    detail: dict[str, Any] = {k: str(v) for k, v in rules.items()}
    if labels is not None:
        detail["options"] = labels
    if eligible_users is not None:
        poll.eligible_users.set(eligible_users)
        detail["eligible_users"] = sorted(u.pk for u in eligible_users)
    audit_record(actor=actor, action="governance.poll.update", obj=poll, detail=detail)
    return poll


def _electorate(poll: Poll) -> list[Any]:
    users = get_user_model().objects.filter(is_active=True).prefetch_related("groups")
    explicit = set(poll.eligible_users.values_list("pk", flat=True))
    roles = set(poll.eligible_roles or [])
    if not explicit and not roles:
        roles = {"member"}
    return [u for u in users if u.pk in explicit or roles.intersection(user_roles(u))]


def _delegation_enabled(poll: Poll) -> bool:
    from governance.services.proposals import category_settings_get

    if not poll.allow_delegation or poll.visibility == Visibility.SECRET:
        return False
    category = poll.proposal.category if poll.proposal is not None else Category.OTHER
    return category_settings_get(category).delegation_enabled


@transaction.atomic
def poll_open(*, poll: Poll, actor: Any = None, now: datetime | None = None) -> Poll:
    """Open the poll: freeze the electorate with weights and the delegation snapshot."""
    now = now or timezone.now()
    poll = _locked(poll)
    if poll.status != PollStatus.DRAFT:
        raise DomainError("the poll is already open or closed", code="bad_status", status_code=409)
    if actor is not None and not _may_manage(actor, poll):
        raise DomainError(
            "only the poll's creator or a steward", code="not_allowed", status_code=403
        )
    if poll.closes_at <= now:
        raise DomainError("the closing time has already passed", code="bad_window")
    voters = _electorate(poll)
    by_id = {u.pk for u in voters}
    category = poll.proposal.category if poll.proposal is not None else ""
    delegating = _delegation_enabled(poll)
    rows = []
    for user in voters:
        weight = (
            weights.contribution_weight(user)
            if poll.weighting == Weighting.CONTRIBUTION
            else Decimal(1)
        )
        delegate_id = (
            delegation_resolve_first_hop(user_id=user.pk, category=category) if delegating else None
        )
        rows.append(
            EligibleVoter(
                poll=poll,
                user=user,
                weight=weight,
                delegate_id=delegate_id if delegate_id in by_id else None,
            )
        )
    EligibleVoter.objects.bulk_create(rows, batch_size=1000)
    poll.status = PollStatus.OPEN
    poll.opened_at = now
    if poll.opens_at is None or poll.opens_at > now:
        poll.opens_at = now
    poll.eligible_count = len(rows)
    poll.eligible_weight = sum((r.weight for r in rows), Decimal(0))
    poll.save()
    audit_record(
        actor=actor, action="governance.poll.open", obj=poll, detail={"eligible": len(rows)}
    )
    poll_event(poll.pk, "poll.opened", {"eligible": len(rows)})
    return poll


_PROPOSAL_STATUS = {True: ProposalStatus.ACCEPTED, False: ProposalStatus.REJECTED}


@transaction.atomic
def poll_close(*, poll: Poll, actor: Any = None, now: datetime | None = None) -> Poll:
    """Close the poll: final tally stored (with the weights each ballot carried), names
    removed from anonymous-on-close ballots, the proposal's outcome set."""
    from governance.services.voting import ballot_weights_settle, poll_tally

    now = now or timezone.now()
    poll = _locked(poll)
    if poll.status != PollStatus.OPEN:
        raise DomainError("only an open poll can be closed", code="bad_status", status_code=409)
    if actor is not None and not _may_manage(actor, poll):
        raise DomainError(
            "only the poll's creator or a steward", code="not_allowed", status_code=403
        )
    ballot_weights_settle(poll=poll)
    result = poll_tally(poll=poll)
    poll.status = PollStatus.CLOSED
    poll.closed_at = now
    poll.result = result
    poll.save(update_fields=["status", "closed_at", "result"])
    if poll.visibility == Visibility.ANONYMOUS:
        poll.ballots.update(voter=None, cast_at=now)
    if poll.proposal_id:
        proposal = Proposal.objects.select_for_update().get(pk=poll.proposal_id)
        if proposal.status == ProposalStatus.VOTING:
            if not result.get("quorum_met", True):
                proposal.status = ProposalStatus.NO_QUORUM
            else:
                proposal.status = _PROPOSAL_STATUS[
                    bool(result.get("passed", False) or result.get("winner"))
                ]
            proposal.closed_at = now
            proposal.save(update_fields=["status", "closed_at", "updated_at"])
            audit_record(
                actor=actor,
                action=f"governance.proposal.{proposal.status}",
                obj=proposal,
                detail={"poll": poll.pk},
            )
            proposal_event(proposal.pk, "proposal.status", {"status": proposal.status})
    audit_record(
        actor=actor,
        action="governance.poll.close",
        obj=poll,
        detail={"ballots": poll.ballots.count()},
    )
    poll_event(poll.pk, "poll.closed", {"result": result})
    return poll


def polls_tick(*, now: datetime | None = None) -> dict[str, list[int]]:
    """Open polls whose time has come; close or extend those past their closing time.
    Extension (when enabled) moves the close a day at a time while quorum is missing, up
    to ``max_closes_at``."""
    from governance.services.voting import poll_tally

    now = now or timezone.now()
    done: dict[str, list[int]] = {"opened": [], "closed": [], "extended": []}
    for poll in Poll.objects.filter(status=PollStatus.DRAFT, opens_at__lte=now):
        try:
            poll_open(poll=poll, now=now)
            done["opened"].append(poll.pk)
        except DomainError:
            continue
    for poll in Poll.objects.filter(status=PollStatus.OPEN, closes_at__lte=now):
        if (
            poll.extend_until_quorum
            and poll.max_closes_at
            and now < poll.max_closes_at
            and not poll_tally(poll=poll).get("quorum_met", True)
        ):
            with transaction.atomic():
                new_close = min(poll.max_closes_at, now + EXTENSION_STEP)
                Poll.objects.filter(pk=poll.pk).update(closes_at=new_close)
                audit_record(
                    action="governance.poll.extend",
                    obj=poll,
                    detail={"closes_at": new_close.isoformat()},
                )
                poll_event(poll.pk, "poll.extended", {"closes_at": new_close.isoformat()})
            done["extended"].append(poll.pk)
            continue
        poll_close(poll=poll, now=now)
        done["closed"].append(poll.pk)
    return done
