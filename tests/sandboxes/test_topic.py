"""Who may subscribe to ``sandbox.<id>``: the owner and invited maintainers, nobody else."""

from __future__ import annotations

from typing import Any

import pytest

from portal.realtime import topic_resolve
from sandboxes.models import Sandbox
from sandboxes.services import sandbox_invite
from tests.factories import UserFactory


@pytest.fixture
def sandbox(maintainer: Any, shell_recipe: Any) -> Sandbox:
    return Sandbox.objects.create(
        owner=maintainer, recipe_version=shell_recipe.latest, backend="bubblewrap"
    )


def authorize(user: Any, sandbox: Sandbox) -> bool:
    spec, key = topic_resolve(f"sandbox.{sandbox.pk}")
    assert spec.authorize is not None
    return spec.authorize(user, key)


def test_owner_may_subscribe_and_others_may_not(
    sandbox: Sandbox, maintainer: Any, member: Any, steward: Any
) -> None:
    assert authorize(maintainer, sandbox)
    assert not authorize(UserFactory(role="maintainer"), sandbox)
    assert not authorize(member, sandbox)
    assert not authorize(steward, sandbox)


def test_invited_maintainer_may_subscribe(sandbox: Sandbox, maintainer: Any) -> None:
    viewer = UserFactory(role="maintainer")
    sandbox_invite(user=maintainer, sandbox=sandbox, viewer=viewer)
    assert authorize(viewer, sandbox)
