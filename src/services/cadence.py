"""A campaign's cadence settings: how its outreach is planned (steps, window, retry, execution mode, review,
eligibility). Changing them on a live campaign applies to what is planned from then on."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from tortoise.transactions import in_transaction

from outboundql import models
from outboundql.cadence import rules
from outboundql.cadence.settings import Cadence
from outboundql.enums import ExecutionMode, ExecutionState, Role
from outboundql.services import audit, events, execution, runtime
from outboundql.services.access import Access


@dataclass(frozen=True, slots=True)
class UpdateCadence:
    """Change the cadence of campaign ``campaign_id``: see `outboundql.cadence.rules.CadenceChange` for what
    a left-out or null field means."""

    campaign_id: int
    change: rules.CadenceChange = field(default_factory=rules.CadenceChange)


@dataclass(frozen=True, slots=True)
class CadenceUpdated:
    campaign: models.Campaign
    cadence: Cadence
    changed: bool
    """False when the change set every field to the value it had (nothing written)."""


def _started_at(campaign: models.Campaign, cadence: Cadence, now: datetime) -> datetime | None:
    """When outreach starts, as the new cadence says, for a live campaign: a SCHEDULED one not started yet follows
    its (moved) start time; one switched to ON_ADD starts now; what already started stays."""
    started = campaign.outreach_started_at
    if campaign.execution_state not in (ExecutionState.LIVE, ExecutionState.PAUSED):
        return started
    if started is not None and started <= now:
        return started
    if cadence.execution_mode is ExecutionMode.SCHEDULED:
        return cadence.start_at
    if cadence.execution_mode is ExecutionMode.ON_ADD:
        return now
    return started


async def update_cadence(access: Access, cmd: UpdateCadence) -> CadenceUpdated:
    """Validate ``cmd.change`` against the campaign's stored cadence (errors on snake-case paths such as
    ``steps[1].delay_minutes``) and store the result. Members of the campaign's project only; an archived or
    live campaign may change too. Audited as ``campaign.cadence``; subscribers hear ``campaign_updated``."""
    campaign = await access.get(models.Campaign, cmd.campaign_id, Role.MEMBER, field="campaign_id")
    async with in_transaction():
        campaign = await models.Campaign.filter(id=campaign.id).select_for_update().get()
        current = Cadence.from_stored(campaign.cadence)
        cadence = rules.updated(current, cmd.change)
        changed = cadence != current
        if changed:
            async with audit.tracked(campaign, project_id=campaign.project_id, actor=access.user,
                                     action="campaign.cadence"):
                campaign.cadence = cadence.stored()
                campaign.outreach_started_at = _started_at(campaign, cadence, runtime.now())
                await campaign.save(update_fields=["cadence", "outreach_started_at", "updated_at"])
    await events.publish_campaign_event(campaign.id, "campaign_updated")
    if changed:
        await execution.plan_added(campaign.id)  # a live campaign switched to ON_ADD, or a start moved to the past
    return CadenceUpdated(campaign=campaign, cadence=cadence, changed=changed)
