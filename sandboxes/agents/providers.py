"""Which provider a run uses: its step list (scripted) or the configured model endpoint."""

from __future__ import annotations

from typing import Any

from sandboxes.agents.llm import ChatProvider, LLMClient, LLMConfig
from sandboxes.agents.profiles import AgentProfile
from sandboxes.agents.scripted import ScriptedProvider


def provider_build(
    *, profile: AgentProfile, steps: list[dict[str, Any]] | None = None
) -> ChatProvider:
    """A scripted provider when the run has a step list, else the OpenAI-compatible client
    (raises ``LLMError`` kind ``unreachable`` when ``LLM_BASE_URL`` is unset)."""
    if steps is not None:
        return ScriptedProvider(steps)
    return LLMClient(LLMConfig.from_settings(model=profile.model))
