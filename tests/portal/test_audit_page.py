"""/audit/: stewards browse, filter and verify the audit log; everyone else is refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from portal.audit import audit_record
from portal.models import AuditEntry
from tests.portal.test_audit import tamper

pytestmark = [pytest.mark.django_db]


@pytest.fixture(autouse=True)
def _no_2fa_gate(settings):
    settings.AGORA_STEWARD_REQUIRES_2FA = False


def entry_ids(response) -> list[int]:
    return [e.pk for e in response.context["page"].object_list]


def test_anonymous_visitor_is_sent_to_login(client):
    response = client.get("/audit/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("role", ["member", "maintainer"])
def test_non_stewards_are_refused(client, role, request):
    client.force_login(request.getfixturevalue(role))
    assert client.get("/audit/").status_code == 403


def test_steward_sees_entries_newest_first(client, steward, member):
    a = audit_record(actor=steward, action="role.change", obj=member, detail={"to": "x"})
    b = audit_record(
        actor=member, action="token.create", object_type="portal.apitoken", object_id="7"
    )
    client.force_login(steward)

    response = client.get("/audit/")

    assert response.status_code == 200
    assert entry_ids(response) == [b.pk, a.pk]
    assert b"token.create" in response.content


def test_filters_by_action_actor_object_and_date(client, steward, member):
    old = audit_record(actor=steward, action="role.change", obj=member)
    tamper(
        "UPDATE portal_auditentry SET created_at = %s WHERE id = %s",
        [timezone.now() - timedelta(days=10), old.pk],
    )
    by_member = audit_record(
        actor=member, action="token.create", object_type="portal.apitoken", object_id="7"
    )
    system = audit_record(
        actor=None, action="login.failure_burst", object_type="account", object_id="x@example.org"
    )
    client.force_login(steward)

    assert entry_ids(client.get("/audit/", {"action": "token.create"})) == [by_member.pk]
    assert entry_ids(client.get("/audit/", {"actor": member.email.upper()})) == [by_member.pk]
    assert entry_ids(client.get("/audit/", {"actor": str(steward.pk)})) == [old.pk]
    assert entry_ids(client.get("/audit/", {"object_type": "account"})) == [system.pk]
    assert entry_ids(
        client.get("/audit/", {"object_type": "portal.apitoken", "object_id": "7"})
    ) == [by_member.pk]
    today = timezone.now().date()
    recent = client.get("/audit/", {"since": (today - timedelta(days=1)).isoformat()})
    assert entry_ids(recent) == [system.pk, by_member.pk]
    older = client.get("/audit/", {"until": (today - timedelta(days=5)).isoformat()})
    assert entry_ids(older) == [old.pk]


def test_entries_are_paginated(client, steward):
    for i in range(55):
        audit_record(actor=None, action="test.event", object_id=str(i))
    client.force_login(steward)

    first = client.get("/audit/", {"action": "test.event"})
    second = client.get("/audit/", {"action": "test.event", "page": 2})

    assert len(entry_ids(first)) == 50 and len(entry_ids(second)) == 5
    assert b"page=2" in first.content and b"action=test.event" in first.content


def test_verify_button_reports_intact_and_broken_chains(client, steward):
    entries = [audit_record(actor=None, action="test.event", object_id=str(i)) for i in range(3)]
    client.force_login(steward)

    ok = client.get("/audit/", {"verify": "1"})
    assert ok.context["verification"].ok
    assert b"Chain intact: 3 entries verified" in ok.content

    tamper("UPDATE portal_auditentry SET action = %s WHERE id = %s", ["forged", entries[1].pk])
    broken = client.get("/audit/", {"verify": "1"})
    assert broken.context["verification"].broken_at == entries[1].pk
    assert f"Chain broken at entry #{entries[1].pk}".encode() in broken.content
    assert AuditEntry.objects.count() == 3
