from django.apps import AppConfig


class DirectusConfig(AppConfig):
    name = "directus"
    default_auto_field = "django.db.models.BigAutoField"
