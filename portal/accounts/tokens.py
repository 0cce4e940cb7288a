"""Personal API tokens: created with a name and optional expiry, shown once, stored hashed."""

from __future__ import annotations

import functools
import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from rest_framework import authentication, exceptions

from portal.api.errors import DomainError
from portal.db import RowReader, hot_cursor
from portal.models.tokens import ApiToken

TOKEN_PREFIX = "agora_"  # noqa: S105 - a public marker, not a secret


def token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


TOKEN_NAME_MAX = 100
# A user with more live tokens than this has lost track of them; make them clean up first.
TOKENS_PER_USER_MAX = 50


@transaction.atomic
def token_create(
    *, user: Any, name: str, expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """Create a token; returns the row and the secret, which is never retrievable again."""
    from portal.audit import audit_record

    name = name.strip()
    if not name:
        raise DomainError("give the token a name", fields={"name": ["This field is required."]})
    if len(name) > TOKEN_NAME_MAX:
        raise DomainError(
            f"token names are at most {TOKEN_NAME_MAX} characters",
            fields={"name": [f"At most {TOKEN_NAME_MAX} characters."]},
        )
    if expires_at is not None and expires_at <= timezone.now():
        raise DomainError(
            "the expiry must be in the future",
            fields={"expires_at": ["Must be in the future."]},
        )
    live = ApiToken.objects.filter(user=user, revoked_at__isnull=True).exclude(
        expires_at__lte=timezone.now()
    )
    if live.count() >= TOKENS_PER_USER_MAX:
        raise DomainError(
            f"you already have {TOKENS_PER_USER_MAX} active tokens; revoke unused ones first",
            code="token_limit",
            status_code=409,
        )
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=raw[: len(TOKEN_PREFIX) + 6],
        digest=token_digest(raw),
        expires_at=expires_at,
    )
    audit_record(
        actor=user,
        action="token.create",
        obj=token,
        detail={"name": name, "expires_at": expires_at.isoformat() if expires_at else None},
    )
    return token, raw


@transaction.atomic
def token_revoke(*, actor: Any, token: ApiToken) -> ApiToken:
    """Revoke ``token`` (idempotent); only its owner may."""
    from portal.audit import audit_record

    # Tokens are personal: nobody else (not even a steward) revokes them through this path.
    if getattr(actor, "pk", None) != token.user_id:
        raise DomainError("token not found", code="not_found", status_code=404)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(actor=actor, action="token.revoke", obj=token, detail={"name": token.name})
    return token


LAST_USED_RESOLUTION_SECONDS = 60


@functools.cache
def _authenticate_sql(vendor: str) -> str:
    """One query: the token's active owner plus their group names (one row per group).

    Written as SQL because this runs on every API request and building the equivalent
    ORM queries (token + user join, then the user's groups) costs more CPU than the rest
    of a small request; see tests/benchmarks/test_bench_api.py.

    On PostgreSQL the same statement also stamps ``last_used_at`` when it is older than
    the resolution (a data-modifying CTE runs whether or not the query reads it), so a
    request with a token costs one round trip either way; elsewhere the row says whether
    the stamp is stale and the caller writes it.
    """
    from django.contrib.auth.models import Group

    from portal.models import User

    qn = connection.ops.quote_name
    token, user = qn(ApiToken._meta.db_table), qn(User._meta.db_table)
    link, group = qn(User.groups.through._meta.db_table), qn(Group._meta.db_table)
    valid = (
        "t.digest = %(digest)s AND t.revoked_at IS NULL "
        "AND (t.expires_at IS NULL OR t.expires_at > %(now)s) AND u.is_active = %(active)s"
    )
    select = (
        f"SELECT {_user_rows().columns('u')}, t.id, g.name, "  # noqa: S608 - table names only
        f"CASE WHEN t.last_used_at IS NULL OR t.last_used_at < %(stale_before)s THEN 1 ELSE 0 "
        f"END "
        f"FROM {token} t JOIN {user} u ON u.id = t.user_id "
        f"LEFT JOIN {link} ug ON ug.user_id = u.id LEFT JOIN {group} g ON g.id = ug.group_id "
        f"WHERE {valid}"
    )
    if vendor != "postgresql":
        return select
    return (
        f"WITH stamped AS (UPDATE {token} SET last_used_at = %(now)s "  # noqa: S608
        f"WHERE id = (SELECT t.id FROM {token} t JOIN {user} u ON u.id = t.user_id "
        f"WHERE {valid} AND (t.last_used_at IS NULL OR t.last_used_at < %(stale_before)s)) "
        f"RETURNING id) {select}"
    )


@functools.cache
def _user_rows() -> RowReader[Any]:
    from portal.models import User

    return RowReader(User)


def token_authenticate(raw: str) -> Any | None:
    """The active user owning ``raw``, or ``None`` (unknown, revoked, expired, inactive)."""
    if not raw.startswith(TOKEN_PREFIX):
        return None
    now = timezone.now()
    adapt = connection.ops.adapt_datetimefield_value
    params = {
        "digest": token_digest(raw),
        "now": adapt(now),
        "active": True,
        # Only write last_used_at once a minute per token so hot clients do not hammer it.
        "stale_before": adapt(now - timedelta(seconds=LAST_USED_RESOLUTION_SECONDS)),
    }
    with hot_cursor() as cursor:
        cursor.execute(_authenticate_sql(connection.vendor), params)
        rows = cursor.fetchall()
    if not rows:
        return None
    user, (token_pk, _, stale) = _user_rows().build(rows[0])
    # The role helpers read this instead of querying the groups again.
    user._role_group_cache = {row[-2] for row in rows if row[-2]}
    if connection.vendor != "postgresql" and int(stale):
        ApiToken.objects.filter(pk=token_pk).update(last_used_at=now)
    return user


class BearerTokenAuthentication(authentication.BaseAuthentication):
    """DRF authentication for ``Authorization: Bearer agora_…``."""

    keyword = "Bearer"

    def authenticate(self, request: Any) -> tuple[Any, None] | None:
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        parts = header.split()
        if parts[0].lower() != self.keyword.lower():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Authorization header must be 'Bearer <token>'")
        user = token_authenticate(parts[1])
        if user is None:
            raise exceptions.AuthenticationFailed("invalid, expired or revoked token")
        return (user, None)

    def authenticate_header(self, request: Any) -> str:
        return self.keyword
