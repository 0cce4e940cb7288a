"""The public ``community`` realtime topic: approved contributions, closed epochs."""

from __future__ import annotations

from typing import Any, TypedDict

from portal.realtime import publish, register_topic

TOPIC = "community"


class ContributionApprovedEvent(TypedDict):
    id: int
    title: str
    type: str
    contributor: str


class EpochClosedEvent(TypedDict):
    id: int
    name: str
    pool: str
    currency: str
    recipients: int


def community_publish(type_: str, data: Any) -> None:
    """Publish on the community topic; the hub sends after the transaction commits."""
    publish(TOPIC, type_, dict(data))


register_topic(TOPIC, public=True)
