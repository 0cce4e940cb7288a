"""Preview tokens: Directus' preview links carry one, derived from the webhook secret.

The setup script computes the same value (HMAC-SHA256 of a fixed label) when it writes
each collection's preview URL, so no extra secret needs distributing.
"""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings

_LABEL = b"agora-directus-preview-v1"


def preview_token() -> str:
    secret = settings.DIRECTUS_WEBHOOK_SECRET
    if not secret:
        return ""
    return hmac.new(secret.encode(), _LABEL, hashlib.sha256).hexdigest()


def preview_token_valid(candidate: str | None) -> bool:
    expected = preview_token()
    return bool(expected and candidate) and hmac.compare_digest(expected, str(candidate))


def webhook_secret_valid(candidate: str | None) -> bool:
    secret = settings.DIRECTUS_WEBHOOK_SECRET
    if not secret or not candidate:
        return False
    return hmac.compare_digest(secret.encode(), candidate.encode())
