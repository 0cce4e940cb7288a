"""Profile edits by the profile's owner."""

from __future__ import annotations

import re

from django.db import transaction

from portal.api.errors import DomainError
from portal.models import User

# GitHub's own rule: alphanumerics and single hyphens, not at either end, at most 39.
_GITHUB_HANDLE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$")


def github_handle_clean(raw: str) -> str:
    """Normalise ``@octocat`` / ``https://github.com/octocat`` to ``octocat``; validate it."""
    handle = raw.strip()
    for prefix in ("https://github.com/", "http://github.com/", "github.com/", "@"):
        if handle.lower().startswith(prefix):
            handle = handle[len(prefix) :]
    handle = handle.strip("/")
    if handle and not _GITHUB_HANDLE.match(handle):
        raise DomainError(
            f"{raw!r} is not a GitHub username",
            fields={"github_handle": ["Letters, digits and single hyphens, at most 39."]},
        )
    return handle


@transaction.atomic
def profile_update(
    *,
    user: User,
    display_name: str | None = None,
    github_handle: str | None = None,
    bio: str | None = None,
) -> User:
    """Change the public profile fields given (``None`` leaves a field as it is)."""
    changed: list[str] = []
    if display_name is not None:
        display_name = display_name.strip()
        if len(display_name) > 120:
            raise DomainError(
                "display names are at most 120 characters",
                fields={"display_name": ["At most 120 characters."]},
            )
        user.display_name = display_name
        changed.append("display_name")
    if github_handle is not None:
        user.github_handle = github_handle_clean(github_handle)
        changed.append("github_handle")
    if bio is not None:
        bio = bio.strip()
        if len(bio) > 2000:
            raise DomainError("the bio is at most 2000 characters", fields={"bio": ["Too long."]})
        user.bio = bio
        changed.append("bio")
    if changed:
        user.save(update_fields=changed)
    return user
