"""Campaign audiences through GraphQL: syncCampaignAudience fills a campaign from its saved filter (grouped like a
bulk add), releases rows that stopped matching unless someone worked on them, runs a large audience as a job with
progress; a campaign that opts in fills itself as accounts are created, imported or change; markets as territories
(Market.accounts, Market.coverage, a campaign created in a market starts with the market's landscape)."""

from __future__ import annotations

import random
from typing import Any

import pytest

from outboundql import models
from outboundql.enums import AccountStatus, AudienceSyncStatus, OutreachStatus, ReviewStatus, Role
from outboundql.services import audiences, campaign_stats
from outboundql.services.filter_expressions import match
from tests.api.test_saved_filter_sql import ALL_COLUMNS, SEED, _accounts, _expressions
from tests.helpers import Person, data_of, global_id, warm_up

SYNC = """
mutation($input: SyncCampaignAudienceInput!) {
  syncCampaignAudience(input: $input) {
    started added alreadyPresent removed kept
    blocked { reason status count accountIds message overrideFlag }
    sync { id status trigger total done added progress { done total } blocked { status count } error }
    campaign { id totalAccounts }
    errors { code field message }
  }
}
"""
UPDATE_CAMPAIGN = """
mutation($input: UpdateCampaignInput!) {
  updateCampaign(input: $input) {
    campaign { audience { kind savedFilterId autoAdd } totalAccounts } errors { code field message }
  }
}
"""
CREATE_CAMPAIGN = """
mutation($input: CreateCampaignInput!) {
  createCampaign(input: $input) { campaign { id audience { kind autoAdd } } errors { code field message } }
}
"""
CREATE_ACCOUNT = """
mutation($input: CreateAccountInput!) { createAccount(input: $input) { account { id } errors { code field } } }
"""
UPDATE_ACCOUNT = """
mutation($input: UpdateAccountInput!) { updateAccount(input: $input) { account { id } errors { code field } } }
"""
CAMPAIGN_SYNCS = """
query($id: ID!) { node(id: $id) { ... on Campaign { totalAccounts audienceSyncs { status total done added } } } }
"""
MARKET = """
query($id: ID!) {
  node(id: $id) { ... on Market {
    accounts(first: 10) { totalCount edges { node { name } } }
    coverage { landscape inCampaigns reached rate }
  } }
}
"""
CREATE_MARKET = """
mutation($input: CreateMarketInput!) { createMarket(input: $input) { market { id } errors { code field message } } }
"""


@pytest.fixture
async def french(project: models.Project) -> models.SavedFilter:
    return await models.SavedFilter.create(project=project, name="France",
                                           expression={"field": "country", "op": "eq", "value": "FR"})


async def account(project: models.Project, name: str, country: str = "FR",
                  status: AccountStatus = AccountStatus.NEW) -> models.Account:
    return await models.Account.create(project=project, name=name, country=country, status=status)


async def use_audience(campaign: models.Campaign, saved_filter: models.SavedFilter, auto_add: bool = False) -> None:
    campaign.audience_config = {"kind": "saved_filter", "filter_id": saved_filter.id, "auto_add": auto_add}
    await campaign.save()


async def sync(gql: Any, who: Person, campaign: models.Campaign) -> dict[str, Any]:
    result = data_of(await gql(SYNC, {"input": {"campaignId": global_id("Campaign", campaign.id)}}, as_=who))
    return dict(result["syncCampaignAudience"])


async def members(campaign: models.Campaign) -> set[str]:
    return set(await models.CampaignAccount.filter(campaign_id=campaign.id).values_list("account__name", flat=True))


async def assert_exact(campaign: models.Campaign) -> None:
    fresh = await models.Campaign.get(id=campaign.id)
    assert {k: getattr(fresh, k) for k in campaign_stats.COUNTERS} == await campaign_stats.exact(fresh)


async def test_sync_adds_what_the_filter_matches_through_the_guardrails(gql, owner, project, campaign,
                                                                        french) -> None:
    for name in ("Alpha", "Beta"):
        await account(project, name)
    rival = await account(project, "Rival", status=AccountStatus.COMPETITOR)
    await account(project, "Gamma", country="DE")
    await use_audience(campaign, french)

    first = await sync(gql, owner, campaign)

    assert first["errors"] == [] and first["started"] is True
    assert (first["added"], first["alreadyPresent"], first["removed"], first["kept"]) == (2, 0, 0, 0)
    [group] = first["blocked"]
    assert (group["reason"], group["status"], group["count"]) == ("hard_block", "competitor", 1)
    assert group["accountIds"] == [global_id("Account", rival.id)] and group["overrideFlag"] is None
    assert first["sync"]["status"] == "COMPLETED" and first["sync"]["progress"] == {"done": 3, "total": 3}
    assert first["campaign"]["totalAccounts"] == 2
    assert await members(campaign) == {"Alpha", "Beta"}
    again = await sync(gql, owner, campaign)
    assert (again["added"], again["alreadyPresent"]) == (0, 2)
    await assert_exact(campaign)
    history = data_of(await gql(CAMPAIGN_SYNCS, {"id": global_id("Campaign", campaign.id)}, as_=owner))["node"]
    assert [s["added"] for s in history["audienceSyncs"]] == [0, 2]


