"""Pushing widget updates on the public ``hud`` topic, at most once per second per widget.

Throttling is trailing-edge and per process: a change inside the quiet second is sent
when the second is over, so the last state always reaches viewers.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time

from django.db import close_old_connections, connection

logger = logging.getLogger(__name__)

MIN_INTERVAL = 1.0
_lock = threading.Lock()
_last: dict[str, float] = {}
_pending: dict[str, threading.Timer] = {}


def _send(name: str) -> None:
    from portal.hud.widgets import WIDGETS, widget_data
    from portal.realtime import publish
    from portal.topics import HUD

    widget = WIDGETS[name]
    payload = widget_data(widget) if widget.public else {"widget": name, "changed": True}
    publish(HUD, "widget", payload)


def _send_later(name: str) -> None:
    with _lock:
        _pending.pop(name, None)
        _last[name] = time.monotonic()
    try:
        close_old_connections()
        _send(name)
    except Exception:
        logger.warning("HUD: publishing %s failed", name, exc_info=True)
    finally:
        with contextlib.suppress(Exception):
            connection.close()


def hud_notify(name: str) -> None:
    """Tell HUD viewers that widget ``name`` changed (throttled to once per second)."""
    now = time.monotonic()
    with _lock:
        if name in _pending:
            return  # an update is already scheduled; it will read the newest data
        wait = _last.get(name, -MIN_INTERVAL) + MIN_INTERVAL - now
        if wait > 0:
            timer = threading.Timer(wait, _send_later, args=(name,))
            timer.daemon = True
            _pending[name] = timer
            timer.start()
            return
        _last[name] = now
    _send(name)


def hud_publish_all() -> None:
    """Every widget, throttled like any other change (the periodic refresh)."""
    from portal.hud.widgets import WIDGETS

    for name in WIDGETS:
        hud_notify(name)
