"""Fixtures for the sandbox suites: real backends in throwaway places."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from sandboxes.backends.base import Handle, LaunchSpec, Limits, SandboxBackend
from sandboxes.builtin import IMAGES

TEST_IMAGE = "agora-sandbox/python:1"


@pytest.fixture(scope="session")
def sandbox_root() -> Iterator[Path]:
    # Not pytest's tmp_path: its parents are 0700 and the sandbox uid must traverse them.
    path = Path(tempfile.mkdtemp(prefix="agora-sbx-test-"))
    path.chmod(0o711)
    yield path
    from sandboxes.backends.bubblewrap import BubblewrapBackend

    backend = BubblewrapBackend(root=path)
    for handle in backend.list_by_label():
        backend.remove(handle)
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def docker_host() -> str:
    host = os.environ.get("AGORA_TEST_DOCKER_HOST")
    if not host:
        pytest.skip("AGORA_TEST_DOCKER_HOST is not set (make test starts a private dockerd)")
    import docker

    # The socket appears before the engine answers: wait for it (bounded).
    deadline = time.monotonic() + 60
    while True:
        try:
            docker.DockerClient(base_url=host, timeout=5).ping()
            return host
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


@pytest.fixture(scope="session")
def docker_image(docker_host: str) -> str:
    """The Python recipe's image, built locally (debootstrap tarball cached across runs)."""
    from django.conf import settings

    from sandboxes.images import docker_image_build

    docker_image_build(
        tag=TEST_IMAGE,
        packages=IMAGES[TEST_IMAGE],
        hosts=[docker_host],
        cache_dir=settings.SANDBOX_IMAGE_CACHE,
        mirror=settings.SANDBOX_DEBIAN_MIRROR,
        say=lambda _msg: None,
    )
    return TEST_IMAGE


@pytest.fixture(params=["bubblewrap", "docker"])
def backend_kind(request: Any) -> str:
    return str(request.param)


@pytest.fixture
def any_backend(request: Any, backend_kind: str, sandbox_root: Path) -> SandboxBackend:
    if backend_kind == "docker":
        from sandboxes.backends.docker import DockerBackend

        request.getfixturevalue("docker_image")
        return DockerBackend(hosts=[request.getfixturevalue("docker_host")])
    from sandboxes.backends.bubblewrap import BubblewrapBackend

    return BubblewrapBackend(root=sandbox_root)


@pytest.fixture
def launch(any_backend: SandboxBackend, backend_kind: str) -> Iterator[Callable[..., Handle]]:
    """``launch(**limits)`` starts a sandbox on the backend under test; all are removed after."""
    handles: list[Handle] = []

    def start(
        shell: tuple[str, ...] = ("/bin/bash", "-i"), setup: tuple[str, ...] = (), **limits: Any
    ) -> Handle:
        spec = LaunchSpec(
            sandbox_id=f"t{os.getpid()}-{len(handles)}-{os.urandom(3).hex()}",
            limits=Limits(**limits),
            image=TEST_IMAGE if backend_kind == "docker" else "",
            shell=shell,
            setup=setup,
        )
        handle = any_backend.launch(spec)
        handles.append(handle)
        return handle

    yield start
    for handle in handles:
        any_backend.remove(handle)


@pytest.fixture(autouse=True)
def _sandbox_settings(settings: Any, sandbox_root: Path) -> None:
    """Service tests launch real bubblewrap sandboxes under a throwaway root."""
    settings.SANDBOX_ROOT = sandbox_root
    settings.SANDBOX_BACKENDS = ["bubblewrap", "docker"]
    settings.DOCKER_HOSTS = [h for h in [os.environ.get("AGORA_TEST_DOCKER_HOST", "")] if h]


@pytest.fixture
def shell_recipe(db: Any) -> Any:
    from sandboxes.models import Recipe
    from sandboxes.services import recipes_builtin_install

    recipes_builtin_install()  # transactional tests flush the data migration's rows
    return Recipe.objects.get(slug="shell")


@pytest.fixture
def launched(maintainer: Any, shell_recipe: Any) -> Iterator[Any]:
    """A running bubblewrap sandbox owned by ``maintainer`` (stopped afterwards)."""
    from portal.jobs.testing import run_pending_jobs
    from sandboxes.services import sandbox_launch, sandbox_stop

    sandbox = sandbox_launch(user=maintainer, recipe=shell_recipe, backend="bubblewrap")
    run_pending_jobs()
    sandbox.refresh_from_db()
    assert sandbox.state == "running", sandbox.reason
    yield sandbox
    sandbox_stop(actor=None, sandbox=sandbox)
