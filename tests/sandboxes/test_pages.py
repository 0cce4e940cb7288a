"""The HTML pages: registry, publish, launch, sandbox page, steward view; who is refused."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from portal.jobs.testing import run_pending_jobs
from sandboxes.models import Recipe, Sandbox
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_registry_search_and_detail(shell_recipe: Any, member: Any) -> None:
    client = client_for(member)
    page = client.get("/sandboxes/recipes/", {"q": "bash"}).content.decode()
    assert "A Bash shell" in page and "Python 3" not in page
    detail = client.get("/sandboxes/recipes/shell/").content.decode()
    assert "Version 1" in detail and "Share" in detail


def test_publish_fork_and_star_through_pages(maintainer: Any, shell_recipe: Any) -> None:
    client = client_for(maintainer)
    response = client.post(
        "/sandboxes/recipes/new/",
        {
            "name": "My tools",
            "description": "d",
            "language": "shell",
            "tags": "a, b",
            "visibility": "public",
            "setup_commands": "echo one\necho two",
            "memory_mb": "256",
        },
    )
    recipe = Recipe.objects.get(name="My tools")
    assert response.status_code == 302
    assert recipe.latest.setup_commands == ["echo one", "echo two"]
    client.post(f"/sandboxes/recipes/{recipe.slug}/star/")
    recipe.refresh_from_db()
    assert recipe.stars_count == 1
    client.post("/sandboxes/recipes/shell/fork/")
    assert Recipe.objects.filter(forked_from__slug="shell", owner=maintainer).exists()


def test_launch_page_flow_and_sandbox_page(maintainer: Any, shell_recipe: Any) -> None:
    client = client_for(maintainer)
    response = client.post("/sandboxes/launch/", {"recipe": "shell", "backend": "bubblewrap"})
    sandbox = Sandbox.objects.get(owner=maintainer)
    assert response["Location"] == f"/sandboxes/{sandbox.pk}/"
    run_pending_jobs()
    page = client.get(f"/sandboxes/{sandbox.pk}/").content.decode()
    assert "running" in page and 'id="terminal"' in page and "vendor/xterm.js" in page
    client.post(f"/sandboxes/{sandbox.pk}/stop/")
    sandbox.refresh_from_db()
    assert sandbox.state == "stopped"
    assert "Shell" in client.get("/sandboxes/").content.decode()


def test_other_maintainer_gets_404_on_the_sandbox_page(maintainer: Any, shell_recipe: Any) -> None:
    client_for(maintainer).post("/sandboxes/launch/", {"recipe": "shell", "backend": "bubblewrap"})
    sandbox = Sandbox.objects.get(owner=maintainer)
    intruder = client_for(UserFactory(role="maintainer"))
    assert intruder.get(f"/sandboxes/{sandbox.pk}/").status_code == 404
    assert intruder.post(f"/sandboxes/{sandbox.pk}/stop/").status_code == 404
    sandbox.refresh_from_db()
    assert sandbox.state == "requested"


def test_member_cannot_launch_from_the_page(member: Any, shell_recipe: Any) -> None:
    client = client_for(member)
    client.post("/sandboxes/launch/", {"recipe": "shell"})
    assert not Sandbox.objects.exists()


def test_steward_view_lists_everything_and_sets_quotas(
    settings: Any, steward: Any, maintainer: Any, shell_recipe: Any
) -> None:
    settings.AGORA_STEWARD_REQUIRES_2FA = False
    client_for(maintainer).post("/sandboxes/launch/", {"recipe": "shell", "backend": "bubblewrap"})
    client = client_for(steward)
    page = client.get("/sandboxes/all/").content.decode()
    assert maintainer.username in page
    client.post(
        "/sandboxes/all/",
        {
            "role": "maintainer",
            "max_concurrent": "7",
            "launches_per_day": "9",
            "cpu_minutes_per_day": "11",
        },
    )
    from sandboxes.models import QuotaPolicy

    assert QuotaPolicy.objects.get(role="maintainer").max_concurrent == 7
    assert client_for(maintainer).get("/sandboxes/all/").status_code == 403
