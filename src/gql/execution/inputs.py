"""Inputs of the execution fields and mutations, each turned into its service's command."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry import relay

from outboundql.gql.base import pk_or_none
from outboundql.gql.enums import AttemptStatus, Channel
from outboundql.services.execution_queries import MAX_FILTER_IDS, AttemptsFilter


@strawberry.input(description="All conditions must hold; lists match any of their values. The review queue: "
                  "`statuses: [AWAITING_APPROVAL]`.")
class OutreachAttemptFilter:
    statuses: list[AttemptStatus] | None = None
    channels: list[Channel] | None = None
    step: int | None = strawberry.field(default=None, description="1-based step of the cadence.")
    campaign_account_ids: list[relay.GlobalID] | None = strawberry.field(
        default=None, description=f"Attempts of these campaign accounts (at most {MAX_FILTER_IDS}).")
    due_before: datetime | None = strawberry.field(default=None, description="Due strictly before this time.")
    due_after: datetime | None = strawberry.field(default=None, description="Due at or after this time.")

    def to_command(self) -> AttemptsFilter:
        return AttemptsFilter(
            statuses=self.statuses, channels=self.channels, step=self.step,
            campaign_account_ids=None if self.campaign_account_ids is None
            else [pk_or_none(g, "CampaignAccount") for g in self.campaign_account_ids],
            due_before=self.due_before, due_after=self.due_after,
        )
