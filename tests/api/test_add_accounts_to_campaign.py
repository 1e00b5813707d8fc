"""addAccountsToCampaign by ids: the campaign goal's guardrails and override flags, grouped answers,
idempotence, 10,000 accounts in one call; and explainGuardrails(campaignId) as its dry run."""

from __future__ import annotations

from typing import Any

import pytest

from outboundql import models
from outboundql.enums import AccountStatus, Band, Role
from outboundql.services import campaign_stats
from tests.helpers import Person, data_of, global_id

ADD = """
mutation($input: AddAccountsToCampaignInput!) {
  addAccountsToCampaign(input: $input) {
    added alreadyPresent notFound
    blocked { reason status count accountIds message overrideFlag }
    campaign { id totalAccounts scoredAccounts }
    errors { code field message }
  }
}
"""

EXPLAIN = """
query($id: ID!, $ids: [ID!]!, $overrides: GuardrailOverrides) {
  explainGuardrails(campaignId: $id, accountIds: $ids, overrides: $overrides) {
    admittedCount notFound
    accounts { verdict status overrideFlag overridden account { name } }
    blocked { reason status count accountIds overrideFlag message }
  }
}
"""

STATUSES = ("new", "engaged", "partner", "churned", "customer", "supplier", "investor", "press", "analyst",
            "candidate", "competitor", "personal_network", "do_not_contact")


async def make_campaign(project: models.Project, product: models.Product, goal: str = "sales",
                        slug: str = "camp") -> models.Campaign:
    return await models.Campaign.create(project=project, product=product, name=slug, slug=slug, goal_key=goal)


@pytest.fixture
async def accounts(project: models.Project) -> dict[str, models.Account]:
    return {s: await models.Account.create(project=project, name=f"{s} co", status=AccountStatus(s)) for s in STATUSES}


def gids(accounts: dict[str, models.Account], *statuses: str) -> list[str]:
    return [global_id("Account", accounts[s].id) for s in statuses]


async def add(gql: Any, who: Person, campaign: models.Campaign, ids: list[str],
              overrides: dict[str, bool] | None = None) -> dict[str, Any]:
    variables = {"input": {"campaignId": global_id("Campaign", campaign.id), "accountIds": ids,
                           "overrides": overrides}}
    return data_of(await gql(ADD, variables, as_=who))["addAccountsToCampaign"]


async def assert_exact(campaign: models.Campaign) -> dict[str, int]:
    fresh = await models.Campaign.get(id=campaign.id)
    cached = {k: getattr(fresh, k) for k in campaign_stats.COUNTERS}
    assert cached == await campaign_stats.exact(fresh)
    return {k: v for k, v in cached.items() if k != "stale_score_count" and not k.startswith("score_bucket_")}


async def member_ids(campaign: models.Campaign) -> set[int]:
    return set(await models.CampaignAccount.filter(campaign_id=campaign.id).values_list("account_id", flat=True))


async def test_sales_admits_pipeline_and_partner_and_groups_the_rest(gql, owner, campaign, accounts) -> None:
    result = await add(gql, owner, campaign, gids(accounts, *STATUSES))

    assert result["errors"] == []
    assert result["added"] == 4 and result["alreadyPresent"] == 0 and result["notFound"] == []
    assert await member_ids(campaign) == {accounts[s].id for s in ("new", "engaged", "partner", "churned")}
    groups = {(g["reason"], g["status"]): g for g in result["blocked"]}
    assert list(groups) == [
        ("hard_block", "competitor"), ("hard_block", "do_not_contact"), ("hard_block", "personal_network"),
        ("soft_block", "analyst"), ("soft_block", "candidate"), ("soft_block", "customer"),
        ("soft_block", "investor"), ("soft_block", "press"), ("soft_block", "supplier"),
    ]
    for (reason, status), group in groups.items():
        assert group["count"] == 1 and group["accountIds"] == gids(accounts, status)
        assert group["message"]
        if reason == "hard_block":
            assert group["overrideFlag"] is None
    assert groups[("soft_block", "press")]["overrideFlag"] == "includePress"
    assert groups[("soft_block", "customer")]["overrideFlag"] == "includeCustomers"
    assert "sales campaign soft-blocks press accounts; set includepress" in groups[("soft_block", "press")][
        "message"].lower()
    assert result["campaign"]["totalAccounts"] == 4
    assert await assert_exact(campaign) == {"total_accounts": 4, "scored_accounts": 0, "approved_accounts": 0,
                                            "outreached_accounts": 0, "responded_accounts": 0}
    event = await models.AuditEvent.get(action="campaign.add_accounts")
    assert event.after["added"] == 4 and event.after["blocked"]["soft_block:press"] == 1


