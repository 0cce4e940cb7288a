"""API rate limits: fixed windows per user or IP, refused with 429 until the window ends."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from portal.api.throttling import (
    AnonRateThrottle,
    FixedWindowRateThrottle,
    UserRateThrottle,
    window_count,
)

pytestmark = pytest.mark.django_db


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    cache.clear()
    clock = Clock(9_000_000.0)  # the start of a one-minute window
    monkeypatch.setattr(FixedWindowRateThrottle, "timer", staticmethod(clock))
    yield clock
    cache.clear()


def test_window_count_counts_per_key():
    cache.clear()
    assert [window_count("t:a", 5) for _ in range(3)] == [1, 2, 3]
    assert window_count("t:b", 5) == 1
    cache.clear()


def test_user_limit_resets_with_the_next_window(api_as, member, clock, monkeypatch):
    monkeypatch.setattr(UserRateThrottle, "rate", "2/min", raising=False)
    client = api_as(member)
    assert [client.get("/api/v1/me/").status_code for _ in range(3)] == [200, 200, 429]
    clock.now += 59
    response = client.get("/api/v1/me/")
    assert response.status_code == 429
    assert response["Retry-After"] == "1"
    clock.now += 1
    assert client.get("/api/v1/me/").status_code == 200


def test_users_are_limited_separately(api_as, member, other_member, clock, monkeypatch):
    monkeypatch.setattr(UserRateThrottle, "rate", "1/min", raising=False)
    assert api_as(member).get("/api/v1/me/").status_code == 200
    assert api_as(member).get("/api/v1/me/").status_code == 429
    assert api_as(other_member).get("/api/v1/me/").status_code == 200


def test_anonymous_clients_are_limited_by_ip(api, clock, monkeypatch):
    monkeypatch.setattr(AnonRateThrottle, "rate", "2/min", raising=False)
    statuses = [api.get("/api/schema/").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    other_ip = api.get("/api/schema/", REMOTE_ADDR="10.9.9.9")
    assert other_ip.status_code == 200
