"""What the sandbox topic carries: typed payloads, published after commit."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypedDict

from portal.realtime import publish

if TYPE_CHECKING:
    from sandboxes.models import Sandbox


class StatePayload(TypedDict):
    state: str
    previous: str
    reason: str
    at: str


class ProgressPayload(TypedDict):
    step: str
    percent: int


def sandbox_topic(sandbox_id: int) -> str:
    return f"sandbox.{sandbox_id}"


def sandbox_publish(sandbox: Sandbox, type: str, data: dict[str, Any]) -> None:
    publish(sandbox_topic(sandbox.pk), type, data)
