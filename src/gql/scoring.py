"""Scoring runs: start one, read them, and follow a campaign live."""

from __future__ import annotations

import enum
from collections.abc import AsyncGenerator
from datetime import datetime
from typing import Any

import strawberry
from strawberry import relay

from outboundql import models
from outboundql.errors import NotFound
from outboundql.gql.base import ProjectNode, mutation, pk_of
from outboundql.gql.campaigns import Campaign
from outboundql.gql.context import Info
from outboundql.gql.enums import ScoringStatus
from outboundql.gql.errors import ClientError, UserError, UserErrorCode
from outboundql.gql.loaders import Loaders
from outboundql.gql.permissions import IsAuthenticated
from outboundql.services import events, runtime, scoring_runs

MAX_FAILURES_SHOWN = 100


@strawberry.type(description="An account a run could not score, and why (the run went on without it).")
class ScoringFailure:
    account_id: relay.GlobalID
    error: str


@strawberry.type(description="One scoring job over a campaign's accounts. Its work set is fixed when it starts: "
                 "the accounts with no score for the campaign's product and goal under the current persona "
                 "version (every account when `force`).")
class ScoringRun(ProjectNode):
    id: relay.NodeID[int]
    status: ScoringStatus = strawberry.field(description="RUNNING, then COMPLETED or FAILED.")
    scorer: str = strawberry.field(description="Key of the scorer plugin that scores the run (see `scorers`).")
    force: bool = strawberry.field(description="Rescored accounts whose score was current.")
    language: str = strawberry.field(description="Language of the justifications.")
    persona_version: int = strawberry.field(description="Persona version when the run started.")
    total: int = strawberry.field(description="Accounts in the work set.")
    done: int = strawberry.field(description="Accounts processed so far (scored or failed).")
    failed: int = strawberry.field(description="Accounts the scorer could not score.")
    error: str | None = strawberry.field(description="Why the run failed (or the last error a retry is fixing).")
    created_at: datetime
    finished_at: datetime | None
    row: strawberry.Private[models.ScoringRun]
    node_model = models.ScoringRun

    @strawberry.field(description=f"Accounts that failed, with the reason (at most {MAX_FAILURES_SHOWN}).")
    async def failures(self) -> list[ScoringFailure]:
        return [ScoringFailure(account_id=relay.GlobalID("Account", str(account_id)), error=error)
                for account_id, error in await scoring_runs.failures(self.row.id, MAX_FAILURES_SHOWN)]


@strawberry.input
class ScoreCampaignInput:
    campaign_id: relay.GlobalID
    force: bool = strawberry.field(default=False, description="Rescore accounts whose score is current too.")
    scorer: str | None = strawberry.field(
        default=None, description="Key of an installed scorer for this run (see `scorers`); null: the server's "
        "default (OUTBOUNDQL_SCORER). An unknown key is INVALID, naming the installed ones.")

    def to_command(self) -> scoring_runs.ScoreCampaign:
        return scoring_runs.ScoreCampaign(campaign_id=pk_of(self.campaign_id, "Campaign", "campaign_id"),
                                          force=self.force, scorer=self.scorer)


@strawberry.type
class ScoreCampaignPayload:
    campaign: Campaign | None = None
    run: ScoringRun | None = strawberry.field(
        default=None, description="The run started, or the one already running (then `started` is false).")
    started: bool = False
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(description="Where a campaign's scoring stands.")
class ScoringProgressEvent:
    campaign: Campaign
    run_id: relay.GlobalID = strawberry.field(description="The `ScoringRun` this event is about.")
    status: ScoringStatus
    done: int
    total: int
    failed: int


@strawberry.enum(description="What changed on a campaign.")
class CampaignEventKind(enum.Enum):
    SCORING_PROGRESS = "scoring_progress"
    ACCOUNTS_CHANGED = "accounts_changed"
    CAMPAIGN_UPDATED = "campaign_updated"
    EXECUTION_CHANGED = "execution_changed"
    AUDIENCE_SYNC_PROGRESS = "audience_sync_progress"


@strawberry.type(description="Which rows and attempts an outreach execution change touched (at most 100 of each).")
class ExecutionChange:
    campaign_account_ids: list[relay.GlobalID]
    attempt_ids: list[relay.GlobalID]


@strawberry.type(description="Something a campaign page shows changed; `campaign` is read fresh.")
class CampaignEvent:
    kind: CampaignEventKind
    campaign: Campaign | None = strawberry.field(description="Null if it was deleted since.")
    scoring: ScoringProgressEvent | None = strawberry.field(description="Set for SCORING_PROGRESS.")
    execution: ExecutionChange | None = strawberry.field(
        default=None, description="Set for EXECUTION_CHANGED: going live, pausing, planning, executing, results.")


@strawberry.type(name="Scorer", description="A fit scorer plugin: how accounts get their 0–10 score for a goal. "
                 "Scorers are plugins; keys are stable (stored with every score).")
