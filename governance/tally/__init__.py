"""Pure tally functions, one module per voting method (no Django imports).

Every function takes ``Ballot(choice, weight)`` items and returns a frozen result with
``as_dict()`` for JSON; each module documents its deterministic tie-break.
"""

from governance.tally.binary import BinaryResult, binary_validate, tally_binary
from governance.tally.choice import (
    NONE_OF_THE_ABOVE,
    choice_validate,
    tally_approval,
    tally_choice,
)
from governance.tally.consensus import ConsensusResult, objection_validate, tally_lazy_consensus
from governance.tally.quadratic import quadratic_cost, quadratic_validate, tally_quadratic
from governance.tally.ranked import (
    IrvResult,
    SchulzeResult,
    ranking_validate,
    tally_irv,
    tally_schulze,
)
from governance.tally.ranking import RankingResult
from governance.tally.score import score_validate, tally_score
from governance.tally.types import Ballot, InvalidBallot, MajorityRule, Quorum, Weight

__all__ = [
    "NONE_OF_THE_ABOVE",
    "Ballot",
    "BinaryResult",
    "ConsensusResult",
    "InvalidBallot",
    "IrvResult",
    "MajorityRule",
    "Quorum",
    "RankingResult",
    "SchulzeResult",
    "Weight",
    "binary_validate",
    "choice_validate",
    "objection_validate",
    "quadratic_cost",
    "quadratic_validate",
    "ranking_validate",
    "score_validate",
    "tally_approval",
    "tally_binary",
    "tally_choice",
    "tally_irv",
    "tally_lazy_consensus",
    "tally_quadratic",
    "tally_schulze",
    "tally_score",
]
