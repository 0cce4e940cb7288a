"""A maintainer launches a bubblewrap sandbox from the browser and uses its terminal."""

from __future__ import annotations

from typing import Any

import pytest

from portal.jobs.testing import run_pending_jobs
from sandboxes.backends import backend_get
from sandboxes.models import Sandbox
from sandboxes.services import recipes_builtin_install, sandbox_stop
from sandboxes.services.lifecycle import sandbox_handle
from tests.factories import UserFactory


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_launch_type_echo_hi_and_see_the_output(page: Any, login: Any) -> None:
    recipes_builtin_install()
    maintainer = UserFactory(role="maintainer")
    login(page, maintainer)
    page.goto("/sandboxes/")
    page.click("[data-testid=launch-shell]")
    page.wait_for_url("**/sandboxes/*/")
    sandbox = Sandbox.objects.get(owner=maintainer)
    try:
        run_pending_jobs()  # the launch job (a worker runs it in production)
        sandbox.refresh_from_db()
        assert sandbox.state == "running", sandbox.reason
        page.wait_for_selector("#sbx-state:text('running')")
        page.wait_for_selector(".xterm-rows:has-text('sandbox')")  # the prompt
        page.click("[data-testid=terminal]")
        page.keyboard.type("echo hi")
        page.keyboard.press("Enter")
        page.wait_for_function(
            "() => [...document.querySelectorAll('.xterm-rows > div')]"
            ".some((row) => row.textContent.trim() === 'hi')"
        )
        assert page.js_errors == []
    finally:
        sandbox_stop(actor=None, sandbox=sandbox)
        backend_get(sandbox.backend).remove(sandbox_handle(sandbox))  # no workspace left


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_member_sees_no_launch_button(page: Any, login: Any) -> None:
    recipes_builtin_install()
    login(page, UserFactory(role="member"))
    page.goto("/sandboxes/")
    assert page.locator("[data-testid=launch-shell]").count() == 0
    assert page.locator("text=Launching sandboxes needs the maintainer role").count() == 1
