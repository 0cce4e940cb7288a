"""When a poll linked to a decision closes, its final result goes into the decision.

Governance closes polls in ``poll_close``; we listen for the saved result rather than
reaching into that service.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver


@receiver(post_save, sender="governance.Poll", dispatch_uid="meetings_poll_closed")
def _poll_saved(sender: Any, instance: Any, update_fields: Any = None, **kwargs: Any) -> None:
    if instance.status != "closed" or instance.result is None:
        return
    if update_fields is not None and "result" not in update_fields:
        return
    from governance.meetings.services import decisions_poll_result_insert

    # Same transaction as the close: the decision and the poll result agree or neither lands.
    decisions_poll_result_insert(poll_id=instance.pk)
