"""Sandboxes' data: recipes (versioned, starrable, forkable), sandboxes, quotas."""

from sandboxes.models.quotas import GlobalQuota, QuotaPolicy
from sandboxes.models.recipes import Language, NetworkPolicy, Recipe, RecipeStar, RecipeVersion
from sandboxes.models.sandboxes import Sandbox, SandboxState, SandboxTransition

__all__ = [
    "GlobalQuota",
    "Language",
    "NetworkPolicy",
    "QuotaPolicy",
    "Recipe",
    "RecipeStar",
    "RecipeVersion",
    "Sandbox",
    "SandboxState",
    "SandboxTransition",
]
