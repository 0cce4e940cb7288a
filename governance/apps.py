from __future__ import annotations

from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    name = "governance"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from governance import topics  # noqa: F401 - registers the realtime topics
        from governance.search import register_search_source

        register_search_source()
        from governance.home import register as register_home

        register_home()

    def demo_seed(self) -> None:
        """A proposal under discussion and an open ranked poll (idempotent)."""
        from governance.demo import demo_seed

        demo_seed()
