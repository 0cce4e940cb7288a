"""The append-only, hash-chained audit log: writing and verifying."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Model, QuerySet

from portal.models.audit import AuditEntry

GENESIS_HASH = "0" * 64
# Arbitrary constant naming the PostgreSQL advisory lock that serialises chain appends.
_CHAIN_LOCK_ID = 0x4A6F7261


def _canonical(entry: AuditEntry) -> bytes:
    payload = {
        "created_at": entry.created_at.isoformat(),
        "actor_id": entry.actor_id,
        "actor_label": entry.actor_label,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "detail": entry.detail,
        "prev_hash": entry.prev_hash,
    }
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str).encode()


def entry_hash(entry: AuditEntry) -> str:
    return hashlib.sha256(_canonical(entry)).hexdigest()


def audit_record(
    *,
    actor: Any = None,
    action: str,
    obj: Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry to the chain (inside the caller's transaction, if any)."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
    actor_obj = actor if getattr(actor, "is_authenticated", False) else None
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK_ID])
        last = AuditEntry.objects.order_by("-id").only("hash").first()
        entry = AuditEntry(
            actor=actor_obj,
            actor_label=(actor_obj.email if actor_obj else (str(actor) if actor else "system")),
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            # Round-trip through JSON so the hashed form equals what the DB returns.
            detail=json.loads(json.dumps(detail or {}, default=str)),
            prev_hash=last.hash if last else GENESIS_HASH,
        )
        entry.hash = entry_hash(entry)
        entry.save(force_insert=True)
    return entry


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
    next row's ``prev_hash``. Truncating the newest rows cannot be seen from the chain
    alone, which is why the head hash is reported: keep it somewhere else to compare.
    """
    expected_prev = GENESIS_HASH
    checked = 0
    for entry in AuditEntry.objects.order_by("id").iterator(chunk_size=batch_size):
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
        checked += 1
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
