from django.apps import AppConfig


class AgentsConfig(AppConfig):
    """Agent runs: profiles as data, runs with persisted event streams, their pages and API.

    A nested app with its own label so its models and migrations stay apart from the
    sandboxes app's.
    """

    name = "sandboxes.agents"
    label = "agents"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Agent runs"

    def ready(self) -> None:
        from sandboxes.agents import topics  # noqa: F401  (registers the run topic)
