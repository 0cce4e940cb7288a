"""Shared fixtures: factories-backed users per role, API clients, the channel layer."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.factories import UserFactory


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
