"""Every API 4xx answers in one shape: {"error": {"code", "message", "fields"?}}."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from portal.api.throttling import FixedWindowRateThrottle, UserRateThrottle

pytestmark = pytest.mark.django_db


def assert_error_shape(response, status, code):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert set(body["error"]) <= {"code", "message", "fields"}
    return body["error"]


def test_400_names_the_invalid_fields(api_as, member):
    error = assert_error_shape(api_as(member).post("/api/v1/tokens/", {}), 400, "invalid")
    assert error["fields"] == {"name": ["This field is required."]}
    assert error["message"] == "name: This field is required."


def test_401_for_anonymous_asks_for_a_bearer_token(api):
    response = api.get("/api/v1/me/")
    assert_error_shape(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == "Bearer"


def test_403_when_a_member_changes_a_role(api_as, member, other_member):
    response = api_as(member).patch(f"/api/v1/users/{other_member.pk}/", {"role": "steward"})
    error = assert_error_shape(response, 403, "permission_denied")
    assert error["message"] == "only stewards can do this"


def test_404_for_an_unknown_user(api_as, member):
    assert_error_shape(api_as(member).get("/api/v1/users/987654321/"), 404, "not_found")


def test_405_for_a_method_the_endpoint_does_not_allow(api_as, member):
    response = api_as(member).put(f"/api/v1/users/{member.pk}/", {"role": "member"})
    assert_error_shape(response, 405, "method_not_allowed")
    assert api_as(member).delete("/api/v1/me/").status_code == 405


def test_409_business_rule_refusal_has_a_specific_code(api_as, steward):
    response = api_as(steward).patch(f"/api/v1/users/{steward.pk}/", {"role": "member"})
    error = assert_error_shape(response, 409, "last_steward")
    assert "last steward" in error["message"]


def test_429_when_throttled_says_when_to_retry(api_as, member, monkeypatch):
    cache.clear()
    monkeypatch.setattr(UserRateThrottle, "rate", "3/min", raising=False)
    # Mid-window, so the window cannot roll over during the test.
    monkeypatch.setattr(FixedWindowRateThrottle, "timer", staticmethod(lambda: 6_000_030.0))
    client = api_as(member)
    statuses = [client.get("/api/v1/me/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = client.get("/api/v1/me/")
    error = assert_error_shape(response, 429, "throttled")
    assert "throttled" in error["message"]
    assert response["Retry-After"] == "30"
    cache.clear()


def test_unknown_api_url_is_404_in_the_error_shape(api_as, member):
    error = assert_error_shape(api_as(member).get("/api/v1/no-such-thing/"), 404, "not_found")
    assert "/api/v1/no-such-thing/" in error["message"]


def test_unknown_page_is_still_an_html_404(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_api_crash_is_a_json_500_with_the_request_id(api_as, member, monkeypatch):
    from portal.api import views

    def boom(*args, **kwargs):
        raise RuntimeError("kaput")

    monkeypatch.setattr(views, "me_payload", boom)
    client = api_as(member)
    client.raise_request_exception = False
    response = client.get("/api/v1/me/", HTTP_X_REQUEST_ID="req-123")
    assert response.status_code == 500
    assert response.json() == {
        "error": {"code": "server_error", "message": "internal error; request id req-123"}
    }
