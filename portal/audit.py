"""The append-only, hash-chained audit log: writing and verifying."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Model, QuerySet

from portal.db import hot_cursor
from portal.models.audit import AuditChainHead, AuditEntry

GENESIS_HASH = "0" * 64


def _canonical_prefix(entry: AuditEntry) -> str:
    """The entry's canonical JSON up to the previous hash: ``prev_hash`` sorts after every
    other key, so the whole is this, the 64 hex digits, and ``"}``. The text is ASCII
    (``ensure_ascii``), so PostgreSQL can hash the same bytes."""
    payload = {
        "created_at": entry.created_at.isoformat(),
        "actor_id": entry.actor_id,
        "actor_label": entry.actor_label,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "detail": entry.detail,
    }
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return text[:-1] + ',"prev_hash":"'


def _canonical(entry: AuditEntry) -> bytes:
    return (_canonical_prefix(entry) + entry.prev_hash + '"}').encode()


def entry_hash(entry: AuditEntry) -> str:
    return hashlib.sha256(_canonical(entry)).hexdigest()


_HEAD_ID = 1
_HEAD = AuditChainHead._meta.db_table
_ENTRY = AuditEntry._meta.db_table

_SEED_HEAD_SQL = f"""
INSERT INTO {_HEAD} (id, hash, entry_id)
SELECT {_HEAD_ID},
       COALESCE((SELECT hash FROM {_ENTRY} ORDER BY id DESC LIMIT 1), %s),
       (SELECT max(id) FROM {_ENTRY})
WHERE 1 = 1
ON CONFLICT (id) DO NOTHING
"""  # noqa: S608 - table names only; "WHERE 1 = 1" lets SQLite parse the upsert

# PostgreSQL appends in one statement: lock the head (``FOR UPDATE`` waits for a concurrent
# appender to commit, then reads the head as it committed it), hash the entry onto it, insert
# it and move the head. The head stays locked until the transaction commits, so appends queue
# for one statement and a commit each. A caller can append inside a statement of its own
# (``audit_head_cte`` and ``audit_entry_ctes``): then the head is locked only for that
# statement when it runs in autocommit, as the ballot cast does.


def audit_head_cte(*, when: str = "TRUE") -> str:
    """The CTE ``audit_head``: the chain's head, locked, if the SQL condition ``when``
    holds (reference what must be locked first there); empty when the head is missing."""
    return f"audit_head AS (SELECT hash FROM {_HEAD} WHERE id = {_HEAD_ID} AND ({when}) FOR UPDATE)"  # noqa: S608 - fixed SQL only


def audit_entry_ctes(
    *,
    when: str = "TRUE",
    prefix: str = "%(audit_prefix)s",
    detail: str = "%(audit_detail)s",
) -> str:
    """The CTEs ``audit_entry`` (the appended entry's id, prev_hash and hash, when ``when``
    holds) and ``audit_moved``, after ``audit_head_cte``. ``prefix`` and ``detail`` are SQL
    expressions for the entry's canonical prefix and its detail's JSON text (by default the
    parameters ``audit_params`` gives); the other ``audit_*`` parameters come from there."""
    return f"""audit_entry AS (
    INSERT INTO {_ENTRY} (created_at, actor_id, actor_label, action, object_type, object_id,
                          detail, prev_hash, hash)
    SELECT %(audit_created_at)s, %(audit_actor_id)s, %(audit_actor_label)s, %(audit_action)s,
           %(audit_object_type)s, %(audit_object_id)s, ({detail})::jsonb, audit_head.hash,
           encode(sha256(convert_to(({prefix})::text || audit_head.hash || '"}}', 'UTF8')), 'hex')
    FROM audit_head WHERE ({when})
    RETURNING id, prev_hash, hash
), audit_moved AS (
    UPDATE {_HEAD} SET hash = audit_entry.hash, entry_id = audit_entry.id
    FROM audit_entry WHERE {_HEAD}.id = {_HEAD_ID}
    RETURNING {_HEAD}.id
)"""  # noqa: S608 - table names only


def audit_params(entry: AuditEntry) -> dict[str, Any]:
    """The parameters of ``audit_entry_ctes`` for ``entry`` (with the default expressions)."""
    return {
        "audit_created_at": connection.ops.adapt_datetimefield_value(entry.created_at),
        "audit_actor_id": entry.actor_id,
        "audit_actor_label": entry.actor_label,
        "audit_action": entry.action,
        "audit_object_type": entry.object_type,
        "audit_object_id": entry.object_id,
        "audit_detail": json.dumps(entry.detail),
        "audit_prefix": _canonical_prefix(entry),
    }


_APPEND_SQL_POSTGRESQL = f"""
WITH {audit_head_cte()}, {audit_entry_ctes()}
SELECT id, prev_hash, hash FROM audit_entry
"""  # noqa: S608 - fixed SQL only


def audit_head_seed() -> None:
    """Create a missing head (a fresh or flushed database) from the newest entry."""
    with connection.cursor() as cursor:
        cursor.execute(_SEED_HEAD_SQL, [GENESIS_HASH])


def _append_postgresql(entry: AuditEntry) -> None:
    params = audit_params(entry)
    with hot_cursor() as cursor:
        cursor.execute(_APPEND_SQL_POSTGRESQL, params)
        row = cursor.fetchone()
    if row is None:  # no head yet
        audit_head_seed()
        with hot_cursor() as cursor:
            cursor.execute(_APPEND_SQL_POSTGRESQL, params)
            row = cursor.fetchone()
    entry.pk, entry.prev_hash, entry.hash = row
    entry._state.adding = False


def _append(entry: AuditEntry) -> None:
    """Link ``entry`` to the head, insert it and move the head (in the open transaction).

    Elsewhere than PostgreSQL (SQLite, development only) the database serialises writing
    transactions itself, and the hash is computed here.
    """
    if connection.vendor == "postgresql":
        _append_postgresql(entry)
        return
    head_sql = f"SELECT hash FROM {_HEAD} WHERE id = {_HEAD_ID}"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(head_sql)
        row = cursor.fetchone()
        if row is None:
            audit_head_seed()
            cursor.execute(head_sql)
            row = cursor.fetchone()
    entry.prev_hash = str(row[0])
    entry.hash = entry_hash(entry)
    entry.save(force_insert=True)
    AuditChainHead.objects.filter(pk=_HEAD_ID).update(hash=entry.hash, entry_id=entry.pk)


def audit_record(
    *,
    actor: Any = None,
    action: str,
    obj: Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry to the chain (inside the caller's transaction, if any).

    The head row stays locked from here until that transaction commits: record the entry
    as the last write of a transaction, so appends queue behind each other briefly.
    """
    entry = audit_entry_new(
        actor=actor,
        action=action,
        obj=obj,
        object_type=object_type,
        object_id=object_id,
        detail=detail,
    )
    audit_append(entry)
    return entry


