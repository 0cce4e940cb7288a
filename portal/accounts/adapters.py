from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter


class AccountAdapter(DefaultAccountAdapter):
    """Sign-up is open; every new account starts as a member (see ``signals``)."""

    def is_open_for_signup(self, request: Any) -> bool:
        return True


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    """GitHub sign-in records the GitHub handle on the user."""

    def populate_user(self, request: Any, sociallogin: Any, data: dict[str, Any]) -> Any:
        user = super().populate_user(request, sociallogin, data)
        login = (sociallogin.account.extra_data or {}).get("login")
        if login and not user.github_handle:
            user.github_handle = login
        return user
