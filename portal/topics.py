"""Realtime topics owned by the portal itself (``hud``, ``content``…)."""
