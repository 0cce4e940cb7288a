"""/api/v1/content/* and /api/v1/search/."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from directus.services import content_item_apply
from tests.directus.conftest import doc_item

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("published_events")]


def apply(collection: str, item: dict) -> None:
    content_item_apply(collection=collection, key=str(item["id"]), item=item)


def results(body: dict | list) -> list:
    return body["results"] if isinstance(body, dict) else body


def test_docs_api_lists_published_docs_in_the_requested_language(api: APIClient) -> None:
    translations = [{"id": 5, "docs_id": 1, "languages_code": "de", "title": "Eins", "body": "x"}]
    apply("docs", doc_item(1, translations=translations))
    apply("docs", doc_item(2, status="draft"))
    english = results(api.get("/api/v1/content/docs/").json())
    assert [(d["key"], d["title"], d["url"], d["version"]) for d in english] == [
        ("1", "Doc 1", "/docs/doc-1/", "1.0")
    ]
    assert english[0]["toc"][0]["id"] == "doc-1"
    german = results(api.get("/api/v1/content/docs/", {"lang": "de"}).json())
    assert [d["title"] for d in german] == ["Eins"]
    assert results(api.get("/api/v1/content/docs/", {"slug": "doc-2"}).json()) == []


def test_pages_api(api: APIClient) -> None:
    apply(
        "pages",
        {
            "id": 3,
            "status": "published",
            "title": "About",
            "slug": "about",
            "body": "Hi",
            "seo_description": "desc",
            "parent": None,
        },
    )
    [page] = results(api.get("/api/v1/content/pages/").json())
    assert (page["slug"], page["seo_description"], page["parent"], page["url"]) == (
        "about",
        "desc",
        None,
        "/p/about/",
    )


def test_announcements_api_lists_current_ones(api: APIClient) -> None:
    apply(
        "announcements",
        {"id": 1, "status": "published", "title": "Now", "body": "x", "pinned": True},
    )
    apply("announcements", {"id": 2, "status": "draft", "title": "Not yet", "body": "x"})
    body = api.get("/api/v1/content/announcements/").json()
    assert [(a["title"], a["pinned"]) for a in body] == [("Now", True)]


def test_search_api_returns_highlighted_hits(api: APIClient) -> None:
    apply(
        "docs",
        doc_item(1, title="Quadratic voting", body="Each voter spends credits on quadratic votes."),
    )
    apply(
        "pages",
        {
            "id": 1,
            "status": "published",
            "title": "Voting rules",
            "slug": "rules",
            "body": "Quadratic rules apply.",
        },
    )
    body = api.get("/api/v1/search/", {"q": "quadratic"}).json()
    assert body["query"] == "quadratic"
    assert {(hit["kind"], hit["url"]) for hit in body["results"]} == {
        ("doc", "/docs/doc-1/"),
        ("page", "/p/rules/"),
    }
    assert all("<mark>" in hit["snippet"].lower() for hit in body["results"])


@pytest.mark.parametrize("params", [{}, {"q": "  "}, {"q": "x" * 201}])
def test_search_api_rejects_empty_and_overlong_queries(api: APIClient, params: dict) -> None:
    response = api.get("/api/v1/search/", params)
    assert response.status_code == 400
    assert set(response.json()["error"]) >= {"code", "message"}


def test_search_sources_are_pluggable(api: APIClient) -> None:
    from directus.search import _SOURCES, SearchHit, search_source_register

    def proposals(query: str, *, user: object, language: str, limit: int) -> list[SearchHit]:
        return [
            SearchHit(
                kind="proposal", title="Adopt RFCs", url="/governance/p/1/", snippet="x", rank=9.0
            )
        ]

    def broken(query: str, *, user: object, language: str, limit: int) -> list[SearchHit]:
        raise RuntimeError("boom")

    search_source_register("test-proposals", proposals)
    search_source_register("test-broken", broken)
    try:
        body = api.get("/api/v1/search/", {"q": "rfc"}).json()
    finally:
        _SOURCES.pop("test-proposals")
        _SOURCES.pop("test-broken")
    assert [hit["kind"] for hit in body["results"]] == ["proposal"]
