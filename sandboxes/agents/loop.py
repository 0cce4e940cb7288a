"""The agent loop: messages → provider → tool calls → observations, under guardrails.

The loop owns no storage. Everything it knows is in a ``LoopState`` that serialises to
JSON; the caller saves it from the ``checkpoint`` callback after every completed unit of
work, so a run whose worker died resumes from its last completed step with ``run(state)``.
Everything viewers see goes through the ``emit(type, payload)`` callback; the payloads are
the TypedDicts in ``sandboxes.agents.events``.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any, Literal

from sandboxes.agents.cancel import Cancelled, CancelSignal, cancel_requested
from sandboxes.agents.events import (
    ConfirmationEvent,
    ConfirmationRequiredEvent,
    Emit,
    ErrorEvent,
    FinalEvent,
    RefusedEvent,
    StateEvent,
    TokensEvent,
    ToolCallEvent,
    ToolResultEvent,
    UsageEvent,
)
from sandboxes.agents.llm import ChatProvider, Completion, LLMError, Message, TokenUsage
from sandboxes.agents.profiles import AgentProfile
from sandboxes.agents.tools import (
    OUTPUT_LIMIT,
    ToolArgumentError,
    ToolResult,
    output_truncate,
    tool_args_parse,
    tool_execute,
    tool_schemas,
)
from sandboxes.agents.workspace import Workspace, WorkspaceUnavailable

Outcome = Literal[
    "running", "awaiting_confirmation", "succeeded", "failed", "cancelled", "timed_out"
]
TERMINAL: frozenset[str] = frozenset({"succeeded", "failed", "cancelled", "timed_out"})

Checkpoint = Callable[["LoopState"], None]

logger = logging.getLogger(__name__)

STATE_VERSION = 1
TASK_MAX_LENGTH = 20_000
EVENT_ARG_LIMIT = 8000  # characters of each string argument shown in tool_call events
INTERRUPTED_OUTPUT = (
    "interrupted: the worker stopped while this tool was running, so its effects are "
    "unknown; check the workspace before repeating it"
)


@dataclass
class LoopState:
    """Everything needed to continue a run; ``to_json``/``from_json`` round-trip exactly."""

    profile: str
    task: str
    messages: list[Message]
    steps: int = 0  # provider turns completed
    tool_calls: int = 0  # tools executed (refusals and denials excluded)
    usage: TokenUsage = field(default_factory=TokenUsage)
    elapsed_seconds: float = 0.0  # running time, summed over resumes; pauses excluded
    queue: list[dict[str, str]] = field(
        default_factory=list
    )  # unanswered calls {id,name,arguments}
    in_flight: str | None = None  # id of a call whose tool started and did not report back
    awaiting: dict[str, Any] | None = None  # the call waiting for a human's decision
    approved: str | None = None  # id of the call a human approved
    bad_args_streak: int = 0
    outcome: Outcome = "running"
    reason: str = ""
    answer: str | None = None
    version: int = STATE_VERSION

    @property
    def finished(self) -> bool:
        return self.outcome in TERMINAL

    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict. Messages are shared, not copied (the loop only ever appends
        new ones), because a checkpoint is taken several times per step."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["usage"] = {
            "prompt_tokens": self.usage.prompt_tokens,
            "completion_tokens": self.usage.completion_tokens,
        }
        data["messages"] = list(self.messages)
        data["queue"] = [dict(call) for call in self.queue]
        data["awaiting"] = dict(self.awaiting) if self.awaiting else None
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LoopState:
        if data.get("version") != STATE_VERSION:
            raise ValueError(f"unsupported loop state version {data.get('version')!r}")
        values = dict(data)
        values["usage"] = TokenUsage(**values.get("usage", {}))
        return cls(**values)


def loop_state_new(*, profile: AgentProfile, task: str) -> LoopState:
    """The state of a run that has not started; ``ValueError`` for an empty or too long task."""
    if not task.strip():
        raise ValueError("the task is empty; describe what the agent should do")
    if len(task) > TASK_MAX_LENGTH:
        raise ValueError(f"the task is {len(task)} characters long; at most {TASK_MAX_LENGTH}")
    return LoopState(
        profile=profile.name,
        task=task,
        messages=[
            {"role": "system", "content": profile.system_prompt},
            {"role": "user", "content": task},
        ],
    )


class TokenBatcher:
    """Collects text deltas and emits them at most every ``interval`` seconds."""

    def __init__(
        self,
        send: Callable[[str], None],
        *,
        interval: float = 0.1,
        max_chars: int = 4000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._send = send
        self._interval = interval
        self._max_chars = max_chars
        self._clock = clock
        self._buffer: list[str] = []
        self._size = 0
        self._last = clock()

    def add(self, text: str) -> None:
        self._buffer.append(text)
        self._size += len(text)
        if self._size >= self._max_chars or self._clock() - self._last >= self._interval:
            self.flush()

    def flush(self) -> None:
        self._last = self._clock()
        if self._buffer:
            text = "".join(self._buffer)
            self._buffer, self._size = [], 0
            self._send(text)


def _call_event(step: int, call_id: str, name: str, raw: str | dict[str, Any]) -> ToolCallEvent:
    """A tool call for an event: arguments as an object when they parse, long strings cut
    (a 1 MB write_file would otherwise be stored with every event)."""
    arguments: Any = raw
    if isinstance(raw, str):
        try:
            arguments = json.loads(raw)
        except ValueError:
            arguments = output_truncate(raw, EVENT_ARG_LIMIT)[0]
    if isinstance(arguments, dict):
        arguments = {
            key: output_truncate(value, EVENT_ARG_LIMIT)[0] if isinstance(value, str) else value
            for key, value in arguments.items()
        }
    return ToolCallEvent(step=step, call_id=call_id, name=name, arguments=arguments)


class AgentLoop:
    """Runs one profile's agent against a provider and a workspace."""

    def __init__(
        self,
        *,
        profile: AgentProfile,
        provider: ChatProvider,
        workspace: Workspace,
        emit: Emit,
        cancel: CancelSignal | None = None,
        checkpoint: Checkpoint | None = None,
        clock: Callable[[], float] = time.monotonic,
        token_interval: float = 0.1,
        bad_args_limit: int = 3,
        output_limit: int = OUTPUT_LIMIT,
    ) -> None:
        self.profile = profile
        self.provider = provider
        self.workspace = workspace
        self.emit = emit
        self.cancel = cancel
        self._checkpoint = checkpoint
        self._clock = clock
        self._token_interval = token_interval
        self._bad_args_limit = bad_args_limit
        self._output_limit = output_limit
        self._tools = tool_schemas(profile.tools)
        self._started: float | None = None  # clock reading when run() began; None when idle
        self._elapsed_base = 0.0

    # --- public -----------------------------------------------------------------------

    def run(self, state: LoopState) -> LoopState:
        """Advance until the run finishes or waits for a confirmation; returns ``state``."""
        if state.finished:
            return state
        if state.outcome == "awaiting_confirmation":
            if cancel_requested(self.cancel):  # nobody has to answer a cancelled run's prompt
                state.awaiting = None
                self._finish(state, "cancelled", "cancelled by request")
            return state
        if state.profile != self.profile.name:
            raise ValueError(
                f"state belongs to profile {state.profile!r}, not {self.profile.name!r}"
            )
        self._started, self._elapsed_base = self._clock(), state.elapsed_seconds
        self._set_outcome(state, "running")
        try:
            self._advance(state)
        except Cancelled:
            if state.in_flight:
                self._answer(state, state.in_flight, "cancelled while running", ok=False)
            self._finish(state, "cancelled", "cancelled by request")
        except LLMError as exc:
            self.emit(
                "error",
                ErrorEvent(step=state.steps, kind=exc.kind, message=str(exc), status=exc.status),
            )
            self._finish(state, "failed", f"model provider: {exc}")
        except WorkspaceUnavailable as exc:
            if state.in_flight:
                self._answer(state, state.in_flight, f"error: {exc}", ok=False)
            self.emit("error", ErrorEvent(step=state.steps, kind="workspace", message=str(exc)))
            self._finish(state, "failed", str(exc))
        except Exception as exc:
            # A bug must not leave the run "running" forever; the traceback goes to the log.
            logger.exception("agent loop failed (profile %s)", state.profile)
            message = f"internal error: {type(exc).__name__}: {exc}"
            if state.in_flight:
                self._answer(state, state.in_flight, message, ok=False)
            self.emit("error", ErrorEvent(step=state.steps, kind="internal", message=message))
            self._finish(state, "failed", message)
        finally:
            self._tick(state)
            self._started = None
            self._save(state)
        return state

    def resolve_confirmation(self, state: LoopState, *, approved: bool, by: str = "") -> LoopState:
        """Record a human's decision on the pending call; call ``run(state)`` afterwards."""
        if state.outcome != "awaiting_confirmation" or state.awaiting is None:
            raise ValueError("this run is not waiting for a confirmation")
        call_id = state.awaiting["call_id"]
        self.emit(
            "confirmation",
            ConfirmationEvent(step=state.steps, call_id=call_id, approved=approved, by=by),
        )
        state.awaiting = None
        state.outcome = "running"
        if approved:
            state.approved = call_id
        else:
            self._answer(
                state,
                call_id,
                "denied: the run's owner did not approve this command; do something else",
                ok=False,
            )
        self._save(state)
        return state

    # --- the loop ---------------------------------------------------------------------

    def _advance(self, state: LoopState) -> None:
        while True:
            while state.queue:
                if cancel_requested(self.cancel):
                    raise Cancelled("cancelled")
                if not self._answer_next_call(state):
                    return  # finished or waiting for a human
            if self._budget_exhausted(state):
                return
            if cancel_requested(self.cancel):
                raise Cancelled("cancelled")
            completion = self._ask_model(state)
            if not completion.tool_calls:
                answer = completion.content.strip()
                if answer:
                    self._final(state, answer)
                else:
                    self._finish(
                        state, "failed", "the model answered with neither text nor a tool call"
                    )
                return
            state.queue = [
                {"id": call.id, "name": call.name, "arguments": call.arguments}
                for call in completion.tool_calls
            ]
            self._save(state)

    def _ask_model(self, state: LoopState) -> Completion:
        step = state.steps + 1
        batcher = TokenBatcher(
            lambda text: self.emit("tokens", TokensEvent(step=step, text=text)),
            interval=self._token_interval,
            clock=self._clock,
        )
        try:
            completion = self.provider.complete(
                state.messages, tools=self._tools, on_text=batcher.add, cancel=self.cancel
            )
        finally:
            batcher.flush()
        state.steps = step
        # Tool results are matched to calls by id: make them unique (some servers send none,
        # or the same one twice).
        seen: set[str] = set()
        for index, call in enumerate(completion.tool_calls):
            if not call.id or call.id in seen:
                call.id = f"call_{step}_{index}"
            seen.add(call.id)
        usage = completion.usage or TokenUsage()
        state.usage.add(usage)
        self.emit(
            "usage",
            UsageEvent(
                step=step,
                prompt_tokens=usage.prompt_tokens,
                completion_tokens=usage.completion_tokens,
                total_tokens=usage.total_tokens,
                provider=self.provider.provider,
                model=completion.model,
            ),
        )
        state.messages.append(completion.as_message())
        self._tick(state)
        return completion

    def _answer_next_call(self, state: LoopState) -> bool:
        """Handle the queue's first call; False when the loop must stop."""
        call = state.queue[0]
        call_id, name, raw = call["id"], call["name"], call["arguments"]
        if state.in_flight == call_id:
            # The worker died while this tool ran: report that rather than run it twice.
            self._answer(state, call_id, INTERRUPTED_OUTPUT, ok=False)
            return True
        approved = state.approved == call_id
        state.approved = None
        if not self.profile.allows(name):
            self.emit("tool_call", _call_event(state.steps, call_id, name, raw))
            return self._refuse(state, call_id, name, self.profile.decide(name, {})[1])
        try:
            args = tool_args_parse(name, raw)
        except ToolArgumentError as exc:
            self.emit("tool_call", _call_event(state.steps, call_id, name, raw))
            return self._bad_arguments(state, call_id, str(exc))
        state.bad_args_streak = 0
        if not approved:
            self.emit("tool_call", _call_event(state.steps, call_id, name, args))
            decision, why = self.profile.decide(name, args)
            if decision == "refuse":
                return self._refuse(state, call_id, name, why)
            if decision == "confirm":
                state.awaiting = {
                    "call_id": call_id,
                    "name": name,
                    "arguments": args,
                    "reason": why,
                }
                self.emit(
                    "confirmation_required",
                    ConfirmationRequiredEvent(
                        step=state.steps, call_id=call_id, name=name, arguments=args, reason=why
                    ),
                )
                self._set_outcome(state, "awaiting_confirmation", why)
                return False
        if name == "finish":
            state.queue.clear()
            self._final(state, args["answer"])
            return False
        state.in_flight = call_id
        self._save(state)
        result = tool_execute(
            name=name,
            args=args,
            workspace=self.workspace,
            cancel=self.cancel,
            time_left=self.profile.max_wall_seconds - self._tick(state),
            output_limit=self._output_limit,
        )
        state.tool_calls += 1
        self._answer(state, call_id, result.output, ok=result.ok, result=result)
        return True

    # --- helpers ----------------------------------------------------------------------

    def _answer(
        self,
        state: LoopState,
        call_id: str,
        output: str,
        *,
        ok: bool,
        result: ToolResult | None = None,
        event: bool = True,
    ) -> None:
        """Give the model the tool message for ``call_id`` and drop it from the queue."""
        call = next((c for c in state.queue if c["id"] == call_id), None)
        name = call["name"] if call else ""
        state.messages.append(
            {"role": "tool", "tool_call_id": call_id, "name": name, "content": output}
        )
        state.queue = [c for c in state.queue if c["id"] != call_id]
        if state.in_flight == call_id:
            state.in_flight = None
        if event:
            payload = ToolResultEvent(
                step=state.steps,
                call_id=call_id,
                name=name,
                ok=ok,
                output=output,
                truncated=result.truncated if result else False,
            )
            if result is not None:
                for key in ("exit_code", "timed_out", "path"):
                    if key in result.data:
                        payload[key] = result.data[key]
            self.emit("tool_result", payload)
        self._save(state)

    def _refuse(self, state: LoopState, call_id: str, name: str, reason: str) -> bool:
        self.emit(
            "refused", RefusedEvent(step=state.steps, call_id=call_id, name=name, reason=reason)
        )
        self._answer(state, call_id, f"refused: {reason}", ok=False, event=False)
        return True

    def _bad_arguments(self, state: LoopState, call_id: str, problem: str) -> bool:
        state.bad_args_streak += 1
        self.emit("error", ErrorEvent(step=state.steps, kind="tool_arguments", message=problem))
        self._answer(state, call_id, f"error: {problem}", ok=False)
        if state.bad_args_streak >= self._bad_args_limit:
            self._finish(
                state,
                "failed",
                f"the model sent invalid tool arguments {state.bad_args_streak} times "
                f"in a row (last: {problem})",
            )
            return False
        return True

    def _budget_exhausted(self, state: LoopState) -> bool:
        profile = self.profile
        elapsed = self._tick(state)
        if state.steps >= profile.max_steps:
            reason = f"step budget used up ({profile.max_steps} steps)"
        elif elapsed >= profile.max_wall_seconds:
            reason = f"time budget used up ({profile.max_wall_seconds} s)"
        elif state.usage.total_tokens >= profile.max_tokens:
            reason = f"token budget used up ({state.usage.total_tokens} of {profile.max_tokens})"
        else:
            return False
        self._finish(state, "timed_out", reason)
        return True

    def _final(self, state: LoopState, answer: str) -> None:
        state.answer = answer
        self.emit("final", FinalEvent(step=state.steps, answer=answer))
        self._finish(state, "succeeded", "")

    def _finish(self, state: LoopState, outcome: Outcome, reason: str) -> None:
        state.queue.clear()
        state.in_flight = None
        self._set_outcome(state, outcome, reason)

    def _set_outcome(self, state: LoopState, outcome: Outcome, reason: str = "") -> None:
        state.outcome, state.reason = outcome, reason
        self._tick(state)
        self.emit("state", StateEvent(step=state.steps, state=outcome, reason=reason))
        self._save(state)

    def _tick(self, state: LoopState) -> float:
        if self._started is not None:
            state.elapsed_seconds = self._elapsed_base + (self._clock() - self._started)
        return state.elapsed_seconds

    def _save(self, state: LoopState) -> None:
        if self._checkpoint is not None:
            self._checkpoint(state)
