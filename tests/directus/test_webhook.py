"""The Directus Flow's webhook: secret, payload shapes, bad input."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client, override_settings

from directus.models import ContentItem
from portal.jobs.testing import run_pending_jobs
from tests.directus.conftest import StubDirectus, doc_item

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("published_events")]

SECRET = "s3cret-for-the-flow-0123456789abcdef"
URL = "/directus/webhook/"


@pytest.fixture(autouse=True)
def webhook_secret():
    with override_settings(DIRECTUS_WEBHOOK_SECRET=SECRET):
        yield


def post(body: Any, secret: str | None = SECRET, raw: bytes | None = None) -> Any:
    headers = {"HTTP_X_AGORA_WEBHOOK_SECRET": secret} if secret is not None else {}
    data = raw if raw is not None else json.dumps(body).encode()
    return Client().post(URL, data=data, content_type="application/json", **headers)


CREATE = {"event": "docs.items.create", "payload": {"title": "T"}, "key": 6, "collection": "docs"}
UPDATE = {
    "event": "docs.items.update",
    "payload": {"title": "T"},
    "keys": ["6"],
    "collection": "docs",
}
DELETE = {"event": "docs.items.delete", "payload": ["6"], "keys": ["6"], "collection": "docs"}


@pytest.mark.parametrize("secret", [None, "", "wrong", SECRET[:-1], SECRET + "x"])
def test_a_bad_or_missing_secret_is_refused(secret: str | None) -> None:
    response = post(CREATE, secret=secret)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


def test_no_secret_configured_refuses_everything() -> None:
    with override_settings(DIRECTUS_WEBHOOK_SECRET=""):
        assert post(CREATE, secret="").status_code == 401


@pytest.mark.parametrize("payload", [CREATE, UPDATE, DELETE])
def test_each_flow_payload_shape_enqueues_a_sync_and_answers_202(
    payload: dict, stub_directus: StubDirectus
) -> None:
    stub_directus.put("docs", doc_item(6))
    response = post(payload)
    assert response.status_code == 202
    assert response.json() == {"accepted": ["6"]}
    assert not ContentItem.objects.exists()  # the work happens in the job, not the request
    run_pending_jobs()
    assert ContentItem.objects.filter(collection="docs", key="6").exists()


def test_several_keys_enqueue_one_job_each(stub_directus: StubDirectus) -> None:
    for key in (1, 2, 3):
        stub_directus.put("docs", doc_item(key))
    response = post({"event": "docs.items.update", "keys": [1, "2", 3, 3], "collection": "docs"})
    assert response.json() == {"accepted": ["1", "2", "3"]}
    assert len(run_pending_jobs()) == 3
    assert ContentItem.objects.count() == 3


def test_a_deleted_key_removes_the_mirror_row(stub_directus: StubDirectus) -> None:
    stub_directus.put("docs", doc_item(6))
    post(CREATE)
    run_pending_jobs()
    del stub_directus.items[("docs", "6")]
    post(DELETE)
    run_pending_jobs()
    assert not ContentItem.objects.exists()


def test_malformed_json_is_a_400() -> None:
    response = post(None, raw=b'{"event": "docs.items.create", ')
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed"


@pytest.mark.parametrize(
    "payload",
    [
        {"event": "users.items.create", "key": 1, "collection": "directus_users"},
        {"event": "secrets.items.update", "keys": [1], "collection": "secrets"},
        {"collection": "docs"},
        {"collection": "docs", "keys": []},
        {"collection": "docs", "keys": [{"id": 1}]},
        {"collection": "docs", "keys": [True]},
        {"collection": "docs", "keys": ["x" * 65]},
        ["docs", 1],
        "docs",
    ],
)
def test_unknown_collections_and_odd_shapes_are_422_and_enqueue_nothing(payload: Any) -> None:
    response = post(payload)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "unprocessable"
    assert run_pending_jobs() == []


def test_a_webhook_for_a_key_that_no_longer_exists_is_harmless(stub_directus: StubDirectus) -> None:
    assert (
        post({"event": "docs.items.update", "keys": ["404"], "collection": "docs"}).status_code
        == 202
    )
    jobs = run_pending_jobs()
    assert [job.status for job in jobs] == ["succeeded"]
    assert not ContentItem.objects.exists()


def test_get_is_not_allowed() -> None:
    assert Client().get(URL).status_code == 405
