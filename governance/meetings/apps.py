from __future__ import annotations

from django.apps import AppConfig


class MeetingsConfig(AppConfig):
    """Meeting series, meetings, live notes, decisions, action items and minutes."""

    name = "governance.meetings"
    label = "meetings"
    verbose_name = "Meetings"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from governance.meetings import signals, topics  # noqa: F401  (meeting.<id>, poll hook)

    def demo_seed(self) -> None:
        """A weekly series with its next meeting (idempotent)."""
        from governance.meetings.demo import demo_seed

        demo_seed()
