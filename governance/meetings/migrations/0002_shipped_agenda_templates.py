from django.db import migrations


def load(apps, schema_editor):
    from governance.meetings.templates_data import SHIPPED_TEMPLATES

    AgendaTemplate = apps.get_model("meetings", "AgendaTemplate")
    for data in SHIPPED_TEMPLATES:
        AgendaTemplate.objects.get_or_create(
            slug=data["slug"],
            defaults={k: v for k, v in data.items() if k != "slug"},
        )


def unload(apps, schema_editor):
    from governance.meetings.templates_data import SHIPPED_TEMPLATES

    AgendaTemplate = apps.get_model("meetings", "AgendaTemplate")
    AgendaTemplate.objects.filter(slug__in=[t["slug"] for t in SHIPPED_TEMPLATES]).delete()


class Migration(migrations.Migration):
    dependencies = [("meetings", "0001_initial")]
    operations = [migrations.RunPython(load, unload)]
