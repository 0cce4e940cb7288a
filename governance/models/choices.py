"""Choices shared by the governance models."""

from __future__ import annotations

from django.db import models


class Category(models.TextChoices):
    RFC = "rfc", "RFC"
    POLICY = "policy", "Policy"
    BUDGET = "budget", "Budget"
    ELECTION = "election", "Election"
    OTHER = "other", "Other"


class ProposalStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    DISCUSSION = "discussion", "Discussion"
    VOTING = "voting", "Voting"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"
    NO_QUORUM = "no_quorum", "No quorum"
    WITHDRAWN = "withdrawn", "Withdrawn"


CLOSED_STATUSES = (
    ProposalStatus.ACCEPTED,
    ProposalStatus.REJECTED,
    ProposalStatus.NO_QUORUM,
    ProposalStatus.WITHDRAWN,
)


class Method(models.TextChoices):
    YES_NO = "yes_no", "Yes / no / abstain"
    SINGLE = "single", "Single choice"
    MULTIPLE = "multiple", "Multiple choice"
    APPROVAL = "approval", "Approval"
    IRV = "irv", "Ranked: instant-runoff"
    SCHULZE = "schulze", "Ranked: Schulze"
    SCORE = "score", "Score"
    QUADRATIC = "quadratic", "Quadratic"
    LAZY_CONSENSUS = "lazy_consensus", "Lazy consensus"


RANKED_METHODS = (Method.IRV, Method.SCHULZE)
OPTION_METHODS = (
    Method.SINGLE,
    Method.MULTIPLE,
    Method.APPROVAL,
    Method.IRV,
    Method.SCHULZE,
    Method.SCORE,
    Method.QUADRATIC,
)


class PollStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


class Visibility(models.TextChoices):
    NAMED = "named", "Named (who voted what is public)"
    ANONYMOUS = "anonymous", "Anonymous on close"
    SECRET = "secret", "Secret"


class Weighting(models.TextChoices):
    EQUAL = "equal", "One vote per member"
    CONTRIBUTION = "contribution", "Weighted by contribution score"


class MajorityKind(models.TextChoices):
    SIMPLE = "simple", "Simple (more for than against)"
    ABSOLUTE = "absolute", "Absolute (more than half of the base)"
    TWO_THIRDS = "two_thirds", "Two thirds of the base"
    CUSTOM = "custom", "Custom fraction of the base"


class MajorityBase(models.TextChoices):
    VALID = "valid", "Valid votes"
    VALID_ABSTAIN = "valid_abstain", "Valid votes and abstentions"
    ELIGIBLE = "eligible", "All eligible voters"


class VoteOpener(models.TextChoices):
    AUTHOR = "author", "The author"
    MAINTAINER = "maintainer", "A maintainer"
    STEWARD = "steward", "A steward"


class Disposition(models.TextChoices):
    MERGE = "merge", "Merge"
    CLOSE = "close", "Close"
    POSTPONE = "postpone", "Postpone"


class SignoffStatus(models.TextChoices):
    REVIEW = "review", "Awaiting sign-offs"
    FCP = "fcp", "Final comment period"
    DONE = "done", "Disposition taken"
