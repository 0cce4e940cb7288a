"""Structured logs: JSON lines carrying the request id, and one access line per request."""

from __future__ import annotations

import io
import json
import logging

import pytest

from portal.logging import JsonFormatter, RequestIdFilter

pytestmark = pytest.mark.django_db


@pytest.fixture
def json_lines():
    """Capture everything logged, formatted as production does (JSON + request id filter)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.INFO)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


def test_incoming_request_id_is_echoed(client):
    response = client.get("/healthz", headers={"X-Request-ID": "edge-1234.abc"})
    assert response["X-Request-ID"] == "edge-1234.abc"


def test_a_request_id_is_minted_when_missing_or_malformed(client):
    minted = client.get("/healthz")["X-Request-ID"]
    bogus = client.get("/healthz", headers={"X-Request-ID": "bad id\nwith newline"})
    assert len(minted) == 32
    assert bogus["X-Request-ID"] != "bad id\nwith newline" and len(bogus["X-Request-ID"]) == 32


def test_access_log_line_is_json_with_request_id_and_user(client, member, json_lines):
    client.force_login(member)
    response = client.get("/metrics", headers={"X-Request-ID": "req-42"})
    assert response.status_code == 403

    access = [r for r in json_lines() if r["logger"] == "agora.access"]
    assert len(access) == 1
    line = access[0]
    assert line["request_id"] == "req-42"
    assert line["method"] == "GET" and line["path"] == "/metrics"
    assert line["status"] == 403
    assert line["user_id"] == member.pk
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert line["level"] == "INFO"
    assert line["ts"].endswith("+00:00")


def test_records_logged_while_serving_carry_the_request_id(client, json_lines):
    # Django logs 404s on "django.request"; the line must carry the request's id.
    client.get("/no-such-page-here/", headers={"X-Request-ID": "req-404"})

    records = json_lines()
    warning = [r for r in records if r["logger"] == "django.request"]
    assert warning and warning[0]["request_id"] == "req-404"
    access = [r for r in records if r["logger"] == "agora.access"]
    assert access[0]["status"] == 404 and access[0]["user_id"] is None


def test_records_outside_a_request_have_a_placeholder_id(json_lines):
    logging.getLogger("agora.test").info("background %s", "work", extra={"job_id": 7})
    (line,) = [r for r in json_lines() if r["logger"] == "agora.test"]
    assert line["message"] == "background work"
    assert line["request_id"] == "-"
    assert line["job_id"] == 7


def test_exceptions_are_logged_with_their_traceback(json_lines):
    try:
        raise ValueError("broken thing")
    except ValueError:
        logging.getLogger("agora.test").exception("it failed")
    (line,) = [r for r in json_lines() if r["logger"] == "agora.test"]
    assert line["level"] == "ERROR"
    assert "ValueError: broken thing" in line["exc"]


def test_json_is_the_default_when_debug_is_off(settings):
    from config import settings as config_settings

    assert config_settings.LOG_JSON is (not config_settings.DEBUG)
    formatter = settings.LOGGING["handlers"]["console"]["formatter"]
    assert formatter == ("json" if settings.LOG_JSON else "plain")
