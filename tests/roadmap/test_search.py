"""Roadmap tasks appear in the site search by key, title and description."""

from __future__ import annotations

import pytest

from community.roadmap.services import task_create
from directus.search import search_run

pytestmark = pytest.mark.django_db


def test_task_is_found_by_title_description_and_key(maintainer, member):
    task = task_create(
        actor=maintainer,
        key="OPS",
        title="Rotate backup encryption keys",
        description="Schedule the quarterly rotation of the offsite archive keys.",
    )
    task_create(actor=maintainer, key="OPS", title="Unrelated chore")

    by_title = search_run("encryption", user=member, kinds=["tasks"])
    by_description = search_run("offsite", user=member, kinds=["tasks"])
    by_key = search_run(task.code, user=member, kinds=["tasks"])

    for hits in (by_title, by_description, by_key):
        assert [h.url for h in hits] == [f"/roadmap/tasks/{task.code}/"]
    assert by_title[0].kind == "task"
    assert by_title[0].title == f"{task.code} Rotate backup encryption keys"
    assert "<mark>" in by_description[0].snippet


@pytest.mark.parametrize("query", ["encryption", "OPS-001"])
def test_anonymous_searchers_do_not_see_tasks(maintainer, caplog, query):
    from django.contrib.auth.models import AnonymousUser

    task_create(actor=maintainer, key="OPS", title="Rotate backup encryption keys")

    for anonymous in (None, AnonymousUser()):
        assert search_run(query, user=anonymous, kinds=["tasks"]) == []
    assert "search source tasks failed" not in caplog.text


def test_search_api_includes_tasks(api_as, maintainer, member):
    task_create(actor=maintainer, key="SEC", title="Audit the webhook secrets")

    response = api_as(member).get("/api/v1/search/", {"q": "webhook"})

    assert response.status_code == 200
    body = response.json()
    results = body.get("results", body)
    assert ("task", "SEC-001 Audit the webhook secrets") in {
        (r["kind"], r["title"]) for r in results
    }
