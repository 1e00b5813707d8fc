"""The row lock every writer of a campaign's rows takes first, so concurrent writers queue in one order."""

from __future__ import annotations

from outboundql import models


async def locked_campaign(campaign_id: int) -> models.Campaign:
    """The campaign row, locked until the transaction ends (PostgreSQL; SQLite serialises writers)."""
    return await models.Campaign.filter(id=campaign_id).select_for_update().get()
