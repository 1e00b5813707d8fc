"""The Campaign type and the small types it shows (scoring progress, score histogram, audience)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import relay

from outboundql import classifiers, models
from outboundql.channels import links
from outboundql.enums import Role
from outboundql.gql.base import ProjectNode, lazy_class
from outboundql.gql.cadence import Cadence
from outboundql.gql.context import Info
from outboundql.gql.enums import CampaignStatus, ExecutionState, ScoringStatus
from outboundql.gql.errors import ArgumentErrors
from outboundql.gql.execution import (
    ExecutionCount,
    GoalOutcomeCount,
    OutreachAttemptConnection,
    OutreachAttemptFilter,
    execution_counts,
    goal_outcome_counts,
)
from outboundql.gql.expenses import CampaignCosts, Expense
from outboundql.gql.goals import GoalType, goal_type
from outboundql.gql.pagination import CountedConnection
from outboundql.gql.products import Persona, Product
from outboundql.gql.reply_classes import ReplyClass, ReplyClassCount
from outboundql.gql.signals import SignalCount, summary
from outboundql.services import (
    campaign_account_queries,
    campaign_stats,
    execution_queries,
    import_mail,
    inbound_mail,
    inbox,
    reply_classes,
)
from outboundql.services import campaigns as campaigns_service

if TYPE_CHECKING:
    from outboundql.gql.audiences import AudienceSync
    from outboundql.gql.audit import AuditEventConnection, AuditTrailFilter
    from outboundql.gql.campaign_accounts import (
        CampaignAccountConnection,
        CampaignAccountFilter,
        CampaignAccountOrder,
    )
    from outboundql.gql.imports import ColumnMapping
    from outboundql.gql.markets import Market
    from outboundql.gql.scoring import ScoringRun
    from outboundql.gql.users import User

# These modules import this one while they load (their types point back at Campaign), so their names
# are resolved lazily: strawberry.lazy for the annotations, `lazy_class` inside the resolvers.
_CAMPAIGN_ACCOUNTS = "outboundql.gql.campaign_accounts"
_MARKETS = "outboundql.gql.markets"
_IMPORTS = "outboundql.gql.imports"
_SCORING = "outboundql.gql.scoring"
_AUDIENCES = "outboundql.gql.audiences"
AudienceSyncRef = Annotated["AudienceSync", strawberry.lazy(_AUDIENCES)]
CampaignAccountConnectionRef = Annotated["CampaignAccountConnection", strawberry.lazy(_CAMPAIGN_ACCOUNTS)]
CampaignAccountFilterRef = Annotated["CampaignAccountFilter", strawberry.lazy(_CAMPAIGN_ACCOUNTS)]
CampaignAccountOrderRef = Annotated["CampaignAccountOrder", strawberry.lazy(_CAMPAIGN_ACCOUNTS)]
ColumnMappingRef = Annotated["ColumnMapping", strawberry.lazy(_IMPORTS)]
MarketRef = Annotated["Market", strawberry.lazy(_MARKETS)]
ScoringRunRef = Annotated["ScoringRun", strawberry.lazy(_SCORING)]
UserRef = Annotated["User", strawberry.lazy("outboundql.gql.users")]
AuditEventConnectionRef = Annotated["AuditEventConnection", strawberry.lazy("outboundql.gql.audit")]
AuditTrailFilterRef = Annotated["AuditTrailFilter", strawberry.lazy("outboundql.gql.audit")]


@strawberry.type(description="Progress of the scoring job.")
class ScoringProgress:
    done: int
    total: int


@strawberry.type(description="One bar of the fit-score histogram: scores in [from, to), the last bar [9, 10].")
class ScoreBucket:
    from_: float = strawberry.field(name="from")
    to: float
    count: int


@strawberry.type(description="How the campaign reaches its accounts: a saved filter, its market's landscape, or "
                 "accounts added by hand.")
class Audience:
    kind: str = strawberry.field(description="`manual`, `saved_filter` or `market` (the market's filters).")
    saved_filter_id: relay.GlobalID | None
    auto_add: bool = strawberry.field(default=False, description="The campaign fills itself as matching accounts "
                                      "are created, imported or change (through its goal's guardrails).")


@strawberry.type(description="One outbound initiative against a list of accounts, for one product and one goal.")
class Campaign(ProjectNode):
    id: relay.NodeID[int]
    name: str
    slug: str = strawberry.field(description="From the name, unique in the project (collisions get -2, -3…).")
    description: str
    keywords: list[str]
    status: CampaignStatus = strawberry.field(description="Workflow hint set by people; never enforced.")
    scoring_status: ScoringStatus = strawberry.field(
        description="State of the latest scoring run: IDLE before the first, then RUNNING, COMPLETED or FAILED.")
    scoring_error: str | None = strawberry.field(description="Why the last scoring run failed, when it did.")
    communication_language: str | None = strawberry.field(description="Null: inherit from the product.")
    total_accounts: int = strawberry.field(description="Accounts in the campaign (cached counter, exact).")
    scored_accounts: int = strawberry.field(description="Accounts with a fit score for this product and goal.")
    approved_accounts: int = strawberry.field(description="Rows reviewed APPROVED.")
    outreached_accounts: int = strawberry.field(description="Rows whose outreach is SENT, BOUNCED or RESPONDED.")
    responded_accounts: int = strawberry.field(description="Rows whose outreach is RESPONDED.")
    archived_at: datetime | None = strawberry.field(description="Set while archived (hidden from default lists).")
    execution_state: ExecutionState = strawberry.field(
        description="Whether the cadence runs: NOT_LIVE until goLive, then LIVE ⇄ PAUSED; STOPPED once archived.")
    live_at: datetime | None = strawberry.field(description="When the campaign went live.")
    outreach_started_at: datetime | None = strawberry.field(
        description="When planning last began (going live for ON_ADD, startAt for SCHEDULED, startOutreach for "
        "MANUAL).")
    created_at: datetime
    updated_at: datetime
    row: strawberry.Private[models.Campaign]
    node_model = models.Campaign

    @strawberry.field(description="Why this campaign reaches out.")
    def goal(self, info: Info) -> GoalType:
        return goal_type(info, self.row.goal_key)

    @strawberry.field(description="Who created the campaign (null once their account is gone).")
    async def created_by(self, info: Info) -> UserRef | None:
        if self.row.created_by_id is None:
            return None
        row = await info.context.loaders.user_by_id.load(self.row.created_by_id)
        return lazy_class(UserRef).from_model(row) if row else None

    @strawberry.field(description="The campaign's audit trail, newest first: who changed what, when and from "
                      "where. first/last at most OUTBOUNDQL_MAX_PAGE_SIZE.")
    async def audit_events(
        self, info: Info, filter: AuditTrailFilterRef | None = None, first: int | None = None,
        after: str | None = None, last: int | None = None, before: str | None = None,
    ) -> AuditEventConnectionRef:
        from outboundql.gql.audit import resolve_audit_events, to_filter

        return await resolve_audit_events(info, self.row.project_id, to_filter(filter, (("Campaign", self.row.id),)),
                                          first=first, after=after, last=last, before=before)

    @strawberry.field(description="Accounts processed / in the work set of the latest scoring run.")
    def scoring_progress(self) -> ScoringProgress:
        return ScoringProgress(done=self.row.scoring_done, total=self.row.scoring_total)

    @strawberry.field(description="The most recent scoring runs, newest first (at most 50).")
    async def scoring_runs(self, info: Info, limit: int = 10) -> list[ScoringRunRef]:
        scoring_run: type[ScoringRun] = lazy_class(ScoringRunRef)
        rows = await info.context.loaders.scoring_runs_by_campaign_id.load(self.row.id)
        return [scoring_run.from_model(r) for r in rows[:max(0, min(limit, 50))]]

    @strawberry.field(description="responded / outreached; 0 when nothing was sent.")
    def response_rate(self) -> float:
        return campaign_stats.response_rate(self.row)

    @strawberry.field
    async def product(self, info: Info) -> Product:
        return Product.from_model(await info.context.loaders.product_by_id.load(self.row.product_id))

    @strawberry.field(description="The persona of (product, goal): this campaign's ICP. Read-only here.")
    async def icp(self, info: Info) -> Persona | None:
        rows = await info.context.loaders.personas_by_product_id.load(self.row.product_id)
        return next((Persona.from_model(p) for p in rows if p.goal_key == self.row.goal_key), None)

    @strawberry.field(description="The language generated text uses: the campaign's, else the product's, "
                      "else yours, else English.")
    async def effective_language(self, info: Info) -> str:
        product = await info.context.loaders.product_by_id.load(self.row.product_id)
        return campaigns_service.effective_language(self.row, product, info.context.access.user)

    @strawberry.field
    async def market(self, info: Info) -> MarketRef | None:
        if self.row.market_id is None:
            return None
        row = await info.context.loaders.market_by_id.load(self.row.market_id)
        return lazy_class(MarketRef).from_model(row) if row else None

    @strawberry.field(description="How outreach is planned and executed: steps, window, retry policy, execution "
                      "mode, review and eligibility (the defaults until updateCadence changes them).")
    def cadence(self) -> Cadence:
        return Cadence.from_stored(self.row.cadence)

    @strawberry.field
    def audience(self) -> Audience:
        config = self.row.audience_config or {}
        filter_id = config.get("filter_id")
        return Audience(kind=config.get("kind", "manual"),
                        saved_filter_id=relay.GlobalID("SavedFilter", str(filter_id)) if filter_id else None,
                        auto_add=bool(config.get("auto_add")))

    @strawberry.field(description="The most recent fillings from the audience, newest first (at most 20).")
    async def audience_syncs(self, info: Info, limit: int = 5) -> list[AudienceSyncRef]:
        audience_sync: type[AudienceSync] = lazy_class(AudienceSyncRef)
        rows = await info.context.loaders.audience_syncs_by_campaign_limit.load((self.row.id, max(0, min(limit, 20))))
        return [audience_sync.from_model(r) for r in rows]

    @strawberry.field(description="Accounts whose only score for this product is under another goal: "
                      "rescore to refresh them.")
    def stale_score_count(self) -> int:
        return self.row.stale_score_count

    @strawberry.field(description="Histogram of this goal's fit scores of the campaign's accounts, 10 buckets.")
    def score_distribution(self) -> list[ScoreBucket]:
        counts = campaign_stats.score_distribution(self.row)
        return [ScoreBucket(from_=float(i), to=float(i + 1), count=counts[i]) for i in range(10)]

    @strawberry.field(description="The campaign's accounts, filtered and sorted (default: effective score, "
                      "best first); "
                      "first/last at most OUTBOUNDQL_MAX_PAGE_SIZE (100 by default; more is a PAGE_TOO_LARGE "
                      "error), a full page when neither is given.")
    async def accounts(
        self, info: Info, filter: CampaignAccountFilterRef | None = None,
        order_by: CampaignAccountOrderRef | None = None, first: int | None = None, after: str | None = None,
        last: int | None = None, before: str | None = None,
    ) -> CampaignAccountConnectionRef:
        command = filter.to_command() if filter else None
        rows = campaign_account_queries.campaign_accounts(
            self.row, command, *(order_by.to_ordering() if order_by else ()))
        connection: type[CampaignAccountConnection] = lazy_class(CampaignAccountConnectionRef)
        info.context.loaders.campaign_by_id.prime(self.row.id, self.row)  # the rows' `campaign` and `aiScore`
        unfiltered = command is None or command == campaign_account_queries.CampaignAccountsFilter()
        return await connection.page(rows, info, first=first, after=after, last=last, before=before,
                                     total=self.row.total_accounts if unfiltered else None)

    @strawberry.field(description="The campaign's accounts by execution status as shown (DISABLED and "
                      "CAMPAIGN_PAUSED included), one entry per status that has accounts.")
    async def execution_counts(self, info: Info) -> list[ExecutionCount]:
        return execution_counts(await info.context.loaders.execution_tally_by_campaign.load(self.row))

    @strawberry.field(description="The campaign's accounts by goal outcome, one entry per outcome that has accounts.")
    async def goal_outcome_counts(self, info: Info) -> list[GoalOutcomeCount]:
        return goal_outcome_counts(await info.context.loaders.execution_tally_by_campaign.load(self.row))

    @strawberry.field(description="Outreach attempts of the campaign, planned and made, by due time then id; the "
                      "review queue is `filter: { statuses: [AWAITING_APPROVAL] }`. first/last at most "
                      "OUTBOUNDQL_MAX_PAGE_SIZE.", extensions=[ArgumentErrors()])
    async def attempts(
        self, info: Info, filter: OutreachAttemptFilter | None = None, first: int | None = None,
        after: str | None = None, last: int | None = None, before: str | None = None,
    ) -> OutreachAttemptConnection:
        rows = execution_queries.campaign_attempts(self.row.id, filter.to_command() if filter else None)
        return await OutreachAttemptConnection.page(rows, info, first=first, after=after, last=last, before=before)

    @strawberry.field(description="Money spent on this campaign, most recent first.")
    async def expenses(self, info: Info) -> list[Expense]:
        return [Expense.from_model(e) for e in await info.context.loaders.expenses_by_campaign_id.load(self.row.id)]

    @strawberry.field(description="What outcomes cost: totals per currency, cost per outreached, responded and "
                      "customer account (a ratio only when one currency is used, else a reason), and paid API "
                      "usage in USD beside it.")
    async def costs(self, info: Info) -> CampaignCosts:
        return CampaignCosts.from_costs(await info.context.loaders.costs_by_campaign.load(self.row))

    @strawberry.field(description="Threads that need a person, by attention: those awaiting our reply (their "
                      "message came last; most recent first), then those with unsent drafts (newest draft "
                      "first), then conversations we already answered (most recent inbound first). "
                      "first/last at most OUTBOUNDQL_MAX_PAGE_SIZE.")
    async def inbox(self, info: Info, first: int | None = None, after: str | None = None, last: int | None = None,
                    before: str | None = None,
                    classifications: Annotated[list[ReplyClass] | None, strawberry.argument(
                        description="Only threads whose latest classified reply is of one of these classes.")]
                    = None) -> CampaignAccountConnectionRef:
        connection: type[CampaignAccountConnection] = lazy_class(CampaignAccountConnectionRef)
        threads = inbox.inbox(self.row.id, None if classifications is None else [
            classifiers.ReplyClass(c) for c in classifications])
        return await connection.page(threads, info, first=first, after=after, last=last, before=before)

    @strawberry.field(description="How many of the campaign's threads are of each class (that of their latest "
                      "classified reply), for every class that has any, by class.")
    async def reply_class_counts(self, info: Info) -> list[ReplyClassCount]:
        counts = await info.context.loaders.reply_class_counts_by_campaign_id.load(self.row.id)
        return [ReplyClassCount(label=label, count=count) for label, count in counts]

    @strawberry.field(description="Confirmed signals of the campaign's conversations by kind, most first (the "
                      "kinds are its goal's `signalKinds`).")
    async def signal_summary(self, info: Info) -> list[SignalCount]:
        return summary(await info.context.loaders.signal_counts_by_campaign_id.load(self.row.id))

    @strawberry.field(description="The key of the classifier that reads this campaign's replies: the one it names, "
                      "else the default (see `classifiers`).")
    def reply_classifier(self) -> str:
        return self.row.reply_classifier or reply_classes.default_key()

    @strawberry.field(description="Whether a NOT_INTERESTED reply sets its account's goal outcome LOST (its plan "
                      "stops either way); set with `updateCampaign`.")
    def lose_on_not_interested(self) -> bool:
        return self.row.lose_on_not_interested

    @strawberry.field(description="Add new inbound contacts: whether a person not yet in the campaign who calls or "
                      "messages through `inboundUrl` or `inboundEmailAddress` is added when the goal's guardrails "
                      "admit them (default false); set with `updateCampaign`.")
    def add_inbound_contacts(self) -> bool:
        return self.row.add_inbound_contacts

    @strawberry.field(description="Where a provider reports inbound calls and messages for this campaign (POST, signed "
                      "with the `signingSecret` of the project's channel of the message's kind, as result callbacks "
                      "are); null for viewers. A known contact's inbound is logged on their thread; a new person's "
                      "adds them only while `addInboundContacts` is on.")
    def inbound_url(self, info: Info) -> str | None:
        if info.context.access.roles.get(self.row.project_id) in (None, Role.VIEWER):
            return None
        return links.url(links.INBOUND, self.row.id)

    @strawberry.field(description="Where people's e-mails reach this campaign as inbound messages (`outboundql "
                      "mail-in` receives it; forward a contact address or a web form's mails to it); null for "
                      "viewers. A known contact's mail is logged on their thread; a new person's adds them only "
                      "while `addInboundContacts` is on.")
    def inbound_email_address(self, info: Info) -> str | None:
        if info.context.access.roles.get(self.row.project_id) in (None, Role.VIEWER):
            return None
        return inbound_mail.inbound_address(self.row.id)

    @strawberry.field(description="The address whose mails (from `importSender`, with a CSV attachment) are imported "
                      "into this campaign; null while importing by e-mail is off, and for viewers. Set with "
                      "`configureCampaignImport`.")
    def import_address(self, info: Info) -> str | None:
        if info.context.access.roles.get(self.row.project_id) in (None, Role.VIEWER):
            return None
        return import_mail.import_address(self.row)

    @strawberry.field(description="The one From address whose mails to `importAddress` are imported.")
    def import_sender(self) -> str | None:
        return self.row.import_sender

    @strawberry.field(description="The column mapping mails to `importAddress` are imported with; empty: guessed "
                      "from each file's headers.")
    def import_mapping(self) -> list[ColumnMappingRef]:
        mapping = lazy_class(ColumnMappingRef)
        return [mapping(column=column, field=key) for column, key in self.row.import_mapping.items()]


@strawberry.type
class CampaignConnection(CountedConnection[Campaign]):
    @classmethod
    def resolve_node(cls, node: models.Campaign, *, info: Info, **kwargs: Any) -> Campaign:
        return Campaign.from_model(node)
