"""Epochs are permanent records; contributions point at them without a per-row FK check.

Closing an epoch binds every approved contribution to it in one UPDATE (~200,000 rows at
the benchmark's size). A foreign-key constraint runs one check per updated row at commit,
seconds of work guarding against something the portal never does: deleting an epoch. So
the contribution → epoch link drops its constraint, and PostgreSQL refuses DELETE on
epochs instead (a trigger; TRUNCATE, which test flushes use, stays with the table owner).
SQLite, for development only, keeps DELETE possible for test flushes; the ORM's PROTECT
still refuses deleting an epoch that contributions point at.
"""

from django.db import migrations, models

PG_FORWARD = """
CREATE OR REPLACE FUNCTION community_epoch_permanent() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'epochs are permanent records (DELETE of epoch % refused)', OLD.id;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER community_epoch_permanent BEFORE DELETE ON community_epoch
    FOR EACH ROW EXECUTE FUNCTION community_epoch_permanent();
"""
PG_REVERSE = """
DROP TRIGGER IF EXISTS community_epoch_permanent ON community_epoch;
DROP FUNCTION IF EXISTS community_epoch_permanent();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_FORWARD, params=None)


def reverse(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_REVERSE, params=None)


class Migration(migrations.Migration):
    dependencies = [("community", "0004_contribution_cheaper_binding")]

    operations = [
        migrations.AlterField(
            model_name="contribution",
            name="epoch",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=models.deletion.PROTECT,
                related_name="contributions",
                to="community.epoch",
            ),
        ),
        migrations.RunPython(forward, reverse),
    ]
