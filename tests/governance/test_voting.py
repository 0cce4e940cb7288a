"""vote_cast and tallies through the database: windows, eligibility, visibility, receipts."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from governance import weights
from governance.models import Ballot, EligibleVoter, Participation, PollStatus
from governance.services import (
    ballot_verify,
    poll_close,
    poll_tally,
    poll_update,
    polls_tick,
    vote_cast,
)
from governance.services.voting import ballot_canonical, receipt_hash
from portal.api.errors import DomainError
from portal.models import AuditEntry
from tests.factories import UserFactory
from tests.governance.conftest import option_ids

pytestmark = pytest.mark.django_db


def test_second_ballot_replaces_first_until_close(open_poll, member) -> None:
    poll = open_poll("yes_no")
    vote_cast(voter=member, poll=poll, choice="no")
    second = vote_cast(voter=member, poll=poll, choice="yes")
    assert second.replaced
    assert Ballot.objects.filter(poll=poll).count() == 1
    assert poll_tally(poll=poll)["counts"]["yes"] == "1"
    poll_close(poll=poll)
    with pytest.raises(DomainError) as err:
        vote_cast(voter=member, poll=poll, choice="no")
    assert err.value.code == "poll_closed"


def test_receipt_is_hash_of_canonical_ballot_with_nonce(open_poll, member) -> None:
    poll = open_poll("irv")
    a, _b, c = option_ids(poll)
    cast = vote_cast(voter=member, poll=poll, choice=[c, a])
    expected = ballot_canonical(poll_id=poll.pk, choice=[c, a], nonce=cast.nonce)
    assert cast.ballot == expected and cast.receipt == receipt_hash(expected)
    assert ballot_verify(poll=poll, receipt=cast.receipt, nonce=cast.nonce)["matches"]
    assert not ballot_verify(poll=poll, receipt=cast.receipt, nonce="0" * 32)["matches"]
    assert not ballot_verify(poll=poll, receipt="f" * 64)["included"]


def test_user_who_joins_after_opening_is_not_eligible(open_poll, member) -> None:
    poll = open_poll("yes_no")
    late = UserFactory(role="member")
    with pytest.raises(DomainError) as err:
        vote_cast(voter=late, poll=poll, choice="yes")
    assert err.value.code == "not_eligible" and err.value.status_code == 403
    assert not Ballot.objects.filter(poll=poll).exists()


def test_role_eligibility_excludes_lower_roles(open_poll, member, steward) -> None:
    poll = open_poll("yes_no", eligible_roles=["steward"])
    vote_cast(voter=steward, poll=poll, choice="yes")
    with pytest.raises(DomainError):
        vote_cast(voter=member, poll=poll, choice="yes")


def test_explicit_list_eligibility(open_poll, member, other_member) -> None:
    poll = open_poll("yes_no", eligible_users=[other_member])
    assert list(EligibleVoter.objects.filter(poll=poll).values_list("user", flat=True)) == [
        other_member.pk
    ]


@pytest.mark.parametrize(
    ("method", "rules", "choice", "code"),
    [
        ("irv", {}, "DUP", "duplicate_rank"),
        ("irv", {}, [999999], "unknown_option"),
        ("multiple", {"max_selections": 2}, "ALL", "too_many_selections"),
        ("quadratic", {"budget": 9}, "QV", "over_budget"),
        ("score", {"max_score": 3}, "SCORE", "score_out_of_range"),
        ("yes_no", {}, "block", "invalid_choice"),
        ("lazy_consensus", {}, "   ", "reason_required"),
    ],
)
def test_invalid_ballots_are_refused_and_nothing_is_stored(
    open_poll, member, method, rules, choice, code
) -> None:
    poll = open_poll(method, **rules)
    ids = option_ids(poll)
    if ids and isinstance(choice, str):
        choice = {
            "DUP": [ids[0], ids[0]],
            "ALL": ids,
            "QV": {str(ids[0]): 3, str(ids[1]): 1},
            "SCORE": {str(ids[0]): 4},
        }.get(choice, choice)
    with pytest.raises(DomainError) as err:
        vote_cast(voter=member, poll=poll, choice=choice)
    assert err.value.code == code
    assert not Ballot.objects.filter(poll=poll).exists()
    assert not Participation.objects.filter(poll=poll).exists()


def test_casting_before_opening_is_refused(open_poll, member) -> None:
    poll = open_poll("yes_no", open_now=False, opens_at=timezone.now() + timedelta(hours=1))
    with pytest.raises(DomainError) as err:
        vote_cast(voter=member, poll=poll, choice="yes")
    assert err.value.code == "poll_not_open"


def test_settings_are_frozen_once_open(open_poll, maintainer) -> None:
    poll = open_poll("yes_no")
    with pytest.raises(DomainError) as err:
        poll_update(actor=maintainer, poll=poll, quorum_count=5)
    assert err.value.code == "poll_frozen"


def test_secret_ballot_row_has_no_voter_and_cannot_be_changed(open_poll, member) -> None:
    poll = open_poll("yes_no", visibility="secret")
    vote_cast(voter=member, poll=poll, choice="yes")
    assert [f.name for f in Ballot._meta.get_fields() if f.name == "voter"] == ["voter"]
    assert Ballot.objects.get(poll=poll).voter_id is None
    assert Participation.objects.filter(poll=poll, user=member).exists()
    with pytest.raises(DomainError) as err:
        vote_cast(voter=member, poll=poll, choice="no")
    assert err.value.code == "already_voted"
    assert Ballot.objects.filter(poll=poll).count() == 1


def test_secret_cast_audit_has_no_choice(open_poll, member) -> None:
    poll = open_poll("yes_no", visibility="secret")
    vote_cast(voter=member, poll=poll, choice="no")
    entry = AuditEntry.objects.filter(action="governance.ballot.cast").latest("id")
    assert "choice" not in entry.detail and "receipt" not in entry.detail
    assert entry.actor_id == member.pk
    # nothing in the ballot row dates or orders it like the participation row
    ballot = Ballot.objects.get(poll=poll)
    assert ballot.cast_at == poll.opens_at
    named = open_poll("yes_no")
    vote_cast(voter=member, poll=named, choice="no")
    assert (
        AuditEntry.objects.filter(action="governance.ballot.cast").latest("id").detail["choice"]
        == "no"
    )


def test_anonymous_poll_removes_names_at_close(open_poll, member) -> None:
    poll = open_poll("yes_no", visibility="anonymous")
    vote_cast(voter=member, poll=poll, choice="yes")
    assert Ballot.objects.get(poll=poll).voter_id == member.pk
    poll_close(poll=poll)
    assert Ballot.objects.get(poll=poll).voter_id is None


def test_close_sets_proposal_outcome_and_quorum(open_poll, member, other_member) -> None:
    from governance.services import proposal_create, proposal_open_vote, proposal_submit

    proposal = proposal_create(author=member, title="Adopt X", category="rfc")
    proposal_submit(actor=member, proposal=proposal)
    from governance.services import category_settings_update
    from tests.factories import UserFactory as F

    category_settings_update(actor=F(role="steward"), category="rfc", min_discussion_days=0)
    poll = proposal_open_vote(actor=member, proposal=proposal, quorum_count=2)
    vote_cast(voter=member, poll=poll, choice="yes")
    poll_close(poll=poll)
    proposal.refresh_from_db()
    assert proposal.status == "no_quorum"


def test_contribution_weights_are_snapshotted(open_poll, member, other_member, monkeypatch):
    monkeypatch.setattr(
        weights,
        "contribution_weight",
        lambda user: Decimal(3) if user.pk == member.pk else Decimal(1),
    )
    poll = open_poll("yes_no", weighting="contribution")
    vote_cast(voter=member, poll=poll, choice="yes")
    vote_cast(voter=other_member, poll=poll, choice="no")
    assert poll_tally(poll=poll)["counts"] == {"yes": "3", "no": "1", "abstain": "0", "block": "0"}


def test_tick_opens_closes_and_extends(open_poll, member) -> None:
    now = timezone.now()
    draft = open_poll(
        "yes_no",
        open_now=False,
        opens_at=now + timedelta(minutes=5),
        closes_at=now + timedelta(hours=1),
    )
    assert polls_tick(now=now + timedelta(minutes=6))["opened"] == [draft.pk]
    draft.refresh_from_db()
    assert draft.status == PollStatus.OPEN
    extending = open_poll(
        "yes_no",
        quorum_count=5,
        extend_until_quorum=True,
        closes_at=now + timedelta(hours=1),
        max_closes_at=now + timedelta(days=3),
    )
    done = polls_tick(now=now + timedelta(hours=2))
    assert extending.pk in done["extended"] and draft.pk in done["closed"]
    extending.refresh_from_db()
    assert extending.status == PollStatus.OPEN and extending.closes_at > now + timedelta(hours=2)
    done = polls_tick(now=now + timedelta(days=4))
    assert extending.pk in done["closed"]


def test_periodic_job_closes_due_polls(open_poll) -> None:
    import governance.tasks as tasks
    from portal.jobs.testing import run_pending_jobs

    poll = open_poll("yes_no", closes_at=timezone.now() + timedelta(seconds=1))
    from governance.models import Poll

    Poll.objects.filter(pk=poll.pk).update(
        opens_at=timezone.now() - timedelta(hours=1),
        closes_at=timezone.now() - timedelta(seconds=1),
    )
    tasks.polls_tick_job.enqueue()
    run_pending_jobs()
    poll.refresh_from_db()
    assert poll.status == PollStatus.CLOSED


def test_published_ballots_recompute_the_stored_result(open_poll, member, other_member):
    """Verifiability: anyone holding the published list re-derives the result with the pure
    tally functions (weights include delegated votes)."""
    from governance import tally
    from governance.selectors import ballots_published
    from governance.services import delegation_set

    third = UserFactory(role="member")
    delegation_set(delegator=third, delegate=member)
    poll = open_poll("schulze", allow_delegation=True)
    a, b, c = option_ids(poll)
    vote_cast(voter=member, poll=poll, choice=[c, a, b])
    vote_cast(voter=other_member, poll=poll, choice=[a, b, c])
    poll_close(poll=poll)
    poll.refresh_from_db()
    published = ballots_published(poll=poll)
    recomputed = tally.tally_schulze(
        [tally.Ballot(tuple(row["choice"]), Decimal(row["weight"])) for row in published],
        options=[a, b, c],
    ).as_dict()
    assert recomputed["winner"] == poll.result["winner"] == c
    assert recomputed["pairwise"] == poll.result["pairwise"]


def test_contribution_weight_hook_uses_the_community_score(member, monkeypatch) -> None:
    import community.scores

    monkeypatch.setattr(community.scores, "contribution_score", lambda user: Decimal("12.5"))
    assert weights.contribution_weight(member) == Decimal("12.5")
    monkeypatch.setattr(community.scores, "contribution_score", lambda user: Decimal(-3))
    assert weights.contribution_weight(member) == 0
