from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models


class Role(models.TextChoices):
    """Community roles, each including the powers of the ones before it."""

    MEMBER = "member", "Member"
    MAINTAINER = "maintainer", "Maintainer"
    STEWARD = "steward", "Steward"


ROLE_ORDER = [Role.MEMBER, Role.MAINTAINER, Role.STEWARD]


class User(AbstractUser):
    """A person with an account. Roles are Django groups named after ``Role`` values."""

    email = models.EmailField("email address", unique=True)
    display_name = models.CharField(max_length=120, blank=True)
    github_handle = models.CharField(max_length=39, blank=True, db_index=True)
    bio = models.TextField(blank=True, max_length=2000)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.display_name or self.get_full_name() or self.username or self.email

    @property
    def initials(self) -> str:
        parts = [p for p in self.name.replace("@", " ").replace(".", " ").split() if p]
        letters = "".join(p[0] for p in parts[:2]).upper()
        return letters or "?"

    @property
    def avatar_hue(self) -> int:
        """A stable colour for the initials avatar, derived from the user id."""
        return (self.pk or 0) * 47 % 360

    @property
    def roles(self) -> list[str]:
        from portal.accounts.roles import user_roles

        return user_roles(self)

    def has_role(self, role: str) -> bool:
        from portal.accounts.roles import user_has_role

        return user_has_role(self, role)

    @property
    def is_steward(self) -> bool:
        return self.has_role(Role.STEWARD)

    @property
    def is_maintainer(self) -> bool:
        return self.has_role(Role.MAINTAINER)
