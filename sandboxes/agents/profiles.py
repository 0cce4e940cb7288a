"""Agent profiles: what an agent is for, which tools it may use and its budgets.

Profiles are data. The three shipped here are the defaults a steward-editable, versioned
store starts from (``AgentProfile.as_dict`` / ``from_dict`` round-trip through JSON).
"""

from __future__ import annotations

import shlex
from dataclasses import asdict, dataclass
from typing import Any, Literal

from sandboxes.agents.tools import TOOLS

# What happens to a `shell` command outside the allowlist.
RiskyPolicy = Literal["confirm", "refuse", "allow"]
Decision = Literal["allow", "refuse", "confirm"]

# Tokens that let one command line run another or write files; a command containing any
# of them cannot be vetted by its first words, so it is never "on the allowlist".
_SHELL_OPERATORS = ("`", "$(", "${", "\n")


class UnknownProfile(LookupError):
    pass


@dataclass(frozen=True)
class AgentProfile:
    name: str
    purpose: str
    system_prompt: str
    tools: tuple[str, ...]
    max_steps: int = 30
    max_wall_seconds: int = 15 * 60
    max_tokens: int = 200_000
    model: str = ""  # "" = LLM_MODEL
    shell_allowlist: tuple[str, ...] = ()  # command prefixes, e.g. "git status", "ls"
    risky_policy: RiskyPolicy = "confirm"
    version: int = 1

    def __post_init__(self) -> None:
        unknown = [tool for tool in self.tools if tool not in TOOLS]
        if unknown:
            raise ValueError(f"profile {self.name!r}: unknown tools {unknown}")
        if "finish" not in self.tools:
            raise ValueError(f"profile {self.name!r}: must allow 'finish'")
        if self.max_steps < 1 or self.max_wall_seconds < 1 or self.max_tokens < 1:
            raise ValueError(f"profile {self.name!r}: budgets must be positive")

    def allows(self, tool: str) -> bool:
        return tool in self.tools

    def shell_allowed(self, command: str) -> bool:
        """True when ``command`` is one simple command starting with an allowlisted prefix."""
        if any(op in command for op in _SHELL_OPERATORS):
            return False
        lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        try:
            words = list(lexer)
        except ValueError:  # unbalanced quotes
            return False
        if not words or any(w and all(c in "();<>|&" for c in w) for w in words):
            return False
        if any(w.startswith("--output") for w in words):  # git log/diff/show can write files
            return False
        for entry in self.shell_allowlist:
            prefix = entry.split()
            if words[: len(prefix)] == prefix:
                return True
        return False

    def decide(self, tool: str, args: dict[str, Any]) -> tuple[Decision, str]:
        """Whether a call may run now, needs a human's approval, or is refused (with why)."""
        if not self.allows(tool):
            return "refuse", (
                f"the {self.name} profile does not allow the {tool!r} tool "
                f"(allowed: {', '.join(self.tools)})"
            )
        if tool == "shell" and not self.shell_allowed(args.get("command", "")):
            if self.risky_policy == "refuse":
                return "refuse", (
                    f"the {self.name} profile only runs these read-only commands: "
                    f"{', '.join(self.shell_allowlist)} (one command, no pipes or redirects)"
                )
            if self.risky_policy == "confirm":
                return "confirm", "the command is not on the profile's allowlist"
        return "allow", ""

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["tools"] = list(self.tools)
        data["shell_allowlist"] = list(self.shell_allowlist)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AgentProfile:
        fields = dict(data)
        fields["tools"] = tuple(fields.get("tools", ()))
        fields["shell_allowlist"] = tuple(fields.get("shell_allowlist", ()))
        return cls(**fields)


_READ_ONLY_COMMANDS = (
    "ls", "cat", "head", "tail", "wc", "grep", "stat", "du", "pwd", "diff",
    "git status", "git log", "git diff", "git show", "git ls-files", "git grep", "git blame",
)  # fmt: skip

FIXER = AgentProfile(
    name="fixer",
    purpose="Fix a described problem by running commands and editing files in its sandbox.",
    system_prompt=(
        "You are a careful software engineer working in a sandbox whose files are under "
        "/workspace (use relative paths). Reproduce the problem, make the smallest change "
        "that fixes it, run the relevant tests, then call finish with a short summary of "
        "what you changed and how you verified it. Use one tool call at a time."
    ),
    tools=("shell", "read_file", "write_file", "list_files", "search", "finish"),
    max_steps=40,
    max_wall_seconds=30 * 60,
    max_tokens=400_000,
    shell_allowlist=(
        *_READ_ONLY_COMMANDS,
        "python -m pytest",
        "python3 -m pytest",
        "pytest",
        "make test",
        "npm test",
        "python -m py_compile",
        "python3 -m py_compile",
    ),
    risky_policy="confirm",
)

RESEARCHER = AgentProfile(
    name="researcher",
    purpose="Answer a question about the workspace with read-only tools and write a report.",
    system_prompt=(
        "You are a researcher. Read files, search the workspace and run read-only commands "
        "to answer the task. You cannot change anything. When you know enough, call finish "
        "with a report in Markdown that cites the files you relied on."
    ),
    tools=("read_file", "list_files", "search", "shell", "finish"),
    max_steps=30,
    max_wall_seconds=15 * 60,
    max_tokens=300_000,
    shell_allowlist=_READ_ONLY_COMMANDS,
    risky_policy="refuse",
)

PROMOTER = AgentProfile(
    name="promoter",
    purpose="Draft announcements and summaries into a text artifact; runs no commands.",
    system_prompt=(
        "You draft announcements and summaries for an open-source community. Read the "
        "material in the workspace, write the draft to a Markdown file with write_file, "
        "then call finish with the draft's text. You cannot run commands."
    ),
    tools=("read_file", "list_files", "search", "write_file", "finish"),
    max_steps=15,
    max_wall_seconds=10 * 60,
    max_tokens=150_000,
    risky_policy="refuse",
)

PROFILES: dict[str, AgentProfile] = {p.name: p for p in (FIXER, RESEARCHER, PROMOTER)}


def profile_get(name: str) -> AgentProfile:
    try:
        return PROFILES[name]
    except KeyError:
        raise UnknownProfile(
            f"unknown agent profile {name!r} (profiles: {', '.join(PROFILES)})"
        ) from None
