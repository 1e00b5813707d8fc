"""Value sets stored in rows. The GraphQL layer exposes the same enums."""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    """Membership role; each includes the rights of the roles below it."""

    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"
    VIEWER = "viewer"

    @property
    def rank(self) -> int:
        return _ROLE_RANK[self]


_ROLE_RANK = {Role.VIEWER: 0, Role.MEMBER: 1, Role.ADMIN: 2, Role.OWNER: 3}


class AccountStatus(enum.StrEnum):
    # pipeline
    NEW = "new"
    INITIATED = "initiated"
    ENGAGED = "engaged"
    QUALIFIED = "qualified"
    CUSTOMER = "customer"
    LOST = "lost"
    CHURNED = "churned"
    # relationship
    PARTNER = "partner"
    SUPPLIER = "supplier"
    INVESTOR = "investor"
    PRESS = "press"
    ANALYST = "analyst"
    CANDIDATE = "candidate"
    # protection
    COMPETITOR = "competitor"
    PERSONAL_NETWORK = "personal_network"
    DO_NOT_CONTACT = "do_not_contact"


class StatusSource(enum.StrEnum):
    """What moved an account's status."""

    MANUAL = "manual"
    CONVERSATION = "conversation"
    IMPORT = "import"
    API = "api"


class RoleKind(enum.StrEnum):
    BUYER = "buyer"
    JOURNALIST = "journalist"
    CANDIDATE = "candidate"
    INVESTOR = "investor"
    PARTNER = "partner"
    INFLUENCER = "influencer"
    OTHER = "other"


