"""The task registry: ``@task`` and ``@periodic`` declare work that workers can run.

Tasks are registered by name when their module is imported; workers import every
installed app's ``tasks`` module (``jobs_autodiscover``) so the names stored in ``Job``
rows can be resolved to functions.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ImproperlyConfigured

DEFAULT_MAX_ATTEMPTS = 5
DEFAULT_BACKOFF_SECONDS = 10.0

_lock = threading.Lock()
_tasks: dict[str, Task] = {}
_periodics: dict[str, Periodic] = {}
_discovered = False


class Task:
    """A registered function that can run now (call it) or in a worker (``enqueue``)."""

    def __init__(
        self,
        fn: Callable[..., Any],
        *,
        name: str,
        max_attempts: int,
        backoff_seconds: float,
    ) -> None:
        if max_attempts < 1:
            raise ImproperlyConfigured(f"task {name!r}: max_attempts must be at least 1")
        if backoff_seconds < 0:
            raise ImproperlyConfigured(f"task {name!r}: backoff_seconds must not be negative")
        self.fn = fn
        self.name = name
        self.max_attempts = max_attempts
        self.backoff_seconds = backoff_seconds
        functools.update_wrapper(self, fn)

    def __call__(self, **kwargs: Any) -> Any:
        return self.fn(**kwargs)

    def __repr__(self) -> str:
        return f"<Task {self.name}>"

    def enqueue(
        self,
        *,
        _run_after: datetime | None = None,
        _unique_key: str | None = None,
        _priority: int = 0,
        **kwargs: Any,
    ) -> int:
        """Insert a Job row in the caller's transaction; returns its id.

        With ``_unique_key``, at most one queued or running job holds the key: enqueuing
        again returns the id of the job already waiting instead of adding a second one.
        """
        from portal.jobs.services import job_enqueue

        return job_enqueue(
            name=self.name,
            args=kwargs,
            max_attempts=self.max_attempts,
            run_after=_run_after,
            unique_key=_unique_key,
            priority=_priority,
        )


@dataclass(frozen=True)
class Periodic:
    """A schedule declared in code; its state lives in ``JobSchedule`` rows."""

    name: str
    every: timedelta

    @property
    def interval_seconds(self) -> int:
        return max(1, int(self.every.total_seconds()))


def _register(task_obj: Task) -> None:
    with _lock:
        existing = _tasks.get(task_obj.name)
        if existing is not None and _qualname(existing.fn) != _qualname(task_obj.fn):
            raise ImproperlyConfigured(
                f"task name {task_obj.name!r} is used by both {_qualname(existing.fn)} "
                f"and {_qualname(task_obj.fn)}"
            )
        # Re-registering the same function (a module imported twice) replaces it.
        _tasks[task_obj.name] = task_obj


def _qualname(fn: Callable[..., Any]) -> str:
    return f"{fn.__module__}.{fn.__qualname__}"


def task(
    *,
    name: str,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    backoff_seconds: float = DEFAULT_BACKOFF_SECONDS,
) -> Callable[[Callable[..., Any]], Task]:
    """Register a function taking JSON-able keyword arguments as a background task."""

    def decorate(fn: Callable[..., Any]) -> Task:
        task_obj = Task(fn, name=name, max_attempts=max_attempts, backoff_seconds=backoff_seconds)
        _register(task_obj)
        return task_obj

    return decorate


def periodic(
    *,
    every: timedelta,
    name: str,
    max_attempts: int = 1,
    backoff_seconds: float = DEFAULT_BACKOFF_SECONDS,
) -> Callable[[Callable[..., Any]], Task]:
    """Register a no-argument function to be enqueued once per ``every`` across all workers.

    A failed run is not retried by default (``max_attempts=1``): the next interval runs it
    again anyway.
    """
    if every.total_seconds() < 1:
        raise ImproperlyConfigured(f"periodic {name!r}: every must be at least one second")

    def decorate(fn: Callable[..., Any]) -> Task:
        task_obj = Task(fn, name=name, max_attempts=max_attempts, backoff_seconds=backoff_seconds)
        _register(task_obj)
        with _lock:
            _periodics[name] = Periodic(name=name, every=every)
        return task_obj

    return decorate


def task_get(name: str) -> Task | None:
    return _tasks.get(name)


def tasks_registered() -> dict[str, Task]:
    return dict(_tasks)


def periodics_registered() -> dict[str, Periodic]:
    return dict(_periodics)


def jobs_autodiscover() -> None:
    """Import ``<app>.tasks`` for every installed app (once per process)."""
    global _discovered
    if _discovered:
        return
    from django.utils.module_loading import autodiscover_modules

    import portal.jobs.builtin  # noqa: F401  (the runner's own housekeeping)

    autodiscover_modules("tasks")
    _discovered = True
