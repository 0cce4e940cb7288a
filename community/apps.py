from __future__ import annotations

from django.apps import AppConfig


class CommunityConfig(AppConfig):
    """Contributors, contributions, review, scoring, epochs, the rewards ledger, payouts."""

    name = "community"
    verbose_name = "Community"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from community import topics  # noqa: F401  (registers the realtime topic)
        from community.home import register as register_home

        register_home()

    def demo_seed(self) -> None:
        """Create a little demo data (idempotent)."""
        from community.demo import demo_seed

        demo_seed()
