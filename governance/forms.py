"""HTML forms for the governance pages. They check shapes and types only; every rule
(who may, which combinations are valid) stays in the services, whose ``DomainError``
codes are mapped back onto the form's fields by ``form_error_apply``."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from governance.models import (
    Disposition,
    MajorityBase,
    MajorityKind,
    Method,
    Visibility,
    Weighting,
)
from portal.api.errors import DomainError

ROLE_CHOICES = [("member", "Members"), ("maintainer", "Maintainers"), ("steward", "Stewards")]
DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")

# Which field a service error belongs to; unknown codes become form-wide errors.
_ERROR_FIELDS = {
    "title_required": "title",
    "unknown_method": "method",
    "too_few_options": "options",
    "options_not_allowed": "options",
    "duplicate_option": "options",
    "bad_limits": "max_selections",
    "bad_majority": "majority_fraction",
    "bad_window": "closes_at",
    "bad_roles": "eligible_roles",
    "bad_quorum": "quorum_percent",
    "secret_no_delegation": "allow_delegation",
    "empty_comment": "body",
    "bad_reaction": "emoji",
    "name_required": "name",
    "duplicate_concern": "name",
    "bad_disposition": "disposition",
}


def form_error_apply(form: forms.Form, exc: DomainError) -> None:
    """Attach a service error to the field it concerns (or to the whole form)."""
    field = _ERROR_FIELDS.get(exc.code or "")
    if exc.code == "bad_window" and "extension" in exc.message:
        field = "max_closes_at"
    form.add_error(field if field in form.fields else None, exc.message)


class PollForm(forms.Form):
    """Every rule of a poll. Options are one per line."""

    title = forms.CharField(max_length=200)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    method = forms.ChoiceField(choices=Method.choices, initial=Method.YES_NO)
    options = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="One per line. Yes/no and lazy consensus take none.",
    )
    min_selections = forms.IntegerField(min_value=0, max_value=50, initial=1)
    max_selections = forms.IntegerField(min_value=1, max_value=50, initial=1)
    allow_none = forms.BooleanField(required=False, label='Offer "none of the above"')
    allow_block = forms.BooleanField(required=False, label='Offer "block" (any block fails it)')
    max_score = forms.IntegerField(min_value=1, max_value=100, initial=5)
    budget = forms.IntegerField(min_value=1, max_value=1_000_000, initial=100)
    eligible_roles = forms.MultipleChoiceField(
        choices=ROLE_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Leave roles and the list empty to let every member vote.",
    )
    eligible_usernames = forms.CharField(
        required=False,
        label="Eligible members (usernames)",
        help_text="Comma- or space-separated; they may vote whatever their role.",
    )
    weighting = forms.ChoiceField(choices=Weighting.choices, initial=Weighting.EQUAL)
    allow_delegation = forms.BooleanField(required=False, label="Count delegated votes")
    quorum_count = forms.IntegerField(min_value=0, initial=0, label="Quorum (ballots)")
    quorum_percent = forms.DecimalField(
        min_value=0, max_value=100, max_digits=5, decimal_places=2, initial=0,
        label="Quorum (% of eligible)",
    )  # fmt: skip
    majority_kind = forms.ChoiceField(choices=MajorityKind.choices, initial=MajorityKind.SIMPLE)
    majority_fraction = forms.DecimalField(
        required=False, max_digits=6, decimal_places=5, label="Custom fraction (above 0, at most 1)"
    )
    majority_base = forms.ChoiceField(choices=MajorityBase.choices, initial=MajorityBase.VALID)
    opens_at = forms.DateTimeField(
        required=False, widget=DATETIME_WIDGET, label="Opens (UTC)",
        help_text="Empty: stays a draft until opened (or opens now if ticked below).",
    )  # fmt: skip
    closes_at = forms.DateTimeField(widget=DATETIME_WIDGET, label="Closes (UTC)")
    extend_until_quorum = forms.BooleanField(
        required=False, label="Extend a day at a time while quorum is missing"
    )
    max_closes_at = forms.DateTimeField(
        required=False, widget=DATETIME_WIDGET, label="Extend at most until (UTC)"
    )
    visibility = forms.ChoiceField(choices=Visibility.choices, initial=Visibility.NAMED)
    is_public = forms.BooleanField(required=False, initial=True, label="Visible to visitors")
    open_now = forms.BooleanField(required=False, label="Open the poll now")

    def __init__(
        self, *args: Any, for_proposal: bool = False, editing: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        if for_proposal:
            # A proposal's poll opens with the vote and is as public as its proposal.
            del self.fields["open_now"]
            del self.fields["is_public"]
        elif editing:
            # A draft being edited is opened from its page ("Open now") or at its opening time.
            del self.fields["open_now"]

    @staticmethod
    def initial_from(poll: Any) -> dict[str, Any]:
        """The form's initial data for editing ``poll`` (its current settings)."""
        initial: dict[str, Any] = {
            name: getattr(poll, name)
            for name in (
                "title", "description", "method", "min_selections", "max_selections",
                "allow_none", "allow_block", "max_score", "budget", "eligible_roles",
                "weighting", "allow_delegation", "quorum_count", "quorum_percent",
                "majority_kind", "majority_fraction", "majority_base", "opens_at", "closes_at",
                "extend_until_quorum", "max_closes_at", "visibility", "is_public",
            )
        }  # fmt: skip
        initial["options"] = "\n".join(
            poll.options.order_by("position").values_list("label", flat=True)
        )
        initial["eligible_usernames"] = " ".join(
            sorted(poll.eligible_users.values_list("username", flat=True))
        )
        return initial

    def clean_options(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["options"].splitlines() if line.strip()]

    def clean_eligible_usernames(self) -> list[Any]:
        names = [
            n.lstrip("@") for n in re.split(r"[\s,]+", self.cleaned_data["eligible_usernames"])
        ]
        names = [n for n in names if n]
        users = list(get_user_model().objects.filter(username__in=names))
        unknown = sorted(set(names) - {u.username for u in users})
        if unknown:
            raise forms.ValidationError(f"No member called {', '.join('@' + n for n in unknown)}.")
        return users

    def service_kwargs(self) -> dict[str, Any]:
        """The cleaned data as ``poll_create`` keyword arguments."""
        data = dict(self.cleaned_data)
        data.pop("open_now", None)
        data["eligible_users"] = data.pop("eligible_usernames") or None
        if data["majority_kind"] != MajorityKind.CUSTOM:
            data["majority_fraction"] = None
        return data

    def update_kwargs(self) -> dict[str, Any]:
        """The cleaned data as ``poll_update`` keyword arguments: the form shows every
        setting, so an emptied list of eligible members clears it."""
        data = self.service_kwargs()
        data["eligible_users"] = data["eligible_users"] or []
        return data


class SignoffStartForm(forms.Form):
    team = forms.ModelChoiceField(queryset=Group.objects.order_by("name"), to_field_name="name")
    disposition = forms.ChoiceField(choices=Disposition.choices)
    fcp_days = forms.IntegerField(
        min_value=1, max_value=90, initial=10, required=False, label="FCP (days)"
    )

    def clean_fcp_days(self) -> int:
        return self.cleaned_data["fcp_days"] or 10


class ConcernForm(forms.Form):
    name = forms.CharField(max_length=120, label="Concern")
    body = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class CommentEditForm(forms.Form):
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), strip=False)
