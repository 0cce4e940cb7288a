"""Governance fixtures: an open poll factory and a steward-free poll creator."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from governance.models import Poll
from governance.services import poll_create, poll_open

METHOD_OPTIONS = {
    "yes_no": None,
    "lazy_consensus": None,
}


@pytest.fixture
def open_poll(maintainer: Any) -> Callable[..., Poll]:
    """``open_poll(method="irv", options=[...], **rules)`` → an open poll (all members
    eligible unless ``eligible_roles``/``eligible_users`` say otherwise)."""

    def make(method: str = "yes_no", *, open_now: bool = True, **rules: Any) -> Poll:
        options = rules.pop("options", None)
        if options is None and method not in METHOD_OPTIONS:
            options = ["Alpha", "Beta", "Gamma"]
        rules.setdefault("closes_at", timezone.now() + timedelta(days=3))
        poll = poll_create(
            actor=maintainer, title=f"{method} poll", method=method, options=options, **rules
        )
        return poll_open(poll=poll, actor=maintainer) if open_now else poll

    return make


def option_ids(poll: Poll) -> list[int]:
    return list(poll.options.order_by("position").values_list("pk", flat=True))
