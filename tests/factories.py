"""factory_boy factories shared by the suites (apps add their own modules beside this)."""

from __future__ import annotations

from typing import Any

import factory
from allauth.account.models import EmailAddress

from portal.accounts.roles import roles_ensure_groups
from portal.models import User


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.org")
    display_name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery")

    @factory.post_generation
    def role(self, create: bool, extracted: str | None, **kwargs: Any) -> None:
        if not create:
            return
        self.save()
        EmailAddress.objects.get_or_create(
            user=self, email=self.email, defaults={"verified": True, "primary": True}
        )
        if extracted and extracted != "member":
            from django.contrib.auth.models import Group

            roles_ensure_groups()
            self.groups.set([Group.objects.get(name=extracted)])
            if extracted == "steward":
                self.is_staff = True
                self.save(update_fields=["is_staff"])
