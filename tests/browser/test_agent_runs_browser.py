"""Start a scripted run from the form and watch its steps appear live on the run page."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from portal.jobs.testing import run_pending_jobs
from sandboxes.agents.models import Run, RunState
from sandboxes.agents.services import profiles_shipped_install
from sandboxes.services import recipes_builtin_install
from tests.agents.conftest import in_thread
from tests.sandboxes.conftest import sandbox_root  # noqa: F401  (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

STEPS = [
    {"tool": "write_file", "args": {"path": "hello.py", "content": "print('hello')\n"}},
    {"tool": "shell", "args": {"command": "cat hello.py"}, "say": "Let me look at it."},
    {"finish": "hello.py is in place."},
]


def test_scripted_run_started_in_the_browser_shows_its_steps_live(
    page: Any,
    login: Any,
    maintainer: Any,
    settings: Any,
    sandbox_root: Path,  # noqa: F811
) -> None:
    settings.SANDBOX_ROOT = sandbox_root
    settings.SANDBOX_BACKENDS = ["bubblewrap"]
    recipes_builtin_install()
    profiles_shipped_install()
    login(page, maintainer)
    page.goto("/runs/new/")
    assert page.locator("text=scripted").first.is_visible()
    page.select_option("#id_profile", "fixer")
    page.fill("#id_task", "Put a hello script in place")
    page.select_option("#id_recipe", "shell")
    page.fill("#id_steps", json.dumps(STEPS))
    page.click("button:has-text('Start run')")
    page.wait_for_url("**/runs/*/")
    run = Run.objects.get()
    assert run.provider == "scripted"
    page.wait_for_selector("#run-timeline li[data-type='state']")
    page.wait_for_function(
        "() => document.querySelector('#run-timeline').textContent.includes('queued')"
    )
    page.evaluate("window.__marker = 'not reloaded'")

    in_thread(run_pending_jobs)  # the worker's part, in this process
    run.refresh_from_db()
    assert run.state == RunState.SUCCEEDED, run.reason

    page.wait_for_selector("#run-timeline li[data-type='final']")
    page.wait_for_selector("#run-state:has-text('succeeded')")
    calls = page.locator("details.run-call summary").all_inner_texts()
    assert calls == ["▶ write_file: hello.py", "▶ shell: cat hello.py", "▶ finish"]
    assert "Let me look at it." in page.inner_text("#run-timeline")
    shell_call = page.locator("details.run-call").nth(1)
    assert shell_call.evaluate("d => d.open")  # shown unfolded with its output
    assert "print('hello')" in shell_call.locator("pre.run-term").inner_text()
    shell_call.locator("summary").click()  # collapsible: folds on click
    assert not shell_call.evaluate("d => d.open")
    page.wait_for_selector("#run-artifacts details[data-kind='diff']")
    assert "+print('hello')" in page.inner_text("#run-artifacts")
    assert page.evaluate("window.__marker") == "not reloaded"
    assert page.js_errors == []

    page.goto("/runs/?profile=fixer&state=succeeded")
    assert page.locator("#run-history tbody tr").count() == 1
    assert page.locator("#run-history .run-scripted").text_content() == "scripted"
