"""HTML forms for the profile, token and role pages (the rules live in the services)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django import forms
from django.utils import timezone

from portal.models import Role

EXPIRY_CHOICES = [
    ("30", "30 days"),
    ("7", "7 days"),
    ("90", "90 days"),
    ("365", "1 year"),
    ("never", "Never"),
]


class ProfileForm(forms.Form):
    display_name = forms.CharField(
        max_length=120,
        required=False,
        help_text="Shown instead of your username. Leave empty to use your username.",
    )
    github_handle = forms.CharField(
        label="GitHub username",
        max_length=200,
        required=False,
        help_text="For example <code>octocat</code>; links your contributions.",
    )
    bio = forms.CharField(max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 5}))


class TokenCreateForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        help_text="What the token is for, e.g. “CI on my laptop”.",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    expires_in = forms.ChoiceField(label="Expires", choices=EXPIRY_CHOICES, initial="30")

    def expires_at(self) -> datetime | None:
        value = self.cleaned_data["expires_in"]
        if value == "never":
            return None
        return timezone.now() + timedelta(days=int(value))


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)
