"""Concurrent logMessage calls on PostgreSQL: racing retries with one idempotency key make one message, sends and
replies logged at once on many threads leave the counters equal to the rows, and two writers of one thread leave its
attention what both messages make."""

from __future__ import annotations

import asyncio
import contextvars
import dataclasses
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta

import pytest
from tortoise import connections
from tortoise.transactions import in_transaction

from outboundql import models
from outboundql.enums import AccountStatus, Direction, MessageMode, MessageStatus, StatusSource
from outboundql.errors import InvalidInput
from outboundql.goals.testing import registry_with
from outboundql.services import accounts as accounts_service
from outboundql.services import campaign_accounts as ca_service
from outboundql.services import campaign_stats
from outboundql.services import messages as messages_service
from tests.integration.test_campaign_concurrency import assert_exact, scene

pytestmark = pytest.mark.integration

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


async def test_racing_retries_make_one_message_and_count_once(pg_url: str) -> None:
    async with scene(pg_url) as s:
        account_id = next(iter(sorted(s.admitted)))
        await ca_service.add_accounts(s.access, registry_with(),
                                      ca_service.AddAccountsToCampaign(s.campaign.id, [account_id]))
        row = await models.CampaignAccount.get(campaign_id=s.campaign.id, account_id=account_id)
        cmd = messages_service.LogMessage(campaign_account_id=row.id, text="Hello", idempotency_key="retry-1")
        results = await asyncio.gather(*[messages_service.log_message(s.access, cmd) for _ in range(8)])
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
        await ca_service.add_accounts(s.access, registry_with(), ca_service.AddAccountsToCampaign(s.campaign.id, ids))
        rows = await models.CampaignAccount.filter(campaign_id=s.campaign.id).order_by("id")

        async def converse(row: models.CampaignAccount, n: int) -> None:
            await messages_service.log_message(s.access, messages_service.LogMessage(row.id, text="Hi"))
            if n % 3 == 0:
                await messages_service.log_message(s.access, messages_service.LogMessage(
                    row.id, text="Yes", direction=Direction.INBOUND))

        await asyncio.gather(*[converse(row, n) for n, row in enumerate(rows) for _ in range(2)])
        counters = await assert_exact(s.campaign.id)
        assert counters["outreached_accounts"] == len(rows)
        assert counters["responded_accounts"] == len([n for n in range(len(rows)) if n % 3 == 0])
        engaged = await models.Account.filter(id__in=ids, status=AccountStatus.ENGAGED).count()
        assert engaged == counters["responded_accounts"]


async def test_do_not_contact_racing_a_send_never_loses_the_protection(pg_url: str) -> None:
    """updateAccountStatuses(DO_NOT_CONTACT) racing logMessage(SENT) on many accounts: whichever commits
    first, every account ends do_not_contact, and a sent message exists only if it was logged before."""
    async with scene(pg_url) as s:
        new = sorted(await models.Account.filter(id__in=sorted(s.admitted), status=AccountStatus.NEW)
                     .values_list("id", flat=True))[:40]
        await ca_service.add_accounts(s.access, registry_with(), ca_service.AddAccountsToCampaign(s.campaign.id, new))
        rows = await models.CampaignAccount.filter(campaign_id=s.campaign.id).order_by("id")

        async def later(delay: float, work: Awaitable[object]) -> object:
            await asyncio.sleep(delay)
            return await work

        async def race(n: int, row: models.CampaignAccount) -> list[object]:
            # staggered so that across the rows the protection lands before, during and after the send
            send = messages_service.log_message(s.access, messages_service.LogMessage(row.id, text="Hello"))
            protect = accounts_service.update_statuses(s.access, accounts_service.UpdateAccountStatuses(
                (row.account_id,), AccountStatus.DO_NOT_CONTACT))
            return await asyncio.gather(send, later(n * 0.004, protect), return_exceptions=True)

        outcomes = await asyncio.gather(*[race(n, row) for n, row in enumerate(rows)])
        for outcome in outcomes:
            for result in outcome:
                if isinstance(result, BaseException):
                    assert isinstance(result, InvalidInput) and "do_not_contact" in result.message, repr(result)
        for row in rows:
            account = await models.Account.get(id=row.account_id)
            assert account.status is AccountStatus.DO_NOT_CONTACT, account.name
            history = await models.AccountStatusChange.filter(account_id=account.id).order_by("created_at", "id")
            assert history[-1].to_status is AccountStatus.DO_NOT_CONTACT
            protected_at = history[-1].created_at
            for message in await models.Message.filter(campaign_account_id=row.id):
                assert message.created_at <= protected_at, f"{account.name}: a send logged after do_not_contact"
        await assert_exact(s.campaign.id)


