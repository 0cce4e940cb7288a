"""Realtime topics owned by the portal itself.

- ``hud``: live counters of the HUD dashboard (public; buffered).
- ``content``: content mirror changes from Directus (public; buffered), so open pages
  can refresh what changed.
"""

from __future__ import annotations

from portal.realtime import register_topic

HUD = "hud"
CONTENT = "content"

register_topic(HUD, public=True)
register_topic(CONTENT, public=True)
