"""A campaign's cadence settings: how its outreach is planned (steps, window, retry, execution mode, review,
eligibility). Changing them on a live campaign applies to what is planned from then on."""

from __future__ import annotations

from dataclasses import dataclass, field

from tortoise.transactions import in_transaction

from outboundql import models
from outboundql.cadence import rules
from outboundql.cadence.settings import Cadence
from outboundql.enums import Role
from outboundql.services import audit, events
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
                await campaign.save(update_fields=["cadence", "updated_at"])
    await events.publish_campaign_event(campaign.id, "campaign_updated")
    return CadenceUpdated(campaign=campaign, cadence=cadence, changed=changed)
