"""The lifecycle on the Docker backend, reconciliation by label, least-loaded scheduling."""

from __future__ import annotations

from typing import Any

import pytest

from portal.jobs.testing import run_pending_jobs
from sandboxes.backends import backend_get
from sandboxes.backends.base import BackendError, LaunchSpec
from sandboxes.backends.docker import DockerBackend
from sandboxes.models import Recipe, SandboxState
from sandboxes.services import sandbox_exec, sandbox_launch, sandbox_stop, sandboxes_reconcile
from sandboxes.services.lifecycle import sandbox_handle

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def python_recipe(shell_recipe: Any, docker_image: str) -> Recipe:
    recipe = Recipe.objects.get(slug="python")
    version = recipe.latest
    version.docker_image = docker_image
    version.default_command = ""
    version.save()
    return recipe


def test_docker_sandbox_runs_execs_stops_and_is_reconciled(
    maintainer: Any, python_recipe: Recipe, docker_image: str
) -> None:
    sandbox = sandbox_launch(user=maintainer, recipe=python_recipe, backend="docker")
    run_pending_jobs()
    sandbox.refresh_from_db()
    assert sandbox.state == SandboxState.RUNNING, sandbox.reason
    result = sandbox_exec(user=maintainer, sandbox=sandbox, command="python3 -c 'print(6*7)'")
    assert result.output == b"42\n"
    backend = backend_get("docker")
    stray = backend.launch(LaunchSpec(sandbox_id="straydocker0001", image=docker_image))
    counts = sandboxes_reconcile()
    assert counts["removed"] >= 1
    assert backend.status(stray).state == "missing"
    sandbox.refresh_from_db()
    assert sandbox.state == SandboxState.RUNNING  # the known one is left alone
    sandbox_stop(actor=maintainer, sandbox=sandbox)
    assert backend.status(sandbox_handle(sandbox)).state == "exited"


def test_scheduler_picks_the_least_loaded_host_with_capacity(monkeypatch: Any) -> None:
    backend = DockerBackend(
        hosts=["unix:///a.sock", "unix:///b.sock", "unix:///c.sock"], capacity_per_host=3
    )
    loads = {"unix:///a.sock": 2, "unix:///b.sock": 1, "unix:///c.sock": 3}
    monkeypatch.setattr(backend, "_running_on", lambda host: loads[host])
    assert backend.pick_host() == "unix:///b.sock"
    loads["unix:///b.sock"] = 3
    assert backend.pick_host() == "unix:///a.sock"
    loads["unix:///a.sock"] = 3
    with pytest.raises(BackendError, match="full"):
        backend.pick_host()