class ScorerType:
    key: str = strawberry.field(description="Stable key, e.g. `rubric`; what `scoreCampaign(input: {scorer})` takes.")
    label: str = strawberry.field(description="Human name.")
    description: str = strawberry.field(description="How it scores and what it needs.")
    is_default: bool = strawberry.field(
        description="Runs started without a scorer use this one (OUTBOUNDQL_SCORER, or `rubric` when that names "
        "no installed scorer).")
    source: str = strawberry.field(description="`built-in`, or the distribution name and version of the plugin.")
    available: bool = strawberry.field(description="It can score with this server's settings.")
    unavailable_reason: str | None = strawberry.field(
        description="When not available: what the server's settings lack (e.g. the LLM endpoint), else null.")


@strawberry.type
class ScorerQueries:
    @strawberry.field(description="Every installed fit scorer, sorted by key. Needs no authentication.")
    def scorers(self) -> list[ScorerType]:
        registry, settings = runtime.scorers(), runtime.settings()
        default = registry.default_key(settings)
        listed = []
        for entry in registry.all():
            reason = entry.unavailable_reason(settings)
            listed.append(ScorerType(key=entry.key, label=entry.scorer.label, description=entry.scorer.description,
                                     is_default=entry.key == default, source=entry.source,
                                     available=reason is None, unavailable_reason=reason))
        return listed


@strawberry.type
class ScoringMutations:
    @mutation("Score the campaign's accounts in the background: those with no score for its product and goal, or "
              "one made under an older persona version (all of them with `force`; a score attached with "
              "`setExternalScores` counts as current, so only `force` replaces it). Follow it with "
              "`campaignScoringProgress` or by polling `scoringProgress`. A campaign has one run at a time: while "
              "one is running, this returns it with `started: false` and a CONFLICT error.")
    async def score_campaign(self, info: Info, input: ScoreCampaignInput) -> ScoreCampaignPayload:
        result = await scoring_runs.score_campaign(info.context.access, info.context.goals, input.to_command())
        errors = [] if result.started else [UserError(
            code=UserErrorCode.CONFLICT, field="input.campaignId",
            message=f"This campaign is already being scored ({result.run.done}/{result.run.total}); "
                    "wait for that run to end before starting another.")]
        return ScoreCampaignPayload(campaign=Campaign.from_model(result.campaign),
                                    run=ScoringRun.from_model(result.run), started=result.started, errors=errors)


async def _follow(
    info: Info, campaign_id: relay.GlobalID,
) -> AsyncGenerator[tuple[dict[str, Any], models.Campaign | None], None]:
    """Events of one campaign, re-checking the viewer's rights and reading the campaign fresh each time."""
    try:
        pk = pk_of(campaign_id, "Campaign", "campaignId")
        row = await info.context.loaders.campaign_by_id.load(pk)
        if row is None:
            raise NotFound("Campaign", field="campaignId")
        info.context.access.require(row.project_id, what="Campaign", field="campaignId")
    except NotFound as exc:
        raise ClientError(exc.message, "NOT_FOUND") from None
    async for event in events.get_bus().subscribe(events.campaign_channel(row.id)):
        await info.context.recheck()
        info.context.loaders = Loaders()
        try:
            info.context.access.require(row.project_id, what="Campaign")
        except NotFound as exc:
            raise ClientError(exc.message, "NOT_FOUND") from None
        yield event, await info.context.loaders.campaign_by_id.load(row.id)


def _execution(event: dict[str, Any]) -> ExecutionChange:
    return ExecutionChange(
        campaign_account_ids=[relay.GlobalID("CampaignAccount", str(i)) for i in event.get("campaign_account_ids", [])],
        attempt_ids=[relay.GlobalID("OutreachAttempt", str(i)) for i in event.get("attempt_ids", [])])


def _progress(event: dict[str, Any], campaign: models.Campaign) -> ScoringProgressEvent:
    return ScoringProgressEvent(campaign=Campaign.from_model(campaign),
                                run_id=relay.GlobalID("ScoringRun", str(event["run_id"])),
                                status=ScoringStatus(event["status"]),
                                done=int(event["done"]), total=int(event["total"]), failed=int(event["failed"]))


@strawberry.type
class ScoringSubscriptions:
    @strawberry.subscription(permission_classes=[IsAuthenticated],
                             description="Progress of the campaign's scoring, live: an event when a run starts, "
                             "after every batch, and when it ends. Works across processes when Redis is set.")
    async def campaign_scoring_progress(self, info: Info, campaign_id: relay.GlobalID
                                        ) -> AsyncGenerator[ScoringProgressEvent, None]:
        async for event, campaign in _follow(info, campaign_id):
            if campaign is None:
                return
            if event["kind"] == CampaignEventKind.SCORING_PROGRESS.value:
                yield _progress(event, campaign)

    @strawberry.subscription(permission_classes=[IsAuthenticated],
                             description="Any change a campaign page shows, live: scoring progress, accounts "
                             "added, reviewed, removed or moved along, and edits of the campaign.")
    async def campaign_events(self, info: Info, campaign_id: relay.GlobalID) -> AsyncGenerator[CampaignEvent, None]:
        async for event, campaign in _follow(info, campaign_id):
            kind = CampaignEventKind(event["kind"])
            scoring = _progress(event, campaign) if campaign and kind is CampaignEventKind.SCORING_PROGRESS else None
            yield CampaignEvent(kind=kind, campaign=Campaign.from_model(campaign) if campaign else None,
                                scoring=scoring, execution=_execution(event) if kind is
                                CampaignEventKind.EXECUTION_CHANGED else None)
            if campaign is None:
                return
