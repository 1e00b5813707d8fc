"""Campaign audiences: fill a campaign from its saved filter or market (see `outboundql.services.audiences`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry import relay

from outboundql import models
from outboundql.goals.guardrails import BlockedGroup
from outboundql.gql.base import ProjectNode, lazy_class, mutation, pk_of
from outboundql.gql.campaign_accounts.types import CampaignRef
from outboundql.gql.context import Info
from outboundql.gql.enums import AudienceSyncStatus
from outboundql.gql.errors import UserError, UserErrorCode
from outboundql.gql.guardrails import BlockedAccounts
from outboundql.services import audiences as service


@strawberry.type(description="Accounts processed of the accounts the audience matched.")
class AudienceSyncProgress:
    done: int
    total: int


def blocked_accounts(groups: list[dict[str, Any]]) -> list[BlockedAccounts]:
    """A sync's refused accounts, grouped like a bulk add's (``count`` exact; at most 1,000 ids per group)."""
    out = []
    for group in groups:
        shown = BlockedAccounts.from_group(BlockedGroup(
            reason=group["reason"], status=group["status"], account_ids=tuple(group["account_ids"]),
            message=group["message"], override_flag=group.get("override_flag")))
        shown.count = service.blocked_count(group)
        out.append(shown)
    return out


@strawberry.type(description="One filling of a campaign from its audience: progress, and what it did. A small "
                 "audience is synced within the request; a large one by a background job.")
class AudienceSync(ProjectNode):
    id: relay.NodeID[int]
    status: AudienceSyncStatus
    trigger: str = strawberry.field(description="`manual` (syncCampaignAudience).")
    total: int = strawberry.field(description="Accounts the audience matched.")
    done: int = strawberry.field(description="Of them, gone through the goal's guardrails so far.")
    added: int
    already_present: int
    removed: int = strawberry.field(description="Rows the audience had added whose account no longer matches and "
                                    "nobody worked on: released (removed from the campaign).")
    kept: int = strawberry.field(description="Rows the audience had added whose account no longer matches but "
                                 "that have work on them (reviewed, contacted, noted…): kept.")
    error: str | None = strawberry.field(description="Why the sync failed.")
    created_at: datetime
    finished_at: datetime | None
    row: strawberry.Private[models.AudienceSync]
    node_model = models.AudienceSync

    @strawberry.field
    def progress(self) -> AudienceSyncProgress:
        return AudienceSyncProgress(done=self.row.done, total=self.row.total)

    @strawberry.field(description="Accounts the guardrails refused, grouped by reason (at most 1,000 ids a group; "
                      "`count` is exact).")
    def blocked(self) -> list[BlockedAccounts]:
        return blocked_accounts(list(self.row.blocked or ()))


@strawberry.input
class SyncCampaignAudienceInput:
    campaign_id: relay.GlobalID

    def to_command(self) -> service.SyncCampaignAudience:
        return service.SyncCampaignAudience(campaign_id=pk_of(self.campaign_id, "Campaign", "campaign_id"))


@strawberry.type(description="What the sync did (a job's: as it started; follow `sync`).")
class SyncCampaignAudiencePayload:
    campaign: CampaignRef | None = None
    sync: AudienceSync | None = None
    started: bool = strawberry.field(default=False, description="False when a sync of this campaign was already "
                                     "running: that one is answered (with a CONFLICT error).")
    added: int = 0
    already_present: int = 0
    blocked: list[BlockedAccounts] = strawberry.field(default_factory=list)
    removed: int = 0
    kept: int = 0
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class AudienceMutations:
    @mutation("Fill the campaign from its audience (a saved filter, or its market's landscape) through its goal's "
              "guardrails, like addAccountsToCampaign: answers what was added and what was refused, grouped by "
              "reason. Rows the audience added whose account no longer matches are released unless someone "
              "worked on them. Up to 2,000 matched accounts are synced at once; more run as a background job "
              "whose progress is on `sync` (and `Campaign.audienceSyncs`, and `campaignEvents`).")
    async def sync_campaign_audience(self, info: Info, input: SyncCampaignAudienceInput
                                     ) -> SyncCampaignAudiencePayload:
        result = await service.sync_audience(info.context.access, info.context.goals, input.to_command())
        sync = result.sync
        errors = [] if result.started else [UserError(
            code=UserErrorCode.CONFLICT, field="input.campaignId",
            message=f"This campaign's audience is being synced ({sync.done}/{sync.total}); wait for that sync to "
                    "end before starting another.")]
        return SyncCampaignAudiencePayload(
            campaign=lazy_class(CampaignRef).from_model(result.campaign), sync=AudienceSync.from_model(sync),
            started=result.started, added=sync.added, already_present=sync.already_present,
            blocked=blocked_accounts(list(sync.blocked or ())), removed=sync.removed, kept=sync.kept, errors=errors)
