"""The site shell: home page sections, navigation and login state."""

from __future__ import annotations

from pathlib import Path

import pytest

from portal import home


@pytest.mark.django_db
def test_home_shows_navigation_and_placeholders_for_anonymous(client):
    response = client.get("/")
    assert response.status_code == 200
    body = response.content.decode()
    for label in ["Docs", "Governance", "Community", "Roadmap", "Sandboxes", "HUD"]:
        assert f">{label}</a>" in body
    assert "Sign up" in body and "Log out" not in body
    for key in ["open_polls", "recent_contributions", "running_sandboxes", "announcements"]:
        assert f'id="home-{key}"' in body


@pytest.mark.django_db
def test_home_shows_login_state_and_role(client, maintainer):
    client.force_login(maintainer)
    body = client.get("/").content.decode()
    assert "Log out" in body
    assert "role-maintainer" in body
    assert maintainer.initials in body


@pytest.mark.django_db
def test_registered_section_replaces_placeholder_and_failures_degrade(
    client, monkeypatch, settings
):
    templates = [dict(t) for t in settings.TEMPLATES]
    templates[0]["DIRS"] = [*templates[0]["DIRS"], Path(__file__).parents[1] / "templates"]
    settings.TEMPLATES = templates
    monkeypatch.setattr(home, "_SECTIONS", {})
    home.register_home_section(
        "open_polls",
        title="Open polls",
        order=5,
        template="portal/test_section.html",
        context=lambda request: {"value": "poll-42"},
    )

    def broken(request):
        raise RuntimeError("boom")

    home.register_home_section(
        "broken", title="Broken", order=6, template="portal/test_section.html", context=broken
    )
    response = client.get("/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "poll-42" in body
    assert "Polls open for voting appear here." not in body
    assert "This section is unavailable right now." in body
