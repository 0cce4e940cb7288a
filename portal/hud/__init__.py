"""The HUD: live widgets of the whole community's activity on ``/hud/``.

Each widget is a function of the viewer returning JSON-able data (``widgets.WIDGETS``);
``/hud/api/<widget>/`` serves one, and ``hud_notify(widget)`` pushes it on the public
``hud`` topic at most once per second per widget (public widgets carry their data,
the others only a "changed" ping so signed-in viewers re-fetch what they may see).
"""

from portal.hud.publishing import hud_notify

__all__ = ["hud_notify"]
