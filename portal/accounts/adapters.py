"""allauth adapters: open sign-up, GitHub handle on social sign-in, 429 on login floods."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django import forms
from django.http import HttpRequest
from django.shortcuts import render

# The per-identifier window of ACCOUNT_RATE_LIMITS["login_failed"] (5/5m/key).
LOGIN_RETRY_AFTER_SECONDS = 300


class AccountAdapter(DefaultAccountAdapter):
    """Sign-up is open; every new account starts as a member (see ``signals``)."""

    def is_open_for_signup(self, request: Any) -> bool:
        return True

    def pre_authenticate(self, request: HttpRequest, **credentials: Any) -> None:
        """Answer a login flood with a real 429 (allauth shows only a form error)."""
        try:
            super().pre_authenticate(request, **credentials)
        except forms.ValidationError as exc:
            if exc.code != "too_many_login_attempts":
                raise
            response = render(
                request,
                "account/too_many_attempts.html",
                {"retry_minutes": LOGIN_RETRY_AFTER_SECONDS // 60},
                status=429,
            )
            response["Retry-After"] = str(LOGIN_RETRY_AFTER_SECONDS)
            raise ImmediateHttpResponse(response) from exc


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    """GitHub sign-in records the GitHub handle on the user."""

    def populate_user(self, request: Any, sociallogin: Any, data: dict[str, Any]) -> Any:
        user = super().populate_user(request, sociallogin, data)
        login = (sociallogin.account.extra_data or {}).get("login")
        if login and not user.github_handle:
            user.github_handle = login
        return user
