from __future__ import annotations

from django.db import models
from django.utils import timezone


class TopicSequence(models.Model):
    """The last ``seq`` handed out for a topic; bumped atomically by ``publish()``."""

    topic = models.CharField(max_length=100, primary_key=True)
    seq = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.topic}@{self.seq}"


class RealtimeEvent(models.Model):
    """An event sent on a topic, kept so reconnecting clients can replay what they missed.

    Topics that declare persistence keep every event; others keep a bounded buffer of
    the most recent ``REALTIME_BUFFER_SIZE`` events (older rows are pruned).
    """

    topic = models.CharField(max_length=100)
    seq = models.BigIntegerField()
    type = models.CharField(max_length=100)
    data = models.JSONField(default=dict)
    ts = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["topic", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["topic", "seq"], name="realtime_event_topic_seq_unique")
        ]

    def __str__(self) -> str:
        return f"{self.topic}#{self.seq} {self.type}"
