"""Governance writes: keyword-only ``noun_verb()`` services, re-exported by concern."""

from governance.services.delegation import delegation_remove, delegation_set
from governance.services.polls import (
    poll_close,
    poll_create,
    poll_open,
    poll_update,
    polls_tick,
)
from governance.services.proposals import (
    category_settings_update,
    comment_create,
    comment_edit,
    proposal_create,
    proposal_open_vote,
    proposal_outcome_record,
    proposal_roadmap_task_create,
    proposal_second,
    proposal_submit,
    proposal_update,
    proposal_withdraw,
    reaction_toggle,
)
from governance.services.signoff import (
    concern_raise,
    concern_resolve,
    signoff_mark,
    signoff_remind,
    signoff_start,
    signoffs_tick,
)
from governance.services.voting import CastReceipt, ballot_verify, poll_tally, vote_cast

__all__ = [
    "CastReceipt",
    "ballot_verify",
    "category_settings_update",
    "comment_create",
    "comment_edit",
    "concern_raise",
    "concern_resolve",
    "delegation_remove",
    "delegation_set",
    "poll_close",
    "poll_create",
    "poll_open",
    "poll_tally",
    "poll_update",
    "polls_tick",
    "proposal_create",
    "proposal_open_vote",
    "proposal_outcome_record",
    "proposal_roadmap_task_create",
    "proposal_second",
    "proposal_submit",
    "proposal_update",
    "proposal_withdraw",
    "reaction_toggle",
    "signoff_mark",
    "signoff_remind",
    "signoff_start",
    "signoffs_tick",
    "vote_cast",
]