def audit_append(entry: AuditEntry) -> None:
    """Link ``entry`` (from ``audit_entry_new``) into the chain, in the caller's transaction
    if any (no savepoint: a failed append fails the whole of it)."""
    with transaction.atomic(savepoint=False):
        _append(entry)


def audit_entry_new(
    *,
    actor: Any = None,
    action: str,
    obj: Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """An entry not yet linked into the chain (``audit_record`` appends it)."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
    actor_obj = actor if getattr(actor, "is_authenticated", False) else None
    return AuditEntry(
        actor=actor_obj,
        actor_label=(actor_obj.email if actor_obj else (str(actor) if actor else "system")),
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        # Round-trip through JSON so the hashed form equals what the DB returns.
        detail=json.loads(json.dumps(detail or {}, default=str)),
    )


@dataclass(frozen=True)
class ChainReport:
    """Outcome of ``audit_verify``: how many entries checked out, and the first broken one."""

    checked: int
    broken_at: int | None = None
    reason: str = ""
    head_hash: str = GENESIS_HASH

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def audit_verify(*, batch_size: int = 2000) -> ChainReport:
    """Recompute the chain from the start; report the first entry whose link is broken.

    An edited row no longer matches its own hash; a deleted or reordered row breaks the
    next row's ``prev_hash``; removing the newest rows leaves the chain short of its head
    record. Entries appended while this runs (after the head was read) are left for the
    next run. Someone able to rewrite the head as well could hide a truncation, which is
    why the head hash is reported: keep it somewhere else to compare.
    """
    head = AuditChainHead.objects.filter(pk=_HEAD_ID).values_list("entry_id", "hash").first()
    entries = AuditEntry.objects.order_by("id")
    if head is not None:
        entries = entries.filter(id__lte=head[0] or 0)
    expected_prev = GENESIS_HASH
    checked = 0
    last_id: int | None = None
    for entry in entries.iterator(chunk_size=batch_size):
        if entry.prev_hash != expected_prev:
            return ChainReport(
                checked,
                entry.pk,
                f"prev_hash {entry.prev_hash[:12]}… does not match the previous entry's "
                f"hash {expected_prev[:12]}… (an entry before it was removed or altered)",
                expected_prev,
            )
        if entry_hash(entry) != entry.hash:
            return ChainReport(
                checked,
                entry.pk,
                "content does not match its hash (the entry was altered)",
                expected_prev,
            )
        expected_prev = entry.hash
        last_id = entry.pk
        checked += 1
    if head is None and checked:
        return ChainReport(
            checked, last_id, "the chain's head record is missing (it was deleted)", expected_prev
        )
    if head is not None and head[1] != expected_prev:
        return ChainReport(
            checked,
            head[0],
            f"the chain ends at #{last_id or 0} but its head records entry #{head[0]} "
            "(the newest entries were removed)",
            expected_prev,
        )
    return ChainReport(checked, head_hash=expected_prev)


def audit_entries_filter(
    *,
    action: str = "",
    actor: str = "",
    object_type: str = "",
    object_id: str = "",
    since: date | None = None,
    until: date | None = None,
) -> QuerySet[AuditEntry]:
    """Entries matching the given filters, newest first (for stewards' browsing).

    ``actor`` is a user id (all digits) or part of the recorded label (email, "system").
    ``since``/``until`` are inclusive calendar days in UTC.
    """
    entries = AuditEntry.objects.all()
    if action:
        entries = entries.filter(action=action)
    if actor.isdigit():
        entries = entries.filter(actor_id=int(actor))
    elif actor:
        entries = entries.filter(actor_label__icontains=actor)
    if object_type:
        entries = entries.filter(object_type=object_type)
    if object_id:
        entries = entries.filter(object_id=object_id)
    if since:
        entries = entries.filter(created_at__gte=datetime.combine(since, time.min, tzinfo=UTC))
    if until:
        entries = entries.filter(
            created_at__lt=datetime.combine(until + timedelta(days=1), time.min, tzinfo=UTC)
        )
    return entries.order_by("-id")


def audit_actions() -> list[str]:
    """Every action name recorded so far (for the filter's choices)."""
    return list(AuditEntry.objects.order_by("action").values_list("action", flat=True).distinct())
