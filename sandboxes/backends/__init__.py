"""Sandbox backends behind one interface (``base.SandboxBackend``), chosen by settings.

``SANDBOX_BACKENDS`` lists the enabled backends, the first being the default. Adding a
backend (Kubernetes, see ``sandboxes/KUBERNETES.md``) means one class and one entry in
``BACKEND_FACTORIES``; callers only use ``backend_get(name)``.
"""

from __future__ import annotations

from collections.abc import Callable

from sandboxes.backends.base import BackendError, SandboxBackend

# Django is imported inside the functions: the bubblewrap spawner imports modules of this
# package and must start without it (interpreter start-up is on the first launch's path).


def _bubblewrap() -> SandboxBackend:
    from django.conf import settings

    from sandboxes.backends.bubblewrap import BubblewrapBackend

    return BubblewrapBackend(root=settings.SANDBOX_ROOT)


def _docker() -> SandboxBackend:
    from django.conf import settings

    from sandboxes.backends.docker import DockerBackend

    return DockerBackend(hosts=list(settings.DOCKER_HOSTS))


BACKEND_FACTORIES: dict[str, Callable[[], SandboxBackend]] = {
    "bubblewrap": _bubblewrap,
    "docker": _docker,
}
_cache: dict[tuple[str, str], SandboxBackend] = {}


def backends_enabled() -> list[str]:
    from django.conf import settings

    return [name for name in settings.SANDBOX_BACKENDS if name in BACKEND_FACTORIES]


def backend_get(name: str) -> SandboxBackend:
    """The configured instance of backend ``name`` (cached per configuration)."""
    from django.conf import settings

    if name not in BACKEND_FACTORIES:
        raise BackendError(f"unknown sandbox backend {name!r}")
    key = (name, f"{settings.SANDBOX_ROOT}|{','.join(settings.DOCKER_HOSTS)}")
    if key not in _cache:
        _cache[key] = BACKEND_FACTORIES[name]()
    return _cache[key]