async def test_rows_that_stop_matching_are_released_unless_someone_worked_on_them(gql, owner, project, campaign,
                                                                                   french) -> None:
    touched, untouched, by_hand = [await account(project, n) for n in ("Touched", "Untouched", "ByHand")]
    await use_audience(campaign, french)
    await sync(gql, owner, campaign)
    await models.CampaignAccount.filter(campaign_id=campaign.id, account_id=touched.id).update(
        review_status=ReviewStatus.APPROVED)
    await models.CampaignAccount.filter(campaign_id=campaign.id, account_id=by_hand.id).update(via_audience=False)
    await campaign_stats.recount([campaign.id])
    await models.Account.filter(id__in=[touched.id, untouched.id, by_hand.id]).update(country="ES")

    result = await sync(gql, owner, campaign)

    assert (result["added"], result["removed"], result["kept"]) == (0, 1, 1)
    assert await members(campaign) == {"Touched", "ByHand"}
    await assert_exact(campaign)


async def test_removing_the_filter_releases_only_rows_without_work(gql, owner, project, campaign, french) -> None:
    for name in ("One", "Two"):
        await account(project, name)
    await use_audience(campaign, french)
    await sync(gql, owner, campaign)
    row = await models.CampaignAccount.get(campaign_id=campaign.id, account__name="Two")
    await models.CampaignAccountTag.create(campaign_account=row, campaign_id=campaign.id, tag="warm")

    payload = data_of(await gql(UPDATE_CAMPAIGN, {"input": {"id": global_id("Campaign", campaign.id),
                                                            "audience": {"kind": "manual"}}}, as_=owner))
    assert payload["updateCampaign"]["errors"] == []
    assert payload["updateCampaign"]["campaign"]["audience"] == {"kind": "manual", "savedFilterId": None,
                                                                 "autoAdd": False}
    assert await members(campaign) == {"Two"}
    await assert_exact(campaign)
    refused = await sync(gql, owner, campaign)
    assert [(e["code"], e["field"]) for e in refused["errors"]] == [("INVALID", "input.campaignId")]
    assert "manual" in refused["errors"][0]["message"]


async def test_an_opted_in_campaign_fills_itself_as_accounts_are_created_and_change(gql, owner, project, campaign,
                                                                                   french) -> None:
    payload = data_of(await gql(UPDATE_CAMPAIGN, {"input": {
        "id": global_id("Campaign", campaign.id),
        "audience": {"kind": "saved_filter", "savedFilterId": global_id("SavedFilter", french.id), "autoAdd": True},
    }}, as_=owner))["updateCampaign"]
    assert payload["campaign"]["audience"]["autoAdd"] is True
    project_gid = global_id("Project", project.id)

    created = data_of(await gql(CREATE_ACCOUNT, {"input": {"projectId": project_gid, "name": "Nouvelle",
                                                           "country": "FR"}}, as_=owner))["createAccount"]
    other = data_of(await gql(CREATE_ACCOUNT, {"input": {"projectId": project_gid, "name": "Neue",
                                                         "country": "DE"}}, as_=owner))["createAccount"]
    assert await members(campaign) == {"Nouvelle"}

    await gql(UPDATE_ACCOUNT, {"input": {"id": other["account"]["id"], "country": "FR"}}, as_=owner)
    assert await members(campaign) == {"Nouvelle", "Neue"}
    await gql(UPDATE_ACCOUNT, {"input": {"id": created["account"]["id"], "country": "IT"}}, as_=owner)
    assert await members(campaign) == {"Neue"}  # nobody had worked on it: released
    await assert_exact(campaign)
    rows = await models.CampaignAccount.filter(campaign_id=campaign.id).values_list("via_audience", flat=True)
    assert rows == [True]


async def test_a_campaign_that_did_not_opt_in_is_left_alone(gql, owner, project, campaign, french) -> None:
    await use_audience(campaign, french, auto_add=False)
    await gql(CREATE_ACCOUNT, {"input": {"projectId": global_id("Project", project.id), "name": "Quiet",
                                         "country": "FR"}}, as_=owner)
    assert await members(campaign) == set()


