"""removeAccountsFromCampaign: named rows leave a campaign with the low-fit prune's protections (approved rows and
rows whose outreach started are kept unless switched off); a dry run writes nothing; removing cancels pending
attempts, deletes the rows (never the accounts or their scores), moves the counters exactly, is audited and heard
live after the commit."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from outboundql import models
from outboundql.enums import AttemptStatus, Band, Channel, OutreachStatus, ReviewStatus, Role
from outboundql.services import campaign_stats, events, low_fit
from tests.helpers import Person, data_of, global_id

REMOVE = """
mutation($input: RemoveAccountsFromCampaignInput!) {
  removeAccountsFromCampaign(input: $input) {
    campaign { id totalAccounts scoredAccounts approvedAccounts outreachedAccounts respondedAccounts }
    wouldRemove removed keptApproved keptOutreachStarted confirmToken notFound
    errors { code field message }
  }
}
"""

KINDS = {
    "plain": (ReviewStatus.PENDING, OutreachStatus.NOT_STARTED),
    "scored": (ReviewStatus.PENDING, OutreachStatus.NOT_STARTED),
    "rejected": (ReviewStatus.REJECTED, OutreachStatus.NOT_STARTED),
    "approved": (ReviewStatus.APPROVED, OutreachStatus.NOT_STARTED),
    "sent": (ReviewStatus.PENDING, OutreachStatus.SENT),
    "responded": (ReviewStatus.APPROVED, OutreachStatus.RESPONDED),
}


async def build(project: models.Project, campaign: models.Campaign) -> dict[str, models.CampaignAccount]:
    rows = {}
    for name, (review, outreach) in KINDS.items():
        account = await models.Account.create(project=project, name=name, domain=f"{name}.example")
        if name in ("scored", "responded"):
            await models.FitScore.create(project=project, product_id=campaign.product_id, account=account,
                                         goal_key=campaign.goal_key, score=7.0, band=Band.MODERATE, scorer="rubric")
        rows[name] = await models.CampaignAccount.create(campaign=campaign, account=account, review_status=review,
                                                         outreach_status=outreach)
    await campaign_stats.recount([campaign.id])
    return rows


async def remove(gql: Any, who: Person, campaign: models.Campaign, **options: Any) -> dict[str, Any]:
    return data_of(await gql(REMOVE, {"input": {"campaignId": global_id("Campaign", campaign.id), **options}},
                             as_=who))["removeAccountsFromCampaign"]


def row_ids(rows: dict[str, models.CampaignAccount], *names: str) -> list[str]:
    return [global_id("CampaignAccount", rows[n].id) for n in names]


async def left(campaign: models.Campaign) -> set[int]:
    return set(await models.CampaignAccount.filter(campaign_id=campaign.id).values_list("id", flat=True))


async def assert_exact(campaign: models.Campaign) -> dict[str, int]:
    fresh = await models.Campaign.get(id=campaign.id)
    exact = await campaign_stats.exact(fresh)
    assert {k: getattr(fresh, k) for k in campaign_stats.COUNTERS} == exact
    assert await campaign_stats.recount([campaign.id]) == []
    return exact


async def test_dry_run_counts_and_writes_nothing(gql, owner, project, campaign) -> None:
    rows = await build(project, campaign)
    before = await left(campaign)
    payload = await remove(gql, owner, campaign, campaignAccountIds=row_ids(rows, *KINDS), dryRun=True)
    assert payload["errors"] == []
    assert (payload["wouldRemove"], payload["removed"], payload["keptApproved"], payload["keptOutreachStarted"]) == (
        3, 0, 2, 1)
    assert payload["confirmToken"] == low_fit.confirm_token(
        campaign.id, low_fit.Options(), sorted(rows[n].id for n in ("plain", "scored", "rejected")))
    assert await left(campaign) == before
    assert await models.AuditEvent.filter(action="campaign.remove_accounts").count() == 0


async def test_removes_unprotected_rows_and_moves_counters(gql, owner, project, campaign) -> None:
    rows = await build(project, campaign)
    attempt = await models.OutreachAttempt.create(
        project=project, campaign=campaign, campaign_account=rows["plain"], channel=Channel.EMAIL, step=1,
        attempt_number=1, status=AttemptStatus.SCHEDULED, due_at=datetime.now(UTC))
    payload = await remove(gql, owner, campaign, campaignAccountIds=row_ids(rows, "plain", "approved", "sent"),
                           accountIds=[global_id("Account", rows["scored"].account_id)])
    assert (payload["removed"], payload["keptApproved"], payload["keptOutreachStarted"]) == (2, 1, 1)
    assert payload["campaign"]["totalAccounts"] == len(KINDS) - 2
    assert payload["campaign"]["scoredAccounts"] == 1
    assert await left(campaign) == {rows[n].id for n in ("rejected", "approved", "sent", "responded")}
    assert not await models.OutreachAttempt.filter(id=attempt.id).exists()
    assert await models.Account.filter(id=rows["scored"].account_id).exists()  # the account stays
    assert await models.FitScore.filter(account_id=rows["scored"].account_id).exists()  # and its score
    await assert_exact(campaign)
    audit = await models.AuditEvent.get(action="campaign.remove_accounts")
    assert audit.after is not None
    assert sorted(audit.after["campaign_account_ids"]) == sorted([rows["plain"].id, rows["scored"].id])
    assert audit.actor_id == owner.user.id


async def test_protections_can_be_switched_off(gql, owner, project, campaign) -> None:
    rows = await build(project, campaign)
    payload = await remove(gql, owner, campaign, campaignAccountIds=row_ids(rows, "approved", "sent", "responded"),
                           keepApproved=False, keepOutreachStarted=False)
    assert (payload["removed"], payload["keptApproved"], payload["keptOutreachStarted"]) == (3, 0, 0)
    counters = await assert_exact(campaign)
    assert (counters["approved_accounts"], counters["outreached_accounts"], counters["responded_accounts"]) == (
        0, 0, 0)


async def test_not_found_and_other_projects_ids(gql, owner, project, campaign, make_user, make_project) -> None:
    rows = await build(project, campaign)
    stranger = await make_user("eve@example.com")
    theirs = await make_project(stranger, "Theirs")
    account = await models.Account.create(project=theirs, name="Their account")
    other_campaign = await models.Campaign.create(project=project, product_id=campaign.product_id, name="B", slug="b")
    elsewhere = await models.CampaignAccount.create(campaign=other_campaign, account=rows["plain"].account)
    ids = [global_id("CampaignAccount", elsewhere.id), global_id("CampaignAccount", 999_999),
           *row_ids(rows, "plain")]
    payload = await remove(gql, owner, campaign, campaignAccountIds=ids,
                           accountIds=[global_id("Account", account.id)])
    assert payload["removed"] == 1
    assert payload["notFound"] == [ids[0], ids[1], global_id("Account", account.id)]
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [
        ("NOT_FOUND", "input.campaignAccountIds[0]"), ("NOT_FOUND", "input.campaignAccountIds[1]"),
        ("NOT_FOUND", "input.accountIds[0]")]
    assert await models.CampaignAccount.filter(id=elsewhere.id).exists()
    # a campaign of another project answers like a missing one
    their_product = await models.Product.create(project=theirs, name="P", slug="p")
    their_campaign = await models.Campaign.create(project=theirs, product=their_product, name="T", slug="t")
    refused = await remove(gql, owner, their_campaign, accountIds=[global_id("Account", account.id)])
    missing = data_of(await gql(REMOVE, {"input": {"campaignId": global_id("Campaign", 999_999),
                                                   "accountIds": []}}, as_=owner))["removeAccountsFromCampaign"]
    assert [(e["code"], e["field"], e["message"]) for e in refused["errors"]] == [
        (e["code"], e["field"], e["message"]) for e in missing["errors"]] == [
        ("NOT_FOUND", "input.campaignId", "Campaign not found.")]


async def test_confirm_token_refuses_a_changed_set(gql, owner, project, campaign) -> None:
    rows = await build(project, campaign)
    ids = row_ids(rows, "plain", "scored")
    dry = await remove(gql, owner, campaign, campaignAccountIds=ids, dryRun=True)
    await models.CampaignAccount.filter(id=rows["plain"].id).update(review_status=ReviewStatus.APPROVED)
    refused = await remove(gql, owner, campaign, campaignAccountIds=ids, confirmToken=dry["confirmToken"])
    assert [(e["code"], e["field"]) for e in refused["errors"]] == [("CONFLICT", "input.confirmToken")]
    assert len(await left(campaign)) == len(KINDS)
    dry = await remove(gql, owner, campaign, campaignAccountIds=ids, dryRun=True)
    done = await remove(gql, owner, campaign, campaignAccountIds=ids, confirmToken=dry["confirmToken"])
    assert (done["removed"], done["keptApproved"]) == (1, 1)


async def test_input_errors_and_roles(gql, owner, project, campaign, make_user, add_member) -> None:
    rows = await build(project, campaign)
    nothing = await remove(gql, owner, campaign)
    assert [(e["code"], e["field"]) for e in nothing["errors"]] == [("INVALID", "input.campaignAccountIds")]
    viewer = await make_user("viewer@example.com")
    await add_member(viewer, project, Role.VIEWER)
    refused = await remove(gql, viewer, campaign, campaignAccountIds=row_ids(rows, "plain"))
    assert [e["code"] for e in refused["errors"]] == ["FORBIDDEN"]
    assert len(await left(campaign)) == len(KINDS)


async def test_the_campaign_page_hears_after_the_commit(gql, owner, project, campaign) -> None:
    rows = await build(project, campaign)
    stream = events.get_bus().subscribe(events.campaign_channel(campaign.id))
    listening = asyncio.ensure_future(anext(stream))
    await asyncio.sleep(0)
    await remove(gql, owner, campaign, campaignAccountIds=row_ids(rows, "plain"))
    event = await asyncio.wait_for(listening, 2)
    await stream.aclose()
    assert event["kind"] == "accounts_changed"
    assert not await models.CampaignAccount.filter(id=rows["plain"].id).exists()  # committed before it was heard


async def test_statements_are_bounded_for_a_thousand_rows(gql, owner, project, campaign, count_queries) -> None:
    await models.Account.bulk_create([models.Account(project=project, name=f"Bulk {i}") for i in range(1000)])
    accounts = await models.Account.filter(project=project).order_by("id")
    await models.CampaignAccount.bulk_create([models.CampaignAccount(campaign=campaign, account=a) for a in accounts])
    await campaign_stats.recount([campaign.id])
    with count_queries() as q:
        payload = await remove(gql, owner, campaign, accountIds=[global_id("Account", a.id) for a in accounts])
    assert (payload["removed"], payload["errors"]) == (1000, [])
    assert len(q) <= 15, q.statements  # 11 measured: a few per chunk of 2,000 ids, none per row
    assert payload["campaign"]["totalAccounts"] == 0
    await assert_exact(campaign)
