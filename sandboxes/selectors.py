"""Reads scoped to the requesting user."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from portal.accounts.roles import user_has_role
from sandboxes.models import Recipe, Sandbox
from sandboxes.models.recipes import Visibility


def recipes_visible(
    user: Any, *, q: str = "", language: str = "", tag: str = "", mine: bool = False
) -> QuerySet[Recipe]:
    """Registry listing: public recipes plus the user's own."""
    qs = Recipe.objects.select_related("owner")
    if getattr(user, "is_authenticated", False):
        qs = qs.filter(Q(visibility=Visibility.PUBLIC) | Q(owner=user))
        if mine:
            qs = qs.filter(owner=user)
    else:
        qs = qs.filter(visibility=Visibility.PUBLIC)
    if q:
        qs = qs.filter(
            Q(name__icontains=q)
            | Q(description__icontains=q)
            | Q(slug__icontains=q)
            | Q(tags__icontains=q)
        )
    if language:
        qs = qs.filter(language=language)
    if tag:
        qs = qs.filter(tags__icontains=tag)
    return qs


def recipe_get_for_user(user: Any, *, slug: str = "", share_token: str = "") -> Recipe | None:
    """A recipe the user may see: public, their own, or reached through its share link."""
    if share_token:
        return Recipe.objects.filter(share_token=share_token).first()
    recipe = Recipe.objects.filter(slug=slug).first()
    if recipe is None:
        return None
    if recipe.visibility == Visibility.PRIVATE and recipe.owner_id != getattr(user, "pk", None):
        return None
    return recipe


def sandbox_can_view(user: Any, sandbox: Sandbox) -> bool:
    """Owner, invited maintainers (read-only) — and nobody else."""
    if not getattr(user, "is_authenticated", False):
        return False
    if sandbox.owner_id == user.pk:
        return True
    return user_has_role(user, "maintainer") and sandbox.viewers.filter(pk=user.pk).exists()


def sandbox_can_write(user: Any, sandbox: Sandbox) -> bool:
    return getattr(user, "is_authenticated", False) and sandbox.owner_id == user.pk


def sandboxes_for_user(user: Any) -> QuerySet[Sandbox]:
    """The user's sandboxes and the ones they were invited to watch."""
    return (
        Sandbox.objects.filter(Q(owner=user) | Q(viewers=user))
        .distinct()
        .select_related("recipe_version__recipe", "owner")
    )


def sandbox_get_for_user(user: Any, pk: int | str) -> Sandbox | None:
    try:
        sandbox = Sandbox.objects.select_related("recipe_version__recipe", "owner").get(pk=pk)
    except (Sandbox.DoesNotExist, ValueError):
        return None
    return sandbox if sandbox_can_view(user, sandbox) else None


def sandboxes_all_for_steward(user: Any) -> QuerySet[Sandbox]:
    if not user_has_role(user, "steward"):
        return Sandbox.objects.none()
    return Sandbox.objects.select_related("recipe_version__recipe", "owner")
