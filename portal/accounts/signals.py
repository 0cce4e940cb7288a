"""Signal receivers: default role on sign-up, audit of login-failure bursts."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_login_failed
from django.core.cache import cache
from django.db.models.signals import post_save
from django.dispatch import receiver

from portal.models.users import Role, User

LOGIN_FAILURE_BURST = 5
LOGIN_FAILURE_WINDOW = 300


@receiver(post_save, sender=User)
def give_new_users_member_role(
    sender: type[User], instance: User, created: bool, **kwargs: Any
) -> None:
    if created and not kwargs.get("raw"):
        from django.contrib.auth.models import Group

        group, _ = Group.objects.get_or_create(name=Role.MEMBER)
        instance.groups.add(group)


@receiver(user_login_failed)
def audit_login_failure_burst(
    sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any
) -> None:
    """Record one audit entry when an identifier fails to log in 5 times within 5 minutes."""
    from portal.audit import audit_record

    ident = str(credentials.get("email") or credentials.get("username") or "?").lower()[:200]
    key = f"login-fail:{ident}"
    cache.add(key, 0, LOGIN_FAILURE_WINDOW)
    try:
        count = cache.incr(key)
    except ValueError:
        cache.set(key, 1, LOGIN_FAILURE_WINDOW)
        count = 1
    if count == LOGIN_FAILURE_BURST:
        ip = request.META.get("REMOTE_ADDR", "") if request is not None else ""
        audit_record(
            actor=None,
            action="login.failure_burst",
            object_type="account",
            object_id=ident,
            detail={
                "identifier": ident,
                "failures": count,
                "window_seconds": LOGIN_FAILURE_WINDOW,
                "ip": ip,
            },
        )
