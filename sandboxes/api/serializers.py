"""API shapes for recipes, sandboxes and quotas."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from sandboxes.models import QuotaPolicy, Recipe, RecipeVersion, Sandbox
from sandboxes.models.recipes import Language, NetworkPolicy, Visibility
from sandboxes.services.recipes import VERSION_FIELDS


class RecipeVersionSerializer(serializers.ModelSerializer):
    class Meta:
        model = RecipeVersion
        fields = ["number", *VERSION_FIELDS, "created_at"]


class RecipeSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.username", default=None, read_only=True)
    forked_from = serializers.CharField(source="forked_from.slug", default=None, read_only=True)
    latest = serializers.SerializerMethodField()
    share_url = serializers.SerializerMethodField()

    class Meta:
        model = Recipe
        fields = [
            "slug",
            "name",
            "description",
            "language",
            "tags",
            "owner",
            "forked_from",
            "visibility",
            "trusted",
            "builtin",
            "stars_count",
            "latest",
            "share_url",
            "created_at",
            "updated_at",
        ]

    def get_latest(self, obj: Recipe) -> dict[str, Any] | None:
        latest = obj.latest
        return RecipeVersionSerializer(latest).data if latest else None

    def get_share_url(self, obj: Recipe) -> str:
        return f"/sandboxes/recipes/share/{obj.share_token}/"


class RecipeWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    language = serializers.ChoiceField(choices=Language.choices, default=Language.SHELL)
    tags = serializers.ListField(
        child=serializers.CharField(max_length=40), required=False, default=list
    )
    visibility = serializers.ChoiceField(choices=Visibility.choices, default=Visibility.PUBLIC)
    backend = serializers.CharField(required=False, allow_blank=True)
    docker_image = serializers.CharField(required=False, allow_blank=True, max_length=200)
    setup_commands = serializers.ListField(
        child=serializers.CharField(max_length=2000), required=False
    )
    default_command = serializers.CharField(required=False, allow_blank=True, max_length=500)
    env = serializers.DictField(child=serializers.CharField(allow_blank=True), required=False)
    cpus = serializers.FloatField(required=False)
    memory_mb = serializers.IntegerField(required=False)
    pids = serializers.IntegerField(required=False)
    disk_mb = serializers.IntegerField(required=False)
    cpu_seconds = serializers.IntegerField(required=False)
    max_age_minutes = serializers.IntegerField(required=False)
    idle_timeout_minutes = serializers.IntegerField(required=False)
    network = serializers.ChoiceField(choices=NetworkPolicy.choices, required=False)


class RecipeUpdateSerializer(RecipeWriteSerializer):
    name = serializers.CharField(max_length=120, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    language = serializers.ChoiceField(choices=Language.choices, required=False)
    tags = serializers.ListField(child=serializers.CharField(max_length=40), required=False)
    visibility = serializers.ChoiceField(choices=Visibility.choices, required=False)


class SandboxSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.username", read_only=True)
    recipe = serializers.CharField(source="recipe_version.recipe.slug", read_only=True)
    recipe_version = serializers.IntegerField(source="recipe_version.number", read_only=True)
    topic = serializers.CharField(read_only=True)
    terminal_url = serializers.SerializerMethodField()

    class Meta:
        model = Sandbox
        fields = [
            "id",
            "owner",
            "recipe",
            "recipe_version",
            "backend",
            "state",
            "reason",
            "progress_step",
            "progress_pct",
            "created_at",
            "started_at",
            "ended_at",
            "last_activity_at",
            "cpu_seconds",
            "memory_peak_bytes",
            "wall_seconds",
            "topic",
            "terminal_url",
        ]

    def get_terminal_url(self, obj: Sandbox) -> str:
        return f"/ws/terminal/{obj.pk}/"


class LaunchSerializer(serializers.Serializer):
    recipe = serializers.CharField(help_text="recipe slug")
    backend = serializers.CharField(required=False, allow_blank=True, default="")


class ExecSerializer(serializers.Serializer):
    command = serializers.CharField(max_length=100_000, trim_whitespace=False)
    timeout = serializers.FloatField(required=False, default=60, min_value=1, max_value=600)


class InviteSerializer(serializers.Serializer):
    username = serializers.CharField()
    remove = serializers.BooleanField(required=False, default=False)


class QuotaPolicySerializer(serializers.ModelSerializer):
    class Meta:
        model = QuotaPolicy
        fields = ["role", "max_concurrent", "launches_per_day", "cpu_minutes_per_day"]


class QuotaUpdateSerializer(serializers.Serializer):
    max_concurrent = serializers.IntegerField(min_value=0, required=False)
    launches_per_day = serializers.IntegerField(min_value=0, required=False)
    cpu_minutes_per_day = serializers.IntegerField(min_value=0, required=False)
    max_running = serializers.IntegerField(min_value=0, required=False)
    workspace_retention_hours = serializers.IntegerField(min_value=0, required=False)
