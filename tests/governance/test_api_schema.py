"""The governance endpoints document without schema errors."""

from __future__ import annotations

from django.urls import include, path
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator


def test_governance_endpoints_generate_without_errors() -> None:
    GENERATOR_STATS.reset()
    generator = SchemaGenerator(patterns=[path("api/v1/", include("governance.api.urls"))])
    schema = generator.get_schema(request=None, public=True)
    assert not GENERATOR_STATS._error_cache, dict(GENERATOR_STATS._error_cache)
    paths = schema["paths"]
    assert {
        "/api/v1/proposals/",
        "/api/v1/polls/{id}/ballots/",
        "/api/v1/polls/{id}/verify/",
        "/api/v1/delegations/",
    } <= set(paths)
    cast = paths["/api/v1/polls/{id}/ballots/"]["post"]
    assert cast["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "BallotInputRequest"
    )
