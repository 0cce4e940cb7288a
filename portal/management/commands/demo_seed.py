"""Load demo users and content (idempotent): a steward, a maintainer and two members."""

from __future__ import annotations

from typing import Any

from allauth.account.models import EmailAddress
from django.core.management.base import BaseCommand
from django.db import transaction

from portal.accounts.roles import roles_ensure_groups, user_set_role
from portal.models import Role, User

DEMO_PASSWORD = "agora-demo-2026"  # noqa: S105 - printed by `make run`; demo only
DEMO_USERS = [
    ("steward", "steward@agora.localhost", "Sam Steward", Role.STEWARD),
    ("maintainer", "maintainer@agora.localhost", "Mia Maintainer", Role.MAINTAINER),
    ("ada", "ada@agora.localhost", "Ada Lovelace", Role.MEMBER),
    ("grace", "grace@agora.localhost", "Grace Hopper", Role.MEMBER),
]


class Command(BaseCommand):
    help = "Create demo users and content; safe to run repeatedly."

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            roles_ensure_groups()
            for username, email, name, role in DEMO_USERS:
                user, created = User.objects.get_or_create(
                    email=email, defaults={"username": username, "display_name": name}
                )
                if created:
                    user.set_password(DEMO_PASSWORD)
                    user.save()
                EmailAddress.objects.update_or_create(
                    user=user, email=email, defaults={"verified": True, "primary": True}
                )
                if user.roles[-1:] != [role.value]:
                    user_set_role(actor=None, user=user, role=role)
        # Each app may add demo content through a `demo_seed_<app>` hook.
        from django.apps import apps

        for config in apps.get_app_configs():
            seed = getattr(config, "demo_seed", None)
            if callable(seed):
                seed()
        self.stdout.write("demo data ready")
