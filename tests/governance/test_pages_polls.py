"""Creating polls from the HTML form: every rule, field errors, who may create them."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from governance.models import CategorySettings, Poll, Proposal
from governance.services import poll_create, proposal_create, proposal_submit
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
FMT = "%Y-%m-%dT%H:%M"


def _when(**delta: int) -> str:
    return (timezone.now() + timedelta(**delta)).strftime(FMT)


def _form(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "title": "Pick the mascot",
        "description": "",
        "method": "yes_no",
        "options": "",
        "min_selections": "1",
        "max_selections": "1",
        "max_score": "5",
        "budget": "100",
        "weighting": "equal",
        "quorum_count": "0",
        "quorum_percent": "0",
        "majority_kind": "simple",
        "majority_fraction": "",
        "majority_base": "valid",
        "opens_at": "",
        "closes_at": _when(days=3),
        "max_closes_at": "",
        "visibility": "named",
        "is_public": "on",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def _field_error(response, field: str) -> bool:
    return f'id="error-{field}"'.encode() in response.content


def test_maintainer_creates_a_poll_with_every_rule(client, maintainer) -> None:
    voter = UserFactory(role="member", username="carol")
    client.force_login(maintainer)
    assert client.get("/governance/polls/new/").status_code == 200
    response = client.post(
        "/governance/polls/new/",
        _form(
            method="approval",
            options="Owl\nFox\n\nBadger",
            min_selections="1",
            max_selections="2",
            eligible_roles=["maintainer", "steward"],
            eligible_usernames="@carol",
            weighting="contribution",
            quorum_count="3",
            quorum_percent="25",
            majority_kind="custom",
            majority_fraction="0.6",
            majority_base="eligible",
            opens_at=_when(days=1),
            closes_at=_when(days=4),
            extend_until_quorum="on",
            max_closes_at=_when(days=8),
            visibility="secret",
            is_public=None,
        ),
    )
    assert response.status_code == 302
    poll = Poll.objects.get()
    assert response["Location"] == f"/governance/polls/{poll.pk}/"
    assert list(poll.options.values_list("label", flat=True)) == ["Owl", "Fox", "Badger"]
    assert (poll.method, poll.status, poll.visibility, poll.is_public) == (
        "approval",
        "draft",
        "secret",
        False,
    )
    assert poll.eligible_roles == ["maintainer", "steward"]
    assert list(poll.eligible_users.all()) == [voter]
    assert (poll.weighting, poll.quorum_count, poll.quorum_percent) == (
        "contribution",
        3,
        Decimal("25"),
    )
    assert (poll.majority_kind, poll.majority_fraction, poll.majority_base) == (
        "custom",
        Decimal("0.6"),
        "eligible",
    )
    assert (poll.min_selections, poll.max_selections) == (1, 2)
    assert poll.extend_until_quorum and poll.max_closes_at and poll.opens_at
    assert poll.max_closes_at > poll.closes_at > poll.opens_at


def test_open_now_opens_the_poll_with_its_electorate(client, maintainer, member) -> None:
    client.force_login(maintainer)
    response = client.post("/governance/polls/new/", _form(open_now="on"))
    assert response.status_code == 302
    poll = Poll.objects.get()
    assert poll.status == "open" and poll.eligible_count >= 2


def test_a_member_may_not_create_a_standalone_poll(client, member) -> None:
    client.force_login(member)
    response = client.post("/governance/polls/new/", _form())
    assert response.status_code == 403
    assert b"standalone polls are created by maintainers" in response.content
    assert not Poll.objects.exists()
    assert b"New poll" not in client.get("/governance/polls/").content


def test_anonymous_visitors_are_sent_to_log_in(client) -> None:
    assert client.post("/governance/polls/new/", _form()).status_code == 302
    assert not Poll.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"method": "irv", "options": "Only one"}, "options", b"at least two options"),
        ({"options": "A\nB"}, "options", b"this method takes no options"),
        ({"method": "single", "options": "A\nA"}, "options", b"options must be distinct"),
        (
            {"opens_at": _when(days=5), "closes_at": _when(days=2)},
            "closes_at",
            b"the poll must close after it opens",
        ),
        (
            {"closes_at": _when(days=3), "max_closes_at": _when(days=1)},
            "max_closes_at",
            b"the extension limit is before the closing time",
        ),
        ({"majority_kind": "custom"}, "majority_fraction", b"a custom majority needs a fraction"),
        (
            {"visibility": "secret", "allow_delegation": "on"},
            "allow_delegation",
            b"secret polls cannot use delegation",
        ),
        (
            {"method": "multiple", "options": "A\nB", "max_selections": "3"},
            "max_selections",
            b"max_selections exceeds the number of options",
        ),
        ({"eligible_usernames": "nobody-here"}, "eligible_usernames", b"@nobody-here"),
        ({"quorum_percent": "150"}, "quorum_percent", b"less than or equal to 100"),
        ({"closes_at": "next tuesday"}, "closes_at", b"Enter a valid date/time"),
        ({"title": ""}, "title", b"This field is required"),
    ],
)
def test_bad_rules_show_an_error_on_their_field_and_store_nothing(
    client, maintainer, overrides, field, message
) -> None:
    client.force_login(maintainer)
    response = client.post("/governance/polls/new/", _form(**overrides))
    assert response.status_code in (400, 409)
    assert _field_error(response, field), response.content.decode()[-3000:]
    assert message in response.content
    assert not Poll.objects.exists()


def test_a_poll_that_cannot_open_is_not_left_behind(client, maintainer) -> None:
    client.force_login(maintainer)
    past = (timezone.now() - timedelta(hours=1)).strftime(FMT)
    response = client.post("/governance/polls/new/", _form(closes_at=past, open_now="on"))
    assert response.status_code == 400
    assert b"the closing time has already passed" in response.content
    assert not Poll.objects.exists()


@pytest.fixture
def discussed(member) -> Proposal:
    CategorySettings.objects.update_or_create(
        category="other", defaults={"min_discussion_days": 0, "vote_opener": "author"}
    )
    proposal = proposal_create(author=member, title="Rename the project")
    proposal_submit(actor=member, proposal=proposal)
    return proposal


def test_the_author_opens_a_proposals_vote_with_chosen_rules(client, member, discussed) -> None:
    client.force_login(member)
    page = client.get(f"/governance/proposals/{discussed.pk}/vote/new/")
    assert page.status_code == 200 and b"Rename the project" in page.content
    assert b'name="open_now"' not in page.content
    assert b'name="allow_delegation" id="id_allow_delegation" checked' in page.content
    response = client.post(
        f"/governance/proposals/{discussed.pk}/vote/new/",
        _form(
            title="Which name?",
            method="schulze",
            options="Agora\nForum\nPnyx",
            quorum_percent="10",
            visibility="anonymous",
        ),
    )
    assert response.status_code == 302
    poll = Poll.objects.get(proposal=discussed)
    discussed.refresh_from_db()
    assert (poll.title, poll.method, poll.status, poll.visibility) == (
        "Which name?",
        "schulze",
        "open",
        "anonymous",
    )
    assert poll.options.count() == 3 and discussed.status == "voting"


def test_another_member_may_not_open_the_authors_vote(client, other_member, discussed) -> None:
    client.force_login(other_member)
    response = client.post(f"/governance/proposals/{discussed.pk}/vote/new/", _form())
    assert response.status_code == 403
    assert b"a vote is opened by: author" in response.content
    discussed.refresh_from_db()
    assert discussed.status == "discussion" and not Poll.objects.exists()


def test_proposal_vote_form_errors_keep_the_proposal_in_discussion(
    client, member, discussed
) -> None:
    client.force_login(member)
    response = client.post(
        f"/governance/proposals/{discussed.pk}/vote/new/", _form(method="score", options="A")
    )
    assert response.status_code == 400 and _field_error(response, "options")
    discussed.refresh_from_db()
    assert discussed.status == "discussion" and not Poll.objects.exists()


def test_only_the_creator_opens_a_draft_poll_from_its_page(client, maintainer, member) -> None:
    poll = poll_create(
        actor=maintainer, title="Draft", method="yes_no", closes_at=timezone.now() + timedelta(1)
    )
    client.force_login(member)
    assert b"Open now" not in client.get(f"/governance/polls/{poll.pk}/").content
    client.post(f"/governance/polls/{poll.pk}/open/")
    poll.refresh_from_db()
    assert poll.status == "draft"
    client.force_login(maintainer)
    assert b"Open now" in client.get(f"/governance/polls/{poll.pk}/").content
    assert client.post(f"/governance/polls/{poll.pk}/open/").status_code == 302
    poll.refresh_from_db()
    assert poll.status == "open"
