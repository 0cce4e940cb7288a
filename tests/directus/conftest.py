"""Fixtures for the content mirror: a stub Directus client, published events, items."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from directus.client import DirectusClient, DirectusError
from tests.browser.conftest import live_server_env, live_url, mail_dir  # noqa: F401 (fixtures)


class StubDirectus:
    """Stands in for ``DirectusClient`` in unit tests: items live in a dict."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], dict[str, Any]] = {}
        self.down = False
        self.calls: list[tuple[str, str]] = []

    def put(self, collection: str, item: dict[str, Any]) -> dict[str, Any]:
        self.items[(collection, str(item["id"]))] = item
        return item

    def item_get(self, collection: str, key: str | int, *, fields: str = "*") -> dict[str, Any]:
        self.calls.append((collection, str(key)))
        if self.down:
            raise DirectusError("connection refused")
        try:
            return self.items[(collection, str(key))]
        except KeyError:
            raise DirectusError("forbidden", status=403) from None

    def items_list(
        self,
        collection: str,
        *,
        fields: str = "*",
        filter_json: str | None = None,
        page_size: int = 200,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        if self.down:
            raise DirectusError("connection refused")
        return [item for (c, _), item in sorted(self.items.items()) if c == collection]


@pytest.fixture
def stub_directus(monkeypatch: pytest.MonkeyPatch) -> StubDirectus:
    stub = StubDirectus()
    monkeypatch.setattr(
        "directus.client.DirectusClient.from_settings", classmethod(lambda cls: stub)
    )
    return stub


@pytest.fixture
def published_events(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, dict[str, Any]]]:
    """Events the sync publishes (captured instead of sent)."""
    events: list[tuple[str, str, dict[str, Any]]] = []
    monkeypatch.setattr(
        "portal.realtime.publish", lambda topic, type, data: events.append((topic, type, data))
    )
    return events


def doc_item(key: int = 1, **overrides: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": key,
        "status": "published",
        "title": f"Doc {key}",
        "slug": f"doc-{key}",
        "section": "Basics",
        "sort": key,
        "version": "1.0",
        "body": f"# Doc {key}\n\nBody of doc {key}.\n\n## Details\n\nMore.",
        "date_created": "2026-11-01T10:00:00.000Z",
        "date_updated": "2026-11-02T10:00:00.000Z",
        "translations": [],
    }
    item.update(overrides)
    return item


# --- the real Directus (started by `make test`) -----------------------------------------


@pytest.fixture(scope="session")
def directus_live() -> DirectusClient:
    """An admin client for the Directus `make test` started (skips only when there is none)."""
    from tests.directus.live import admin_client, directus_available

    if not directus_available():
        pytest.skip("no Directus in this run (`make test` starts one: with_services.py --directus)")
    return admin_client()


# Module scope: the worker claims every due job in the test database, so it must not
# outlive the module that needs it (it would steal other suites' jobs).
@pytest.fixture(scope="module")
def live_portal(
    directus_live: DirectusClient,
    live_url: str,  # noqa: F811
    live_server_env: dict[str, str],  # noqa: F811
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    """The live portal with the Flow pointed at it and a worker running its sync jobs."""
    from tests.directus.live import flow_point, worker_running

    flow_point(f"{live_url}/directus/webhook/")
    log = tmp_path_factory.mktemp("worker") / "worker.log"
    with worker_running(live_server_env, log):
        yield live_url
