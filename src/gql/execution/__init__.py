"""Execution: running a campaign's cadence, and what it shows.

``types`` (OutreachAttempt, a campaign account's execution, a campaign's counts), ``inputs`` (the attempts
filter). Other modules import the names below from this package, or point at it with
``strawberry.lazy("outboundql.gql.execution")``.
"""

from outboundql.gql.execution.inputs import OutreachAttemptFilter
from outboundql.gql.execution.types import (
    CampaignAccountExecution,
    ExecutionCount,
    GoalOutcomeCount,
    OutreachAttempt,
    OutreachAttemptConnection,
    attempts_of,
    execution_counts,
    execution_of,
    goal_outcome_counts,
)

__all__ = [
    "CampaignAccountExecution",
    "ExecutionCount",
    "GoalOutcomeCount",
    "OutreachAttempt",
    "OutreachAttemptConnection",
    "OutreachAttemptFilter",
    "attempts_of",
    "execution_counts",
    "execution_of",
    "goal_outcome_counts",
]
