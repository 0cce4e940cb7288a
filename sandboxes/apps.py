from django.apps import AppConfig


class SandboxesConfig(AppConfig):
    name = "sandboxes"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Sandboxes"

    def ready(self) -> None:
        from sandboxes import topics  # noqa: F401  (registers the sandbox topic)
        from sandboxes.home import register as register_home

        register_home()
