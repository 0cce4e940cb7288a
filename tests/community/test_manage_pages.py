"""Steward pages: epochs, scoring policy versions, custom types and badges."""

from __future__ import annotations

from decimal import Decimal

import pytest

from community.defaults import defaults_ensure
from community.models import Badge, BadgeAward, ContributionType, Epoch, ScoringPolicy
from community.services.contributions import contributor_for
from community.services.scoring import policy_current
from portal.models import AuditEntry

pytestmark = pytest.mark.django_db

PAGES = [
    "/community/manage/",
    "/community/manage/epochs/new/",
    "/community/manage/policy/",
    "/community/manage/types/",
    "/community/manage/badges/",
]


@pytest.fixture(autouse=True)
def _no_2fa_gate(settings):
    settings.AGORA_STEWARD_REQUIRES_2FA = False


@pytest.mark.parametrize("url", PAGES)
def test_members_and_maintainers_are_refused(client, member, maintainer, url):
    client.force_login(member)
    assert client.get(url).status_code == 403
    assert (
        client.post(url, {"slug": "sneaky", "name": "x", "category": "technical"}).status_code
        == 403
    )
    client.force_login(maintainer)
    assert client.get(url).status_code == 403
    assert not ContributionType.objects.filter(slug="sneaky").exists()


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get("/community/manage/types/")
    assert response.status_code == 302 and "login" in response["Location"]


def test_steward_sees_the_settings_linked_from_the_navigation(client, steward, member):
    client.force_login(steward)
    assert 'href="/community/manage/"' in client.get("/community/").content.decode()
    for url in PAGES:
        assert client.get(url).status_code == 200, url
    client.force_login(member)
    assert 'href="/community/manage/"' not in client.get("/community/").content.decode()


def test_steward_opens_an_epoch_and_it_is_audited(client, steward):
    client.force_login(steward)
    response = client.post(
        "/community/manage/epochs/new/",
        {
            "name": "2031-03",
            "starts_at": "2031-03-01T00:00",
            "ends_at": "2031-04-01T00:00",
            "currency": "USD",
            "pool_amount": "2500.00",
            "method": "peer",
        },
    )
    epoch = Epoch.objects.get(name="2031-03")
    assert response.status_code == 302 and response["Location"] == f"/community/epochs/{epoch.pk}/"
    assert (epoch.pool_amount, epoch.currency_id, epoch.method) == (Decimal("2500"), "USD", "peer")
    assert epoch.starts_at.isoformat() == "2031-03-01T00:00:00+00:00"
    entry = AuditEntry.objects.get(action="epoch.open")
    assert entry.actor_id == steward.pk


