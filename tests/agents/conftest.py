"""Fixtures for agent run suites: real bubblewrap sandboxes under a throwaway root,
the shipped profiles, and helpers to start and drive runs."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from portal.models import RealtimeEvent
from sandboxes.agents.models import Run
from sandboxes.agents.services import profiles_shipped_install, run_start
from tests.sandboxes.agents.conftest import FakeLLMServer
from tests.sandboxes.conftest import sandbox_root, shell_recipe  # noqa: F401  (fixtures)


@pytest.fixture(autouse=True)
def _agent_settings(settings: Any, sandbox_root: Path) -> None:  # noqa: F811
    settings.SANDBOX_ROOT = sandbox_root
    settings.SANDBOX_BACKENDS = ["bubblewrap"]
    settings.LLM_BASE_URL = ""


@pytest.fixture
def profiles(db: Any) -> None:
    profiles_shipped_install()  # transactional tests flush the data migration's rows


@pytest.fixture
def recipe(shell_recipe: Any, profiles: None) -> Any:  # noqa: F811
    return shell_recipe


@pytest.fixture
def llm_server() -> Iterator[FakeLLMServer]:
    server = FakeLLMServer()
    try:
        yield server
    finally:
        server.close()


def start(user: Any, recipe: Any, steps: Any, *, profile: str = "fixer", **extra: Any) -> Run:
    return run_start(
        user=user,
        profile=profile,
        task=extra.pop("task", "fix it"),
        recipe=recipe,
        steps=steps,
        **extra,
    )


def events_of(run: Run) -> list[dict[str, Any]]:
    return [
        {"seq": e.seq, "type": e.type, "data": e.data}
        for e in RealtimeEvent.objects.filter(topic=run.topic).order_by("seq")
    ]


def types_of(run: Run) -> list[str]:
    return [e["type"] for e in events_of(run)]


def run_async(coro: Any) -> Any:
    return asyncio.run(coro)


def in_thread(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Call ``fn`` in a fresh thread and return its result.

    Browser tests leave Playwright's event loop registered as running in the main thread,
    and ``publish()`` from a thread with a running loop only schedules the event on that
    loop; a plain thread publishes synchronously, as a worker does.
    """
    import threading

    from django.db import connections

    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["result"] = fn(*args, **kwargs)
        except BaseException as exc:  # handed back to the caller
            box["error"] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box.get("result")