async def test_do_not_contact_landing_inside_the_send_transaction_waits_for_it(pg_url: str, monkeypatch) -> None:
    """The worst interleaving, forced: the protection is set while the send's transaction is between its
    do-not-contact check and the promotion. It must wait for the send (the account is locked) and win."""
    async with scene(pg_url) as s:
        account_id = sorted(await models.Account.filter(id__in=sorted(s.admitted), status=AccountStatus.NEW)
                            .values_list("id", flat=True))[0]
        await ca_service.add_accounts(s.access, registry_with(),
                                      ca_service.AddAccountsToCampaign(s.campaign.id, [account_id]))
        row = await models.CampaignAccount.get(campaign_id=s.campaign.id, account_id=account_id)
        bump = campaign_stats.bump
        protection: list[asyncio.Task[object]] = []

        async def bump_while_protecting(*args: object, **kwargs: object) -> None:
            # a context of its own: another request, not a savepoint inside the send's transaction
            task = asyncio.create_task(
                accounts_service.update_statuses(s.access, accounts_service.UpdateAccountStatuses(
                    (account_id,), AccountStatus.DO_NOT_CONTACT)),
                context=contextvars.Context())
            protection.append(task)
            await asyncio.wait([task], timeout=1.0)  # finishes only when nothing holds the account
            await bump(*args, **kwargs)

        monkeypatch.setattr(campaign_stats, "bump", bump_while_protecting)
        logged = await messages_service.log_message(s.access, messages_service.LogMessage(row.id, text="Hello"))
        await protection[0]
        account = await models.Account.get(id=account_id)
        assert account.status is AccountStatus.DO_NOT_CONTACT
        history = await models.AccountStatusChange.filter(account_id=account_id).order_by("created_at", "id")
        assert [(h.from_status, h.to_status) for h in history] == [
            (AccountStatus.NEW, AccountStatus.INITIATED),
            (AccountStatus.INITIATED, AccountStatus.DO_NOT_CONTACT)]
        assert logged.message.created_at <= history[-1].created_at


async def test_racing_sends_and_discards_of_one_draft_make_one_outcome(pg_url: str) -> None:
    """Sends of one draft (with and without a key) racing its discard, on PostgreSQL: the draft is sent once
    (counted once) or discarded, never both; every loser answers INVALID/NOT_FOUND or replays the winner."""
    from outboundql.errors import NotFound

    async with scene(pg_url) as s:
        ids = sorted(await models.Account.filter(id__in=sorted(s.admitted), status=AccountStatus.NEW)
                     .values_list("id", flat=True))[:10]
        await ca_service.add_accounts(s.access, registry_with(), ca_service.AddAccountsToCampaign(s.campaign.id, ids))
        rows = await models.CampaignAccount.filter(campaign_id=s.campaign.id).order_by("id")

        async def race(row: models.CampaignAccount) -> list[object]:
            draft = (await messages_service.log_message(s.access, messages_service.LogMessage(
                row.id, text="Draft", status=MessageStatus.DRAFT))).message
            send = messages_service.LogMessage(row.id, text="Hello", draft_id=draft.id)
            keyed = dataclasses.replace(send, idempotency_key=f"send-{row.id}")
            return await asyncio.gather(
                messages_service.log_message(s.access, send),
                messages_service.log_message(s.access, keyed),
                messages_service.log_message(s.access, keyed),
                messages_service.discard_draft(s.access, messages_service.DiscardDraft(draft.id)),
                return_exceptions=True)

        outcomes = await asyncio.gather(*[race(row) for row in rows])
        sent_rows = 0
        for row, results in zip(rows, outcomes, strict=True):
            for r in results:
                assert not isinstance(r, Exception) or isinstance(r, (InvalidInput, NotFound)), r
            messages = await models.Message.filter(campaign_account_id=row.id)
            assert len(messages) <= 1  # never a second message
            fresh = [r for r in results[:3] if isinstance(r, messages_service.Logged) and not r.replayed]
            discarded = not isinstance(results[3], Exception)
            assert len(fresh) + discarded == 1  # sent once, or discarded
            if fresh:
                sent_rows += 1
                assert messages[0].status.value == "sent"
            else:
                assert messages == []
        counters = await assert_exact(s.campaign.id)
        assert counters["outreached_accounts"] == sent_rows


async def test_two_writers_of_one_thread_leave_the_attention_both_messages_make(pg_url: str) -> None:
    """Their reply is written but not yet committed when our answer is written to the same thread: the answer's
    trigger waits for the reply's transaction, then sets the thread from both messages (answered), not from the
    snapshot it started with (which held our answer alone)."""
    async with scene(pg_url) as s:
        account_id = min(s.admitted)
        await ca_service.add_accounts(s.access, registry_with(),
                                      ca_service.AddAccountsToCampaign(s.campaign.id, [account_id]))
        row = await models.CampaignAccount.get(campaign_id=s.campaign.id, account_id=account_id)
        said = {"project_id": s.campaign.project_id, "campaign_account_id": row.id, "status": MessageStatus.SENT}
        reply_written, answer_waits = asyncio.Event(), asyncio.Event()

        async def reply() -> None:
            async with in_transaction():
                await models.Message.create(**said, direction=Direction.INBOUND, mode=MessageMode.PASTE_INBOUND,
                                            sent_at=T0)
                reply_written.set()
                await answer_waits.wait()

        async def answer() -> None:
            await reply_written.wait()
            written = asyncio.ensure_future(models.Message.create(
                **said, direction=Direction.OUTBOUND, mode=MessageMode.LOG_SENT, sent_at=T0 + timedelta(hours=1)))
            conn = connections.get("default")
            for _ in range(500):  # until its INSERT waits on the thread's row (a state, not a time)
                [waiting] = await conn.execute_query_dict(
                    "SELECT COUNT(*) AS n FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock' AND query LIKE 'INSERT INTO \"message\"%'")
                if waiting["n"]:
                    break
                await asyncio.sleep(0.01)
            else:
                pytest.fail("the answer never waited for the reply's transaction")
            answer_waits.set()
            await written

        await asyncio.gather(reply(), answer())
        fresh = await models.CampaignAccount.get(id=row.id)
        assert (fresh.attention_level, fresh.attention_at) == (1, T0)
