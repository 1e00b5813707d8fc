"""updateCampaignAccounts: one change for many campaign accounts; rows that cannot take it fail alone, with why
(not found — another project's read the same —, archived campaign, a backward outreach move), the others change;
counters stay exact, tags move, one audit per campaign, live events after the commit, bounded statements."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from outboundql import models
from outboundql.enums import (
    AttemptStatus,
    Channel,
    ExecutionStatus,
    GoalOutcome,
    OutreachStatus,
    Role,
)
from outboundql.services import campaign_stats, events
from tests.helpers import Person, data_of, global_id

UPDATE = """
mutation($input: UpdateCampaignAccountsInput!) {
  updateCampaignAccounts(input: $input) {
    updated { id reviewStatus outreachStatus goalOutcome tags }
    updatedCount unchangedCount
    failed { id index code message }
    errors { code field message }
  }
}
"""


async def rows_of(campaign: models.Campaign, n: int, tag: str = "a", **fields: Any) -> list[models.CampaignAccount]:
    rows = []
    for i in range(n):
        account = await models.Account.create(project_id=campaign.project_id, name=f"Acme {tag}{i}",
                                              domain=f"acme-{tag}{i}.example")
        rows.append(await models.CampaignAccount.create(campaign=campaign, account=account, **fields))
    await campaign_stats.recount([campaign.id])
    return rows


def gids(rows: list[models.CampaignAccount]) -> list[str]:
    return [global_id("CampaignAccount", r.id) for r in rows]


async def update(gql: Any, who: Person, ids: list[str], **change: Any) -> dict[str, Any]:
    return data_of(await gql(UPDATE, {"input": {"campaignAccountIds": ids, **change}}, as_=who))[
        "updateCampaignAccounts"]


async def assert_exact(campaign: models.Campaign) -> models.Campaign:
    fresh = await models.Campaign.get(id=campaign.id)
    assert {k: getattr(fresh, k) for k in campaign_stats.COUNTERS} == await campaign_stats.exact(fresh)
    assert await campaign_stats.recount([campaign.id]) == []
    return fresh


async def test_partial_failure_answers_each_row(gql, owner, project, campaign, make_user, make_project) -> None:
    rows = await rows_of(campaign, 3)
    sent = (await rows_of(campaign, 1, "s", outreach_status=OutreachStatus.RESPONDED))[0]
    stranger = await make_user("eve@example.com")
    other_project = await make_project(stranger, "Other")
    other_product = await models.Product.create(project=other_project, name="P", slug="p")
    other_campaign = await models.Campaign.create(project=other_project, product=other_product, name="O", slug="o")
    theirs = (await rows_of(other_campaign, 1, "t"))[0]
    archived_campaign = await models.Campaign.create(project=project, product_id=campaign.product_id, name="Old",
                                                     slug="old", archived_at=datetime.now(UTC))
    archived = (await rows_of(archived_campaign, 1, "z"))[0]
    ids = [*gids(rows), global_id("CampaignAccount", sent.id), global_id("CampaignAccount", theirs.id),
           global_id("CampaignAccount", 999_999), global_id("Account", rows[0].account_id),
           global_id("CampaignAccount", archived.id)]

    payload = await update(gql, owner, ids, outreachStatus="SENT")

    # each failed row is also an error on its position, as in reviewCampaignAccounts
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [
        (f["code"], f"input.campaignAccountIds[{f['index']}]") for f in payload["failed"]]
    assert payload["updatedCount"] == 3 and payload["unchangedCount"] == 0
    assert [u["id"] for u in payload["updated"]] == gids(rows)
    assert {u["outreachStatus"] for u in payload["updated"]} == {"SENT"}
    failed = {f["index"]: (f["code"], f["id"]) for f in payload["failed"]}
    assert failed[3][0] == "INVALID"  # responded → sent would go back
    assert "only moves forward" in payload["failed"][0]["message"]
    # another project's row answers exactly like a missing one, and like an id of another type
    assert failed[4] == ("NOT_FOUND", ids[4]) and failed[5] == ("NOT_FOUND", ids[5]) and failed[6][0] == "NOT_FOUND"
    messages = {f["index"]: f["message"] for f in payload["failed"]}
    assert messages[4] == messages[5] == messages[6]
    assert failed[7][0] == "INVALID" and "archived" in messages[7]
    assert (await models.CampaignAccount.get(id=sent.id)).outreach_status is OutreachStatus.RESPONDED
    assert (await models.CampaignAccount.get(id=theirs.id)).outreach_status is OutreachStatus.NOT_STARTED
    assert (await models.CampaignAccount.get(id=archived.id)).outreach_status is OutreachStatus.NOT_STARTED
    fresh = await assert_exact(campaign)
    assert (fresh.outreached_accounts, fresh.responded_accounts) == (4, 1)
    assert (await assert_exact(other_campaign)).outreached_accounts == 0


async def test_a_row_deleted_before_the_lock_fails_not_found(gql, owner, campaign, monkeypatch) -> None:
    """A row read first, then deleted by someone else before the campaign is locked, is answered as failed."""
    from outboundql.services import campaign_account_updates as service

    rows = await rows_of(campaign, 2)
    real_lock = service.locked_campaign

    async def delete_then_lock(campaign_id: int) -> models.Campaign:
        await models.CampaignAccount.filter(id=rows[1].id).delete()
        return await real_lock(campaign_id)

    monkeypatch.setattr(service, "locked_campaign", delete_then_lock)
    payload = await update(gql, owner, gids(rows), reviewStatus="APPROVED")

    assert [u["id"] for u in payload["updated"]] == gids(rows[:1])
    assert [(f["index"], f["code"], f["message"]) for f in payload["failed"]] == [
        (1, "NOT_FOUND", "CampaignAccount not found.")]
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("NOT_FOUND", "input.campaignAccountIds[1]")]
    assert (await models.Campaign.get(id=campaign.id)).approved_accounts == 1  # the delete itself kept no count


async def test_counters_exact_after_each_kind_of_change(gql, owner, campaign) -> None:
    rows = await rows_of(campaign, 4)
    await update(gql, owner, gids(rows[:3]), reviewStatus="APPROVED")
    assert (await assert_exact(campaign)).approved_accounts == 3
    payload = await update(gql, owner, gids(rows), reviewStatus="APPROVED", outreachStatus="RESPONDED")
    assert payload["updatedCount"] == 4
    fresh = await assert_exact(campaign)
    assert (fresh.approved_accounts, fresh.outreached_accounts, fresh.responded_accounts) == (4, 4, 4)
    await update(gql, owner, gids(rows[:2]), reviewStatus="REJECTED")
    assert (await assert_exact(campaign)).approved_accounts == 2
    again = await update(gql, owner, gids(rows[:2]), reviewStatus="REJECTED")
    assert (again["updatedCount"], again["unchangedCount"]) == (0, 2)
    assert (await assert_exact(campaign)).approved_accounts == 2
    reviewed = await models.CampaignAccount.get(id=rows[0].id)
    assert reviewed.reviewed_by_id == owner.user.id and reviewed.reviewed_at is not None


async def test_tags_added_and_removed(gql, owner, campaign) -> None:
    rows = await rows_of(campaign, 2)
    await models.CampaignAccountTag.create(campaign_account=rows[0], campaign=campaign, tag="old")
    payload = await update(gql, owner, gids(rows), addTags=["hot", "eu"])
    assert [sorted(u["tags"]) for u in payload["updated"]] == [["eu", "hot", "old"], ["eu", "hot"]]
    payload = await update(gql, owner, gids(rows), addTags=["hot"], removeTags=["old", "eu"])
    assert [u["tags"] for u in payload["updated"]] == [["hot"], ["hot"]]
    assert payload["updatedCount"] == 2
    tags = await models.CampaignAccountTag.filter(campaign_id=campaign.id).values_list("campaign_account_id", "tag")
    assert sorted(tags) == sorted([(rows[0].id, "hot"), (rows[1].id, "hot")])
    same = await update(gql, owner, gids(rows), addTags=["hot"])
    assert (same["updatedCount"], same["unchangedCount"]) == (0, 2)


async def test_goal_outcome_ends_the_plan_like_a_single_update(gql, owner, project, campaign) -> None:
    rows = await rows_of(campaign, 2, execution_status=ExecutionStatus.AWAITING_EXECUTION)
    attempts = [await models.OutreachAttempt.create(
        project=project, campaign=campaign, campaign_account=row, channel=Channel.EMAIL, step=1, attempt_number=1,
        status=AttemptStatus.SCHEDULED, due_at=datetime.now(UTC)) for row in rows]
    payload = await update(gql, owner, gids(rows[:1]), goalOutcome="ACHIEVED")
    assert payload["updated"][0]["goalOutcome"] == "ACHIEVED"
    ended = await models.CampaignAccount.get(id=rows[0].id)
    assert (ended.goal_outcome, ended.execution_status) == (GoalOutcome.ACHIEVED, ExecutionStatus.COMPLETED)
    assert (await models.OutreachAttempt.get(id=attempts[0].id)).status is AttemptStatus.CANCELLED
    assert (await models.OutreachAttempt.get(id=attempts[1].id)).status is AttemptStatus.SCHEDULED
    reopened = await update(gql, owner, gids(rows[:1]), goalOutcome="OPEN")
    assert reopened["updated"][0]["goalOutcome"] == "OPEN"
    assert (await models.CampaignAccount.get(id=rows[0].id)).execution_status is ExecutionStatus.COMPLETED


async def test_input_errors_refuse_the_whole_request(gql, owner, campaign, settings) -> None:
    rows = await rows_of(campaign, 1)
    nothing = await update(gql, owner, gids(rows))
    assert [(e["code"], e["field"]) for e in nothing["errors"]] == [("INVALID", None)]
    empty = await update(gql, owner, [], outreachStatus="SENT")
    assert [(e["code"], e["field"]) for e in empty["errors"]] == [("INVALID", "input.campaignAccountIds")]
    too_many = await update(gql, owner, gids(rows) * (settings.max_bulk_items + 1), outreachStatus="SENT")
    assert [(e["code"], e["field"]) for e in too_many["errors"]] == [("INVALID", "input.campaignAccountIds")]
    both = await update(gql, owner, gids(rows), addTags=["x"], removeTags=["x"])
    assert [(e["code"], e["field"]) for e in both["errors"]] == [("INVALID", "input.removeTags")]
    assert (await models.CampaignAccount.get(id=rows[0].id)).outreach_status is OutreachStatus.NOT_STARTED
    assert await models.CampaignAccountTag.filter(campaign_id=campaign.id).count() == 0


async def test_a_viewer_is_refused(gql, owner, project, campaign, make_user, add_member) -> None:
    rows = await rows_of(campaign, 1)
    viewer = await make_user("viewer@example.com")
    await add_member(viewer, project, Role.VIEWER)
    payload = await update(gql, viewer, gids(rows), outreachStatus="SENT")
    assert [e["code"] for e in payload["errors"]] == ["FORBIDDEN"]
    assert (await models.CampaignAccount.get(id=rows[0].id)).outreach_status is OutreachStatus.NOT_STARTED


async def test_one_audit_per_campaign_and_events_after_commit(gql, owner, project, campaign) -> None:
    rows = await rows_of(campaign, 3)
    stream = events.get_bus().subscribe(events.campaign_channel(campaign.id))
    listening = asyncio.ensure_future(anext(stream))
    await asyncio.sleep(0)
    await update(gql, owner, gids(rows), reviewStatus="APPROVED", addTags=["vip"])
    event = await asyncio.wait_for(listening, 2)
    assert event["kind"] == "accounts_changed"
    await stream.aclose()
    audits = await models.AuditEvent.filter(action="campaign.update_accounts")
    assert len(audits) == 1
    assert audits[0].object_id == campaign.id and audits[0].actor_id == owner.user.id
    assert audits[0].after == {"review_status": "approved", "add_tags": ["vip"],
                               "campaign_account_ids": sorted(r.id for r in rows)}


async def test_statements_are_bounded_for_a_thousand_rows(gql, owner, project, campaign, count_queries) -> None:
    accounts = await models.Account.bulk_create([
        models.Account(project=project, name=f"Bulk {i}", name_key=f"bulk {i}") for i in range(1000)])
    accounts = await models.Account.filter(project=project).order_by("id")
    await models.CampaignAccount.bulk_create([models.CampaignAccount(campaign=campaign, account=a) for a in accounts])
    await campaign_stats.recount([campaign.id])
    ids = gids(await models.CampaignAccount.filter(campaign_id=campaign.id).order_by("id"))
    with count_queries() as q:
        payload = data_of(await gql("""
            mutation($input: UpdateCampaignAccountsInput!) {
              updateCampaignAccounts(input: $input) { updatedCount failed { index } errors { code } }
            }""", {"input": {"campaignAccountIds": ids, "outreachStatus": "SENT", "reviewStatus": "APPROVED",
                             "addTags": ["bulk"], "goalOutcome": "LOST"}}, as_=owner))["updateCampaignAccounts"]
    assert payload == {"updatedCount": 1000, "failed": [], "errors": []}
    assert len(q) <= 25, q.statements  # 18 measured: a few per kind of change, none per row
    fresh = await assert_exact(campaign)
    assert (fresh.approved_accounts, fresh.outreached_accounts) == (1000, 1000)
    assert await models.CampaignAccountTag.filter(campaign_id=campaign.id, tag="bulk").count() == 1000
