"""Fixtures for the content mirror: a stub Directus client, published events, items."""

from __future__ import annotations

from typing import Any

import pytest

from directus.client import DirectusError


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
