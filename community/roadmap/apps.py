from __future__ import annotations

from django.apps import AppConfig


class RoadmapConfig(AppConfig):
    """Roadmap milestones and tasks: the board, the timeline, JSON Lines import/export."""

    name = "community.roadmap"
    label = "roadmap"
    verbose_name = "Roadmap"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from community.roadmap import topics  # noqa: F401  (registers board.<id>)
        from community.roadmap.search import register_search_source

        register_search_source()

    def demo_seed(self) -> None:
        """A milestone with a few tasks (idempotent)."""
        from community.roadmap.demo import demo_seed

        demo_seed()
