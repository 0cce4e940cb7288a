"""The runs API: starting (and refusing bad input), profiles, limits and permissions."""

from __future__ import annotations

from typing import Any

import pytest

from portal.jobs.testing import run_pending_jobs
from portal.realtime import topic_resolve
from sandboxes.agents.models import Run, RunLimit, RunState
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

STEPS = [{"tool": "list_files", "args": {}}, {"finish": "listed"}]


def post_run(client: Any, **overrides: Any) -> Any:
    body = {"profile": "researcher", "task": "look around", "recipe": "shell", "steps": STEPS}
    body.update(overrides)
    return client.post("/api/v1/runs/", body, format="json")


def test_profiles_are_listed_with_their_versions(api_as: Any, member: Any, profiles: None) -> None:
    body = api_as(member).get("/api/v1/agent-profiles/").json()
    names = {p["name"]: p for p in body["results"]}
    assert set(names) == {"fixer", "researcher", "promoter"}
    assert "shell" not in names["promoter"]["tools"]
    assert names["fixer"]["version"] == 1


def test_only_stewards_add_profile_versions(
    api_as: Any, maintainer: Any, steward: Any, profiles: None
) -> None:
    refused = api_as(maintainer).post(
        "/api/v1/agent-profiles/", {"name": "fixer", "max_steps": 5}, format="json"
    )
    assert refused.status_code == 403
    made = api_as(steward).post(
        "/api/v1/agent-profiles/", {"name": "fixer", "max_steps": 5}, format="json"
    )
    assert made.status_code == 201, made.json()
    assert (made.json()["version"], made.json()["max_steps"]) == (2, 5)
    bad = api_as(steward).post(
        "/api/v1/agent-profiles/", {"name": "fixer", "tools": ["shell", "teleport"]}, format="json"
    )
    assert bad.status_code == 400 and "teleport" in bad.json()["error"]["message"]


def test_start_returns_the_queued_run_and_it_succeeds(
    api_as: Any, maintainer: Any, recipe: Any
) -> None:
    response = post_run(api_as(maintainer))
    assert response.status_code == 202, response.json()
    data = response.json()
    assert (data["state"], data["provider"], data["profile_version"]) == ("queued", "scripted", 1)
    run_pending_jobs()
    detail = api_as(maintainer).get(f"/api/v1/runs/{data['id']}/").json()
    assert detail["state"] == "succeeded"
    assert detail["usage"]["tool_calls"] == 1
    assert sorted(a["kind"] for a in detail["artifacts"]) == ["diff", "report"]


@pytest.mark.parametrize(
    ("overrides", "field", "text"),
    [
        ({"profile": "wizard"}, "profile", "unknown agent profile"),
        ({"task": "x" * 20_001}, "task", "at most 20000"),
        ({"task": "   "}, "task", "empty"),
        ({"steps": [{"tool": "teleport"}]}, "steps", "unknown tool"),
        ({"steps": "[{"}, "steps", "not valid JSON"),
        ({"steps": [{"tool": "shell", "args": {}}]}, "steps", "command"),
        ({"steps": None}, "steps", "no model endpoint"),
    ],
)
def test_bad_input_is_a_specific_4xx_and_creates_nothing(
    api_as: Any, maintainer: Any, recipe: Any, overrides: dict[str, Any], field: str, text: str
) -> None:
    response = post_run(api_as(maintainer), **overrides)
    assert response.status_code == 400, response.json()
    error = response.json()["error"]
    assert text in error["message"]
    assert field in error.get("fields", {})
    assert not Run.objects.exists()


def test_neither_recipe_nor_sandbox_is_refused(api_as: Any, maintainer: Any, recipe: Any) -> None:
    response = post_run(api_as(maintainer), recipe="")
    assert response.status_code == 400
    assert "recipe" in response.json()["error"]["message"]


def test_members_cannot_start_runs(api_as: Any, member: Any, recipe: Any) -> None:
    assert post_run(api_as(member)).status_code == 403


