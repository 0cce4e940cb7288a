"""A GIN index on the search vector — PostgreSQL only (SQLite searches without it)."""

from django.db import migrations


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS directus_item_search ON directus_contentitem "
            "USING gin (search_vector)"
        )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS directus_item_search")


class Migration(migrations.Migration):
    dependencies = [("directus", "0001_content_mirror")]
    operations = [migrations.RunPython(create_index, drop_index)]
