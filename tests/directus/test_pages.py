"""Docs, pages, announcements, language switch, preview and search as readers see them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client, override_settings
from django.utils import timezone

from directus import selectors
from directus.preview import preview_token
from directus.services import content_item_apply
from tests.directus.conftest import StubDirectus, doc_item

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("published_events")]


def apply(collection: str, item: dict) -> None:
    content_item_apply(collection=collection, key=str(item["id"]), item=item)


def test_docs_index_groups_by_section_in_sort_order() -> None:
    apply("docs", doc_item(1, title="Zeta", section="Basics", sort=2))
    apply("docs", doc_item(2, title="Alpha", section="Basics", sort=1))
    apply("docs", doc_item(3, title="Tooling", section="Tools", sort=10))
    apply("docs", doc_item(4, title="Hidden", section="Basics", sort=0, status="draft"))
    sidebar = selectors.docs_sidebar(language="en")
    assert [(s, [e.title for e in entries]) for s, entries in sidebar] == [
        ("Basics", ["Alpha", "Zeta"]),
        ("Tools", ["Tooling"]),
    ]
    html = Client().get("/docs/").content.decode()
    assert html.index("Alpha") < html.index("Zeta") < html.index("Tooling")
    assert "Hidden" not in html


def test_a_doc_page_shows_body_toc_and_last_updated() -> None:
    apply("docs", doc_item(1, body="# Intro\n\n## Install\n\nRun it.\n\n## Use\n\nEnjoy."))
    response = Client().get("/docs/doc-1/")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<h2 id="install">Install</h2>' in html
    assert 'href="#install"' in html and "On this page" in html
    assert "Last updated" in html and "2 November 2026" in html
    assert 'data-live-content data-collection="docs" data-key="1"' in html


def test_drafts_and_unknown_slugs_are_404_for_everyone(maintainer) -> None:
    apply("docs", doc_item(1, status="draft"))
    apply("docs", doc_item(2, status="archived"))
    assert Client().get("/docs/doc-1/").status_code == 404
    assert Client().get("/docs/doc-2/").status_code == 404
    assert Client().get("/docs/nope/").status_code == 404
    client = Client()
    client.force_login(maintainer)
    assert client.get("/docs/doc-1/").status_code == 404  # drafts only via preview


def test_language_switch_and_fallback_to_the_default_language() -> None:
    translations = [
        {"id": 9, "docs_id": 1, "languages_code": "de", "title": "Hallo", "body": "Deutsch hier"}
    ]
    apply("docs", doc_item(1, title="Hello", body="English here", translations=translations))
    german = Client().get("/docs/doc-1/?lang=de").content.decode()
    assert "Deutsch hier" in german and 'lang="de"' in german
    assert 'href="?lang=en"' in german and 'href="?lang=de"' in german
    french = Client().get("/docs/doc-1/?lang=fr").content.decode()
    assert "English here" in french and "not translated yet" in french
    by_header = Client().get("/docs/doc-1/", HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9")
    assert "Deutsch hier" in by_header.content.decode()


def test_the_language_choice_is_remembered() -> None:
    translations = [
        {"id": 9, "docs_id": 1, "languages_code": "de", "title": "Hallo", "body": "Deutsch hier"}
    ]
    apply("docs", doc_item(1, translations=translations))
    client = Client()
    client.get("/docs/doc-1/?lang=de")
    assert "Deutsch hier" in client.get("/docs/doc-1/").content.decode()


def test_pages_are_served_under_p() -> None:
    apply(
        "pages",
        {
            "id": 1,
            "status": "published",
            "title": "About us",
            "slug": "about",
            "body": "We are **here**.",
            "seo_description": "Who we are",
        },
    )
    html = Client().get("/p/about/").content.decode()
    assert "<strong>here</strong>" in html and 'content="Who we are"' in html
    assert Client().get("/p/missing/").status_code == 404


def test_announcements_respect_their_window_and_pinned_come_first() -> None:
    now = timezone.now()
    iso = lambda d: d.isoformat()  # noqa: E731
    apply(
        "announcements",
        {
            "id": 1,
            "status": "published",
            "title": "Old news",
            "body": "",
            "publish_at": iso(now - timedelta(days=3)),
        },
    )
    apply(
        "announcements",
        {
            "id": 2,
            "status": "published",
            "title": "Pinned",
            "body": "",
            "pinned": True,
            "publish_at": iso(now - timedelta(days=5)),
        },
    )
    apply(
        "announcements",
        {
            "id": 3,
            "status": "published",
            "title": "Future",
            "body": "",
            "publish_at": iso(now + timedelta(days=1)),
        },
    )
    apply(
        "announcements",
        {
            "id": 4,
            "status": "published",
            "title": "Expired",
            "body": "",
            "expires_at": iso(now - timedelta(minutes=1)),
        },
    )
    apply("announcements", {"id": 5, "status": "draft", "title": "Draft", "body": ""})
    assert [a.title for a in selectors.announcements_current()] == ["Pinned", "Old news"]
    later = now + timedelta(days=2)
    assert [a.title for a in selectors.announcements_current(now=later)] == [
        "Pinned",
        "Future",
        "Old news",
    ]


def test_announcements_template_tag_renders_for_the_home_page() -> None:
    from django.template import Context, Template

    apply(
        "announcements",
        {"id": 1, "status": "published", "title": "Hello all", "body": "**Bold**", "pinned": True},
    )
    html = Template("{% load directus_content %}{% announcements_current %}").render(Context({}))
    assert "Hello all" in html and "<strong>Bold</strong>" in html and "Pinned" in html


def test_navigation_links_never_carry_unsafe_schemes() -> None:
    apply("pages", {"id": 1, "status": "published", "title": "About", "slug": "about", "body": ""})
    apply("navigation", {"id": 1, "label": "About", "page": {"id": 1, "slug": "about"}, "sort": 1})
    apply("navigation", {"id": 2, "label": "Evil", "url": "javascript:alert(1)", "sort": 2})
    apply("navigation", {"id": 3, "label": "Code", "url": "https://example.org", "sort": 3})
    assert selectors.navigation_items() == [
        {"label": "About", "href": "/p/about/"},
        {"label": "Code", "href": "https://example.org"},
    ]


SECRET = "preview-secret-0123456789abcdef0123"


@override_settings(DIRECTUS_WEBHOOK_SECRET=SECRET, DIRECTUS_URL="http://directus.invalid")
def test_preview_renders_the_draft_only_with_a_valid_token(
    stub_directus: StubDirectus, member
) -> None:
    stub_directus.put(
        "docs", doc_item(7, status="draft", title="Secret plan", body="## Draft body")
    )
    url = "/directus/preview/docs/7/"
    ok = Client().get(url, {"token": preview_token()})
    assert ok.status_code == 200
    html = ok.content.decode()
    assert "Secret plan" in html and '<h2 id="draft-body">Draft body</h2>' in html
    assert "no-store" in ok["Cache-Control"] and "private" in ok["Cache-Control"]
    assert "noindex" in ok["X-Robots-Tag"]
    assert Client().get(url).status_code == 403
    assert Client().get(url, {"token": "wrong"}).status_code == 403
    member_client = Client()
    member_client.force_login(member)
    assert member_client.get(url).status_code == 403
    # The draft never reaches the mirror, so nobody else sees it.
    assert Client().get("/docs/doc-7/").status_code == 404


@override_settings(
    DIRECTUS_WEBHOOK_SECRET=SECRET,
    DIRECTUS_URL="http://directus.invalid",
    AGORA_STEWARD_REQUIRES_2FA=False,
)
def test_a_logged_in_steward_may_preview_without_the_token(
    stub_directus: StubDirectus, steward
) -> None:
    stub_directus.put(
        "pages", {"id": 2, "status": "draft", "title": "Draft page", "slug": "d", "body": "x"}
    )
    client = Client()
    client.force_login(steward)
    assert client.get("/directus/preview/pages/2/").status_code == 200
    assert client.get("/directus/preview/pages/999/").status_code == 404


@override_settings(DIRECTUS_WEBHOOK_SECRET="")
def test_without_a_secret_no_preview_token_is_valid() -> None:
    assert Client().get("/directus/preview/docs/1/", {"token": ""}).status_code == 403


def test_pages_are_served_from_the_mirror_when_directus_is_down(
    stub_directus: StubDirectus,
) -> None:
    apply("docs", doc_item(1, body="Still here"))
    stub_directus.down = True
    assert "Still here" in Client().get("/docs/doc-1/").content.decode()


def test_search_page_highlights_matches_and_escapes_content() -> None:
    apply(
        "docs",
        doc_item(
            1, title="Voting guide", body="How ballots are <b>counted</b>: ranked ballots win."
        ),
    )
    apply("docs", doc_item(2, title="Other", body="Nothing relevant."))
    apply("docs", doc_item(3, title="Draft ballots", body="ballots", status="draft"))
    html = Client().get("/search/", {"q": "ballots"}).content.decode()
    assert "Voting guide" in html and "<mark>" in html.lower()
    assert "Other" not in html and "Draft ballots" not in html
    assert "<b>counted</b>" not in html


def test_anonymous_pages_are_shared_without_a_csrf_token_and_refresh_on_change(member) -> None:
    apply("docs", doc_item(1, body="Version one"))
    first = Client().get("/docs/doc-1/").content.decode()
    assert "Version one" in first and '<meta name="csrf-token" content="">' in first
    apply("docs", doc_item(1, body="Version two"))
    assert "Version two" in Client().get("/docs/doc-1/").content.decode()
    signed_in = Client()
    signed_in.force_login(member)
    html = signed_in.get("/docs/doc-1/").content.decode()
    assert "Version two" in html and '<meta name="csrf-token" content="">' not in html