async def test_a_large_audience_runs_as_a_job_with_progress(gql, owner, project, campaign, french, jobs,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(audiences, "INLINE_LIMIT", 3)
    monkeypatch.setattr(audiences, "SLICE", 2)
    await models.Account.bulk_create([models.Account(project=project, name=f"Co {i}", country="FR")
                                      for i in range(7)])
    await use_audience(campaign, french)

    queued = await sync(gql, owner, campaign)
    assert queued["errors"] == [] and queued["added"] == 0
    assert queued["sync"]["status"] == "QUEUED" and queued["sync"]["progress"] == {"done": 0, "total": 7}
    busy = await sync(gql, owner, campaign)
    assert busy["started"] is False and [e["code"] for e in busy["errors"]] == ["CONFLICT"]
    assert busy["sync"]["id"] == queued["sync"]["id"]

    await jobs()

    done = await models.AudienceSync.get(id=(await models.AudienceSync.filter(campaign_id=campaign.id).first()).id)
    assert done.status is AudienceSyncStatus.COMPLETED and (done.done, done.total, done.added) == (7, 7, 7)
    assert done.active_campaign_id is None
    assert len(await members(campaign)) == 7
    await assert_exact(campaign)


async def test_refusals(gql, owner, project, campaign, french, make_user, add_member, make_project) -> None:
    viewer = await make_user("viewer@example.com")
    await add_member(viewer, project, Role.VIEWER)
    await use_audience(campaign, french)
    assert [e["code"] for e in (await sync(gql, viewer, campaign))["errors"]] == ["FORBIDDEN"]
    stranger = await make_user("stranger@example.com")
    await make_project(stranger, "Elsewhere")
    assert [e["code"] for e in (await sync(gql, stranger, campaign))["errors"]] == ["NOT_FOUND"]


CAMPAIGN_PAGE = """
query($slug: String!, $first: Int!) {
  project(slug: $slug) { campaigns(first: $first) { edges { node {
    name audienceSyncs { total added status createdAt } lastTwo: audienceSyncs(limit: 2) { total }
  } } } }
}
"""


async def test_a_page_of_campaigns_reads_their_syncs_in_one_statement(gql, owner, project, product,
                                                                       count_queries) -> None:
    for n in range(25):
        campaign = await models.Campaign.create(project=project, product=product, name=f"C{n:02}", slug=f"c{n}",
                                                goal_key="sales")
        for k in range(n % 8):  # 0 to 7 syncs: the default limit (5) and the alias's (2) cut some
            await models.AudienceSync.create(project=project, campaign=campaign, status=AudienceSyncStatus.COMPLETED,
                                             total=k, added=k)
    await warm_up(gql, owner)

    async def page(first: int) -> tuple[int, list[dict[str, Any]]]:
        with count_queries() as q:
            data = data_of(await gql(CAMPAIGN_PAGE, {"slug": project.slug, "first": first}, as_=owner))
        return len(q), [e["node"] for e in data["project"]["campaigns"]["edges"]]

    small, _ = await page(3)
    large, nodes = await page(25)
    assert small == large
    assert len(nodes) == 25
    for node in nodes:
        made = int(node["name"][1:]) % 8
        newest_first = [{"total": k, "added": k} for k in reversed(range(made))]
        assert [{"total": s["total"], "added": s["added"]} for s in node["audienceSyncs"]] == newest_first[:5]
        assert {(s["status"], s["createdAt"][:2]) for s in node["audienceSyncs"]} <= {("COMPLETED", "20")}
        assert node["lastTwo"] == [{"total": s["total"]} for s in newest_first[:2]]


async def test_auto_fill_adds_and_releases_what_python_matches(owner, project, product, count_queries) -> None:
    """Differential: campaigns whose audiences are generated filters (accents, case folds, custom fields…) fill
    themselves with exactly the touched accounts the Python evaluation matches, however the accounts change, and
    judging them against every campaign's audience is one statement."""
    expressions = [e for e in _expressions(60) if e != {"all": []}][:12]
    campaigns = []
    for n, expression in enumerate(expressions):
        saved = await models.SavedFilter.create(project=project, name=f"F{n}", expression=expression)
        campaigns.append(await models.Campaign.create(
            project=project, product=product, name=f"Auto {n}", slug=f"auto-{n}", goal_key="sales",
            audience_config={"kind": "saved_filter", "filter_id": saved.id, "auto_add": True}))
    rng = random.Random(SEED + 7)
    rows = _accounts(project.id, rng, 80)
    for row in rows:  # every account admitted by the sales goal's guardrails: what is compared is the match
        row["status"] = AccountStatus.NEW
    await models.Account.bulk_create([models.Account(**row) for row in rows])
    ids = sorted(await models.Account.filter(project_id=project.id).values_list("id", flat=True))

    async def expected(touched: list[int]) -> list[set[int]]:
        current = list(await models.Account.filter(id__in=touched).order_by("id").values("id", *ALL_COLUMNS))
        return [set(match(e, current)) for e in expressions]

    async def members_of(campaign: models.Campaign) -> set[int]:
        return set(await models.CampaignAccount.filter(campaign_id=campaign.id, via_audience=True)
                   .values_list("account_id", flat=True))

    first = ids[:50]
    with count_queries() as q:
        await audiences.accounts_changed(project.id, first)
    assert sum(1 for s in q.statements if "CASE WHEN" in s and "FROM account" in s) == 1
    want = await expected(first)
    assert [await members_of(c) for c in campaigns] == want
    assert sum(1 for w in want if 0 < len(w) < len(first)) >= 6, "the filters must discriminate"

    # Half of the accounts change (the other generated values), and more accounts arrive: rows added earlier
    # that stop matching are released (nobody worked on them), new matches are added.
    changed = _accounts(project.id, random.Random(SEED + 8), 25)
    for account_id, row in zip(ids[:50:2], changed, strict=True):
        await models.Account.filter(id=account_id).update(
            **{k: v for k, v in row.items() if k not in ("project_id", "status")})
    touched = [*ids[:50:2], *ids[50:]]
    await audiences.accounts_changed(project.id, touched)
    now = await expected(ids)
    assert [await members_of(c) for c in campaigns] == now
    for campaign in campaigns:
        await assert_exact(campaign)


# --- markets as territories ---------------------------------------------------------------------------------


async def test_a_market_is_a_territory_its_campaigns_start_from(gql, owner, project, product) -> None:
    for name, country, city in (("NY One", "US", "New York"), ("NY Two", "US", "new york"),
                                ("Boston", "US", "Boston"), ("Paris", "FR", "Paris")):
        await models.Account.create(project=project, name=name, country=country, city=city)
    created = data_of(await gql(CREATE_MARKET, {"input": {
        "projectId": global_id("Project", project.id), "name": "M&A — New York",
        "filters": {"countries": ["us"], "cities": ["New York"]}}}, as_=owner))["createMarket"]
    assert created["errors"] == []
    market_gid = created["market"]["id"]

    landscape = data_of(await gql(MARKET, {"id": market_gid}, as_=owner))["node"]
    assert landscape["accounts"]["totalCount"] == 2
    assert [e["node"]["name"] for e in landscape["accounts"]["edges"]] == ["NY One", "NY Two"]
    assert landscape["coverage"] == {"landscape": 2, "inCampaigns": 0, "reached": 0, "rate": 0.0}

    campaign_input = {"projectId": global_id("Project", project.id), "productId": global_id("Product", product.id),
                      "name": "Validation", "marketId": market_gid}
    made = data_of(await gql(CREATE_CAMPAIGN, {"input": campaign_input}, as_=owner))["createCampaign"]
    assert made["campaign"]["audience"] == {"kind": "market", "autoAdd": False}
    told = data_of(await gql(CREATE_CAMPAIGN, {"input": {**campaign_input, "name": "By hand",
                                                         "audience": {"kind": "manual"}}}, as_=owner))
    assert told["createCampaign"]["campaign"]["audience"]["kind"] == "manual"

    campaign = await models.Campaign.get(name="Validation")
    filled = await sync(gql, owner, campaign)
    assert filled["added"] == 2
    await models.CampaignAccount.filter(campaign_id=campaign.id, account__name="NY One").update(
        outreach_status=OutreachStatus.SENT)
    covered = data_of(await gql(MARKET, {"id": market_gid}, as_=owner))["node"]["coverage"]
    assert covered == {"landscape": 2, "inCampaigns": 2, "reached": 1, "rate": 0.5}


async def test_market_filters_must_describe_a_territory(gql, owner, project) -> None:
    base = {"projectId": global_id("Project", project.id), "name": "Odd"}
    for filters, needle in (({"planets": ["Mars"]}, "Unknown filter key"),
                            ({"countries": "US"}, "list of non-empty strings"),
                            ({"statuses": ["royalty"]}, "Unknown account status"),
                            ({"field": "nope", "op": "eq", "value": 1}, "Unknown field")):
        payload = data_of(await gql(CREATE_MARKET, {"input": {**base, "filters": filters}}, as_=owner))["createMarket"]
        assert [e["field"] for e in payload["errors"]] == ["input.filters"], filters
        assert needle in payload["errors"][0]["message"]
    expression = {"any": [{"field": "industry", "op": "eq", "value": "Legal"}]}
    payload = data_of(await gql(CREATE_MARKET, {"input": {**base, "filters": expression}}, as_=owner))["createMarket"]
    assert payload["errors"] == []
