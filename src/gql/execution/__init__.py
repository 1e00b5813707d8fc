"""Execution: running a campaign's cadence, and what it shows.

``types`` (OutreachAttempt, a campaign account's execution, a campaign's counts), ``inputs`` (the attempts
filter and the mutation inputs, each with its service command), ``mutations`` (payloads and
`ExecutionMutations`). Other modules import the names below from this package, or point at it with
``strawberry.lazy("outboundql.gql.execution")``.
"""

from outboundql.gql.execution.inputs import (
    ApproveOutreachInput,
    AttemptEditInput,
    CampaignExecutionInput,
    OutreachAttemptFilter,
    RecordAttemptResultInput,
    RejectOutreachInput,
    SetCampaignAccountExecutionInput,
)
from outboundql.gql.execution.mutations import (
    CampaignExecutionPayload,
    ExecuteApprovedPayload,
    ExecutionMutations,
    OutreachAttemptsPayload,
    RecordAttemptResultPayload,
    SetCampaignAccountExecutionPayload,
)
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
    "ApproveOutreachInput",
    "AttemptEditInput",
    "CampaignAccountExecution",
    "CampaignExecutionInput",
    "CampaignExecutionPayload",
    "ExecuteApprovedPayload",
    "ExecutionCount",
    "ExecutionMutations",
    "GoalOutcomeCount",
    "OutreachAttempt",
    "OutreachAttemptConnection",
    "OutreachAttemptFilter",
    "OutreachAttemptsPayload",
    "RecordAttemptResultInput",
    "RecordAttemptResultPayload",
    "RejectOutreachInput",
    "SetCampaignAccountExecutionInput",
    "SetCampaignAccountExecutionPayload",
    "attempts_of",
    "execution_counts",
    "execution_of",
    "goal_outcome_counts",
]