async def test_override_flags_admit_soft_blocks_only(gql, owner, campaign, accounts) -> None:
    flags = {f: True for f in ("includeCustomers", "includeSuppliers", "includeInvestors", "includePress",
                               "includeAnalysts", "includeCandidates")}
    result = await add(gql, owner, campaign, gids(accounts, *STATUSES), flags)
    assert result["added"] == 10
    assert [(g["reason"], g["status"]) for g in result["blocked"]] == [
        ("hard_block", "competitor"), ("hard_block", "do_not_contact"), ("hard_block", "personal_network")]
    await assert_exact(campaign)


async def test_one_flag_admits_only_its_status(gql, owner, campaign, accounts) -> None:
    result = await add(gql, owner, campaign, gids(accounts, "press", "customer", "analyst"), {"includePress": True})
    assert result["added"] == 1
    assert await member_ids(campaign) == {accounts["press"].id}
    assert [g["status"] for g in result["blocked"]] == ["analyst", "customer"]


@pytest.mark.parametrize(("goal", "target", "blocked"), [
    ("press", ["press", "analyst"], ["customer", "investor"]),
    ("investor", ["investor"], ["press", "customer"]),
    ("customer_expansion", ["customer"], ["press", "supplier"]),
    ("partnership", ["supplier", "customer"], ["press"]),
])
async def test_the_campaign_goal_decides(gql, owner, project, product, accounts, goal, target, blocked) -> None:
    campaign = await make_campaign(project, product, goal, slug=goal.replace("_", "-"))
    result = await add(gql, owner, campaign, gids(accounts, *target, *blocked, "competitor", "new"))
    assert result["added"] == len(target) + 1
    assert await member_ids(campaign) == {accounts[s].id for s in (*target, "new")}
    assert sorted(g["status"] for g in result["blocked"]) == sorted([*blocked, "competitor"])
    for group in result["blocked"]:
        if group["reason"] == "soft_block":
            assert goal.replace("_", " ") in group["message"].lower()


async def test_idempotent_and_already_present_counted(gql, owner, campaign, accounts, product) -> None:
    await models.FitScore.create(project_id=campaign.project_id, product=product, account=accounts["new"],
                                 goal_key="sales", score=9.1, band=Band.EXCELLENT, scorer="test")
    first = await add(gql, owner, campaign, gids(accounts, "new", "engaged"))
    assert (first["added"], first["alreadyPresent"]) == (2, 0)
    assert first["campaign"]["scoredAccounts"] == 1

    again = await add(gql, owner, campaign, gids(accounts, "new", "engaged", "partner", "new", "press"))
    assert (again["added"], again["alreadyPresent"]) == (1, 2)  # duplicates in the request count once
    assert [g["status"] for g in again["blocked"]] == ["press"]  # blocked ones are not "already present"
    assert again["campaign"]["totalAccounts"] == 3
    third = await add(gql, owner, campaign, gids(accounts, "new", "engaged", "partner"))
    assert (third["added"], third["alreadyPresent"]) == (0, 3)
    assert await assert_exact(campaign) == {"total_accounts": 3, "scored_accounts": 1, "approved_accounts": 0,
                                            "outreached_accounts": 0, "responded_accounts": 0}
    assert await models.CampaignAccount.filter(campaign_id=campaign.id).count() == 3


