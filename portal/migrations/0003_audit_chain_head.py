"""The audit chain's head row: appends lock it instead of a global advisory lock.

Existing chains continue: the head starts at the newest entry already written.
"""

from django.db import migrations, models

GENESIS_HASH = "0" * 64


def seed_head(apps, schema_editor):
    entry = apps.get_model("portal", "AuditEntry")
    head = apps.get_model("portal", "AuditChainHead")
    last = entry.objects.order_by("-id").values_list("id", "hash").first()
    entry_id, hash_ = last if last else (None, GENESIS_HASH)
    head.objects.update_or_create(id=1, defaults={"entry_id": entry_id, "hash": hash_})


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0002_audit_append_only"),
    ]

    operations = [
        migrations.CreateModel(
            name="AuditChainHead",
            fields=[
                (
                    "id",
                    models.PositiveSmallIntegerField(default=1, primary_key=True, serialize=False),
                ),
                ("entry_id", models.BigIntegerField(blank=True, null=True)),
                ("hash", models.CharField(max_length=64)),
            ],
        ),
        migrations.RunPython(seed_head, migrations.RunPython.noop),
    ]