def test_daily_limit_refuses_with_429(api_as: Any, maintainer: Any, recipe: Any) -> None:
    RunLimit.objects.create(role="maintainer", runs_per_day=1)
    assert post_run(api_as(maintainer)).status_code == 202
    refused = post_run(api_as(maintainer))
    assert refused.status_code == 429
    assert "1 of 1 agent runs" in refused.json()["error"]["message"]


def _can_subscribe(user: Any, run: Run) -> bool:
    spec, key = topic_resolve(run.topic)
    assert spec.persist and spec.authorize is not None
    return spec.authorize(user, key)


def test_unshared_runs_are_private_to_owner_and_stewards(
    api_as: Any, maintainer: Any, member: Any, steward: Any, recipe: Any
) -> None:
    run_id = post_run(api_as(maintainer)).json()["id"]
    run = Run.objects.get(pk=run_id)
    other = UserFactory(role="maintainer")
    for user in (member, other):
        assert api_as(user).get(f"/api/v1/runs/{run_id}/").status_code == 404
        assert api_as(user).get(f"/api/v1/runs/{run_id}/events/").status_code == 404
        assert not _can_subscribe(user, run)
        assert api_as(user).get("/api/v1/runs/").json()["count"] == 0
    assert _can_subscribe(maintainer, run) and _can_subscribe(steward, run)
    assert api_as(steward).get(f"/api/v1/runs/{run_id}/").status_code == 200


def test_members_view_shared_runs_but_cannot_cancel_them(
    api_as: Any, maintainer: Any, member: Any, steward: Any, recipe: Any
) -> None:
    run_id = post_run(api_as(maintainer), shared=True).json()["id"]
    run = Run.objects.get(pk=run_id)
    assert api_as(member).get(f"/api/v1/runs/{run_id}/").status_code == 200
    assert _can_subscribe(member, run)
    other = UserFactory(role="maintainer")
    for user in (member, other):
        refused = api_as(user).post(f"/api/v1/runs/{run_id}/cancel/")
        assert refused.status_code == 403
        assert "owner" in refused.json()["error"]["message"]
        assert (
            api_as(user)
            .post(f"/api/v1/runs/{run_id}/confirm/", {"approved": True}, format="json")
            .status_code
            == 403
        )
    assert Run.objects.get(pk=run_id).state == RunState.QUEUED
    assert api_as(steward).post(f"/api/v1/runs/{run_id}/cancel/").status_code == 202
    assert Run.objects.get(pk=run_id).state == RunState.CANCELLED
    assert api_as(maintainer).post(f"/api/v1/runs/{run_id}/cancel/").status_code == 409


def test_history_filters_by_profile_state_and_user(
    api_as: Any, maintainer: Any, steward: Any, recipe: Any
) -> None:
    post_run(api_as(maintainer))
    post_run(api_as(maintainer), profile="fixer")
    client = api_as(steward)
    assert client.get("/api/v1/runs/?profile=fixer").json()["count"] == 1
    assert client.get("/api/v1/runs/?state=queued").json()["count"] == 2
    assert client.get("/api/v1/runs/?state=succeeded").json()["count"] == 0
    assert client.get(f"/api/v1/runs/?user={maintainer.email}").json()["count"] == 2
    assert client.get(f"/api/v1/runs/?user={steward.email}").json()["count"] == 0


def test_confirm_on_a_run_not_waiting_is_a_conflict(
    api_as: Any, maintainer: Any, recipe: Any
) -> None:
    run_id = post_run(api_as(maintainer)).json()["id"]
    response = api_as(maintainer).post(
        f"/api/v1/runs/{run_id}/confirm/", {"approved": True}, format="json"
    )
    assert response.status_code == 409


def test_usage_per_user_sums_their_runs(api_as: Any, maintainer: Any, recipe: Any) -> None:
    post_run(api_as(maintainer))
    run_pending_jobs()
    body = api_as(maintainer).get("/api/v1/runs/usage/").json()
    assert body["day"]["runs"] == 1 and body["day"]["tool_calls"] == 1
    assert body["day"]["cpu_seconds"] >= 0
    assert body["limits"]["runs_per_day"] == 20
    other = api_as(UserFactory(role="maintainer")).get("/api/v1/runs/usage/").json()
    assert other["day"]["runs"] == 0
