"""The steward's agent profile form: one submission becomes one new profile version."""

from __future__ import annotations

from typing import Any

from django import forms

from sandboxes.agents.models import ProfileVersion, RiskyPolicy
from sandboxes.agents.tools import TOOLS

ALLOWLIST_MAX_ENTRIES = 100


class ProfileVersionForm(forms.Form):
    """Every setting of a profile version; ``name`` only when creating a new profile."""

    name = forms.SlugField(
        max_length=40,
        required=False,
        help_text="Lowercase letters, digits and dashes; fixed once created.",
    )
    purpose = forms.CharField(max_length=300)
    system_prompt = forms.CharField(widget=forms.Textarea(attrs={"rows": 8}), max_length=20_000)
    tools = forms.MultipleChoiceField(
        choices=[(name, f"{name} — {spec.description}") for name, spec in TOOLS.items()],
        widget=forms.CheckboxSelectMultiple,
        help_text="Tools outside this list are refused (the model is told why).",
    )
    model = forms.CharField(
        max_length=200, required=False, help_text="Empty: the deployment's LLM_MODEL."
    )
    max_steps = forms.IntegerField(min_value=1, max_value=1000, label="Max steps")
    max_wall_seconds = forms.IntegerField(
        min_value=1, max_value=24 * 3600, label="Max wall time (seconds)"
    )
    max_tokens = forms.IntegerField(min_value=1, max_value=100_000_000, label="Max tokens")
    risky_policy = forms.ChoiceField(
        choices=RiskyPolicy.choices,
        label="Shell commands outside the allowlist",
        help_text="Ask the run's owner to approve, refuse them, or let them run.",
    )
    shell_allowlist = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}),
        required=False,
        label="Shell allowlist",
        help_text="One command prefix per line (e.g. 'git status', 'ls'); these run unasked.",
    )

    def __init__(self, *args: Any, creating: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.creating = creating
        if creating:
            self.fields["name"].required = True
        else:
            del self.fields["name"]

    @classmethod
    def initial_from(cls, version: ProfileVersion) -> dict[str, Any]:
        return {
            "purpose": version.purpose,
            "system_prompt": version.system_prompt,
            "tools": list(version.tools),
            "model": version.model,
            "max_steps": version.max_steps,
            "max_wall_seconds": version.max_wall_seconds,
            "max_tokens": version.max_tokens,
            "risky_policy": version.risky_policy,
            "shell_allowlist": "\n".join(version.shell_allowlist),
        }

    def clean_tools(self) -> list[str]:
        tools: list[str] = self.cleaned_data["tools"]
        if "finish" not in tools:
            raise forms.ValidationError("Allow 'finish': without it a run can never end.")
        # The catalogue's order, whatever order the browser sent.
        return [name for name in TOOLS if name in tools]

    def clean_shell_allowlist(self) -> list[str]:
        lines = [
            " ".join(line.split()) for line in self.cleaned_data["shell_allowlist"].splitlines()
        ]
        entries = list(dict.fromkeys(line for line in lines if line))
        if len(entries) > ALLOWLIST_MAX_ENTRIES:
            raise forms.ValidationError(f"At most {ALLOWLIST_MAX_ENTRIES} prefixes.")
        for entry in entries:
            if any(c in entry for c in ";|&<>`$()"):
                raise forms.ValidationError(
                    f"{entry!r}: a prefix is plain words, without shell operators."
                )
        return entries

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("shell_allowlist") and "shell" not in cleaned.get("tools", ["shell"]):
            self.add_error("shell_allowlist", "The allowlist needs the 'shell' tool allowed.")
        return cleaned

    def version_fields(self) -> dict[str, Any]:
        """The cleaned values as ``profile_version_create`` keyword arguments."""
        keys = (
            "purpose",
            "system_prompt",
            "tools",
            "model",
            "max_steps",
            "max_wall_seconds",
            "max_tokens",
            "risky_policy",
            "shell_allowlist",
        )
        return {key: self.cleaned_data[key] for key in keys}
