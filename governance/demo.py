"""Demo content: one proposal under discussion and one open ranked poll."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from governance.models import Poll, Proposal
from governance.services import comment_create, poll_create, poll_open, proposal_create
from governance.services.proposals import proposal_submit

DEMO_PROPOSAL = "Adopt a code of conduct"
DEMO_POLL = "Where should the next community meetup be?"


@transaction.atomic
def demo_seed() -> None:
    users = get_user_model().objects
    author = users.filter(username="ada").first() or users.order_by("pk").first()
    opener = (
        users.filter(username="maintainer").first()
        or users.filter(groups__name__in=["maintainer", "steward"]).order_by("pk").first()
        or users.filter(is_superuser=True).order_by("pk").first()
    )
    if author is None or opener is None:
        return
    if not Proposal.objects.filter(title=DEMO_PROPOSAL).exists():
        proposal = proposal_create(
            author=author,
            title=DEMO_PROPOSAL,
            category="policy",
            tags=["community"],
            body="We propose adopting the **Contributor Covenant** 2.1.\n\n"
            "- reporting address: conduct@agora.localhost\n- two stewards handle reports",
        )
        proposal_submit(actor=author, proposal=proposal)
        comment_create(actor=opener, proposal=proposal, body="Strong +1 from me, @ada.")
    if not Poll.objects.filter(title=DEMO_POLL).exists():
        poll = poll_create(
            actor=opener,
            title=DEMO_POLL,
            method="schulze",
            options=["Berlin", "Lisbon", "Online only", "Nairobi"],
            closes_at=timezone.now() + timedelta(days=14),
        )
        poll_open(poll=poll, actor=opener)
