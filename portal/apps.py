from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Portal"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Signal receivers (audit of login failures, default role on sign-up) and the
        # portal's own realtime topics register on import.
        from portal import topics  # noqa: F401
        from portal.accounts import signals  # noqa: F401
