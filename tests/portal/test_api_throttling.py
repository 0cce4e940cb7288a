"""API rate limits: fixed windows per user or IP, refused with 429 until the window ends."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from portal.api.throttling import (
    AnonRateThrottle,
    FixedWindowRateThrottle,
    UserRateThrottle,
    window_count,
    window_counts,
)
from portal.cache import SharedPoolRedisCache

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


def test_redis_cache_backends_share_one_client_per_process():
    """Django builds a backend per async context; they must not each open connections."""
    params = {"OPTIONS": {}}
    first = SharedPoolRedisCache("redis://127.0.0.1:1/0", params)
    second = SharedPoolRedisCache("redis://127.0.0.1:1/0", params)
    other = SharedPoolRedisCache("redis://127.0.0.1:1/1", params)
    assert first._cache is second._cache
    assert first._cache.get_client(write=True) is second._cache.get_client(write=True)
    assert other._cache is not first._cache


def test_window_count_uses_one_round_trip_on_redis(settings):
    from django.core.cache import caches

    backend = caches["default"]
    if not isinstance(backend, SharedPoolRedisCache):
        pytest.skip("the cache is not Redis in this run (REDIS_URL unset); `make test` sets it")
    client = backend._cache.get_client(write=True)
    before = client.info("stats")["total_connections_received"]
    assert [window_count("t:rt", 5) for _ in range(20)] == list(range(1, 21))
    assert client.info("stats")["total_connections_received"] == before
    client.delete(backend.make_and_validate_key("t:rt"))


def test_window_counts_counts_several_keys_at_once():
    cache.clear()
    assert window_counts([("t:x", 5), ("t:y", 5)]) == [1, 1]
    assert window_counts([("t:x", 5), ("t:y", 5), ("t:x", 5)]) == [2, 2, 3]
    assert window_counts([]) == []
    cache.clear()


def test_a_view_with_several_limits_counts_them_in_one_call(
    api_as, member, maintainer, clock, monkeypatch
):
    """The ballot endpoint has the per-user limit and its own "vote" scope: both counters
    move in one cache round trip, and either limit refuses the request."""
    from datetime import timedelta

    from django.utils import timezone

    import portal.api.throttling as throttling
    from governance.services import poll_create, poll_open

    calls: list[list[tuple[str, int]]] = []
    original = throttling.window_counts

    def recording(windows):
        calls.append(list(windows))
        return original(windows)

    monkeypatch.setattr(throttling, "window_counts", recording)
    monkeypatch.setattr(UserRateThrottle, "rate", "2/min", raising=False)
    poll = poll_create(
        actor=maintainer,
        title="limits",
        method="yes_no",
        closes_at=timezone.now() + timedelta(days=1),
        eligible_users=[member],
    )
    poll = poll_open(poll=poll, actor=maintainer)
    client = api_as(member)
    url = f"/api/v1/polls/{poll.pk}/ballots/"
    codes = [client.post(url, {"choice": "yes"}).status_code for _ in range(3)]
    assert codes == [201, 201, 429]  # the user limit (2/min) is below the vote limit
    assert len(calls) == 3
    assert all(len(windows) == 2 for windows in calls)
    assert {key.split(":")[0] for key, _ in calls[0]} == {
        f"throttle_user_{member.pk}",
        f"throttle_vote_{member.pk}",
    }