async def test_not_found_foreign_missing_and_wrong_type(gql, owner, campaign, accounts, make_user,
                                                        make_project) -> None:
    stranger = await make_user("stranger@example.com")
    theirs = await make_project(stranger, "Theirs")
    foreign = await models.Account.create(project=theirs, name="foreign")
    ids = [*gids(accounts, "new"), global_id("Account", foreign.id), global_id("Account", 987_654),
           global_id("Product", accounts["engaged"].id), global_id("Account", 2**40)]
    result = await add(gql, owner, campaign, ids)
    assert result["errors"] == [] and result["added"] == 1
    assert result["notFound"] == ids[1:]
    assert await member_ids(campaign) == {accounts["new"].id}
    assert not await models.CampaignAccount.filter(account_id=foreign.id).exists()


async def test_campaign_of_another_project_is_not_found(gql, owner, accounts, make_user, make_project) -> None:
    stranger = await make_user("stranger@example.com")
    theirs = await make_project(stranger, "Theirs")
    their_campaign = await make_campaign(theirs, await models.Product.create(project=theirs, name="P", slug="p"))
    for campaign_gid in (global_id("Campaign", their_campaign.id), global_id("Campaign", 987_654)):
        payload = data_of(await gql(ADD, {"input": {"campaignId": campaign_gid, "accountIds": gids(accounts, "new")}},
                                    as_=owner))["addAccountsToCampaign"]
        assert payload["errors"] == [{"code": "NOT_FOUND", "field": "input.campaignId",
                                      "message": "Campaign not found."}]
        assert payload["campaign"] is None and payload["added"] == 0
    assert await models.CampaignAccount.all().count() == 0


async def test_viewer_cannot_add(gql, project, campaign, accounts, make_user, add_member) -> None:
    viewer = await make_user("viewer@example.com")
    await add_member(viewer, project, Role.VIEWER)
    payload = await add(gql, viewer, campaign, gids(accounts, "new"))
    assert [e["code"] for e in payload["errors"]] == ["FORBIDDEN"]
    assert await models.CampaignAccount.all().count() == 0


async def test_ids_and_saved_filter_are_exclusive(gql, owner, campaign) -> None:
    payload = data_of(await gql(ADD, {"input": {"campaignId": global_id("Campaign", campaign.id)}},
                                as_=owner))["addAccountsToCampaign"]
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("INVALID", "input.accountIds")]


async def test_ten_thousand_in_one_call_and_ten_thousand_one_refused(gql, owner, project, campaign, product) -> None:
    statuses = [AccountStatus.NEW] * 8 + [AccountStatus.PRESS, AccountStatus.DO_NOT_CONTACT]
    await models.Account.bulk_create([
        models.Account(project=project, name=f"bulk {i:05d}", status=statuses[i % 10]) for i in range(10_001)
    ], batch_size=2000)
    rows = await models.Account.filter(project_id=project.id).order_by("id").values_list("id", "status")
    ids = [i for i, _ in rows]
    scored = ids[:1500:3]
    await models.FitScore.bulk_create([
        models.FitScore(project=project, product=product, account_id=i, goal_key="sales", score=5.5,
                        band=Band.MODERATE, scorer="test") for i in scored
    ], batch_size=2000)

    too_many = await add(gql, owner, campaign, [global_id("Account", i) for i in ids])
    assert [(e["code"], e["field"]) for e in too_many["errors"]] == [("INVALID", "input.accountIds")]
    assert "10000" in too_many["errors"][0]["message"] and "10001" in too_many["errors"][0]["message"]
    assert await models.CampaignAccount.all().count() == 0

    result = await add(gql, owner, campaign, [global_id("Account", i) for i in ids[:10_000]])
    assert result["errors"] == []
    admitted = [i for i, s in rows[:10_000] if s == AccountStatus.NEW]
    assert result["added"] == len(admitted) == 8000
    assert {g["status"]: g["count"] for g in result["blocked"]} == {"press": 1000, "do_not_contact": 1000}
    assert await assert_exact(campaign) == {"total_accounts": 8000, "scored_accounts": len(
        [i for i in scored if i in set(admitted)]), "approved_accounts": 0, "outreached_accounts": 0,
        "responded_accounts": 0}

    again = await add(gql, owner, campaign, [global_id("Account", i) for i in ids[1:10_001]])
    assert again["added"] == (1 if rows[10_000][1] == AccountStatus.NEW else 0)
    assert again["alreadyPresent"] == len(admitted) - (1 if rows[0][1] == AccountStatus.NEW else 0)
    await assert_exact(campaign)


