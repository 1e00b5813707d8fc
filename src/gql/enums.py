"""GraphQL enums, the same value sets as the stored ones (`outboundql.enums`)."""

import enum
from typing import TYPE_CHECKING

import strawberry

from outboundql import enums

if TYPE_CHECKING:
    # `strawberry.enum(cls, ...)` registers the stored enum class and returns that same class; to a type
    # checker a name assigned from a call is a variable, not a type, so it sees the class under its name.
    Role = enums.Role
    CampaignType = enums.CampaignType
    ExecutionMode = enums.ExecutionMode
    Eligibility = enums.Eligibility
    Weekday = enums.Weekday
    RetryOutcome = enums.RetryOutcome
    AccountStatus = enums.AccountStatus
    StatusSource = enums.StatusSource
    RoleKind = enums.RoleKind
    PersonaStatus = enums.PersonaStatus
    CampaignStatus = enums.CampaignStatus
    ScoringStatus = enums.ScoringStatus
    ReviewStatus = enums.ReviewStatus
    OutreachStatus = enums.OutreachStatus
    Band = enums.Band
    MessageDirection = enums.Direction
    Channel = enums.Channel
    MessageStatus = enums.MessageStatus
    MessageMode = enums.MessageMode
    CallOutcome = enums.CallOutcome
    ExpenseKind = enums.ExpenseKind
    UsageOperation = enums.UsageOperation
    ExecutionState = enums.ExecutionState
    ExecutionStatus = enums.ExecutionStatus
    AttemptStatus = enums.AttemptStatus
    AttemptOutcome = enums.AttemptOutcome
    GoalOutcome = enums.GoalOutcome
    ExecutionAction = enums.ExecutionAction
    ImportStatus = enums.ImportStatus
    ImportOrigin = enums.ImportOrigin
    AudienceSyncStatus = enums.AudienceSyncStatus
else:
    Role = strawberry.enum(enums.Role, description="Membership role: OWNER > ADMIN > MEMBER > VIEWER.")
    CampaignType = strawberry.enum(enums.CampaignType,
                                   description="ONE_TIME (one step) or FOLLOW_UP (ordered steps, at most 10).")
    ExecutionMode = strawberry.enum(
        enums.ExecutionMode,
        description="When a live campaign reaches out: MANUAL (on startOutreach), SCHEDULED (from startAt), "
        "ON_ADD (as soon as it is live, and rows added later at once).")
    Eligibility = strawberry.enum(
        enums.Eligibility,
        description="Which rows outreach is planned for: APPROVED_ONLY (reviewed APPROVED) or ALL (every row not "
        "reviewed REJECTED).")
    Weekday = strawberry.enum(enums.Weekday, description="A day of the week, MON…SUN.")
    RetryOutcome = strawberry.enum(enums.RetryOutcome, description="An attempt's outcome a retry policy may retry on.")
    AccountStatus = strawberry.enum(
        enums.AccountStatus,
        description="Pipeline (NEW…CHURNED), relationship (PARTNER…CANDIDATE) or protection "
        "(COMPETITOR, PERSONAL_NETWORK, DO_NOT_CONTACT) status of an account.",
    )
    StatusSource = strawberry.enum(enums.StatusSource, description="What moved an account's status.")
    RoleKind = strawberry.enum(enums.RoleKind, description="What kind of person a contact is to us.")
    PersonaStatus = strawberry.enum(enums.PersonaStatus, description="Approval state of a persona.")
    CampaignStatus = strawberry.enum(enums.CampaignStatus, description="Operator's workflow hint; never enforced.")
    ScoringStatus = strawberry.enum(enums.ScoringStatus, description="State of the background scoring job.")
    ReviewStatus = strawberry.enum(enums.ReviewStatus, description="Whether a person vetted the account.")
    OutreachStatus = strawberry.enum(
        enums.OutreachStatus,
        description="NOT_STARTED → DRAFT → SCHEDULED → SENT → BOUNCED / RESPONDED; only moves forward.",
    )
    Band = strawberry.enum(enums.Band, description="MISMATCH < 5.0 ≤ MODERATE < 8.0 ≤ EXCELLENT.")
    MessageDirection = strawberry.enum(enums.Direction, name="MessageDirection",
                                       description="OUTBOUND (we wrote or called) or INBOUND (they did).")
    Channel = strawberry.enum(enums.Channel, description="How a message travelled.")
    MessageStatus = strawberry.enum(enums.MessageStatus, description="DRAFT (not sent, moves nothing) or SENT.")
    MessageMode = strawberry.enum(
        enums.MessageMode,
        description="How the message came to be: AI_DRAFT (first message), AI_CONTINUE (next in the thread), "
        "TYPE_AND_TRANSLATE, LOG_SENT (sent elsewhere and logged), PASTE_INBOUND.",
    )
    CallOutcome = strawberry.enum(
        enums.CallOutcome,
        description="For calls: CONNECTED, VOICEMAIL, NO_ANSWER, BUSY, FAILED; for any channel: MEETING_BOOKED.",
    )
    ExpenseKind = strawberry.enum(enums.ExpenseKind, description="What the money was spent on.")
    UsageOperation = strawberry.enum(enums.UsageOperation, description="What a paid API call was for.")
    ExecutionState = strawberry.enum(
        enums.ExecutionState,
        description="A campaign's execution: NOT_LIVE → LIVE ⇄ PAUSED; going live is one-way; STOPPED (archived) "
        "never runs again.")
    ExecutionStatus = strawberry.enum(
        enums.ExecutionStatus,
        description="Where a campaign account's outreach plan stands. Final: COMPLETED, MAX_RETRIES, DISQUALIFIED. "
        "Shown, never stored: DISABLED (the row is paused on its own; over any status not final) and "
        "CAMPAIGN_PAUSED (the campaign is paused; over any active status).")
    AttemptStatus = strawberry.enum(
        enums.AttemptStatus,
        description="AWAITING_APPROVAL → SCHEDULED (waits for its due time) → EXECUTING → AWAITING_RESULT → DONE; "
        "or FAILED (delivery failed for good), REJECTED (by review), CANCELLED (the plan stopped).")
    AttemptOutcome = strawberry.enum(enums.AttemptOutcome, description="What an executed attempt came to.")
    GoalOutcome = strawberry.enum(enums.GoalOutcome,
                                  description="Whether a campaign account reached the campaign's goal: OPEN, "
                                  "ACHIEVED or LOST.")
    ExecutionAction = strawberry.enum(
        enums.ExecutionAction,
        description="DISABLE (pause the row's plan), ENABLE, RESET (plan again from the start, history kept), "
        "COMPLETE (nothing more is attempted).")
    ImportStatus = strawberry.enum(enums.ImportStatus,
                                   description="QUEUED → RUNNING → COMPLETED, or FAILED (with the error).")
    ImportOrigin = strawberry.enum(enums.ImportOrigin, description="How an import's file arrived: UPLOAD or EMAIL.")
    AudienceSyncStatus = strawberry.enum(
        enums.AudienceSyncStatus,
        description="QUEUED (a job waits for a worker) → RUNNING → COMPLETED, or FAILED (with the error).")


@strawberry.enum(description="Sort direction.")
class Direction(enum.Enum):
    ASC = "asc"
    DESC = "desc"
