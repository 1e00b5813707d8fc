"""Concurrent logMessage calls on PostgreSQL: racing retries with one idempotency key make one message, and
sends and replies logged at once on many threads leave the counters equal to the rows."""

from __future__ import annotations

import asyncio

import pytest

from outboundql import models
from outboundql.goals.testing import registry_with
from outboundql.models.enums import AccountStatus, StatusSource
from outboundql.services import campaign_accounts as ca_service
from outboundql.services import messages as messages_service
from tests.integration.test_campaign_concurrency import assert_exact, scene

pytestmark = pytest.mark.integration


async def test_racing_retries_make_one_message_and_count_once(pg_url: str) -> None:
    async with scene(pg_url) as s:
        account_id = next(iter(sorted(s.admitted)))
        await ca_service.add_accounts(s.access, s.campaign.id, [account_id], None, [], registry_with())
        row = await models.CampaignAccount.get(campaign_id=s.campaign.id, account_id=account_id)
        data = {"original_text": "Hello", "idempotency_key": "retry-1"}
        results = await asyncio.gather(*[messages_service.log_message(s.access, row.id, dict(data))
                                         for _ in range(8)])
        assert len({r.message.id for r in results}) == 1
        assert sum(not r.replayed for r in results) == 1
        assert await models.Message.filter(campaign_account_id=row.id).count() == 1
        counters = await assert_exact(s.campaign.id)
        assert counters["outreached_accounts"] == 1
        promotions = await models.AccountStatusChange.filter(account_id=account_id, source=StatusSource.CONVERSATION)
        assert [(p.from_status, p.to_status) for p in promotions] == [(AccountStatus.NEW, AccountStatus.INITIATED)]


async def test_concurrent_sends_and_replies_keep_counters_exact(pg_url: str) -> None:
    async with scene(pg_url) as s:
        new = set(await models.Account.filter(id__in=sorted(s.admitted), status=AccountStatus.NEW)
                  .values_list("id", flat=True))
        ids = sorted(new)[:30]
        await ca_service.add_accounts(s.access, s.campaign.id, ids, None, [], registry_with())
        rows = await models.CampaignAccount.filter(campaign_id=s.campaign.id).order_by("id")

        async def converse(row: models.CampaignAccount, n: int) -> None:
            await messages_service.log_message(s.access, row.id, {"original_text": "Hi"})
            if n % 3 == 0:
                await messages_service.log_message(s.access, row.id, {"original_text": "Yes", "direction": "inbound"})

        await asyncio.gather(*[converse(row, n) for n, row in enumerate(rows) for _ in range(2)])
        counters = await assert_exact(s.campaign.id)
        assert counters["outreached_accounts"] == len(rows)
        assert counters["responded_accounts"] == len([n for n in range(len(rows)) if n % 3 == 0])
        engaged = await models.Account.filter(id__in=ids, status=AccountStatus.ENGAGED).count()
        assert engaged == counters["responded_accounts"]
