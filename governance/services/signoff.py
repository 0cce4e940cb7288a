"""Team sign-off: reviews, blocking concerns, final comment period, disposition."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import Group
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from governance.models import (
    Concern,
    Disposition,
    Proposal,
    ProposalStatus,
    Signoff,
    SignoffProcess,
    SignoffStatus,
)
from governance.topics import proposal_event
from portal.api.errors import DomainError
from portal.audit import audit_record

REMINDER_EVERY = timedelta(days=2)
_DISPOSITION_STATUS = {
    Disposition.MERGE: ProposalStatus.ACCEPTED,
    Disposition.CLOSE: ProposalStatus.REJECTED,
    Disposition.POSTPONE: ProposalStatus.WITHDRAWN,
}


def _locked(obj: SignoffProcess) -> SignoffProcess:
    """Lock the row and refresh the caller's instance, so callers see the new state."""
    SignoffProcess.objects.select_for_update().filter(pk=obj.pk).first()
    obj.refresh_from_db()
    return obj


def _team_ids(process: SignoffProcess) -> set[int]:
    return set(process.team.user_set.filter(is_active=True).values_list("pk", flat=True))


def signoff_pending(process: SignoffProcess) -> set[int]:
    return _team_ids(process) - set(process.signoffs.values_list("user_id", flat=True))


def _advance(process: SignoffProcess, now: datetime) -> None:
    """Start the FCP when every sign-off is in and no concern is open; pause it again
    when a concern is raised during the FCP."""
    open_concerns = process.concerns.filter(resolved_at__isnull=True).exists()
    if (
        process.status == SignoffStatus.REVIEW
        and not open_concerns
        and not signoff_pending(process)
    ):
        process.status = SignoffStatus.FCP
        process.fcp_started_at = now
        process.fcp_ends_at = now + timedelta(days=process.fcp_days)
        process.save(update_fields=["status", "fcp_started_at", "fcp_ends_at"])
        audit_record(
            action="governance.signoff.fcp",
            obj=process,
            detail={"ends_at": process.fcp_ends_at.isoformat()},
        )
        proposal_event(
            process.proposal_id, "signoff.fcp", {"ends_at": process.fcp_ends_at.isoformat()}
        )
    elif process.status == SignoffStatus.FCP and open_concerns:
        process.status = SignoffStatus.REVIEW
        process.fcp_started_at = process.fcp_ends_at = None
        process.save(update_fields=["status", "fcp_started_at", "fcp_ends_at"])
        proposal_event(process.proposal_id, "signoff.paused", {})


@transaction.atomic
def signoff_start(
    *, actor: Any, proposal: Proposal, team: Group, disposition: str, fcp_days: int = 10
) -> SignoffProcess:
    if proposal.author_id != actor.pk and not actor.has_role("steward"):
        raise DomainError("only the author or a steward", code="not_allowed", status_code=403)
    if proposal.status != ProposalStatus.DISCUSSION:
        raise DomainError(
            "only proposals under discussion go to sign-off", code="bad_status", status_code=409
        )
    if disposition not in Disposition.values:
        raise DomainError(f"unknown disposition {disposition!r}", code="bad_disposition")
    if SignoffProcess.objects.filter(proposal=proposal).exists():
        raise DomainError(
            "this proposal already has a sign-off process", code="exists", status_code=409
        )
    process = SignoffProcess.objects.create(
        proposal=proposal, team=team, disposition=disposition, fcp_days=fcp_days
    )
    audit_record(
        actor=actor,
        action="governance.signoff.start",
        obj=process,
        detail={"team": team.name, "disposition": disposition},
    )
    return process


@transaction.atomic
def signoff_mark(*, actor: Any, process: SignoffProcess, now: datetime | None = None) -> None:
    process = _locked(process)
    if actor.pk not in _team_ids(process):
        raise DomainError(
            f"only members of {process.team.name} sign off", code="not_in_team", status_code=403
        )
    if process.status == SignoffStatus.DONE:
        raise DomainError("the process is finished", code="bad_status", status_code=409)
    Signoff.objects.bulk_create([Signoff(process=process, user=actor)], ignore_conflicts=True)
    audit_record(actor=actor, action="governance.signoff.mark", obj=process)
    _advance(process, now or timezone.now())


@transaction.atomic
def concern_raise(*, actor: Any, process: SignoffProcess, name: str, body: str = "") -> Concern:
    process = _locked(process)
    if process.status == SignoffStatus.DONE:
        raise DomainError("the process is finished", code="bad_status", status_code=409)
    if not name.strip():
        raise DomainError("a concern needs a name", code="name_required")
    if process.concerns.filter(name=name.strip(), resolved_at__isnull=True).exists():
        raise DomainError(
            "an open concern already has that name", code="duplicate_concern", status_code=409
        )
    concern = Concern.objects.create(process=process, author=actor, name=name.strip(), body=body)
    audit_record(actor=actor, action="governance.concern.raise", obj=concern)
    _advance(process, timezone.now())
    return concern


@transaction.atomic
def concern_resolve(*, actor: Any, concern: Concern, now: datetime | None = None) -> Concern:
    if concern.author_id != actor.pk:
        raise DomainError(
            "only the concern's author resolves it", code="not_author", status_code=403
        )
    if concern.resolved_at is None:
        concern.resolved_at = now or timezone.now()
        concern.save(update_fields=["resolved_at"])
        audit_record(actor=actor, action="governance.concern.resolve", obj=concern)
        process = SignoffProcess.objects.select_for_update().get(pk=concern.process_id)
        _advance(process, concern.resolved_at)
    return concern


def signoff_remind(*, process: SignoffProcess, now: datetime | None = None) -> int:
    """Mail the team members who have not signed off; returns how many were reminded."""
    now = now or timezone.now()
    pending = signoff_pending(process)
    if not pending or process.status != SignoffStatus.REVIEW:
        return 0
    users = process.team.user_set.filter(pk__in=pending)
    for user in users:
        send_mail(
            f"Sign-off needed: {process.proposal.title}",
            f"Please review “{process.proposal.title}” and sign off or raise a concern.",
            None,
            [user.email],
            fail_silently=True,
        )
    SignoffProcess.objects.filter(pk=process.pk).update(last_reminder_at=now)
    return len(pending)


def signoffs_tick(*, now: datetime | None = None) -> dict[str, int]:
    """Apply dispositions whose FCP ended; send reminders at most every two days."""
    now = now or timezone.now()
    finished = reminded = 0
    for process in SignoffProcess.objects.filter(status=SignoffStatus.FCP, fcp_ends_at__lte=now):
        with transaction.atomic():
            process = _locked(process)
            if process.status != SignoffStatus.FCP:
                continue
            process.status = SignoffStatus.DONE
            process.completed_at = now
            process.save(update_fields=["status", "completed_at"])
            proposal = Proposal.objects.select_for_update().get(pk=process.proposal_id)
            proposal.status = _DISPOSITION_STATUS[Disposition(process.disposition)]
            proposal.closed_at = now
            proposal.save(update_fields=["status", "closed_at", "updated_at"])
            audit_record(
                action="governance.signoff.disposition",
                obj=process,
                detail={"disposition": process.disposition},
            )
            proposal_event(proposal.pk, "proposal.status", {"status": proposal.status})
            finished += 1
    due = now - REMINDER_EVERY
    for process in SignoffProcess.objects.filter(status=SignoffStatus.REVIEW):
        if process.last_reminder_at is None or process.last_reminder_at <= due:
            reminded += signoff_remind(process=process, now=now)
    return {"finished": finished, "reminded": reminded}
