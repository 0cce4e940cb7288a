"""The home page shows each app's live data in its section."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from directus.services import content_item_apply
from governance.services import poll_create, poll_open
from tests.community.factories import approved_contribution


@pytest.mark.django_db
def test_open_poll_and_approved_contribution_appear_on_home(client, member, maintainer):
    poll = poll_create(
        actor=maintainer,
        title="Pick a mascot",
        method="approval",
        options=["Owl", "Fox"],
        closes_at=timezone.now() + timedelta(days=2),
    )
    poll_open(poll=poll, actor=maintainer)
    contribution = approved_contribution(member, "doc")

    body = client.get("/").content.decode()

    assert "Pick a mascot" in body
    assert f"/governance/polls/{poll.pk}/" in body
    assert contribution.title in body
    assert "Polls open for voting appear here." not in body


@pytest.mark.django_db
def test_current_announcement_appears_and_expired_one_does_not(client):
    now = timezone.now()
    content_item_apply(
        collection="announcements",
        key="1",
        item={
            "id": 1,
            "status": "published",
            "title": "Release 2.0 is out",
            "body": "Hooray",
            "publish_at": (now - timedelta(hours=1)).isoformat(),
            "pinned": True,
        },
    )
    content_item_apply(
        collection="announcements",
        key="2",
        item={
            "id": 2,
            "status": "published",
            "title": "Old news",
            "body": "Gone",
            "publish_at": (now - timedelta(days=9)).isoformat(),
            "expires_at": (now - timedelta(days=1)).isoformat(),
        },
    )

    body = client.get("/").content.decode()

    assert "Release 2.0 is out" in body
    assert "Old news" not in body


@pytest.mark.django_db
def test_running_sandboxes_count_is_shown_but_only_maintainers_get_links(client, member):
    client.force_login(member)
    body = client.get("/").content.decode()
    assert 'id="home-running_sandboxes"' in body
    assert "running now" in body
    assert "Your sandboxes" not in body
