from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class AuditEntry(models.Model):
    """One append-only, hash-chained record of a security- or governance-relevant action.

    ``hash`` covers the canonical JSON of this row's fields plus ``prev_hash``, so editing
    or deleting any row breaks every later link (``manage.py audit_verify`` finds it).
    Updates and deletes are also refused by database triggers (migration 0002).
    """

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    # No database FK: deleting a user must not rewrite (or be blocked by) history.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    actor_label = models.CharField(
        max_length=200, blank=True, help_text="Actor as recorded, kept if the user is deleted."
    )
    action = models.CharField(max_length=100)
    object_type = models.CharField(max_length=100, blank=True)
    object_id = models.CharField(max_length=100, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "audit entries"
        # Declared here rather than with ``unique``/``db_index`` on the fields, which on
        # PostgreSQL also build a second, ``varchar_pattern_ops`` index per field for LIKE
        # queries the log never runs: each is one more index every append writes.
        constraints = [models.UniqueConstraint(fields=["hash"], name="portal_auditentry_hash_uniq")]
        indexes = [
            models.Index(fields=["action"], name="portal_auditentry_action"),
            models.Index(fields=["object_type"], name="portal_auditentry_object_type"),
            models.Index(fields=["object_id"], name="portal_auditentry_object_id"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.action} by {self.actor_label or 'system'}"


class AuditChainHead(models.Model):
    """The newest link of the audit chain, in one row.

    Appending locks this row (``SELECT … FOR UPDATE`` returns its latest committed state
    in the same round trip), links the new entry to ``hash`` and moves the head to it, so
    appends are serialised only from the lock to their commit. It also lets
    ``audit_verify`` notice newest entries removed from the end of the chain.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    entry_id = models.BigIntegerField(null=True, blank=True)
    hash = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"audit chain head at #{self.entry_id}"
