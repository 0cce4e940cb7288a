"""Community models, split by concern; everything is re-exported here."""

from community.models.badges import Badge, BadgeAward
from community.models.contributions import (
    Contribution,
    ContributionStatus,
    ContributionType,
    GithubDelivery,
    Review,
    ReviewDecision,
    ScoringCategory,
)
from community.models.contributors import Contributor
from community.models.epochs import Allocation, Epoch, EpochMethod, EpochStatus, PeerGive
from community.models.ledger import (
    Account,
    AccountBalance,
    AccountKind,
    Currency,
    Entry,
    LedgerTransaction,
    TransactionSource,
)
from community.models.payouts import Payout, PayoutApproval, PayoutStatus
from community.models.scoring import ScoringPolicy

__all__ = [
    "Account",
    "AccountBalance",
    "AccountKind",
    "Allocation",
    "Badge",
    "BadgeAward",
    "Contribution",
    "ContributionStatus",
    "ContributionType",
    "Contributor",
    "Currency",
    "Entry",
    "Epoch",
    "EpochMethod",
    "EpochStatus",
    "GithubDelivery",
    "LedgerTransaction",
    "Payout",
    "PayoutApproval",
    "PayoutStatus",
    "PeerGive",
    "Review",
    "ReviewDecision",
    "ScoringCategory",
    "ScoringPolicy",
    "TransactionSource",
]
