"""Run pages: history with filters, the start form, the run page and its actions."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sandboxes.agents.models import Run, RunState
from tests.agents.conftest import start
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

STEPS = [{"tool": "list_files", "args": {}}, {"finish": "listed"}]


def test_start_form_creates_a_run_and_redirects_to_its_page(
    client: Any, maintainer: Any, recipe: Any
) -> None:
    client.force_login(maintainer)
    form = client.get("/runs/new/")
    assert form.status_code == 200
    assert b"scripted" in form.content
    response = client.post(
        "/runs/new/",
        {"profile": "researcher", "task": "look", "recipe": "shell", "steps": json.dumps(STEPS)},
    )
    run = Run.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/runs/{run.pk}/"
    page = client.get(f"/runs/{run.pk}/")
    assert page.status_code == 200
    body = page.content.decode()
    assert f'data-topic="run.{run.pk}"' in body
    assert "run-scripted" in body and "Cancel run" in body


def test_start_form_shows_the_error_and_keeps_the_input(
    client: Any, maintainer: Any, recipe: Any
) -> None:
    client.force_login(maintainer)
    response = client.post(
        "/runs/new/", {"profile": "fixer", "task": "look", "recipe": "shell", "steps": "[{"}
    )
    assert response.status_code == 200
    assert "not valid JSON" in response.content.decode()
    assert not Run.objects.exists()


def test_run_page_is_refused_to_others_unless_shared(
    client: Any, maintainer: Any, member: Any, recipe: Any
) -> None:
    private = start(maintainer, recipe, STEPS)
    shared = start(maintainer, recipe, STEPS, shared=True)
    assert client.get(f"/runs/{private.pk}/").status_code == 302  # to the login page
    client.force_login(member)
    assert client.get(f"/runs/{private.pk}/").status_code == 404
    page = client.get(f"/runs/{shared.pk}/")
    assert page.status_code == 200
    assert "Cancel run" not in page.content.decode()  # viewers get no controls
    client.post(f"/runs/{shared.pk}/cancel/")
    assert Run.objects.get(pk=shared.pk).state == RunState.QUEUED
    history = client.get("/runs/").content.decode()
    assert f"/runs/{shared.pk}/" in history and f"/runs/{private.pk}/" not in history


def test_owner_cancels_from_the_page(client: Any, maintainer: Any, recipe: Any) -> None:
    run = start(maintainer, recipe, STEPS)
    client.force_login(maintainer)
    response = client.post(f"/runs/{run.pk}/cancel/")
    assert response.status_code == 302
    assert Run.objects.get(pk=run.pk).state == RunState.CANCELLED


def test_history_filters_by_state_and_user(client: Any, recipe: Any) -> None:
    first, second = UserFactory(role="maintainer"), UserFactory(role="maintainer")
    start(first, recipe, STEPS)
    start(second, recipe, STEPS, profile="researcher", shared=True)
    client.force_login(first)
    body = client.get(f"/runs/?user={first.email}").content.decode()
    assert first.email in body and second.email not in body
    body = client.get("/runs/?profile=researcher").content.decode()
    assert second.email in body and first.email not in body
    assert "No runs match" in client.get("/runs/?state=succeeded").content.decode()
