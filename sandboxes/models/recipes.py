"""Recipes: named, versioned templates a sandbox is launched from."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models


class Language(models.TextChoices):
    SHELL = "shell", "Shell"
    PYTHON = "python", "Python"
    NODE = "node", "Node.js"
    RUST = "rust", "Rust"
    OTHER = "other", "Other"


class NetworkPolicy(models.TextChoices):
    NONE = "none", "No network"
    HOST = "host", "Host network (trusted recipes only)"


class Visibility(models.TextChoices):
    PUBLIC = "public", "Public (listed in the registry)"
    UNLISTED = "unlisted", "Unlisted (anyone with the link)"
    PRIVATE = "private", "Private (only me)"


def _share_token() -> str:
    return secrets.token_urlsafe(12)


class Recipe(models.Model):
    """A recipe's identity in the registry; its content lives in ``RecipeVersion`` rows."""

    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    language = models.CharField(max_length=16, choices=Language.choices, default=Language.SHELL)
    tags = models.JSONField(default=list, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sandbox_recipes",
    )
    forked_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="forks"
    )
    visibility = models.CharField(
        max_length=16, choices=Visibility.choices, default=Visibility.PUBLIC
    )
    share_token = models.CharField(max_length=32, unique=True, default=_share_token)
    trusted = models.BooleanField(default=False)
    builtin = models.BooleanField(default=False)
    stars_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-stars_count", "name"]

    def __str__(self) -> str:
        return self.name

    @property
    def latest(self) -> RecipeVersion | None:
        return self.versions.order_by("-number").first()


class RecipeVersion(models.Model):
    """One immutable version of a recipe: what a sandbox was actually launched with."""

    recipe = models.ForeignKey(Recipe, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    backend = models.CharField(max_length=32, blank=True, help_text="empty: the default")
    docker_image = models.CharField(max_length=200, blank=True)
    rootfs = models.CharField(max_length=200, blank=True, help_text="bubblewrap rootfs dir")
    packages = models.JSONField(default=list, blank=True)
    setup_commands = models.JSONField(default=list, blank=True)
    default_command = models.CharField(max_length=500, blank=True)
    env = models.JSONField(default=dict, blank=True)
    cpus = models.FloatField(default=1.0)
    memory_mb = models.PositiveIntegerField(default=512)
    pids = models.PositiveIntegerField(default=128)
    disk_mb = models.PositiveIntegerField(default=1024)
    cpu_seconds = models.PositiveIntegerField(default=1800)
    max_age_minutes = models.PositiveIntegerField(default=240)
    idle_timeout_minutes = models.PositiveIntegerField(default=15)
    network = models.CharField(
        max_length=16, choices=NetworkPolicy.choices, default=NetworkPolicy.NONE
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["recipe", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["recipe", "number"], name="recipe_version_unique"),
            models.CheckConstraint(condition=models.Q(cpus__gt=0), name="recipe_cpus_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.recipe.slug} v{self.number}"


class RecipeStar(models.Model):
    """A user's star on a recipe (at most one each)."""

    recipe = models.ForeignKey(Recipe, on_delete=models.CASCADE, related_name="stars")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["recipe", "user"], name="recipe_star_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} ★ {self.recipe_id}"
