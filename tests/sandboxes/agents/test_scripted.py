"""Step lists: strict validation and playback as tool calls."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sandboxes.agents.scripted import AUTO_FINISH, ScriptedProvider, StepListError, steps_validate

STEPS: list[dict[str, Any]] = [
    {"tool": "write_file", "args": {"path": "a.txt", "content": "hi"}},
    {"tool": "shell", "args": {"command": "cat a.txt"}, "say": "Checking the file."},
    {"finish": "done"},
]


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        ("{oops", "steps: not valid JSON"),
        ({"tool": "shell"}, "steps: must be a list of steps"),
        ([], "steps: must hold at least one step"),
        ([{"finish": "x"}] * 201, "at most 200"),
        (["ls"], "steps[0]: must be an object"),
        ([{"args": {}}], "steps[0]: needs 'tool' (with 'args') or 'finish'"),
        ([{"tool": "rm", "args": {}}], "steps[0]: unknown tool 'rm'"),
        (
            [{"tool": "shell", "args": {"command": "ls"}, "sudo": True}],
            "steps[0]: unknown key 'sudo'",
        ),
        ([{"tool": "shell", "args": "ls"}], "steps[0]: 'args' must be an object"),
        (
            [{"tool": "shell", "args": {"command": "ls"}}, {"tool": "shell", "args": {}}],
            "steps[1]: shell: arguments: missing required property 'command'",
        ),
        (
            [{"tool": "read_file", "args": {"path": "../x"}}],
            "steps[0]: read_file: path '../x' leaves",
        ),
        ([{"finish": ""}], "steps[0]: 'finish' must be a non-empty answer text"),
        ([{"finish": "a", "tool": "shell"}], "steps[0]: has both 'tool' and 'finish'"),
        ([{"finish": "early"}, {"tool": "list_files"}], "steps[0]: finish must be the last step"),
        ([{"tool": "list_files", "say": 3}], "steps[0]: 'say' must be a string"),
    ],
)
def test_malformed_step_lists_name_the_step_and_the_problem(steps: Any, message: str) -> None:
    with pytest.raises(StepListError) as caught:
        steps_validate(steps)
    assert message in str(caught.value)


def test_valid_step_list_accepts_json_text() -> None:
    steps = steps_validate(json.dumps(STEPS))
    assert [s.tool for s in steps] == ["write_file", "shell", "finish"]
    assert [s.as_dict() for s in steps] == STEPS


def test_playback_follows_the_conversation_position() -> None:
    provider = ScriptedProvider(STEPS)
    messages: list[dict[str, Any]] = [{"role": "user", "content": "go"}]
    texts: list[str] = []
    calls = []
    for _ in range(4):
        completion = provider.complete(messages, on_text=texts.append)
        assert completion.provider == "scripted"
        calls.append(
            (completion.tool_calls[0].name, json.loads(completion.tool_calls[0].arguments))
        )
        messages.append(completion.as_message())
    assert calls == [
        ("write_file", {"path": "a.txt", "content": "hi"}),
        ("shell", {"command": "cat a.txt"}),
        ("finish", {"answer": "done"}),
        ("finish", {"answer": AUTO_FINISH}),  # past the end: always finish
    ]
    assert texts == ["Checking the file."]


def test_a_list_without_finish_finishes_automatically() -> None:
    provider = ScriptedProvider([{"tool": "list_files"}])
    messages = [{"role": "assistant", "content": None}]
    completion = provider.complete(messages)
    assert completion.tool_calls[0].name == "finish"
