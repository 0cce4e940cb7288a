"""The tools an agent may call, each with a JSON schema, and their execution.

Arguments come from a model, so they are validated against the tool's schema before
anything runs, paths are confined to the workspace, and every output is bounded.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sandboxes.agents.cancel import CancelSignal
from sandboxes.agents.workspace import Workspace, WorkspaceError, workspace_path

OUTPUT_LIMIT = 16_000  # characters of tool output shown to the model
READ_LIMIT = 256_000  # bytes read_file fetches before truncating
WRITE_LIMIT = 1_000_000  # bytes write_file accepts
SHELL_TIMEOUT_DEFAULT = 60
SHELL_TIMEOUT_MAX = 600
SEARCH_MATCH_LIMIT = 200
LIST_LIMIT = 500


class ToolArgumentError(ValueError):
    """The arguments do not match the tool's schema (the message says where and why)."""


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str
    parameters: dict[str, Any]
    read_only: bool

    def as_openai(self) -> dict[str, Any]:
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.parameters,
            },
        }


def _object(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


_PATH = {"type": "string", "minLength": 1, "maxLength": 1024, "description": "relative path"}

TOOLS: dict[str, ToolSpec] = {
    spec.name: spec
    for spec in [
        ToolSpec(
            "shell",
            "Run a shell command (sh -c) in the workspace; stdout and stderr are merged "
            "and long output is truncated.",
            _object(
                {
                    "command": {"type": "string", "minLength": 1, "maxLength": 10_000},
                    "timeout_seconds": {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": SHELL_TIMEOUT_MAX,
                    },
                },
                ["command"],
            ),
            read_only=False,
        ),
        ToolSpec(
            "read_file",
            "Read a text file from the workspace.",
            _object({"path": _PATH}, ["path"]),
            read_only=True,
        ),
        ToolSpec(
            "write_file",
            "Create or replace a file in the workspace with the given content.",
            _object(
                {"path": _PATH, "content": {"type": "string", "maxLength": WRITE_LIMIT}},
                ["path", "content"],
            ),
            read_only=False,
        ),
        ToolSpec(
            "list_files",
            "List the entries of a directory in the workspace (default: its root).",
            _object({"path": {**_PATH, "minLength": 0}}, []),
            read_only=True,
        ),
        ToolSpec(
            "search",
            "Search the workspace's files for an extended regular expression (grep -E).",
            _object(
                {
                    "pattern": {"type": "string", "minLength": 1, "maxLength": 1000},
                    "path": {**_PATH, "minLength": 0},
                },
                ["pattern"],
            ),
            read_only=True,
        ),
        ToolSpec(
            "finish",
            "End the run with the final answer or report.",
            _object(
                {"answer": {"type": "string", "minLength": 1, "maxLength": 100_000}}, ["answer"]
            ),
            read_only=True,
        ),
    ]
}


def tool_schemas(names: list[str] | tuple[str, ...]) -> list[dict[str, Any]]:
    """The ``tools`` field of a chat-completions request for these tool names."""
    return [TOOLS[name].as_openai() for name in names if name in TOOLS]


# --- Validation of the JSON-schema subset the tools use -----------------------------------


def schema_validate(schema: Mapping[str, Any], value: Any, *, where: str = "arguments") -> None:
    """Validate ``value`` against a schema using type, properties, required,
    additionalProperties, minLength/maxLength and minimum/maximum."""
    kind = schema.get("type")
    if kind == "object":
        if not isinstance(value, dict):
            raise ToolArgumentError(f"{where} must be an object")
        properties: Mapping[str, Any] = schema.get("properties", {})
        for name in schema.get("required", []):
            if name not in value:
                raise ToolArgumentError(f"{where}: missing required property {name!r}")
        if schema.get("additionalProperties") is False:
            extra = sorted(set(value) - set(properties))
            if extra:
                raise ToolArgumentError(f"{where}: unknown property {extra[0]!r}")
        for name, item in value.items():
            if name in properties:
                schema_validate(properties[name], item, where=f"{where}.{name}")
    elif kind == "string":
        if not isinstance(value, str):
            raise ToolArgumentError(f"{where} must be a string")
        if len(value) < schema.get("minLength", 0):
            raise ToolArgumentError(f"{where} must not be empty")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            raise ToolArgumentError(f"{where} is longer than {schema['maxLength']} characters")
    elif kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ToolArgumentError(f"{where} must be an integer")
        if "minimum" in schema and value < schema["minimum"]:
            raise ToolArgumentError(f"{where} must be at least {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            raise ToolArgumentError(f"{where} must be at most {schema['maximum']}")
    else:  # pragma: no cover - a schema we wrote ourselves
        raise ValueError(f"unsupported schema type {kind!r}")


def tool_args_parse(name: str, raw: str | Mapping[str, Any]) -> dict[str, Any]:
    """Decode (if JSON text) and validate a tool call's arguments; ``ToolArgumentError``
    names the tool and the problem."""
    spec = TOOLS.get(name)
    if spec is None:
        raise ToolArgumentError(f"unknown tool {name!r} (tools: {', '.join(TOOLS)})")
    if isinstance(raw, str):
        try:
            value = json.loads(raw) if raw.strip() else {}
        except ValueError as exc:
            raise ToolArgumentError(f"{name}: arguments are not valid JSON ({exc})") from None
    else:
        value = dict(raw)
    try:
        schema_validate(spec.parameters, value)
    except ToolArgumentError as exc:
        raise ToolArgumentError(f"{name}: {exc}") from None
    for key in ("path",):
        if key in value:
            try:
                workspace_path(value[key])
            except WorkspaceError as exc:
                raise ToolArgumentError(f"{name}: {exc}") from None
    return value


# --- Execution ------------------------------------------------------------------------------


@dataclass
class ToolResult:
    """What a tool call produced; ``output`` is what the model sees."""

    ok: bool
    output: str
    truncated: bool = False
    data: dict[str, Any] = field(default_factory=dict)  # exit_code, path, … for events

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "output": self.output, "truncated": self.truncated, **self.data}


def output_truncate(text: str, limit: int = OUTPUT_LIMIT) -> tuple[str, bool]:
    """Keep the head and the tail (errors are usually at the end) with a marker between."""
    if len(text) <= limit:
        return text, False
    head = limit * 2 // 3
    tail = limit - head
    dropped = len(text) - head - tail
    marker = f"\n[… {dropped} characters truncated …]\n"
    return text[:head] + marker + text[-tail:], True


def tool_execute(
    *,
    name: str,
    args: Mapping[str, Any],
    workspace: Workspace,
    cancel: CancelSignal | None = None,
    time_left: float | None = None,
    output_limit: int = OUTPUT_LIMIT,
) -> ToolResult:
    """Run one validated tool call. Workspace failures become a failed ``ToolResult`` the
    model can read; ``Cancelled`` propagates."""
    try:
        result = _dispatch(name, args, workspace, cancel, time_left)
    except WorkspaceError as exc:
        result = ToolResult(ok=False, output=f"error: {exc}")
    text, truncated = output_truncate(result.output, output_limit)
    result.output = text
    result.truncated = result.truncated or truncated
    return result


def _dispatch(
    name: str,
    args: Mapping[str, Any],
    workspace: Workspace,
    cancel: CancelSignal | None,
    time_left: float | None,
) -> ToolResult:
    if name == "shell":
        timeout = float(args.get("timeout_seconds", SHELL_TIMEOUT_DEFAULT))
        if time_left is not None:
            timeout = max(1.0, min(timeout, time_left))
        outcome = workspace.exec(args["command"], timeout=timeout, cancel=cancel)
        output = outcome.output
        if output and not output.endswith("\n"):
            output += "\n"
        if outcome.timed_out:
            output += f"[command timed out after {timeout:g} s and was killed]"
        else:
            output += f"[exit code {outcome.exit_code}]"
        return ToolResult(
            ok=outcome.exit_code == 0 and not outcome.timed_out,
            output=output,
            data={"exit_code": outcome.exit_code, "timed_out": outcome.timed_out},
        )
    if name == "read_file":
        path = workspace_path(args["path"])
        data = workspace.read_file(path, max_bytes=READ_LIMIT + 1)
        text = data[:READ_LIMIT].decode(errors="replace")
        if len(data) > READ_LIMIT:
            text += f"\n[… file longer than {READ_LIMIT} bytes, rest not read …]"
        return ToolResult(
            ok=True, output=text, truncated=len(data) > READ_LIMIT, data={"path": path}
        )
    if name == "write_file":
        path = workspace_path(args["path"])
        if not path:
            raise WorkspaceError("write_file needs a file path, not the workspace root")
        content = args["content"].encode()
        workspace.write_file(path, content)
        return ToolResult(
            ok=True, output=f"wrote {len(content)} bytes to {path}", data={"path": path}
        )
    if name == "list_files":
        path = workspace_path(args.get("path", ""))
        entries = workspace.list_files(path)
        lines = [f"{e.path}/" if e.is_dir else f"{e.path}  ({e.size} bytes)" for e in entries]
        if len(lines) > LIST_LIMIT:
            lines = [*lines[:LIST_LIMIT], f"[… {len(lines) - LIST_LIMIT} more entries …]"]
        return ToolResult(
            ok=True, output="\n".join(lines) or "(empty directory)", data={"path": path}
        )
    if name == "search":
        path = workspace_path(args.get("path", "")) or "."
        command = (
            f"grep -rnIE --exclude-dir=.git -e {shlex.quote(args['pattern'])} -- "
            f"{shlex.quote(path)} | head -n {SEARCH_MATCH_LIMIT + 1}"
        )
        outcome = workspace.exec(command, timeout=30, cancel=cancel)
        lines = [line.removeprefix("./") for line in outcome.output.splitlines()]
        if len(lines) > SEARCH_MATCH_LIMIT:
            lines = [*lines[:SEARCH_MATCH_LIMIT], f"[… more than {SEARCH_MATCH_LIMIT} matches …]"]
        return ToolResult(ok=True, output="\n".join(lines) or "no matches", data={"path": path})
    if name == "finish":
        return ToolResult(ok=True, output=args["answer"])
    raise WorkspaceError(f"unknown tool {name!r}")
