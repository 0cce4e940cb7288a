"""Governance in a real browser: a ranked ballot by drag-free keyboard controls, the
receipt, and a second tab seeing participation change live over the websocket."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from governance.models import Ballot
from governance.services import poll_create, poll_open
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_member_casts_ranked_ballot_and_other_tab_sees_participation_live(page, login):
    voter = UserFactory(role="member")
    maintainer = UserFactory(role="maintainer")
    poll = poll_create(
        actor=maintainer,
        title="Meetup city",
        method="schulze",
        options=["Berlin", "Lisbon", "Nairobi"],
        closes_at=timezone.now() + timedelta(days=1),
    )
    poll_open(poll=poll, actor=maintainer)
    login(page, voter)

    watcher = page.context.new_page()
    watcher_errors: list[str] = []
    watcher.on("pageerror", lambda exc: watcher_errors.append(str(exc)))
    watcher.goto(f"/governance/polls/{poll.pk}/")
    expect(watcher.locator("#participation-count")).to_have_text("0")
    expect(watcher.locator("#live-dot.live")).to_have_count(1)
    watcher.wait_for_timeout(300)  # let the subscription be acknowledged

    page.goto(f"/governance/polls/{poll.pk}/")
    # Keyboard alternative to dragging: move Nairobi to the top, untick Lisbon.
    page.get_by_role("button", name="Move Nairobi up").click()
    page.get_by_role("button", name="Move Nairobi up").click()
    page.get_by_role("checkbox", name="Rank Lisbon").uncheck()
    page.click("#cast-button")

    expect(page.locator("#receipt")).to_be_visible()
    receipt = page.locator("#receipt-hash").inner_text()
    assert re.fullmatch(r"[0-9a-f]{64}", receipt)
    ids = dict(poll.options.values_list("label", "pk"))
    ballot = Ballot.objects.get(poll=poll)
    assert ballot.receipt == receipt
    assert ballot.choice == [ids["Nairobi"], ids["Berlin"]]

    expect(watcher.locator("#participation-count")).to_have_text("1", timeout=10_000)

    page.goto("/governance/receipts/")
    expect(page.locator("#receipts-table tbody tr")).to_have_count(1)
    assert page.js_errors == [] and watcher_errors == []
