"""Reads about accounts, scoped to the person asking."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from portal.models import ApiToken, Role, User


def user_list(*, viewer: Any, role: str | None = None) -> QuerySet[User]:
    """Active users visible to ``viewer`` (any signed-in user sees the directory).

    Groups are prefetched so ``user.roles`` costs no query per row.
    """
    qs = User.objects.filter(is_active=True).prefetch_related("groups").order_by("id")
    if role:
        qs = users_with_role(qs, role)
    return qs


def users_with_role(qs: QuerySet[User], role: str) -> QuerySet[User]:
    """Narrow ``qs`` to users whose *highest* role is ``role``."""
    steward = Q(groups__name=Role.STEWARD) | Q(is_superuser=True)
    maintainer = Q(groups__name=Role.MAINTAINER)
    if role == Role.STEWARD:
        return qs.filter(steward).distinct()
    higher_than_member = User.objects.filter(steward | maintainer).values("pk")
    if role == Role.MAINTAINER:
        stewards = User.objects.filter(steward).values("pk")
        return qs.filter(maintainer).exclude(pk__in=stewards).distinct()
    if role == Role.MEMBER:
        return qs.exclude(pk__in=higher_than_member)
    return qs.none()


def user_get_by_username(*, username: str) -> User | None:
    return User.objects.filter(username=username, is_active=True).first()


def token_list(*, user: Any) -> QuerySet[ApiToken]:
    """The tokens ``user`` owns, newest first. Nobody sees another person's tokens."""
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-id")
