"""What one cast costs the database: a fixed, small number of queries whatever the size
of the electorate, and the same outcomes as before the cast path was shortened."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from governance.models import Ballot, Participation
from governance.services import (
    poll_create,
    poll_open,
    proposal_create,
    proposal_submit,
    vote_cast,
)
from portal.api.errors import DomainError
from portal.models import User

pytestmark = pytest.mark.django_db

# The voter's roles (1; token authentication has them already), then on PostgreSQL one
# statement checking the poll and the voter's eligibility and writing participation, ballot
# and audit entry (1): the poll is read (1 more) only by the process's first cast on it.
# Elsewhere: the poll + eligibility (1), then a transaction: the poll checked again (1),
# participation (1), ballot (1), the audit entry (3) and the savepoint inside the test's
# transaction (2). PostgreSQL is pinned exactly.
MAX_QUERIES_PER_CAST = 10
POSTGRESQL_QUERIES_PER_CAST = 2


def _poll(maintainer, voters: list[User], **rules):
    poll = poll_create(
        actor=maintainer,
        title="cost",
        method="schulze",
        options=["a", "b", "c", "d"],
        closes_at=timezone.now() + timedelta(days=1),
        eligible_users=voters,
        **rules,
    )
    return poll_open(poll=poll, actor=maintainer)


def _voters(n: int, prefix: str) -> list[User]:
    return User.objects.bulk_create(
        [User(username=f"{prefix}{i}", email=f"{prefix}{i}@cost.example") for i in range(n)]
    )


def _queries_for_a_cast(poll, voter) -> int:
    ranking = list(poll.options.values_list("pk", flat=True))
    with CaptureQueriesContext(connection) as queries:
        vote_cast(voter=voter, poll=poll.pk, choice=ranking)
    return len([q for q in queries.captured_queries if q["sql"] not in ("BEGIN", "COMMIT")])


@pytest.mark.parametrize("visibility", ["named", "secret"])
def test_a_cast_costs_a_few_queries_whatever_the_electorate(maintainer, visibility) -> None:
    small = _voters(3, "s")
    large = _voters(400, "l")
    small_poll = _poll(maintainer, small, visibility=visibility)
    large_poll = _poll(maintainer, large, visibility=visibility)
    # the first cast of a process reads the frozen options once
    _queries_for_a_cast(small_poll, small[0])
    _queries_for_a_cast(large_poll, large[0])
    few = _queries_for_a_cast(small_poll, small[1])
    many = _queries_for_a_cast(large_poll, large[1])
    assert few == many
    assert many <= MAX_QUERIES_PER_CAST
    if connection.vendor == "postgresql":
        assert many == POSTGRESQL_QUERIES_PER_CAST, many


def test_replacing_a_named_ballot_is_reported_and_keeps_one_ballot(maintainer) -> None:
    voter = _voters(1, "r")[0]
    poll = _poll(maintainer, [voter])
    first = vote_cast(voter=voter, poll=poll, choice=[*poll.options.values_list("pk", flat=True)])
    second = vote_cast(voter=voter, poll=poll.pk, choice=[poll.options.first().pk])
    assert (first.replaced, second.replaced) == (False, True)
    ballot = Ballot.objects.get(poll=poll)
    assert ballot.receipt == second.receipt and ballot.voter_id == voter.pk
    assert Participation.objects.filter(poll=poll).count() == 1


def test_a_second_secret_cast_stores_nothing(maintainer) -> None:
    voter = _voters(1, "x")[0]
    poll = _poll(maintainer, [voter], visibility="secret")
    vote_cast(voter=voter, poll=poll, choice=[poll.options.first().pk])
    with pytest.raises(DomainError) as err:
        vote_cast(voter=voter, poll=poll, choice=[poll.options.last().pk])
    assert err.value.code == "already_voted"
    assert Ballot.objects.filter(poll=poll).count() == 1
    assert Ballot.objects.get(poll=poll).voter_id is None


def test_a_poll_the_voter_cannot_see_is_not_found(maintainer, member) -> None:
    draft = proposal_create(author=maintainer, title="Hidden", body="draft")
    poll = poll_create(
        actor=maintainer,
        title="on a draft",
        method="yes_no",
        closes_at=timezone.now() + timedelta(days=1),
        proposal=draft,
    )
    with pytest.raises(DomainError) as err:
        vote_cast(voter=member, poll=poll.pk, choice="yes")
    assert (err.value.code, err.value.status_code) == ("not_found", 404)
    with pytest.raises(DomainError) as err:
        vote_cast(voter=maintainer, poll=poll.pk, choice="yes")
    assert err.value.code == "poll_not_open"  # its author sees it


def test_the_cast_query_sees_exactly_the_polls_the_selector_shows(maintainer, settings) -> None:
    from governance.selectors import polls_visible
    from governance.services.voting import _poll_for_cast
    from tests.factories import UserFactory

    author = UserFactory(role="member")
    others = [UserFactory(role="member"), UserFactory(role="steward"), maintainer, author]
    closes = timezone.now() + timedelta(days=1)
    draft = proposal_create(author=author, title="Draft", body="x")
    submitted = proposal_create(author=author, title="Submitted", body="x")
    proposal_submit(actor=author, proposal=submitted)
    polls = [
        poll_create(actor=maintainer, title="alone", method="yes_no", closes_at=closes),
        poll_create(
            actor=maintainer, title="draft", method="yes_no", closes_at=closes, proposal=draft
        ),
        poll_create(actor=author, title="mine", method="yes_no", closes_at=closes, proposal=draft),
        poll_create(
            actor=maintainer, title="open", method="yes_no", closes_at=closes, proposal=submitted
        ),
    ]
    seen = []
    for user in others:
        for poll in polls:
            expected = polls_visible(user=user).filter(pk=poll.pk).exists()
            assert (_poll_for_cast(poll.pk, user)[0] is not None) == expected, (user, poll)
            seen.append(expected)
    assert True in seen and False in seen


def test_the_audit_entry_says_whether_a_ballot_replaced_another(maintainer) -> None:
    from portal.audit import audit_verify
    from portal.models import AuditEntry

    voter = _voters(1, "a")[0]
    poll = _poll(maintainer, [voter])
    ranking = [*poll.options.values_list("pk", flat=True)]
    first = vote_cast(voter=voter, poll=poll, choice=ranking)
    second = vote_cast(voter=voter, poll=poll, choice=ranking[::-1])
    entries = AuditEntry.objects.filter(action="governance.ballot.cast", object_id=str(poll.pk))
    details = [e.detail for e in entries.order_by("id")]
    assert [d["replaced"] for d in details] == [False, True]
    assert [d["receipt"] for d in details] == [first.receipt, second.receipt]
    assert details[1]["choice"] == ranking[::-1]
    assert audit_verify().ok


def test_a_cast_on_a_database_without_an_audit_head_creates_it(maintainer) -> None:
    from portal.audit import audit_verify
    from portal.models import AuditChainHead, AuditEntry

    voter = _voters(1, "h")[0]
    poll = _poll(maintainer, [voter])
    AuditChainHead.objects.all().delete()  # a flushed database
    vote_cast(voter=voter, poll=poll, choice=[*poll.options.values_list("pk", flat=True)])
    newest = AuditEntry.objects.order_by("-id").first()
    assert newest.action == "governance.ballot.cast"
    assert AuditChainHead.objects.get().entry_id == newest.pk
    assert audit_verify().ok


def _ranking(poll) -> list[int]:
    return [*poll.options.values_list("pk", flat=True)]


def _forget_open_polls() -> None:
    from governance.services import voting

    voting._OPEN_POLLS.clear()


needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the write re-checks on PostgreSQL"
)


@needs_postgresql
def test_only_the_first_cast_of_a_process_on_a_poll_reads_it(maintainer) -> None:
    voters = _voters(2, "k")
    poll = _poll(maintainer, voters)
    _forget_open_polls()
    # the first also reads the poll and its (frozen) options
    assert _queries_for_a_cast(poll, voters[0]) == POSTGRESQL_QUERIES_PER_CAST + 2
    assert _queries_for_a_cast(poll, voters[1]) == POSTGRESQL_QUERIES_PER_CAST


@needs_postgresql
def test_a_known_poll_closed_since_refuses_the_cast(maintainer) -> None:
    from governance.services import poll_close

    voters = _voters(2, "c")
    poll = _poll(maintainer, voters)
    vote_cast(voter=voters[0], poll=poll.pk, choice=_ranking(poll))  # the poll is known open
    poll_close(poll=poll, actor=maintainer)
    with pytest.raises(DomainError) as err:
        vote_cast(voter=voters[1], poll=poll.pk, choice=_ranking(poll))
    assert (err.value.code, err.value.status_code) == ("poll_closed", 409)
    assert Ballot.objects.filter(poll=poll).count() == 1


@needs_postgresql
def test_on_a_known_poll_the_outsider_is_refused_before_the_ballot_is_judged(
    maintainer, member
) -> None:
    voter = _voters(1, "e")[0]
    poll = _poll(maintainer, [voter])
    vote_cast(voter=voter, poll=poll.pk, choice=_ranking(poll))
    for choice in (_ranking(poll), ["not an option"]):
        with pytest.raises(DomainError) as err:
            vote_cast(voter=member, poll=poll.pk, choice=choice)
        assert (err.value.code, err.value.status_code) == ("not_eligible", 403)
    assert not Participation.objects.filter(poll=poll, user=member).exists()


@needs_postgresql
def test_a_known_poll_hidden_since_is_not_found(maintainer) -> None:
    from governance.models import Proposal, ProposalStatus

    voters = _voters(2, "d")
    proposal = proposal_create(author=maintainer, title="Back to draft", body="x")
    poll = poll_create(
        actor=maintainer,
        title="on a proposal",
        method="yes_no",
        closes_at=timezone.now() + timedelta(days=1),
        eligible_users=voters,
        proposal=proposal,
    )
    poll_open(poll=poll, actor=maintainer)
    Proposal.objects.filter(pk=proposal.pk).update(status=ProposalStatus.VOTING)
    vote_cast(voter=voters[0], poll=poll.pk, choice="yes")
    Proposal.objects.filter(pk=proposal.pk).update(status=ProposalStatus.DRAFT)
    with pytest.raises(DomainError) as err:
        vote_cast(voter=voters[1], poll=poll.pk, choice="yes")
    assert (err.value.code, err.value.status_code) == ("not_found", 404)


@needs_postgresql
def test_a_known_poll_id_now_naming_another_poll_is_read_again(maintainer) -> None:
    """Ids of rolled-back polls are reused: the write only trusts the poll it was told
    about if the row still has the same opening time."""
    from governance.models import Poll

    voters = _voters(2, "i")
    poll = _poll(maintainer, voters)
    vote_cast(voter=voters[0], poll=poll.pk, choice=_ranking(poll))
    reopened = timezone.now() - timedelta(minutes=5)
    Poll.objects.filter(pk=poll.pk).update(method="approval", opened_at=reopened)
    cast = vote_cast(voter=voters[1], poll=poll.pk, choice=_ranking(poll)[:2])
    assert '"choice":[' in cast.ballot  # judged as the approval poll it now is
    assert Ballot.objects.filter(poll=poll).count() == 2


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's catalog")
def test_every_index_a_cast_writes_is_needed() -> None:
    """Each cast inserts into these tables, writing every index on them. None is a
    LIKE-only pattern index (Django adds one for ``unique``/``db_index`` text fields, and
    nothing here searches by prefix), and no plain index is made redundant by another index
    whose leading columns are the same (a shorter unique one enforces something)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT t.relname, i.relname, pg_get_indexdef(i.oid), x.indisunique, "
            "array(SELECT a.attname FROM unnest(x.indkey) WITH ORDINALITY k(n, pos) "
            "JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.n ORDER BY k.pos) "
            "FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
            "JOIN pg_class t ON t.oid = x.indrelid WHERE t.relname IN "
            "('governance_ballot', 'governance_participation', 'portal_auditentry')"
        )
        rows = cursor.fetchall()
    assert {table for table, *_ in rows} == {
        "governance_ballot",
        "governance_participation",
        "portal_auditentry",
    }
    pattern = [name for _, name, definition, _, _ in rows if "pattern_ops" in definition]
    assert pattern == []
    redundant = [
        (name, other)
        for table, name, _, unique, columns in rows
        for other_table, other, _, _, other_columns in rows
        if table == other_table
        and not unique
        and name != other
        and len(columns) < len(other_columns)
        and other_columns[: len(columns)] == columns
    ]
    assert redundant == []
