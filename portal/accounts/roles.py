"""Roles are Django groups; a higher role includes the lower ones."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import Group
from django.db import transaction

from portal.api.errors import DomainError
from portal.models.users import ROLE_ORDER, Role

if TYPE_CHECKING:
    from portal.models.users import User


class RoleError(DomainError, ValueError):
    """A role change that is not allowed (unknown role, removing the last steward…)."""

    code = "role_refused"


def _group_names(user: Any) -> set[str]:
    cache = getattr(user, "_role_group_cache", None)
    if cache is None:
        prefetched = getattr(user, "_prefetched_objects_cache", {}).get("groups")
        if prefetched is not None:  # lists prefetch groups: no query per user
            cache = {group.name for group in prefetched}
        else:
            cache = set(user.groups.values_list("name", flat=True)) if user.pk else set()
        user._role_group_cache = cache
    return cache


def user_role(user: Any) -> str | None:
    """The highest role a user holds, or ``None`` for anonymous users."""
    if not getattr(user, "is_authenticated", False):
        return None
    if user.is_superuser:
        return Role.STEWARD.value
    names = _group_names(user)
    for role in reversed(ROLE_ORDER):
        if role.value in names:
            return role.value
    return Role.MEMBER.value


def user_roles(user: Any) -> list[str]:
    """Every role the user effectively has, lowest first (``[]`` when anonymous)."""
    top = user_role(user)
    if top is None:
        return []
    values = [r.value for r in ROLE_ORDER]
    return values[: values.index(top) + 1]


def user_has_role(user: Any, role: str) -> bool:
    return role in user_roles(user)


def roles_ensure_groups() -> None:
    for role in ROLE_ORDER:
        Group.objects.get_or_create(name=role.value)


@transaction.atomic
def user_set_role(*, actor: User | None, user: User, role: str) -> User:
    """Give ``user`` exactly ``role`` (as a group), audited. Refuses to demote the last steward."""
    from portal.audit import audit_record

    if role not in Role.values:
        raise RoleError(
            f"unknown role {role!r}; choose one of {', '.join(Role.values)}",
            code="invalid_role",
            fields={"role": [f"choose one of {', '.join(Role.values)}"]},
        )
    old = user_role(user)
    if old == role:
        return user
    if old == Role.STEWARD and role != Role.STEWARD:
        stewards = Group.objects.get(name=Role.STEWARD).user_set.select_for_update()
        if stewards.exclude(pk=user.pk).filter(is_active=True).count() == 0:
            raise RoleError(
                "cannot demote the last steward; promote another steward first",
                code="last_steward",
                status_code=409,
            )
    roles_ensure_groups()
    role_groups = Group.objects.filter(name__in=Role.values)
    user.groups.remove(*role_groups)
    user.groups.add(Group.objects.get(name=role))
    user.is_staff = role == Role.STEWARD
    user.save(update_fields=["is_staff"])
    if hasattr(user, "_role_group_cache"):
        del user._role_group_cache
    audit_record(
        actor=actor,
        action="role.change",
        obj=user,
        detail={"user": user.email, "from": old, "to": role},
    )
    return user
