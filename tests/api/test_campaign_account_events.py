"""The campaign-account services called directly publish ``accounts_changed`` on the campaign after
their change committed, as the API does: adding, reviewing, the override score and an update."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from outboundql import models
from outboundql.enums import OutreachStatus, ReviewStatus
from outboundql.goals.testing import registry_with
from outboundql.services import campaign_accounts, events
from outboundql.services.access import Access
from tests.helpers import Person


@contextlib.asynccontextmanager
async def listening(channel: str) -> AsyncIterator[list[dict[str, Any]]]:
    """The events published on ``channel`` while the block runs."""
    received: list[dict[str, Any]] = []

    async def consume() -> None:
        async for event in events.get_bus().subscribe(channel):
            received.append(event)

    task = asyncio.create_task(consume())
    await asyncio.sleep(0)  # subscribed once the consumer first waits
    try:
        yield received
        for _ in range(10):
            await asyncio.sleep(0)  # let the consumer drain what was published last
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_each_use_case_publishes_accounts_changed_once(owner: Person, project: models.Project,
                                                             campaign: models.Campaign) -> None:
    access = await Access.for_user(owner.user)
    ids = [(await models.Account.create(project=project, name=f"Company {i}")).id for i in range(3)]
    changed = {"kind": "accounts_changed", "campaign_id": campaign.id}

    async with listening(events.campaign_channel(campaign.id)) as received:
        added = await campaign_accounts.add_accounts(access, registry_with(), campaign_accounts.AddAccountsToCampaign(
            campaign_id=campaign.id, account_ids=[*ids, None]))
        assert (added.added, added.not_found_at, added.campaign.total_accounts) == (3, [3], 3)
    assert received == [changed]

    again: list[dict[str, Any]]
    async with listening(events.campaign_channel(campaign.id)) as again:
        await campaign_accounts.add_accounts(access, registry_with(), campaign_accounts.AddAccountsToCampaign(
            campaign_id=campaign.id, account_ids=ids))  # nothing new: nothing to tell
    assert again == []

    rows = [r.id for r in await models.CampaignAccount.filter(campaign_id=campaign.id).order_by("id")]
    async with listening(events.campaign_channel(campaign.id)) as received:
        reviewed = await campaign_accounts.review(access, campaign_accounts.ReviewCampaignAccounts(
            campaign_account_ids=[rows[0], None, rows[1], rows[0]], decision=ReviewStatus.APPROVED))
        assert (reviewed.changed_count, reviewed.failed_count) == (3, 1)
        assert [i.field for i in reviewed.issues] == ["campaign_account_ids[1]"]
        await campaign_accounts.set_override_score(access, campaign_accounts.SetOverrideScore(
            campaign_account_id=rows[2], score=7.26))
        updated = await campaign_accounts.update_campaign_account(access, campaign_accounts.UpdateCampaignAccount(
            id=rows[2], notes="Call in May", outreach_status=OutreachStatus.SENT))
        assert (updated.campaign_account.notes, updated.campaign_account.override_score) == ("Call in May", 7.3)
    assert received == [changed] * 3
