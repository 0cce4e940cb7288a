"""Realtime topic ``sandbox.<id>``: the owner and invited maintainers may subscribe."""

from __future__ import annotations

from typing import Any

from portal.realtime import register_topic


def sandbox_topic_authorize(user: Any, key: str) -> bool:
    from sandboxes.selectors import sandbox_get_for_user

    return key.isdigit() and sandbox_get_for_user(user, key) is not None


register_topic("sandbox", authorize=sandbox_topic_authorize)
