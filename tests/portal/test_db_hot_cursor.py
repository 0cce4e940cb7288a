"""Hot statements are prepared by PostgreSQL; everything else keeps client-side binding."""

from __future__ import annotations

import pytest
from django.db import connection

from portal.accounts.tokens import token_authenticate, token_create
from portal.db import hot_cursor

pytestmark = pytest.mark.django_db

IS_POSTGRES = connection.vendor == "postgresql"


@pytest.mark.skipif(not IS_POSTGRES, reason="prepared statements are PostgreSQL's")
def test_a_hot_statement_is_prepared_after_a_few_runs(member):
    _, secret = token_create(user=member, name="hot")
    for _ in range(8):
        assert token_authenticate(secret) == member
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
            ["%WITH stamped AS%"],
        )
        assert cursor.fetchone()[0] == 1


def test_a_hot_cursor_reports_errors_like_any_django_cursor():
    from django.db import DatabaseError, transaction

    with pytest.raises(DatabaseError), transaction.atomic(), hot_cursor() as cursor:
        cursor.execute("SELECT * FROM no_such_table WHERE id = %(id)s", {"id": 1})


def test_statements_with_more_parameters_than_a_prepared_statement_allows_still_work():
    """Everything but the hot statements binds parameters on the client, where PostgreSQL's
    65,535-parameter limit of prepared statements does not apply."""
    from governance.models import Tag

    Tag.objects.bulk_create([Tag(name=f"t{i}") for i in range(70_000)])
    names = [f"t{i}" for i in range(70_000)]
    assert Tag.objects.filter(name__in=names).count() == 70_000
