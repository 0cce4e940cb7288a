"""Serializers for profiles, runs, their artifacts and the start/confirm requests."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from sandboxes.agents.models import Profile, ProfileVersion, Run, RunArtifact


class ProfileVersionSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="profile.name")
    version = serializers.IntegerField(source="number")

    class Meta:
        model = ProfileVersion
        fields = [
            "name",
            "version",
            "purpose",
            "system_prompt",
            "tools",
            "max_steps",
            "max_wall_seconds",
            "max_tokens",
            "model",
            "shell_allowlist",
            "risky_policy",
            "created_at",
        ]


def profile_data(profile: Profile) -> dict[str, Any] | None:
    latest = profile.latest
    return ProfileVersionSerializer(latest).data if latest else None


class ProfileWriteSerializer(serializers.Serializer):
    name = serializers.SlugField(max_length=40)
    purpose = serializers.CharField(max_length=300, required=False)
    system_prompt = serializers.CharField(max_length=20_000, required=False)
    tools = serializers.ListField(child=serializers.CharField(), required=False)
    max_steps = serializers.IntegerField(min_value=1, max_value=500, required=False)
    max_wall_seconds = serializers.IntegerField(min_value=1, max_value=86_400, required=False)
    max_tokens = serializers.IntegerField(min_value=1, max_value=100_000_000, required=False)
    model = serializers.CharField(max_length=200, required=False, allow_blank=True)
    shell_allowlist = serializers.ListField(child=serializers.CharField(), required=False)
    risky_policy = serializers.ChoiceField(["confirm", "refuse", "allow"], required=False)


class ArtifactSerializer(serializers.ModelSerializer):
    class Meta:
        model = RunArtifact
        fields = ["kind", "name", "content", "created_at"]


class RunSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.email")
    profile = serializers.CharField(source="profile_version.profile.name")
    profile_version = serializers.IntegerField(source="profile_version.number")
    recipe = serializers.SerializerMethodField()
    provider_label = serializers.CharField()
    usage = serializers.SerializerMethodField()
    topic = serializers.CharField()

    class Meta:
        model = Run
        fields = [
            "id",
            "owner",
            "profile",
            "profile_version",
            "task",
            "recipe",
            "sandbox",
            "provider",
            "provider_label",
            "steps",
            "state",
            "reason",
            "last_step",
            "shared",
            "usage",
            "topic",
            "created_at",
            "started_at",
            "ended_at",
        ]

    def get_recipe(self, run: Run) -> str | None:
        return run.recipe.slug if run.recipe else None

    def get_usage(self, run: Run) -> dict[str, Any]:
        return run.usage()


class RunDetailSerializer(RunSerializer):
    artifacts = ArtifactSerializer(many=True, read_only=True)

    class Meta(RunSerializer.Meta):
        fields = [*RunSerializer.Meta.fields, "artifacts"]


class RunStartSerializer(serializers.Serializer):
    profile = serializers.CharField(max_length=40)
    task = serializers.CharField(max_length=100_000, trim_whitespace=False)
    recipe = serializers.CharField(required=False, allow_blank=True, default="")
    sandbox = serializers.IntegerField(required=False, allow_null=True, default=None)
    steps = serializers.JSONField(required=False, allow_null=True, default=None)
    shared = serializers.BooleanField(required=False, default=False)


class ConfirmSerializer(serializers.Serializer):
    approved = serializers.BooleanField()
