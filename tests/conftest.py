"""Shared fixtures: factories-backed users per role, API clients, the channel layer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.factories import UserFactory


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the browser tests last (after pytest-django's own ordering): they drive a real
    server and Chromium, and are the slowest to tell us about a broken basic."""
    browser_dir = Path(__file__).parent / "browser"
    items.sort(key=lambda item: browser_dir in Path(str(item.fspath)).parents)


@pytest.fixture
def member(db: Any) -> Any:
    return UserFactory(role="member")


@pytest.fixture
def other_member(db: Any) -> Any:
    return UserFactory(role="member")


@pytest.fixture
def maintainer(db: Any) -> Any:
    return UserFactory(role="maintainer")


@pytest.fixture
def steward(db: Any) -> Any:
    return UserFactory(role="steward")


@pytest.fixture
def api() -> APIClient:
    return APIClient()


@pytest.fixture
def api_as(db: Any):
    """``api_as(user)`` → an APIClient logged in as ``user`` (session auth, CSRF not enforced)."""

    def make(user: Any) -> APIClient:
        client = APIClient()
        client.force_authenticate(user)
        return client

    return make


@pytest.fixture
async def fresh_channel_layer() -> AsyncIterator[None]:
    """Channel layers built anew from the current settings, and this test's sync-thread
    database connections closed afterwards (realtime tests over the in-process hub)."""
    from portal.realtime.testing import channel_layers_reset, thread_connections_close

    channel_layers_reset()
    yield
    channel_layers_reset()
    await thread_connections_close()
