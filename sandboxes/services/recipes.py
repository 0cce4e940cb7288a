"""Recipes: publish, new versions, fork, star, trust (stewards)."""

from __future__ import annotations

import re
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils.text import slugify

from portal.accounts.roles import user_has_role
from portal.api.errors import DomainError
from portal.audit import audit_record
from sandboxes.backends import backends_enabled
from sandboxes.builtin import builtin_recipes
from sandboxes.models import NetworkPolicy, Recipe, RecipeStar, RecipeVersion

# Upper bounds a recipe may ask for (the backends enforce what the recipe says).
LIMIT_BOUNDS: dict[str, tuple[float, float]] = {
    "cpus": (0.1, 4.0),
    "memory_mb": (32, 8192),
    "pids": (8, 4096),
    "disk_mb": (1, 20480),
    "cpu_seconds": (1, 24 * 3600),
    "max_age_minutes": (1, 24 * 60),
    "idle_timeout_minutes": (1, 24 * 60),
}
VERSION_FIELDS = (
    "backend",
    "docker_image",
    "rootfs",
    "packages",
    "setup_commands",
    "default_command",
    "env",
    "cpus",
    "memory_mb",
    "pids",
    "disk_mb",
    "cpu_seconds",
    "max_age_minutes",
    "idle_timeout_minutes",
    "network",
)
_ENV_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


def _require_maintainer(user: Any, what: str) -> None:
    if not user_has_role(user, "maintainer"):
        raise DomainError(f"only maintainers can {what}", code="forbidden", status_code=403)


