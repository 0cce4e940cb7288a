"""Realtime topics ``proposal.<id>`` and ``poll.<id>`` and the typed events sent on them."""

from __future__ import annotations

from typing import Any, TypedDict

from portal.realtime import publish, register_topic


class ParticipationEvent(TypedDict):
    ballots: int
    eligible: int


def proposal_topic(proposal_id: int) -> str:
    return f"proposal.{proposal_id}"


def poll_topic(poll_id: int) -> str:
    return f"poll.{poll_id}"


def _int_key(key: str) -> int | None:
    return int(key) if key.isdigit() else None


def _proposal_public(key: str) -> bool:
    from governance.models import Proposal, ProposalStatus

    pk = _int_key(key)
    return (
        pk is not None
        and Proposal.objects.filter(pk=pk, is_public=True)
        .exclude(status=ProposalStatus.DRAFT)
        .exists()
    )


def _proposal_authorize(user: Any, key: str) -> bool:
    from governance.selectors import proposals_visible

    pk = _int_key(key)
    return pk is not None and proposals_visible(user=user).filter(pk=pk).exists()


def _poll_public(key: str) -> bool:
    from governance.models import Poll

    pk = _int_key(key)
    return pk is not None and Poll.objects.filter(pk=pk, is_public=True).exists()


def _poll_authorize(user: Any, key: str) -> bool:
    from governance.selectors import polls_visible

    pk = _int_key(key)
    return pk is not None and polls_visible(user=user).filter(pk=pk).exists()


register_topic("proposal", authorize=_proposal_authorize, public=_proposal_public)
register_topic("poll", authorize=_poll_authorize, public=_poll_public)


def proposal_event(proposal_id: int, type: str, data: dict[str, Any]) -> None:
    publish(proposal_topic(proposal_id), type, data)


def poll_event(poll_id: int, type: str, data: dict[str, Any]) -> None:
    publish(poll_topic(poll_id), type, data)