# --- explainGuardrails(campaignId, accountIds) ---------------------------------------------------


async def test_explain_uses_the_campaigns_goal_and_changes_nothing(gql, owner, project, product, accounts) -> None:
    campaign = await make_campaign(project, product, "press", "press-camp")
    variables = {"id": global_id("Campaign", campaign.id), "ids": gids(accounts, "press", "customer", "competitor",
                                                                        "new")}
    result = data_of(await gql(EXPLAIN, variables, as_=owner))["explainGuardrails"]
    assert [(a["account"]["name"], a["verdict"]) for a in result["accounts"]] == [
        ("press co", "TARGET"), ("customer co", "SOFT_BLOCKED"), ("competitor co", "HARD_BLOCKED"),
        ("new co", "ADMITTED")]
    assert result["admittedCount"] == 2
    assert [(g["reason"], g["status"], g["overrideFlag"]) for g in result["blocked"]] == [
        ("hard_block", "competitor", None), ("soft_block", "customer", "includeCustomers")]

    overridden = data_of(await gql(EXPLAIN, {**variables, "overrides": {"includeCustomers": True}},
                                   as_=owner))["explainGuardrails"]
    assert overridden["admittedCount"] == 3
    assert [a["overridden"] for a in overridden["accounts"]] == [False, True, False, False]
    assert await models.CampaignAccount.all().count() == 0

    added = await add(gql, owner, campaign, variables["ids"], {"includeCustomers": True})
    assert added["added"] == overridden["admittedCount"]


async def test_explain_on_a_foreign_or_missing_campaign_is_null(gql, owner, project, product, accounts, make_user,
                                                                make_project, add_member) -> None:
    stranger = await make_user("stranger@example.com")
    theirs = await make_project(stranger, "Theirs")
    their_campaign = await make_campaign(theirs, await models.Product.create(project=theirs, name="P", slug="p"))
    foreign_account = await models.Account.create(project=theirs, name="theirs", status=AccountStatus.NEW)
    ids = gids(accounts, "new")
    for campaign_gid in (global_id("Campaign", their_campaign.id), global_id("Campaign", 987_654),
                         global_id("Product", product.id)):
        result = await gql(EXPLAIN, {"id": campaign_gid, "ids": ids}, as_=owner)
        assert data_of(result) == {"explainGuardrails": None}

    mine = await make_campaign(project, product)
    result = data_of(await gql(EXPLAIN, {"id": global_id("Campaign", mine.id),
                                         "ids": [*ids, global_id("Account", foreign_account.id)]},
                               as_=owner))["explainGuardrails"]
    assert result["notFound"] == [global_id("Account", foreign_account.id)]

    viewer = await make_user("viewer@example.com")
    await add_member(viewer, project, Role.VIEWER)
    as_viewer = data_of(await gql(EXPLAIN, {"id": global_id("Campaign", mine.id), "ids": ids},
                                  as_=viewer))["explainGuardrails"]
    assert as_viewer["admittedCount"] == 1