def test_epoch_form_shows_field_errors_and_writes_nothing(client, steward):
    client.force_login(steward)
    response = client.post(
        "/community/manage/epochs/new/",
        {
            "name": "bad",
            "starts_at": "2031-03-01T00:00",
            "ends_at": "2031-02-01T00:00",
            "currency": "USD",
            "pool_amount": "10",
            "method": "proportional",
        },
    )
    assert response.status_code == 400
    assert "must be after starts_at" in response.content.decode()
    response = client.post(
        "/community/manage/epochs/new/",
        {
            "name": "bad",
            "starts_at": "2031-03-01T00:00",
            "ends_at": "2031-04-01T00:00",
            "currency": "USD",
            "pool_amount": "10.001",
            "method": "proportional",
        },
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "decimal places" in page and 'value="10.001"' in page  # the input is kept
    response = client.post("/community/manage/epochs/new/", {"starts_at": "soon"})
    assert response.status_code == 400 and "a date and time" in response.content.decode()
    assert not Epoch.objects.exists()


def _policy_form(policy: ScoringPolicy, **changes: str) -> dict[str, str]:
    form = {f"weight_{k}": v for k, v in policy.category_weights.items()}
    form |= {f"effort_{k}": v for k, v in policy.effort_multipliers.items()}
    form |= {f"rating_{k}": v for k, v in policy.rating_multipliers.items()}
    form |= {f"base_{k}": v for k, v in policy.base_points.items()}
    form["default_base_points"] = policy.default_base_points
    return form | changes


def test_steward_publishes_a_policy_version(client, steward):
    defaults_ensure()
    current = policy_current()
    client.force_login(steward)
    form = _policy_form(
        current,
        weight_technical="0.5",
        weight_innovation="0.1",
        base_code="25",
        effort_large="3",
        notes="more weight on deliverables",
    )
    response = client.post("/community/manage/policy/", form)
    assert response.status_code == 302
    new = policy_current()
    assert new.version == current.version + 1
    assert new.category_weights["technical"] == "0.5"
    assert new.base_points["code"] == "25"
    assert new.effort_multipliers["large"] == "3"
    assert AuditEntry.objects.get(action="scoring_policy.create").actor_id == steward.pk


def test_policy_form_shows_validation_errors(client, steward):
    defaults_ensure()
    current = policy_current()
    client.force_login(steward)
    response = client.post(
        "/community/manage/policy/", _policy_form(current, weight_technical="0.9")
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "must sum to 1" in page and 'value="0.9"' in page
    response = client.post("/community/manage/policy/", _policy_form(current, effort_small="lots"))
    assert response.status_code == 400 and "small: not a number" in response.content.decode()
    response = client.post("/community/manage/policy/", _policy_form(current, base_code="-4"))
    assert response.status_code == 400 and "must be zero or more" in response.content.decode()
    assert policy_current().version == current.version


def test_steward_adds_a_custom_type_mapped_to_a_category(client, steward, member):
    client.force_login(steward)
    response = client.post(
        "/community/manage/types/",
        {
            "slug": "meetupHost",
            "name": "Meetup host",
            "category": "collaboration",
            "required_approvals": "2",
            "emoji": "🎤",
        },
    )
    assert response.status_code == 302, response.content.decode()[-3000:]
    kind = ContributionType.objects.get(slug="meetupHost")
    assert (kind.category, kind.required_approvals, kind.is_custom) == ("collaboration", 2, True)
    assert AuditEntry.objects.get(action="contribution_type.create").actor_id == steward.pk
    client.force_login(member)
    assert "Meetup host" in client.get("/community/claim/").content.decode()


def test_type_form_errors(client, steward):
    client.force_login(steward)
    bad = client.post(
        "/community/manage/types/",
        {"slug": "x y", "name": "Bad", "category": "technical", "required_approvals": "1"},
    )
    assert bad.status_code == 400 and "letters, digits" in bad.content.decode()
    bad = client.post(
        "/community/manage/types/",
        {"slug": "okay", "name": "Okay", "category": "fun", "required_approvals": "1"},
    )
    assert bad.status_code == 400 and "one of technical" in bad.content.decode()
    bad = client.post(
        "/community/manage/types/",
        {"slug": "okay", "name": "Okay", "category": "technical", "required_approvals": "many"},
    )
    assert bad.status_code == 400 and "whole number from 1 to 5" in bad.content.decode()
    bad = client.post(
        "/community/manage/types/",
        {"slug": "code", "name": "Dup", "category": "technical", "required_approvals": "1"},
    )
    assert bad.status_code == 400 and "already exists" in bad.content.decode()
    assert not ContributionType.objects.filter(slug="okay").exists()


def test_steward_defines_and_awards_a_badge(client, steward, member):
    target = contributor_for(member)
    client.force_login(steward)
    response = client.post(
        "/community/manage/badges/",
        {"action": "create", "slug": "mentor-star", "name": "Mentor star", "icon": "⭐"},
    )
    assert response.status_code == 302
    assert Badge.objects.get(slug="mentor-star").automatic is False
    response = client.post(
        "/community/manage/badges/",
        {
            "action": "award",
            "badge": "mentor-star",
            "contributor": str(target.pk),
            "reason": "onboarded five newcomers",
        },
    )
    assert response.status_code == 302
    award = BadgeAward.objects.get(badge__slug="mentor-star")
    assert (award.contributor_id, award.awarded_by_id) == (target.pk, steward.pk)
    assert AuditEntry.objects.filter(action="badge.create", actor=steward).exists()
    assert AuditEntry.objects.filter(action="badge.award", actor=steward).exists()
    page = client.get("/community/manage/badges/").content.decode()
    assert "onboarded five newcomers" in page
    again = client.post(
        "/community/manage/badges/",
        {"action": "award", "badge": "mentor-star", "contributor": str(target.pk)},
    )
    assert again.status_code == 400 and "already awarded" in again.content.decode()
    bad = client.post("/community/manage/badges/", {"action": "create", "slug": "A!"})
    assert bad.status_code == 400 and "lowercase letters" in bad.content.decode()
    assert BadgeAward.objects.count() == 1
