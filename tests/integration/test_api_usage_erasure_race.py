"""A paid call recorded while one of its accounts is being erased, on PostgreSQL: the erasure waits for the
call's transaction (the accounts it read are locked against deletion), then removes the account's share with
the account; the call and its cost stay, and the caller's work is never rolled back."""

from __future__ import annotations

import asyncio
import contextvars
from decimal import Decimal

import pytest

from outboundql import models
from outboundql.enums import UsageOperation
from outboundql.services import api_usage, erasure
from tests.integration.test_campaign_concurrency import scene

pytestmark = pytest.mark.integration


async def test_an_erasure_landing_between_the_check_and_the_shares_waits_for_the_call(pg_url: str,
                                                                                       monkeypatch) -> None:
    async with scene(pg_url) as s:
        erased, kept = sorted(s.account_ids)[:2]
        project_id = (await models.Account.get(id=erased)).project_id
        create = models.ApiUsage.create
        erasing: list[asyncio.Task[erasure.Erased]] = []

        async def create_while_erasing(*args: object, **kwargs: object) -> models.ApiUsage:
            # the worst moment: the accounts were read, no share is written yet. The erasure is another request
            # (a context of its own, not a savepoint of the call's transaction)
            task = asyncio.create_task(erasure.delete_accounts(s.access, erasure.DeleteAccounts([erased])),
                                       context=contextvars.Context())
            erasing.append(task)
            await asyncio.wait([task], timeout=1.0)  # ends only if nothing holds the account
            return await create(*args, **kwargs)

        monkeypatch.setattr(models.ApiUsage, "create", create_while_erasing)
        await api_usage.record(project_id, s.campaign.id, [api_usage.PaidCall(
            provider="openai", model="gpt-4o-mini", operation=UsageOperation.SCORE, input_units=1000,
            output_units=200, cost_usd=Decimal("0.000270"), account_ids=[erased, kept])])
        assert (await erasing[0]).account_ids == [erased]

        [call] = await models.ApiUsage.filter(project_id=project_id)
        assert call.cost_usd == Decimal("0.000270")
        shares = await models.ApiUsageShare.filter(usage_id=call.id).values_list("account_id", "cost_usd")
        assert [(a, Decimal(c)) for a, c in shares] == [(kept, Decimal("0.000135"))]
        assert not await models.Account.filter(id=erased).exists()
