"""The shipped profiles and their guardrail decisions."""

from __future__ import annotations

import json

import pytest

from sandboxes.agents.profiles import (
    FIXER,
    PROFILES,
    PROMOTER,
    RESEARCHER,
    AgentProfile,
    UnknownProfile,
    profile_get,
)


def test_three_profiles_ship() -> None:
    assert set(PROFILES) == {"fixer", "researcher", "promoter"}
    assert profile_get("fixer") is FIXER
    with pytest.raises(UnknownProfile, match="unknown agent profile 'hacker'"):
        profile_get("hacker")


def test_researcher_and_promoter_cannot_change_things_freely() -> None:
    assert "write_file" not in RESEARCHER.tools
    assert "shell" not in PROMOTER.tools
    assert PROMOTER.decide("shell", {"command": "ls"})[0] == "refuse"
    assert RESEARCHER.decide("write_file", {"path": "a", "content": ""})[0] == "refuse"


@pytest.mark.parametrize(
    ("command", "allowed"),
    [
        ("ls -la src", True),
        ("git log --oneline -5", True),
        ("grep -rn 'a|b' src", True),
        ("cat README.md", True),
        ("git push", False),
        ("rm -rf .", False),
        ("cat a > b", False),
        ("ls; rm -rf .", False),
        ("ls && rm x", False),
        ("cat $(echo /etc/passwd)", False),
        ("cat `id`", False),
        ("git diff --output=x", False),
        ("FOO=1 ls", False),
        ("cat 'unbalanced", False),
        ("lsblk", False),
    ],
)
def test_researcher_shell_allowlist(command: str, allowed: bool) -> None:
    assert RESEARCHER.shell_allowed(command) is allowed
    decision, reason = RESEARCHER.decide("shell", {"command": command})
    assert decision == ("allow" if allowed else "refuse")
    if not allowed:
        assert "only runs these read-only commands" in reason


def test_fixer_asks_for_confirmation_outside_its_allowlist() -> None:
    assert FIXER.decide("shell", {"command": "python -m pytest -q tests"}) == ("allow", "")
    decision, reason = FIXER.decide("shell", {"command": "pip install requests"})
    assert decision == "confirm"
    assert "allowlist" in reason
    assert FIXER.decide("write_file", {"path": "a", "content": "x"}) == ("allow", "")


def test_profiles_round_trip_through_json() -> None:
    for profile in PROFILES.values():
        assert AgentProfile.from_dict(json.loads(json.dumps(profile.as_dict()))) == profile


def test_profiles_reject_unknown_tools_and_missing_finish() -> None:
    with pytest.raises(ValueError, match="unknown tools"):
        AgentProfile(name="x", purpose="", system_prompt="", tools=("teleport", "finish"))
    with pytest.raises(ValueError, match="must allow 'finish'"):
        AgentProfile(name="x", purpose="", system_prompt="", tools=("shell",))
