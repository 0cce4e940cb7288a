"""Tool schemas, argument validation, path safety, truncation and execution."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from sandboxes.agents.cancel import CancelFlag, Cancelled
from sandboxes.agents.tools import (
    TOOLS,
    ToolArgumentError,
    output_truncate,
    tool_args_parse,
    tool_execute,
    tool_schemas,
)
from sandboxes.agents.workspace import WorkspaceError, workspace_path
from tests.sandboxes.agents.localdir import LocalDirWorkspace


def test_every_tool_has_an_openai_function_schema() -> None:
    schemas = tool_schemas(list(TOOLS))
    assert [s["function"]["name"] for s in schemas] == [
        "shell", "read_file", "write_file", "list_files", "search", "finish",
    ]  # fmt: skip
    shell = schemas[0]["function"]["parameters"]
    assert shell["required"] == ["command"]
    assert set(shell["properties"]) == {"command", "timeout_seconds"}
    assert all(s["function"]["parameters"]["additionalProperties"] is False for s in schemas)


@pytest.mark.parametrize(
    ("name", "raw", "message"),
    [
        ("shell", "{}", "missing required property 'command'"),
        ("shell", '{"command": 5}', "arguments.command must be a string"),
        ("shell", '{"command": ""}', "arguments.command must not be empty"),
        ("shell", '{"command": "ls", "timeout_seconds": 0}', "must be at least 1"),
        ("shell", '{"command": "ls", "timeout_seconds": 9999}', "must be at most 600"),
        ("shell", '{"command": "ls", "timeout_seconds": true}', "must be an integer"),
        ("shell", '{"command": "ls", "sudo": true}', "unknown property 'sudo'"),
        ("write_file", '{"path": "a"}', "missing required property 'content'"),
        ("read_file", "[1, 2]", "arguments must be an object"),
        ("read_file", "{not json", "arguments are not valid JSON"),
        ("launch_missiles", "{}", "unknown tool 'launch_missiles'"),
    ],
)
def test_arguments_failing_their_schema_are_rejected(name: str, raw: str, message: str) -> None:
    with pytest.raises(ToolArgumentError, match=message) as caught:
        tool_args_parse(name, raw)
    if name in TOOLS:
        assert str(caught.value).startswith(f"{name}: ")


def test_valid_arguments_are_returned_as_a_dict() -> None:
    assert tool_args_parse("shell", '{"command": "ls", "timeout_seconds": 5}') == {
        "command": "ls",
        "timeout_seconds": 5,
    }
    assert tool_args_parse("list_files", "") == {}


@pytest.mark.parametrize("path", ["../etc/passwd", "a/../../b", "/etc/passwd", "..", "a\x00b"])
def test_paths_leaving_the_workspace_are_refused(path: str) -> None:
    with pytest.raises(WorkspaceError):
        workspace_path(path)
    with pytest.raises(ToolArgumentError):
        tool_args_parse("read_file", {"path": path})


def test_paths_are_normalised_relative_to_the_workspace() -> None:
    assert workspace_path("a/./b/../c.txt") == "a/c.txt"
    assert workspace_path("/workspace/src/x.py") == "src/x.py"
    assert workspace_path("/workspace") == ""
    assert workspace_path(".") == ""


def test_symlink_out_of_the_workspace_is_refused(
    workspace: LocalDirWorkspace, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret")
    os.symlink(secret, workspace.root / "link.txt")

    result = tool_execute(name="read_file", args={"path": "link.txt"}, workspace=workspace)

    assert not result.ok
    assert "leaves the workspace" in result.output
    assert "top secret" not in result.output


def test_truncation_keeps_head_and_tail_with_a_marker() -> None:
    text = "A" * 5000 + "B" * 5000
    short, truncated = output_truncate(text, 900)
    assert truncated
    assert short.startswith("A" * 600) and short.endswith("B" * 300)
    assert "[… 9100 characters truncated …]" in short
    assert output_truncate("small", 900) == ("small", False)


def test_write_read_list_and_search(workspace: LocalDirWorkspace) -> None:
    written = tool_execute(
        name="write_file", args={"path": "src/app.py", "content": "def main():\n    return 42\n"},
        workspace=workspace,
    )  # fmt: skip
    assert written.ok and (workspace.root / "src/app.py").read_text().endswith("42\n")

    read = tool_execute(name="read_file", args={"path": "src/app.py"}, workspace=workspace)
    assert read.output == "def main():\n    return 42\n"

    listed = tool_execute(name="list_files", args={}, workspace=workspace)
    assert listed.output == "src/"
    listed = tool_execute(name="list_files", args={"path": "src"}, workspace=workspace)
    assert listed.output == "src/app.py  (26 bytes)"

    found = tool_execute(name="search", args={"pattern": "return [0-9]+"}, workspace=workspace)
    assert found.output == "src/app.py:2:    return 42"
    none = tool_execute(name="search", args={"pattern": "nothing'; rm -rf ."}, workspace=workspace)
    assert none.output == "no matches"
    assert (workspace.root / "src/app.py").exists()


def test_reading_a_missing_file_is_a_failed_result_not_an_exception(
    workspace: LocalDirWorkspace,
) -> None:
    result = tool_execute(name="read_file", args={"path": "nope.txt"}, workspace=workspace)
    assert not result.ok
    assert result.output == "error: 'nope.txt' is not a file"


def test_shell_reports_exit_code_and_truncates_long_output(workspace: LocalDirWorkspace) -> None:
    result = tool_execute(
        name="shell",
        args={"command": "seq 1 20000; exit 3"},
        workspace=workspace,
        output_limit=1000,
    )
    assert not result.ok
    assert result.data["exit_code"] == 3
    assert result.truncated
    assert "characters truncated" in result.output
    assert result.output.startswith("1\n2\n")
    assert result.output.endswith("[exit code 3]")
    assert len(result.output) < 1100


def test_shell_timeout_kills_the_command(workspace: LocalDirWorkspace) -> None:
    started = time.monotonic()
    result = tool_execute(
        name="shell", args={"command": "echo before; sleep 30", "timeout_seconds": 1},
        workspace=workspace,
    )  # fmt: skip
    assert time.monotonic() - started < 5
    assert not result.ok
    assert result.data["timed_out"] is True
    assert "before" in result.output
    assert "timed out after 1 s" in result.output


def test_shell_timeout_is_capped_by_the_time_left(workspace: LocalDirWorkspace) -> None:
    started = time.monotonic()
    result = tool_execute(
        name="shell", args={"command": "sleep 30"}, workspace=workspace, time_left=1.0
    )
    assert result.data["timed_out"] is True
    assert time.monotonic() - started < 5


def test_cancel_stops_a_running_command_and_its_children(workspace: LocalDirWorkspace) -> None:
    cancel = CancelFlag()
    threading.Timer(0.3, cancel.cancel).start()
    started = time.monotonic()

    with pytest.raises(Cancelled):
        tool_execute(
            name="shell",
            args={"command": "sh -c 'sleep 30; touch late.txt' & wait"},
            workspace=workspace,
            cancel=cancel,
        )

    assert time.monotonic() - started < 5
    time.sleep(0.2)
    assert not (workspace.root / "late.txt").exists()
