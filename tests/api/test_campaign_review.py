"""Review findings: cached campaign counters stay exact across mergeAccounts, and related edge cases."""

from __future__ import annotations

from typing import Any

import pytest

from outboundql import models
from outboundql.enums import Band, OutreachStatus, ReviewStatus
from outboundql.goals.testing import registry_with
from outboundql.services import account_merge, campaign_stats
from outboundql.services import campaigns as campaigns_service
from outboundql.services.access import Access
from tests.helpers import Person, data_of, global_id


@pytest.fixture
async def access(owner: Person, project: models.Project) -> Access:
    return await Access.for_user(owner.user)


async def account(project: models.Project, name: str) -> models.Account:
    return await models.Account.create(project=project, name=name, name_key=name.lower())


async def score(project: models.Project, product: models.Product, acc: models.Account, value: float,
                goal: str = "sales") -> None:
    band = Band.MISMATCH if value < 5 else Band.MODERATE if value < 8 else Band.EXCELLENT
    await models.FitScore.create(project=project, product=product, account=acc, goal_key=goal, score=value,
                                 band=band, scorer="rubric")


async def join(campaign: models.Campaign, acc: models.Account, **fields: Any) -> models.CampaignAccount:
    return await models.CampaignAccount.create(campaign=campaign, account=acc, **fields)


async def sync(campaign: models.Campaign) -> None:
    """Set the cached counters from the rows (test setup writes rows directly)."""
    await campaign_stats.recount([campaign.id])


async def assert_exact(campaign: models.Campaign) -> dict[str, int]:
    fresh = await models.Campaign.get(id=campaign.id)
    cached = {k: getattr(fresh, k) for k in campaign_stats.COUNTERS}
    assert cached == await campaign_stats.exact(fresh)
    return {k: v for k, v in cached.items() if k != "stale_score_count" and not k.startswith("score_bucket_")}


async def test_merge_folding_duplicate_rows_keeps_every_counter_exact(
    access: Access, project: models.Project, product: models.Product, campaign: models.Campaign
) -> None:
    target = await account(project, "Acme")
    source = await account(project, "Acme Dup")
    await score(project, product, source, 9.0)
    kept_row = await join(campaign, target)
    gone_row = await join(campaign, source, review_status=ReviewStatus.APPROVED,
                          outreach_status=OutreachStatus.RESPONDED, notes="called twice")
    await models.CampaignAccountTag.create(campaign_account=kept_row, campaign=campaign, tag="vip")
    for tag in ("vip", "eu"):
        await models.CampaignAccountTag.create(campaign_account=gone_row, campaign=campaign, tag=tag)
    await sync(campaign)

    await account_merge.merge_accounts(access, account_merge.MergeAccounts(target.id, (source.id,)))

    tags = await models.CampaignAccountTag.filter(campaign_id=campaign.id).order_by("tag").values_list(
        "campaign_account_id", "tag")
    assert tags == [(kept_row.id, "eu"), (kept_row.id, "vip")]

    cached = await assert_exact(campaign)
    assert cached["total_accounts"] == 1
    # the work done on the folded row is carried to the kept one, not lost
    kept = await models.CampaignAccount.get(campaign_id=campaign.id, account_id=target.id)
    assert kept.review_status is ReviewStatus.APPROVED
    assert kept.outreach_status is OutreachStatus.RESPONDED
    assert kept.notes == "called twice"
    assert cached == {"total_accounts": 1, "scored_accounts": 1, "approved_accounts": 1,
                      "outreached_accounts": 1, "responded_accounts": 1}


async def test_merge_moving_a_row_onto_a_scored_target_counts_it_scored(
    access: Access, project: models.Project, product: models.Product, campaign: models.Campaign
) -> None:
    target = await account(project, "Acme")
    source = await account(project, "Acme Dup")
    await score(project, product, target, 7.0)
    await join(campaign, source)  # unscored row; after the move it points at a scored account
    await sync(campaign)

    await account_merge.merge_accounts(access, account_merge.MergeAccounts(target.id, (source.id,)))

    assert (await assert_exact(campaign))["scored_accounts"] == 1


async def test_merge_moving_a_score_to_the_target_counts_the_targets_rows_scored(
    access: Access, project: models.Project, product: models.Product, campaign: models.Campaign
) -> None:
    target = await account(project, "Acme")
    source = await account(project, "Acme Dup")
    await score(project, product, source, 7.0)  # source is in no campaign; its score moves to the target
    await join(campaign, target)
    await sync(campaign)

    await account_merge.merge_accounts(access, account_merge.MergeAccounts(target.id, (source.id,)))

    assert (await assert_exact(campaign))["scored_accounts"] == 1


