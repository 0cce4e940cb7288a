"""Seed the three shipped profiles (fixer, researcher, promoter) as version 1."""

from __future__ import annotations

from typing import Any

from django.db import migrations


def seed(apps: Any, schema_editor: Any) -> None:
    from sandboxes.agents.profiles import PROFILES

    Profile = apps.get_model("agents", "Profile")
    ProfileVersion = apps.get_model("agents", "ProfileVersion")
    for shipped in PROFILES.values():
        profile, _ = Profile.objects.get_or_create(name=shipped.name)
        if ProfileVersion.objects.filter(profile=profile).exists():
            continue
        ProfileVersion.objects.create(
            profile=profile,
            number=1,
            purpose=shipped.purpose,
            system_prompt=shipped.system_prompt,
            tools=list(shipped.tools),
            max_steps=shipped.max_steps,
            max_wall_seconds=shipped.max_wall_seconds,
            max_tokens=shipped.max_tokens,
            model=shipped.model,
            shell_allowlist=list(shipped.shell_allowlist),
            risky_policy=shipped.risky_policy,
        )


class Migration(migrations.Migration):
    dependencies = [("agents", "0001_profiles_runs_artifacts")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
