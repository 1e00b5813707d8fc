"""The attention the database keeps on each thread (`CampaignAccount.attention_level` and ``attention_at``, set by
triggers from the thread's messages): right after every kind of message write (created, sent, moved to another
thread, deleted in SQL), never undone by a stale row saved whole, the same as the attention facts the API shows, and
on PostgreSQL served by the inbox index."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from tortoise import connections

from outboundql import models
from outboundql.enums import Direction, MessageMode, MessageStatus
from outboundql.services import inbox, messages
from outboundql.services.access import Access
from outboundql.services.sql import is_postgres
from tests.api.test_score_campaign import make_campaign
from tests.helpers import Person

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


async def _thread(campaign: models.Campaign, name: str) -> models.CampaignAccount:
    return await models.CampaignAccount.get(campaign_id=campaign.id, account__name=name)


async def _say(row: models.CampaignAccount, direction: Direction, status: MessageStatus, at: datetime,
               ) -> models.Message:
    message = await models.Message.create(
        project_id=(await row.campaign).project_id, campaign_account_id=row.id, direction=direction, status=status,
        mode=MessageMode.LOG_SENT if status is MessageStatus.SENT else MessageMode.AI_DRAFT, original_text="…",
        sent_at=at if status is MessageStatus.SENT else None)
    if status is MessageStatus.DRAFT:
        await models.Message.filter(id=message.id).update(created_at=at)
    return message


async def _attention(campaign: models.Campaign) -> dict[str, tuple[int, datetime]]:
    rows = await models.CampaignAccount.filter(campaign_id=campaign.id).prefetch_related("account")
    return {r.account.name: (r.attention_level, r.attention_at) for r in rows}


async def _inbox(campaign: models.Campaign) -> list[str]:
    return [r.account.name for r in await inbox.inbox(campaign.id).prefetch_related("account")]


async def _agrees_with_the_facts(campaign: models.Campaign) -> None:
    """The kept level and time are what the attention facts (read from the messages) make of each thread."""
    rows = await models.CampaignAccount.filter(campaign_id=campaign.id)
    facts = await inbox.attention_by_campaign_account([r.id for r in rows])
    for row in rows:
        fact = facts[row.id]
        level = (3 if fact.awaiting_reply else 2 if fact.unsent_drafts else 1 if fact.last_inbound_at else 0)
        since = (fact.last_inbound_at if level in (1, 3) else fact.last_draft_at if level == 2 else row.created_at)
        assert (row.attention_level, row.attention_at) == (level, since), row.id


async def test_every_message_write_sets_the_threads_attention(owner: Person, project: models.Project,
                                                              product: models.Product) -> None:
    accounts = [await models.Account.create(project=project, name=name) for name in ("Ada", "Bo", "Cy", "Di")]
    campaign = await make_campaign(owner, project, product, "Talks", accounts)
    ada, bo, cy, di = [await _thread(campaign, a.name) for a in accounts]
    stale_bo = await _thread(campaign, "Bo")
    assert {v[0] for v in (await _attention(campaign)).values()} == {0}
    assert await _inbox(campaign) == []

    ada_in = await _say(ada, Direction.INBOUND, MessageStatus.SENT, T0 + timedelta(hours=1))  # they wrote last
    await _say(bo, Direction.INBOUND, MessageStatus.SENT, T0)
    bo_out = await _say(bo, Direction.OUTBOUND, MessageStatus.SENT, T0 + timedelta(hours=2))  # we answered
    cy_draft = await _say(cy, Direction.OUTBOUND, MessageStatus.DRAFT, T0 + timedelta(hours=3))
    await _say(di, Direction.INBOUND, MessageStatus.SENT, T0 + timedelta(hours=4))
    kept = await _attention(campaign)
    assert kept["Ada"] == (3, T0 + timedelta(hours=1))
    assert kept["Bo"] == (1, T0)
    assert kept["Cy"] == (2, T0 + timedelta(hours=3))
    assert kept["Di"] == (3, T0 + timedelta(hours=4))
    assert await _inbox(campaign) == ["Di", "Ada", "Cy", "Bo"]  # awaiting (latest first), drafts, answered
    await _agrees_with_the_facts(campaign)

    await models.Message.filter(id=cy_draft.id).update(status=MessageStatus.SENT, sent_at=T0 + timedelta(hours=5))
    await models.Message.filter(id=bo_out.id).update(campaign_account_id=ada.id)  # moved to another thread
    await connections.get("default").execute_script(f"DELETE FROM message WHERE id = {ada_in.id}")
    kept = await _attention(campaign)
    assert kept["Cy"][0] == 0  # a sent outbound alone asks nothing of anyone
    assert kept["Bo"] == (3, T0)  # its answer is gone: they wrote last again
    assert kept["Ada"][0] == 0  # only our message is left
    assert await _inbox(campaign) == ["Di", "Bo"]
    await _agrees_with_the_facts(campaign)

    stale_bo.notes = "Call after lunch"  # read before any message: its attention columns are stale
    await stale_bo.save()
    assert (await _attention(campaign))["Bo"] == (3, T0)
    assert (await _thread(campaign, "Bo")).notes == "Call after lunch"


async def test_the_inbox_reads_its_index_without_statistics(owner: Person, project: models.Project,
                                                            product: models.Product) -> None:
    conn = connections.get("default")
    if not is_postgres(conn):
        pytest.skip("EXPLAIN plans are PostgreSQL's")
    accounts = [await models.Account.create(project=project, name=f"R{i:02d}") for i in range(30)]
    campaign = await make_campaign(owner, project, product, "Busy", accounts)
    for row in await models.CampaignAccount.filter(campaign_id=campaign.id):
        await _say(row, Direction.INBOUND, MessageStatus.SENT, T0 + timedelta(minutes=row.id))
    await conn.execute_query("DELETE FROM pg_statistic WHERE starelid = 'campaign_account'::regclass")
    _, rows = await conn.execute_query(f"EXPLAIN {inbox.inbox(campaign.id).limit(51).sql(params_inline=True)}")
    plan = "\n".join(str(next(iter(dict(r).values()))) for r in rows)
    _, found = await conn.execute_query(
        "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'campaign_account' "
        "AND indexdef LIKE '%attention_level, attention_at, id)%'")
    assert found and found[0]["indexname"] in plan, plan
    assert "Sort" not in plan.replace("Sort Key", ""), plan


async def test_a_time_logged_with_another_offset_is_kept_in_utc(owner: Person, project: models.Project,
                                                                product: models.Product) -> None:
    """Their reply dated 11:00 at +02:00 (09:00 UTC), our answer at 09:30 UTC: the thread is answered, on SQLite
    too, where the triggers compare times as text (the ORM stores them in UTC)."""
    account = await models.Account.create(project=project, name="Ada")
    campaign = await make_campaign(owner, project, product, "Zones", [account])
    thread = await _thread(campaign, "Ada")
    access = await Access.for_user(owner.user)
    await messages.log_message(access, messages.LogMessage(
        thread.id, Direction.INBOUND, text="Tell me more", sent_at=datetime(2026, 11, 2, 11, 0,
                                                                            tzinfo=timezone(timedelta(hours=2)))))
    await messages.log_message(access, messages.LogMessage(thread.id, text="Here it is",
                                                           sent_at=datetime(2026, 11, 2, 9, 30, tzinfo=UTC)))
    stored = await connections.get("default").execute_query_dict(
        f"SELECT sent_at FROM message WHERE campaign_account_id = {thread.id} AND direction = 'inbound'")
    assert str(stored[0]["sent_at"]).startswith("2026-11-02 09:00:00")
    assert (await _attention(campaign))["Ada"] == (1, datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
