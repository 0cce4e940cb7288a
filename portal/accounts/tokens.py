"""Personal API tokens: created with a name and optional expiry, shown once, stored hashed."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from rest_framework import authentication, exceptions

from portal.models.tokens import ApiToken

TOKEN_PREFIX = "agora_"


def token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def token_create(*, user: Any, name: str, expires_at: datetime | None = None) -> tuple[ApiToken, str]:
    """Create a token; returns the row and the secret, which is never retrievable again."""
    from portal.audit import audit_record

    if expires_at is not None and expires_at <= timezone.now():
        raise ValueError("expires_at must be in the future")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name, prefix=raw[: len(TOKEN_PREFIX) + 6], digest=token_digest(raw),
        expires_at=expires_at,
    )
    audit_record(actor=user, action="token.create", obj=token,
                 detail={"name": name, "expires_at": expires_at.isoformat() if expires_at else None})
    return token, raw


@transaction.atomic
def token_revoke(*, actor: Any, token: ApiToken) -> ApiToken:
    from portal.audit import audit_record

    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(actor=actor, action="token.revoke", obj=token, detail={"name": token.name})
    return token


def token_authenticate(raw: str) -> Any | None:
    """The active user owning ``raw``, or ``None`` (unknown, revoked, expired, inactive)."""
    if not raw.startswith(TOKEN_PREFIX):
        return None
    token = ApiToken.objects.select_related("user").filter(digest=token_digest(raw)).first()
    if token is None or not token.is_active or not token.user.is_active:
        return None
    now = timezone.now()
    # Only write last_used_at once a minute per token so hot clients do not hammer the DB.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


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
