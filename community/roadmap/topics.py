"""Realtime topic ``board.<id>``: ``all``, ``m<milestone id>`` or ``l-<label>``."""

from __future__ import annotations

from typing import Any, TypedDict

from portal.realtime import publish, register_topic


class TaskEvent(TypedDict):
    code: str
    title: str
    status: str
    position: int
    owner: str
    milestone: int | None
    labels: list[str]
    wip_warning: str


def board_topic(board_id: str) -> str:
    return f"board.{board_id}"


def boards_of(*, milestone_id: int | None, labels: list[str]) -> list[str]:
    """Every board a task shows on: the whole roadmap, its milestone, each of its labels."""
    boards = ["all"]
    if milestone_id:
        boards.append(f"m{milestone_id}")
    boards.extend(f"l-{label}" for label in labels)
    return boards


def board_publish(*, boards: list[str], type: str, data: TaskEvent | dict[str, Any]) -> None:
    for board in dict.fromkeys(boards):
        publish(board_topic(board), type, dict(data))


def _board_authorize(user: Any, key: str) -> bool:
    # The roadmap is open to every signed-in member.
    return bool(user and user.is_authenticated)


register_topic("board", authorize=_board_authorize)
