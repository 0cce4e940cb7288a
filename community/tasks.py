"""Background jobs: closing epochs when they end (and opening the next month's)."""

from __future__ import annotations

import logging
from datetime import timedelta

from community.services.epochs import epochs_tick
from portal.jobs import periodic

logger = logging.getLogger(__name__)


@periodic(every=timedelta(minutes=15), name="community.epochs_tick")
def community_epochs_tick() -> None:
    """Close every open epoch past its end; roll a monthly successor."""
    closed = epochs_tick()
    if closed:
        logger.info("closed epochs %s", closed)