def _validate_version(fields: dict[str, Any], *, trusted: bool) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    clean = {k: v for k, v in fields.items() if k in VERSION_FIELDS}
    for name, (low, high) in LIMIT_BOUNDS.items():
        if name in clean and not (low <= float(clean[name]) <= high):
            errors[name] = [f"must be between {low:g} and {high:g}"]
    network = clean.get("network", NetworkPolicy.NONE)
    if network not in NetworkPolicy.values:
        errors["network"] = [f"unknown network policy {network!r}"]
    elif network != NetworkPolicy.NONE and not trusted:
        errors["network"] = ["only recipes a steward marked trusted may use a network"]
    backend = clean.get("backend", "")
    if backend and backend not in backends_enabled():
        errors["backend"] = [f"backend {backend!r} is not enabled here"]
    env = clean.get("env", {})
    if not isinstance(env, dict) or not all(
        _ENV_KEY.match(str(k)) and isinstance(v, str) and len(v) < 4096 for k, v in env.items()
    ):
        errors["env"] = ["must map variable names to strings"]
    for name in ("setup_commands", "packages"):
        value = clean.get(name, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            errors[name] = ["must be a list of strings"]
        elif len(value) > 20:
            errors[name] = ["at most 20 entries"]
    if errors:
        first = next(iter(errors.items()))
        raise DomainError(f"{first[0]}: {first[1][0]}", code="invalid", fields=errors)
    return clean


def _unique_slug(name: str) -> str:
    base = slugify(name)[:60] or "recipe"
    slug, n = base, 2
    while Recipe.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


@transaction.atomic
def recipe_publish(
    *,
    user: Any,
    name: str,
    description: str = "",
    language: str = "shell",
    tags: list[str] | None = None,
    visibility: str = "public",
    **version: Any,
) -> Recipe:
    """Publish a new recipe (version 1) to the registry."""
    _require_maintainer(user, "publish recipes")
    fields = _validate_version(version, trusted=False)
    recipe = Recipe.objects.create(
        slug=_unique_slug(name),
        name=name[:120],
        description=description,
        language=language,
        tags=[str(t)[:40] for t in (tags or [])][:20],
        owner=user,
        visibility=visibility,
    )
    RecipeVersion.objects.create(recipe=recipe, number=1, created_by=user, **fields)
    audit_record(actor=user, action="sandbox.recipe.publish", obj=recipe)
    return recipe


@transaction.atomic
def recipe_version_add(*, user: Any, recipe: Recipe, **changes: Any) -> RecipeVersion:
    """A new version of the recipe: the latest one with ``changes`` applied."""
    recipe = Recipe.objects.select_for_update().get(pk=recipe.pk)
    if recipe.owner_id != user.pk and not user_has_role(user, "steward"):
        raise DomainError(
            "only the recipe's owner can change it", code="forbidden", status_code=403
        )
    latest = recipe.latest
    base = {f: getattr(latest, f) for f in VERSION_FIELDS} if latest else {}
    for meta in ("name", "description", "language", "tags", "visibility"):
        if meta in changes:
            setattr(recipe, meta, changes.pop(meta))
    fields = _validate_version({**base, **changes}, trusted=recipe.trusted)
    recipe.save()
    number = (latest.number if latest else 0) + 1
    version = RecipeVersion.objects.create(recipe=recipe, number=number, created_by=user, **fields)
    audit_record(
        actor=user, action="sandbox.recipe.version", obj=recipe, detail={"version": number}
    )
    return version


@transaction.atomic
def recipe_fork(*, user: Any, recipe: Recipe, name: str = "") -> Recipe:
    """Copy a recipe's latest version into a new recipe owned by ``user`` (never trusted)."""
    _require_maintainer(user, "fork recipes")
    latest = recipe.latest
    fields = {f: getattr(latest, f) for f in VERSION_FIELDS} if latest else {}
    fields["network"] = NetworkPolicy.NONE  # trust does not travel with a fork
    fork = Recipe.objects.create(
        slug=_unique_slug(name or f"{recipe.name} fork"),
        name=(name or recipe.name)[:120],
        description=recipe.description,
        language=recipe.language,
        tags=list(recipe.tags),
        owner=user,
        forked_from=recipe,
    )
    RecipeVersion.objects.create(recipe=fork, number=1, created_by=user, **fields)
    audit_record(actor=user, action="sandbox.recipe.fork", obj=fork, detail={"from": recipe.slug})
    return fork


@transaction.atomic
def recipe_star(*, user: Any, recipe: Recipe, starred: bool = True) -> Recipe:
    if starred:
        _, created = RecipeStar.objects.get_or_create(recipe=recipe, user=user)
        if created:
            Recipe.objects.filter(pk=recipe.pk).update(stars_count=F("stars_count") + 1)
    else:
        deleted, _ = RecipeStar.objects.filter(recipe=recipe, user=user).delete()
        if deleted:
            Recipe.objects.filter(pk=recipe.pk).update(stars_count=F("stars_count") - 1)
    recipe.refresh_from_db(fields=["stars_count"])
    return recipe


@transaction.atomic
def recipe_set_trusted(*, actor: Any, recipe: Recipe, trusted: bool) -> Recipe:
    """Stewards only. Untrusting also resets the network of future launches to none."""
    if not user_has_role(actor, "steward"):
        raise DomainError(
            "only stewards can mark recipes trusted", code="forbidden", status_code=403
        )
    recipe.trusted = trusted
    recipe.save(update_fields=["trusted", "updated_at"])
    if not trusted:
        latest = recipe.latest
        if latest and latest.network != NetworkPolicy.NONE:
            fields = {f: getattr(latest, f) for f in VERSION_FIELDS}
            fields["network"] = NetworkPolicy.NONE
            RecipeVersion.objects.create(
                recipe=recipe, number=latest.number + 1, created_by=actor, **fields
            )
    audit_record(
        actor=actor, action="sandbox.recipe.trust", obj=recipe, detail={"trusted": trusted}
    )
    return recipe


def recipes_builtin_install() -> int:
    """Create the shipped recipes that are missing (idempotent). Returns how many."""
    created = 0
    for data in builtin_recipes():
        if Recipe.objects.filter(slug=data["slug"]).exists():
            continue
        recipe = Recipe.objects.create(
            slug=data["slug"],
            name=data["name"],
            description=data["description"],
            language=data["language"],
            tags=data["tags"],
            builtin=True,
            trusted=True,
        )
        RecipeVersion.objects.create(
            recipe=recipe,
            number=1,
            docker_image=data["docker_image"],
            default_command=data["default_command"],
            setup_commands=data["setup_commands"],
        )
        created += 1
    return created
