"""Make the audit log append-only in the database itself, not only in Python.

TRUNCATE is left to the table owner (it is how test databases are flushed); the portal's
runtime role should not own the table in production. On SQLite (development only) DELETE
stays possible for the same reason; UPDATE is refused everywhere.
"""

from django.db import migrations

PG_FORWARD = """
CREATE OR REPLACE FUNCTION portal_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'portal_auditentry is append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER portal_auditentry_no_update BEFORE UPDATE OR DELETE ON portal_auditentry
    FOR EACH ROW EXECUTE FUNCTION portal_audit_append_only();
"""
PG_REVERSE = """
DROP TRIGGER IF EXISTS portal_auditentry_no_update ON portal_auditentry;
DROP FUNCTION IF EXISTS portal_audit_append_only();
"""
SQLITE_FORWARD = [
    """CREATE TRIGGER portal_auditentry_no_update BEFORE UPDATE ON portal_auditentry
       BEGIN SELECT RAISE(ABORT, 'portal_auditentry is append-only (UPDATE refused)'); END;""",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS portal_auditentry_no_update;",
]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        # params=None: the function body contains a literal "%" (a RAISE placeholder).
        schema_editor.execute(PG_FORWARD, params=None)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_FORWARD:
            schema_editor.execute(statement)


def reverse(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_REVERSE)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_REVERSE:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("portal", "0001_initial")]
    operations = [migrations.RunPython(forward, reverse)]
