"""The scripted provider: a run's explicit step list played back as a model would.

It lets the whole pipeline (sandbox, tools, events, pages) work without any model, offline
and in demos, and is labelled ``scripted`` wherever a provider name is shown. A step list
is JSON, e.g.::

    [{"tool": "write_file", "args": {"path": "a.txt", "content": "hi"}},
     {"tool": "shell", "args": {"command": "cat a.txt"}, "say": "Let me check."},
     {"finish": "done"}]

A step without a final ``finish`` ends with an automatic one.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sandboxes.agents.cancel import Cancelled, CancelSignal, cancel_requested
from sandboxes.agents.llm import Completion, Message, TextCallback, TokenUsage, ToolCall
from sandboxes.agents.tools import TOOLS, ToolArgumentError, tool_args_parse

MAX_STEPS = 200
_TOOL_KEYS = {"tool", "args", "say"}
_FINISH_KEYS = {"finish", "say"}
AUTO_FINISH = "Scripted steps complete."


class StepListError(ValueError):
    """A step list is malformed; ``index`` is the 0-based position of the bad step (or None)."""

    def __init__(self, problem: str, *, index: int | None = None) -> None:
        where = f"steps[{index}]: " if index is not None else "steps: "
        super().__init__(where + problem)
        self.index = index
        self.problem = problem


@dataclass(frozen=True)
class ScriptedStep:
    tool: str
    args: dict[str, Any]
    say: str = ""

    def as_dict(self) -> dict[str, Any]:
        if self.tool == "finish":
            data: dict[str, Any] = {"finish": self.args["answer"]}
        else:
            data = {"tool": self.tool, "args": self.args}
        if self.say:
            data["say"] = self.say
        return data


def steps_validate(raw: Any) -> list[ScriptedStep]:
    """Parse and check a step list (a list, or its JSON text); raise ``StepListError``."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError as exc:
            raise StepListError(f"not valid JSON ({exc})") from None
    if not isinstance(raw, list):
        raise StepListError("must be a list of steps")
    if not raw:
        raise StepListError("must hold at least one step")
    if len(raw) > MAX_STEPS:
        raise StepListError(f"has {len(raw)} steps; at most {MAX_STEPS} are allowed")
    steps = [_step_validate(index, item) for index, item in enumerate(raw)]
    for index, step in enumerate(steps[:-1]):
        if step.tool == "finish":
            raise StepListError("finish must be the last step", index=index)
    return steps


def _step_validate(index: int, item: Any) -> ScriptedStep:
    if not isinstance(item, dict):
        raise StepListError('must be an object like {"tool": …, "args": {…}}', index=index)
    say = item.get("say", "")
    if not isinstance(say, str):
        raise StepListError("'say' must be a string", index=index)
    if "finish" in item:
        if "tool" in item:
            raise StepListError("has both 'tool' and 'finish'; give one", index=index)
        extra = sorted(set(item) - _FINISH_KEYS)
        if extra:
            raise StepListError(f"unknown key {extra[0]!r}", index=index)
        answer = item["finish"]
        if not isinstance(answer, str) or not answer.strip():
            raise StepListError("'finish' must be a non-empty answer text", index=index)
        return ScriptedStep("finish", {"answer": answer}, say)
    if "tool" not in item:
        raise StepListError("needs 'tool' (with 'args') or 'finish'", index=index)
    extra = sorted(set(item) - _TOOL_KEYS)
    if extra:
        raise StepListError(f"unknown key {extra[0]!r}", index=index)
    tool = item["tool"]
    if not isinstance(tool, str) or tool not in TOOLS:
        raise StepListError(f"unknown tool {tool!r} (tools: {', '.join(TOOLS)})", index=index)
    args = item.get("args", {})
    if not isinstance(args, dict):
        raise StepListError("'args' must be an object", index=index)
    try:
        parsed = tool_args_parse(tool, args)
    except ToolArgumentError as exc:
        raise StepListError(str(exc), index=index) from None
    return ScriptedStep(tool, parsed, say)


class ScriptedProvider:
    """Plays back a validated step list: turn N answers with step N's tool call.

    The position is the number of assistant turns already in the conversation, so a loop
    resumed from saved messages continues with the right step.
    """

    provider = "scripted"
    model = "scripted"

    def __init__(self, steps: Sequence[ScriptedStep] | list[dict[str, Any]]) -> None:
        if steps and all(isinstance(step, ScriptedStep) for step in steps):
            self.steps = [step for step in steps if isinstance(step, ScriptedStep)]
        else:
            self.steps = steps_validate(list(steps))

    def complete(
        self,
        messages: Sequence[Message],
        *,
        tools: Sequence[dict[str, Any]] | None = None,
        on_text: TextCallback | None = None,
        cancel: CancelSignal | None = None,
        max_tokens: int | None = None,
    ) -> Completion:
        if cancel_requested(cancel):
            raise Cancelled("cancelled before the next scripted step")
        position = sum(1 for message in messages if message.get("role") == "assistant")
        if position < len(self.steps):
            step = self.steps[position]
        else:
            step = ScriptedStep("finish", {"answer": AUTO_FINISH})
        if step.say and on_text is not None:
            on_text(step.say)
        call = ToolCall(
            id=f"scripted_{position}",
            name=step.tool,
            arguments=json.dumps(step.args, ensure_ascii=False),
        )
        return Completion(
            content=step.say,
            tool_calls=[call],
            finish_reason="tool_calls",
            usage=TokenUsage(),
            model=self.model,
            provider=self.provider,
        )
