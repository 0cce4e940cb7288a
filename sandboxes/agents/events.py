"""The events an agent loop emits, one TypedDict per type.

The loop calls ``emit(type, payload)``; a run's job persists each with a sequence number and
publishes it on the run's topic, so these shapes are what pages and API clients read.
Every payload carries ``step``: the number of model turns completed when it happened.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal, NotRequired, TypedDict

EventType = Literal[
    "state",
    "tokens",
    "usage",
    "tool_call",
    "tool_result",
    "refused",
    "confirmation_required",
    "confirmation",
    "error",
    "final",
]
Emit = Callable[[EventType, Mapping[str, Any]], None]


class StateEvent(TypedDict):
    step: int
    state: str  # running | awaiting_confirmation | succeeded | failed | cancelled | timed_out
    reason: str


class TokensEvent(TypedDict):
    step: int  # the model turn the text belongs to
    text: str  # deltas batched ~every 100 ms


class UsageEvent(TypedDict):
    step: int
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    provider: str  # "openai-compatible" | "scripted"
    model: str


class ToolCallEvent(TypedDict):
    step: int
    call_id: str
    name: str
    arguments: Any  # an object, or the raw text when it is not JSON; long strings cut


class ToolResultEvent(TypedDict):
    step: int
    call_id: str
    name: str
    ok: bool
    output: str  # what the model saw, truncated with a marker
    truncated: bool
    exit_code: NotRequired[int]
    timed_out: NotRequired[bool]
    path: NotRequired[str]


class RefusedEvent(TypedDict):
    step: int
    call_id: str
    name: str
    reason: str  # also shown to the model as the tool's result


class ConfirmationRequiredEvent(TypedDict):
    step: int
    call_id: str
    name: str
    arguments: dict[str, Any]
    reason: str


class ConfirmationEvent(TypedDict):
    step: int
    call_id: str
    approved: bool
    by: str


class ErrorEvent(TypedDict):
    step: int
    # tool_arguments | workspace | internal | unreachable | http_status | malformed | timeout
    kind: str
    message: str
    status: NotRequired[int | None]  # HTTP status, for http_status


class FinalEvent(TypedDict):
    step: int
    answer: str
