"""Make the ledger append-only and balanced in the database itself, not only in Python.

PostgreSQL: UPDATE/DELETE on entries, transactions and allocations raise; a deferred
constraint trigger checks at commit that every transaction touched has at least two
entries summing to zero per currency. TRUNCATE stays with the table owner (test flushes).
SQLite (development only): UPDATE is refused; DELETE stays possible for test flushes.
"""

from django.db import migrations

APPEND_ONLY_TABLES = ["community_entry", "community_ledgertransaction", "community_allocation"]

PG_FORWARD = """
CREATE OR REPLACE FUNCTION community_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only (% refused)', TG_TABLE_NAME, TG_OP;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION community_transaction_balanced() RETURNS trigger AS $$
DECLARE
    tx_id bigint;
    legs integer;
    unbalanced integer;
BEGIN
    IF TG_TABLE_NAME = 'community_entry' THEN
        tx_id := NEW.transaction_id;
    ELSE
        tx_id := NEW.id;
    END IF;
    SELECT count(*) INTO legs FROM community_entry WHERE transaction_id = tx_id;
    IF legs < 2 THEN
        RAISE EXCEPTION 'ledger transaction % has % entries (at least 2 required)', tx_id, legs;
    END IF;
    SELECT count(*) INTO unbalanced FROM (
        SELECT currency_id FROM community_entry WHERE transaction_id = tx_id
        GROUP BY currency_id HAVING sum(amount) <> 0
    ) AS u;
    IF unbalanced > 0 THEN
        RAISE EXCEPTION 'ledger transaction % does not balance', tx_id;
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
"""
PG_TRIGGERS = """
CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION community_append_only();
"""
PG_BALANCE = """
CREATE CONSTRAINT TRIGGER community_ledgertransaction_balanced
    AFTER INSERT ON community_ledgertransaction DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION community_transaction_balanced();
"""
PG_REVERSE = """
DROP TRIGGER IF EXISTS community_ledgertransaction_balanced ON community_ledgertransaction;
DROP TRIGGER IF EXISTS community_entry_append_only ON community_entry;
DROP TRIGGER IF EXISTS community_ledgertransaction_append_only ON community_ledgertransaction;
DROP TRIGGER IF EXISTS community_allocation_append_only ON community_allocation;
DROP FUNCTION IF EXISTS community_transaction_balanced();
DROP FUNCTION IF EXISTS community_append_only();
"""
SQLITE_TRIGGER = """CREATE TRIGGER {table}_append_only BEFORE UPDATE ON {table}
    BEGIN SELECT RAISE(ABORT, '{table} is append-only (UPDATE refused)'); END;"""


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FORWARD, params=None)
        for table in APPEND_ONLY_TABLES:
            schema_editor.execute(PG_TRIGGERS.format(table=table), params=None)
        schema_editor.execute(PG_BALANCE, params=None)
    elif vendor == "sqlite":
        for table in APPEND_ONLY_TABLES:
            schema_editor.execute(SQLITE_TRIGGER.format(table=table))


def reverse(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_REVERSE, params=None)
    elif vendor == "sqlite":
        for table in APPEND_ONLY_TABLES:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only;")


class Migration(migrations.Migration):
    dependencies = [("community", "0001_initial")]
    operations = [migrations.RunPython(forward, reverse)]
