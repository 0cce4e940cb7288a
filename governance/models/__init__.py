"""Governance models, split by concern and re-exported here (meetings add a module)."""

from governance.models.choices import (
    CLOSED_STATUSES,
    Category,
    Disposition,
    MajorityBase,
    MajorityKind,
    Method,
    PollStatus,
    ProposalStatus,
    SignoffStatus,
    Visibility,
    VoteOpener,
    Weighting,
)
from governance.models.delegation import Delegation
from governance.models.polls import Ballot, EligibleVoter, Participation, Poll, PollOption
from governance.models.proposals import (
    CategorySettings,
    Comment,
    CommentEdit,
    Proposal,
    ProposalRevision,
    ProposalSecond,
    Reaction,
    Tag,
)
from governance.models.signoff import Concern, Signoff, SignoffProcess

CLOSED_STATUSES_VALUES = tuple(s.value for s in CLOSED_STATUSES)

__all__ = [
    "CLOSED_STATUSES",
    "CLOSED_STATUSES_VALUES",
    "Ballot",
    "Category",
    "CategorySettings",
    "Comment",
    "CommentEdit",
    "Concern",
    "Delegation",
    "Disposition",
    "EligibleVoter",
    "MajorityBase",
    "MajorityKind",
    "Method",
    "Participation",
    "Poll",
    "PollOption",
    "PollStatus",
    "Proposal",
    "ProposalRevision",
    "ProposalSecond",
    "ProposalStatus",
    "Reaction",
    "Signoff",
    "SignoffProcess",
    "SignoffStatus",
    "Tag",
    "Visibility",
    "VoteOpener",
    "Weighting",
]
