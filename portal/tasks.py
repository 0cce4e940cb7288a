"""The portal's own background work: refreshing the HUD's live widgets."""

from __future__ import annotations

from datetime import timedelta

from portal.jobs import periodic


@periodic(every=timedelta(seconds=10), name="portal.hud_refresh")
def hud_refresh() -> None:
    """Push every HUD widget (throttled), so counts that change without a notification
    (sandbox launches, contributions, the job queue) stay live."""
    from portal.hud.publishing import hud_publish_all

    hud_publish_all()