class PersonaStatus(enum.StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"


class CampaignStatus(enum.StrEnum):
    DRAFT = "draft"
    ICP_DEFINITION = "icp_definition"
    DATABASE_CONFIG = "database_config"
    SCORING = "scoring"
    OUTREACH = "outreach"
    ACTIVE = "active"
    PAUSED = "paused"
    COMPLETED = "completed"


class ScoringStatus(enum.StrEnum):
    IDLE = "idle"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"


class ScoringItemState(enum.StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


class ReviewStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class OutreachStatus(enum.StrEnum):
    NOT_STARTED = "not_started"
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    SENT = "sent"
    BOUNCED = "bounced"
    RESPONDED = "responded"


class Band(enum.StrEnum):
    MISMATCH = "mismatch"
    MODERATE = "moderate"
    EXCELLENT = "excellent"


class Direction(enum.StrEnum):
    OUTBOUND = "outbound"
    INBOUND = "inbound"


class Channel(enum.StrEnum):
    EMAIL = "email"
    LINKEDIN = "linkedin"
    PHONE_CALL = "phone_call"
    SMS = "sms"
    WHATSAPP = "whatsapp"
    INSTAGRAM = "instagram"
    TWITTER_X = "twitter_x"
    OTHER = "other"


class MessageStatus(enum.StrEnum):
    DRAFT = "draft"
    SENT = "sent"


class MessageMode(enum.StrEnum):
    AI_DRAFT = "ai_draft"
    AI_CONTINUE = "ai_continue"
    TYPE_AND_TRANSLATE = "type_and_translate"
    LOG_SENT = "log_sent"
    PASTE_INBOUND = "paste_inbound"


class CallOutcome(enum.StrEnum):
    CONNECTED = "connected"
    VOICEMAIL = "voicemail"
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    FAILED = "failed"
    MEETING_BOOKED = "meeting_booked"


class ExpenseKind(enum.StrEnum):
    GOOGLE_ADS = "google_ads"
    META_ADS = "meta_ads"
    LINKEDIN_ADS = "linkedin_ads"
    OTHER_ADS = "other_ads"
    AGENCY = "agency"
    LABOR = "labor"
    SOFTWARE = "software"
    CONTENT = "content"
    EVENT = "event"
    OTHER = "other"


class UsageOperation(enum.StrEnum):
    SCORE = "score"
    PERSONA = "persona"
    DRAFT = "draft"
    TRANSLATE = "translate"
    CLASSIFY = "classify"
    SIGNALS = "signals"


class SignalStatus(enum.StrEnum):
    """A signal a person wrote is confirmed; one a language model read is proposed until a person decides."""

    PROPOSED = "proposed"
    CONFIRMED = "confirmed"
    DISMISSED = "dismissed"


class ImportStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"


class AudienceSyncStatus(enum.StrEnum):
    """A campaign audience sync: waiting for a worker, filling the campaign, done, or stopped by an error."""

    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"


class ImportOrigin(enum.StrEnum):
    """How an import job's file arrived."""

    UPLOAD = "upload"
    EMAIL = "email"


class SuppressionKind(enum.StrEnum):
    """What a suppression entry matches: one e-mail address, one phone number, or every address of a domain."""

    EMAIL = "email"
    PHONE = "phone"
    DOMAIN = "domain"


class SuppressionSource(enum.StrEnum):
    """What added a suppression entry (stored as its value in ``Suppression.source``)."""

    MANUAL = "manual"  # a person, through addSuppressions
    UNSUBSCRIBE = "unsubscribe"  # an unsubscribe link or an unsubscribe reply
    BOUNCE = "bounce"  # a permanent delivery failure
    IMPORT = "import"  # a file or an integration that brings a suppression list
    ERASURE = "erasure"  # erased on request (deleteAccounts / deleteContact with suppress)
    OTHER = "other"  # anything else (a plugin's own source): shown as such


class CampaignType(enum.StrEnum):
    """A campaign's cadence: one step, or ordered follow-up steps."""

    ONE_TIME = "one_time"
    FOLLOW_UP = "follow_up"


class ExecutionMode(enum.StrEnum):
    """When a live campaign starts reaching out."""

    MANUAL = "manual"
    SCHEDULED = "scheduled"
    ON_ADD = "on_add"


class Eligibility(enum.StrEnum):
    """Which rows of a campaign outreach is planned for."""

    APPROVED_ONLY = "approved_only"
    ALL = "all"


class Weekday(enum.StrEnum):
    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"

    @property
    def number(self) -> int:
        """Monday 0 … Sunday 6, as `datetime.weekday()`."""
        return list(Weekday).index(self)


class ExecutionState(enum.StrEnum):
    """A campaign's execution, separate from the operator's status hint: going live is one-way."""

    NOT_LIVE = "not_live"
    LIVE = "live"
    PAUSED = "paused"
    STOPPED = "stopped"


class ExecutionStatus(enum.StrEnum):
    """Where a campaign account's outreach plan stands. ``disabled`` and ``campaign_paused`` are shown, never
    stored: they come from the row's flag and the campaign's state."""

    NOT_PLANNED = "not_planned"
    PLANNING = "planning"
    AWAITING_APPROVAL = "awaiting_approval"
    AWAITING_EXECUTION = "awaiting_execution"
    EXECUTING = "executing"
    RESCHEDULED = "rescheduled"
    COMPLETED = "completed"
    MAX_RETRIES = "max_retries"
    DISQUALIFIED = "disqualified"
    DISABLED = "disabled"
    CAMPAIGN_PAUSED = "campaign_paused"


#: Execution statuses after which nothing more is attempted for a row (until it is reset).
FINAL_EXECUTION = frozenset({ExecutionStatus.COMPLETED, ExecutionStatus.MAX_RETRIES, ExecutionStatus.DISQUALIFIED})
#: Execution statuses of a row whose plan is running.
ACTIVE_EXECUTION = frozenset({ExecutionStatus.PLANNING, ExecutionStatus.AWAITING_APPROVAL,
                              ExecutionStatus.AWAITING_EXECUTION, ExecutionStatus.EXECUTING,
                              ExecutionStatus.RESCHEDULED})


class AttemptStatus(enum.StrEnum):
    AWAITING_APPROVAL = "awaiting_approval"
    SCHEDULED = "scheduled"
    EXECUTING = "executing"
    AWAITING_RESULT = "awaiting_result"
    DONE = "done"
    FAILED = "failed"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


#: Attempts not settled yet: the row's next attempt is one of them.
PENDING_ATTEMPTS = frozenset({AttemptStatus.AWAITING_APPROVAL, AttemptStatus.SCHEDULED, AttemptStatus.EXECUTING,
                              AttemptStatus.AWAITING_RESULT})
#: Attempts that did not go out yet: cancelled when a plan stops (one awaiting its result went out, and its result
#: can still be recorded).
UNSENT_ATTEMPTS = frozenset({AttemptStatus.AWAITING_APPROVAL, AttemptStatus.SCHEDULED, AttemptStatus.EXECUTING})


class AttemptOutcome(enum.StrEnum):
    """What an executed attempt came to."""

    SENT = "sent"
    BOUNCED = "bounced"
    CONNECTED = "connected"
    VOICEMAIL = "voicemail"
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    FAILED = "failed"


class RetryOutcome(enum.StrEnum):
    """Outcomes a retry policy may retry on."""

    NO_ANSWER = "no_answer"
    BUSY = "busy"
    VOICEMAIL = "voicemail"
    FAILED = "failed"


class GoalOutcome(enum.StrEnum):
    OPEN = "open"
    ACHIEVED = "achieved"
    LOST = "lost"


class ExecutionAction(enum.StrEnum):
    """What a person does to campaign accounts' plans one by one."""

    DISABLE = "disable"
    ENABLE = "enable"
    RESET = "reset"
    COMPLETE = "complete"
