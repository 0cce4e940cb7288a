"""Realtime topic ``run.<id>`` (persisted: a late viewer replays the whole run)."""

from __future__ import annotations

from typing import Any

from portal.realtime import register_topic

PREFIX = "run"


def run_topic(run_id: int) -> str:
    return f"{PREFIX}.{run_id}"


def run_topic_authorize(user: Any, key: str) -> bool:
    from sandboxes.agents.selectors import run_get_for_user

    return key.isdigit() and run_get_for_user(user, int(key)) is not None


register_topic(PREFIX, authorize=run_topic_authorize, persist=True)