async def test_merge_folding_rows_with_target_worse_off_keeps_counts(
    access: Access, project: models.Project, product: models.Product, campaign: models.Campaign
) -> None:
    target = await account(project, "Acme")
    source = await account(project, "Acme Dup")
    await join(campaign, target, review_status=ReviewStatus.APPROVED, outreach_status=OutreachStatus.SENT)
    await join(campaign, source, review_status=ReviewStatus.REJECTED, outreach_status=OutreachStatus.DRAFT)
    await sync(campaign)

    await account_merge.merge_accounts(access, account_merge.MergeAccounts(target.id, (source.id,)))

    assert await assert_exact(campaign) == {"total_accounts": 1, "scored_accounts": 0, "approved_accounts": 1,
                                            "outreached_accounts": 1, "responded_accounts": 0}


UPDATE_CAMPAIGN = """
mutation($input: UpdateCampaignInput!) {
  updateCampaign(input: $input) { campaign { id } errors { code field message } }
}
"""
ADD = """
mutation($input: AddAccountsToCampaignInput!) {
  addAccountsToCampaign(input: $input) { added errors { code field message } }
}
"""


async def test_unknown_audience_kind_is_refused_on_its_own_field(
    gql: Any, owner: Person, project: models.Project, campaign: models.Campaign
) -> None:
    sf = await models.SavedFilter.create(project=project, name="All", expression={"all": []})
    variables = {"input": {"id": global_id("Campaign", campaign.id),
                           "audience": {"kind": "everything", "savedFilterId": global_id("SavedFilter", sf.id)}}}
    payload = data_of(await gql(UPDATE_CAMPAIGN, variables, as_=owner))["updateCampaign"]
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("INVALID", "input.audience.kind")]
    assert "manual" in payload["errors"][0]["message"] and "saved_filter" in payload["errors"][0]["message"]
    assert (await models.Campaign.get(id=campaign.id)).audience_config == campaign.audience_config


async def test_too_many_accounts_from_a_saved_filter_names_the_filter_field(
    gql: Any, owner: Person, project: models.Project, campaign: models.Campaign, monkeypatch: Any
) -> None:
    from outboundql.services import campaign_accounts

    monkeypatch.setattr(campaign_accounts, "MAX_ADD", 2)
    for name in ("A", "B", "C"):
        await account(project, name)
    sf = await models.SavedFilter.create(project=project, name="All", expression={"all": []})
    variables = {"input": {"campaignId": global_id("Campaign", campaign.id),
                           "savedFilterId": global_id("SavedFilter", sf.id)}}
    payload = data_of(await gql(ADD, variables, as_=owner))["addAccountsToCampaign"]
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("INVALID", "input.savedFilterId")]
    assert "3" in payload["errors"][0]["message"]


async def test_concurrent_creates_with_one_name_get_suffixed_slugs(
    access: Access, project: models.Project, product: models.Product
) -> None:
    import asyncio

    made = await asyncio.gather(*(
        campaigns_service.create_campaign(access, registry_with(), campaigns_service.CreateCampaign(
            project_id=project.id, product_id=product.id, name="Launch"))
        for _ in range(4)
    ))
    assert sorted(c.campaign.slug for c in made) == ["launch", "launch-2", "launch-3", "launch-4"]


async def test_recount_repair_is_audited(project: models.Project, campaign: models.Campaign) -> None:
    await join(campaign, await account(project, "Acme"))
    drifted = await campaign_stats.recount([campaign.id])
    assert [d.fields for d in drifted] == [["total_accounts"]]
    event = await models.AuditEvent.get(action="campaign.recount")
    assert (event.object_type, event.object_id, event.actor_id) == ("Campaign", campaign.id, None)
    assert event.before == {"total_accounts": 0} and event.after == {"total_accounts": 1}
    assert await campaign_stats.recount([campaign.id]) == []
    assert await models.AuditEvent.filter(action="campaign.recount").count() == 1


async def test_merge_moves_api_usage_to_the_target(
    access: Access, project: models.Project, campaign: models.Campaign
) -> None:
    from outboundql.enums import UsageOperation

    target = await account(project, "Acme")
    source = await account(project, "Acme Dup")
    usage = await models.ApiUsage.create(project=project, provider="openai", model="m", operation=UsageOperation.SCORE,
                                         campaign=campaign, account=source)
    await account_merge.merge_accounts(access, account_merge.MergeAccounts(target.id, (source.id,)))
    assert (await models.ApiUsage.get(id=usage.id)).account_id == target.id
