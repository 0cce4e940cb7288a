"""The audit log: services record entries, the database refuses edits, tampering is found."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from portal.accounts.roles import user_set_role
from portal.accounts.tokens import token_create
from portal.audit import GENESIS_HASH, audit_record, audit_verify
from portal.models import AuditEntry
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

IS_POSTGRES = connection.vendor == "postgresql"


def tamper(sql: str, params: list) -> None:
    """Run raw SQL past the append-only triggers, as an attacker with table rights would."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE portal_auditentry DISABLE TRIGGER USER")
            cursor.execute(sql, params)
            cursor.execute("ALTER TABLE portal_auditentry ENABLE TRIGGER USER")
        else:
            cursor.execute("DROP TRIGGER portal_auditentry_no_update")
            cursor.execute(sql, params)
            cursor.execute(
                "CREATE TRIGGER portal_auditentry_no_update BEFORE UPDATE ON portal_auditentry "
                "BEGIN SELECT RAISE(ABORT, 'portal_auditentry is append-only (UPDATE refused)');"
                " END;"
            )


def make_chain(n: int = 4) -> list[AuditEntry]:
    return [
        audit_record(
            actor=None,
            action="test.event",
            object_type="thing",
            object_id=str(i),
            detail={"n": i, "note": "ünïcode ok", "nested": {"a": [1, 2.5, None]}},
        )
        for i in range(n)
    ]


def test_role_change_is_audited(steward, member):
    user_set_role(actor=steward, user=member, role="maintainer")

    entry = AuditEntry.objects.get(action="role.change")
    assert entry.actor_id == steward.pk and entry.actor_label == steward.email
    assert (entry.object_type, entry.object_id) == ("portal.user", str(member.pk))
    assert entry.detail == {"user": member.email, "from": "member", "to": "maintainer"}
    assert audit_verify().ok


def test_token_creation_is_audited(member):
    token, raw = token_create(user=member, name="ci")

    entry = AuditEntry.objects.get(action="token.create")
    assert entry.actor_id == member.pk
    assert entry.object_id == str(token.pk)
    assert entry.detail["name"] == "ci"
    assert raw not in str(entry.detail)  # the secret never reaches the log


def test_a_burst_of_failed_logins_produces_one_audit_entry(client):
    cache.clear()
    user = UserFactory(email=f"burst-{uuid.uuid4().hex[:8]}@example.org")
    for _ in range(7):
        response = client.post("/accounts/login/", {"login": user.email, "password": "wrong-pass"})
        assert response.status_code in (200, 429)

    entries = AuditEntry.objects.filter(action="login.failure_burst")
    assert entries.count() == 1
    entry = entries.get()
    assert entry.object_id == user.email.lower()
    assert entry.detail["failures"] == 5
    assert entry.actor_id is None


def test_fewer_failures_than_a_burst_are_not_audited(client):
    cache.clear()
    user = UserFactory(email=f"few-{uuid.uuid4().hex[:8]}@example.org")
    for _ in range(3):
        client.post("/accounts/login/", {"login": user.email, "password": "wrong-pass"})
    assert not AuditEntry.objects.filter(action="login.failure_burst").exists()


def test_chain_links_each_entry_to_the_previous_one():
    chain = make_chain(3)
    assert chain[0].prev_hash == GENESIS_HASH
    assert chain[1].prev_hash == chain[0].hash and chain[2].prev_hash == chain[1].hash
    report = audit_verify()
    assert report.ok and report.checked == 3 and report.head_hash == chain[2].hash


def test_database_refuses_to_update_audit_rows():
    entry = make_chain(1)[0]
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).update(action="something.else")
    entry.refresh_from_db()
    assert entry.action == "test.event"


@pytest.mark.skipif(not IS_POSTGRES, reason="SQLite (development only) leaves DELETE possible")
def test_database_refuses_to_delete_audit_rows():
    entry = make_chain(1)[0]
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).delete()
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_tampered_row_is_detected_by_verify_and_the_command():
    chain = make_chain(4)
    tamper(
        "UPDATE portal_auditentry SET detail = %s WHERE id = %s",
        ['{"n": 99, "note": "rewritten"}', chain[2].pk],
    )

    report = audit_verify()
    assert not report.ok
    assert report.broken_at == chain[2].pk
    assert report.checked == 2
    assert "altered" in report.reason

    with pytest.raises(CommandError) as excinfo:
        call_command("audit_verify")
    assert excinfo.value.returncode == 1
    assert f"BROKEN at entry #{chain[2].pk}" in str(excinfo.value)


def test_removed_row_is_detected_at_the_entry_after_it():
    chain = make_chain(4)
    tamper("DELETE FROM portal_auditentry WHERE id = %s", [chain[1].pk])

    report = audit_verify()
    assert report.broken_at == chain[2].pk
    assert "prev_hash" in report.reason


def test_backdated_timestamp_is_detected():
    chain = make_chain(3)
    tamper(
        "UPDATE portal_auditentry SET created_at = %s WHERE id = %s",
        [timezone.now() - timedelta(days=400), chain[0].pk],
    )
    assert audit_verify().broken_at == chain[0].pk


def test_command_reports_ok_with_the_count(capsys):
    make_chain(3)
    call_command("audit_verify")
    out = capsys.readouterr().out
    assert out.startswith("OK: 3 entries verified")


def test_removing_the_newest_entries_is_detected_through_the_head():
    chain = make_chain(4)
    tamper("DELETE FROM portal_auditentry WHERE id >= %s", [chain[2].pk])

    report = audit_verify()
    assert not report.ok
    assert report.checked == 2
    assert report.broken_at == chain[3].pk
    assert "newest entries were removed" in report.reason


def test_a_deleted_head_record_is_reported():
    from portal.models import AuditChainHead

    make_chain(2)
    AuditChainHead.objects.all().delete()
    report = audit_verify()
    assert not report.ok and "head record is missing" in report.reason


def test_a_rolled_back_append_leaves_the_chain_whole():
    first = make_chain(1)[0]
    with pytest.raises(RuntimeError), transaction.atomic():
        audit_record(actor=None, action="test.undone")
        raise RuntimeError("roll back")
    after = audit_record(actor=None, action="test.kept")
    assert after.prev_hash == first.hash
    assert audit_verify().ok


@pytest.mark.skipif(not IS_POSTGRES, reason="concurrent writers need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_form_one_unbroken_chain():
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connections

    def append(worker: int) -> None:
        try:
            for i in range(15):
                with transaction.atomic():
                    audit_record(actor=None, action="test.parallel", detail={"w": worker, "i": i})
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(append, range(8)))

    report = audit_verify()
    assert report.ok, report.reason
    assert report.checked == 8 * 15
    hashes = list(AuditEntry.objects.values_list("prev_hash", flat=True))
    assert len(set(hashes)) == len(hashes)  # no two entries link to the same predecessor
