"""The sandbox and recipe API, with second users who must be refused."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from portal.jobs.testing import run_pending_jobs
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def running(api_as: Any, maintainer: Any, shell_recipe: Any) -> Any:
    client = api_as(maintainer)
    response = client.post("/api/v1/sandboxes/", {"recipe": "shell", "backend": "bubblewrap"})
    assert response.status_code == 202, response.json()
    run_pending_jobs()
    sandbox_id = response.json()["id"]
    yield sandbox_id
    client.delete(f"/api/v1/sandboxes/{sandbox_id}/")


def test_member_without_maintainer_role_cannot_launch(
    api_as: Any, member: Any, shell_recipe: Any
) -> None:
    response = api_as(member).post("/api/v1/sandboxes/", {"recipe": "shell"})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"


def test_launch_exec_files_and_stop(api_as: Any, maintainer: Any, running: Any) -> None:
    client = api_as(maintainer)
    detail = client.get(f"/api/v1/sandboxes/{running}/").json()
    assert detail["state"] == "running" and detail["progress_pct"] == 100
    result = client.post(
        f"/api/v1/sandboxes/{running}/exec/",
        {"command": "echo hello > out.txt; cat out.txt; exit 3"},
    ).json()
    assert result["exit_code"] == 3 and result["output"] == "hello\n"
    upload = client.post(
        f"/api/v1/sandboxes/{running}/files/",
        {"path": "dir/data.bin", "content_base64": base64.b64encode(b"\x00\x01abc").decode()},
    )
    assert upload.status_code == 201
    listing = client.get(f"/api/v1/sandboxes/{running}/files/", {"path": "dir"}).json()
    assert [e["name"] for e in listing["entries"]] == ["data.bin"]
    download = client.get(
        f"/api/v1/sandboxes/{running}/files/", {"path": "dir/data.bin", "download": "1"}
    )
    assert download.content == b"\x00\x01abc"
    bad = client.get(
        f"/api/v1/sandboxes/{running}/files/", {"path": "../../../etc/passwd", "download": "1"}
    )
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "file_refused"
    stopped = client.delete(f"/api/v1/sandboxes/{running}/")
    assert stopped.json()["state"] == "stopped"
    log = client.get(f"/api/v1/sandboxes/{running}/log/")
    assert log.status_code == 200


def test_another_maintainer_cannot_see_attach_exec_or_stop(api_as: Any, running: Any) -> None:
    intruder = api_as(UserFactory(role="maintainer"))
    for response in (
        intruder.get(f"/api/v1/sandboxes/{running}/"),
        intruder.post(f"/api/v1/sandboxes/{running}/exec/", {"command": "id"}),
        intruder.get(f"/api/v1/sandboxes/{running}/files/"),
        intruder.post(
            f"/api/v1/sandboxes/{running}/files/", {"path": "x", "content_base64": "eA=="}
        ),
        intruder.delete(f"/api/v1/sandboxes/{running}/"),
        intruder.get(f"/api/v1/sandboxes/{running}/log/"),
    ):
        assert response.status_code == 404, response.content
    assert intruder.get("/api/v1/sandboxes/").json()["results"] == []


def test_invited_maintainer_reads_but_cannot_exec(
    api_as: Any, maintainer: Any, running: Any
) -> None:
    viewer = UserFactory(role="maintainer")
    api_as(maintainer).post(f"/api/v1/sandboxes/{running}/invite/", {"username": viewer.username})
    client = api_as(viewer)
    assert client.get(f"/api/v1/sandboxes/{running}/").status_code == 200
    assert client.post(f"/api/v1/sandboxes/{running}/exec/", {"command": "id"}).status_code == 403


def test_quota_refusal_is_429_with_retry_after(
    api_as: Any, maintainer: Any, steward: Any, shell_recipe: Any
) -> None:
    api_as(steward).patch("/api/v1/quotas/", {"role": "maintainer", "max_concurrent": 0})
    response = api_as(maintainer).post("/api/v1/sandboxes/", {"recipe": "shell"})
    assert response.status_code == 429
    assert response["Retry-After"]
    assert "sandboxes running" in response.json()["error"]["message"]


def test_only_stewards_change_quotas(api_as: Any, maintainer: Any, steward: Any) -> None:
    assert (
        api_as(maintainer)
        .patch("/api/v1/quotas/", {"role": "maintainer", "max_concurrent": 9})
        .status_code
        == 403
    )
    body = api_as(steward).patch("/api/v1/quotas/", {"role": "global", "max_running": 7}).json()
    assert body["global"]["max_running"] == 7
    mine = api_as(maintainer).get("/api/v1/quotas/").json()
    assert mine["usage"]["role"] == "maintainer" and "policies" not in mine


def test_recipe_registry_publish_search_fork_star_trust(
    api_as: Any, maintainer: Any, member: Any, steward: Any, shell_recipe: Any
) -> None:
    client = api_as(maintainer)
    created = client.post(
        "/api/v1/recipes/",
        {
            "name": "Data tools",
            "description": "jq and friends",
            "language": "shell",
            "tags": ["json"],
            "setup_commands": ["echo ready > .ready"],
            "memory_mb": 256,
        },
    )
    assert created.status_code == 201, created.json()
    slug = created.json()["slug"]
    assert created.json()["latest"]["memory_mb"] == 256
    assert api_as(member).post("/api/v1/recipes/", {"name": "x"}).status_code == 403
    found = api_as(member).get("/api/v1/recipes/", {"q": "jq"}).json()["results"]
    assert [r["slug"] for r in found] == [slug]
    refused = client.patch(f"/api/v1/recipes/{slug}/", {"network": "host"})
    assert refused.status_code == 400 and "trusted" in refused.json()["error"]["message"]
    updated = client.patch(f"/api/v1/recipes/{slug}/", {"memory_mb": 300}).json()
    assert updated["latest"]["number"] == 2
    fork = api_as(UserFactory(role="maintainer")).post(f"/api/v1/recipes/{slug}/fork/", {})
    assert fork.status_code == 201 and fork.json()["forked_from"] == slug
    assert api_as(member).post(f"/api/v1/recipes/{slug}/star/").json()["stars_count"] == 1
    assert client.post(f"/api/v1/recipes/{slug}/trust/").status_code == 403
    assert api_as(steward).post(f"/api/v1/recipes/{slug}/trust/").json()["trusted"] is True
    assert client.patch(f"/api/v1/recipes/{slug}/", {"network": "host"}).status_code == 200
    token = created.json()["share_url"].rstrip("/").rsplit("/", 1)[-1]
    assert api_as(member).get(f"/api/v1/recipes/share/{token}/").json()["slug"] == slug


def test_private_recipe_is_reachable_only_by_link(
    api_as: Any, maintainer: Any, member: Any
) -> None:
    created = (
        api_as(maintainer)
        .post("/api/v1/recipes/", {"name": "Secret", "visibility": "private"})
        .json()
    )
    assert api_as(member).get(f"/api/v1/recipes/{created['slug']}/").status_code == 404
    token = created["share_url"].rstrip("/").rsplit("/", 1)[-1]
    assert api_as(member).get(f"/api/v1/recipes/share/{token}/").status_code == 200
