"""Markets through GraphQL: create / update / delete, slugs, assigning campaigns, metrics rolled up
from the campaigns (constant queries for a list), tenancy and roles."""

from __future__ import annotations

from typing import Any

from outboundql import models
from outboundql.enums import OutreachStatus, ReviewStatus, Role
from outboundql.goals.testing import registry_with
from outboundql.services import accounts as accounts_service
from outboundql.services import campaign_accounts as ca_service
from outboundql.services import campaigns as campaigns_service
from outboundql.services.access import Access
from tests.helpers import Person, access_for, data_of, global_id

METRICS = ("campaignCount totalAccounts scoredAccounts approvedAccounts outreachedAccounts respondedAccounts "
           "responseRate")
MARKET = f"id name slug description filters {METRICS}"

CREATE = f"""
mutation($input: CreateMarketInput!) {{
  createMarket(input: $input) {{ market {{ {MARKET} }} errors {{ code field message }} }}
}}
"""
UPDATE = f"""
mutation($input: UpdateMarketInput!) {{
  updateMarket(input: $input) {{ market {{ {MARKET} }} errors {{ code field message }} }}
}}
"""
DELETE = """
mutation($input: DeleteMarketInput!) { deleteMarket(input: $input) { deletedMarketId errors { code field message } } }
"""
UPDATE_CAMPAIGN = """
mutation($input: UpdateCampaignInput!) {
  updateCampaign(input: $input) { campaign { slug market { slug } } errors { code field message } }
}
"""
LIST = f"""
query($slug: String!) {{
  project(slug: $slug) {{
    markets {{ {MARKET} campaigns {{ slug }} all: campaigns(includeArchived: true) {{ slug }} }}
  }}
}}
"""
NODE = f"query($id: ID!) {{ node(id: $id) {{ __typename ... on Market {{ {MARKET} }} }} }}"


async def _create(gql: Any, person: Person, project: models.Project, **fields: Any) -> dict[str, Any]:
    variables = {"input": {"projectId": global_id("Project", project.id), **fields}}
    return data_of(await gql(CREATE, variables, as_=person))["createMarket"]


async def _campaign(owner: Person, project: models.Project, product: models.Product, name: str,
                    **counters: int) -> models.Campaign:
    row = (await campaigns_service.create_campaign(await access_for(owner), registry_with(),
                                                   campaigns_service.CreateCampaign(project_id=project.id,
                                                                                    product_id=product.id,
                                                                                    name=name))).campaign
    if counters:
        await models.Campaign.filter(id=row.id).update(**counters)
    return row


async def _assign(gql: Any, person: Person, campaign: models.Campaign, market_gid: str | None) -> dict[str, Any]:
    variables = {"input": {"id": global_id("Campaign", campaign.id), "marketId": market_gid}}
    return data_of(await gql(UPDATE_CAMPAIGN, variables, as_=person))["updateCampaign"]


async def test_create_with_slugs_unique_per_project(gql, owner, project, make_project) -> None:
    first = await _create(gql, owner, project, name="M&A — New York", description="Deals",
                          filters={"cities": ["New York"]})
    assert first["errors"] == []
    market = first["market"]
    assert (market["name"], market["slug"], market["description"]) == ("M&A — New York", "m-a-new-york", "Deals")
    assert market["filters"] == {"cities": ["New York"]}
    assert market["campaignCount"] == 0 and market["responseRate"] == 0.0

    second = await _create(gql, owner, project, name="M&A New York")
    assert second["market"]["slug"] == "m-a-new-york-2"
    assert second["market"]["filters"] == {}
    other = await make_project(owner, "Elsewhere")
    assert (await _create(gql, owner, other, name="M&A New York"))["market"]["slug"] == "m-a-new-york"

    row = await models.Market.get(slug="m-a-new-york", project_id=project.id)
    event = await models.AuditEvent.get(action="market.create", object_id=row.id)
    assert event.actor_id == owner.user.id
    assert event.after["name"] == "M&A — New York" and event.after["filters"] == {"cities": ["New York"]}


async def test_validation(gql, owner, project) -> None:
    payload = await _create(gql, owner, project, name="  ", filters=["not", "an", "object"])
    assert payload["market"] is None
    assert sorted((e["code"], e["field"]) for e in payload["errors"]) == [
        ("INVALID", "input.filters"), ("INVALID", "input.name")]
    assert "JSON object" in next(e["message"] for e in payload["errors"] if e["field"] == "input.filters")
    too_long = await _create(gql, owner, project, name="x" * 201)
    assert [e["field"] for e in too_long["errors"]] == ["input.name"]
    assert await models.Market.all().count() == 0


async def test_update_renames_with_a_new_slug_and_is_audited(gql, owner, project) -> None:
    market = (await _create(gql, owner, project, name="Paris"))["market"]
    await _create(gql, owner, project, name="Lyon")
    payload = data_of(await gql(UPDATE, {"input": {"id": market["id"], "name": "Lyon", "description": "South",
                                                   "filters": {"countries": ["FR"]}}}, as_=owner))["updateMarket"]
    assert payload["errors"] == []
    assert (payload["market"]["name"], payload["market"]["slug"]) == ("Lyon", "lyon-2")
    assert payload["market"]["filters"] == {"countries": ["FR"]}
    row = await models.Market.get(slug="lyon-2")
    event = await models.AuditEvent.get(action="market.update", object_id=row.id)
    assert event.before == {"name": "Paris", "slug": "paris", "description": "", "filters": {}}
    assert event.after == {"name": "Lyon", "slug": "lyon-2", "description": "South", "filters": {"countries": ["FR"]}}

    cleared = data_of(await gql(UPDATE, {"input": {"id": market["id"], "name": None}}, as_=owner))["updateMarket"]
    assert [(e["code"], e["field"]) for e in cleared["errors"]] == [("INVALID", "input.name")]
    untouched = data_of(await gql(UPDATE, {"input": {"id": market["id"], "description": "South"}}, as_=owner))
    assert untouched["updateMarket"]["market"]["slug"] == "lyon-2"
    assert await models.AuditEvent.filter(action="market.update").count() == 1  # no change, no event


async def test_metrics_roll_up_from_the_markets_campaigns(gql, owner, project, product) -> None:
    east = (await _create(gql, owner, project, name="East"))["market"]
    west = (await _create(gql, owner, project, name="West"))["market"]
    a = await _campaign(owner, project, product, "A", total_accounts=10, scored_accounts=8, approved_accounts=5,
                        outreached_accounts=4, responded_accounts=1)
    b = await _campaign(owner, project, product, "B", total_accounts=6, scored_accounts=6, approved_accounts=3,
                        outreached_accounts=4, responded_accounts=2)
    c = await _campaign(owner, project, product, "C", total_accounts=100)
    await _campaign(owner, project, product, "No market", total_accounts=7)

    for campaign, market in ((a, east), (b, east), (c, west)):
        assigned = await _assign(gql, owner, campaign, market["id"])
        assert assigned["errors"] == []
        assert assigned["campaign"]["market"] == {"slug": market["slug"]}
    await campaigns_service.set_archived(await access_for(owner),
                                         campaigns_service.SetCampaignArchived(id=b.id, archived=True))

    markets = {m["slug"]: m for m in data_of(await gql(LIST, {"slug": project.slug}, as_=owner))["project"]["markets"]}
    assert {k: markets["east"][k] for k in METRICS.split()} == {
        "campaignCount": 2, "totalAccounts": 16, "scoredAccounts": 14, "approvedAccounts": 8,
        "outreachedAccounts": 8, "respondedAccounts": 3, "responseRate": 0.375,
    }
    assert markets["east"]["campaigns"] == [{"slug": "a"}]  # archived B only when asked
    assert markets["east"]["all"] == [{"slug": "b"}, {"slug": "a"}]
    assert (markets["west"]["campaignCount"], markets["west"]["totalAccounts"]) == (1, 100)
    assert markets["west"]["responseRate"] == 0.0

    moved = await _assign(gql, owner, c, east["id"])
    assert moved["campaign"]["market"] == {"slug": "east"}
    node = data_of(await gql(NODE, {"id": east["id"]}, as_=owner))["node"]
    assert (node["__typename"], node["campaignCount"], node["totalAccounts"]) == ("Market", 3, 116)
    removed = await _assign(gql, owner, c, None)
    assert removed["campaign"]["market"] is None


async def test_metrics_follow_real_work_on_the_campaign(gql, owner, project, product) -> None:
    market = (await _create(gql, owner, project, name="Real"))["market"]
    campaign = await _campaign(owner, project, product, "Live")
    await _assign(gql, owner, campaign, market["id"])
    access = await Access.for_user(owner.user)
    ids = [(await accounts_service.create_account(
        access, accounts_service.CreateAccount(project_id=project.id, name=f"Acc {i}"))).account.id
           for i in range(3)]
    await ca_service.add_accounts(access, registry_with(), ca_service.AddAccountsToCampaign(campaign.id, ids))
    rows = await models.CampaignAccount.filter(campaign_id=campaign.id).order_by("id")
    await ca_service.review(access, ca_service.ReviewCampaignAccounts([rows[0].id, rows[1].id], ReviewStatus.APPROVED))
    await ca_service.update_campaign_account(access, ca_service.UpdateCampaignAccount(
        rows[0].id, outreach_status=OutreachStatus.SENT))
    await ca_service.update_campaign_account(access, ca_service.UpdateCampaignAccount(
        rows[1].id, outreach_status=OutreachStatus.RESPONDED))

    node = data_of(await gql(NODE, {"id": market["id"]}, as_=owner))["node"]
    assert {k: node[k] for k in METRICS.split()} == {
        "campaignCount": 1, "totalAccounts": 3, "scoredAccounts": 0, "approvedAccounts": 2,
        "outreachedAccounts": 2, "respondedAccounts": 1, "responseRate": 0.5,
    }


async def test_delete_keeps_the_campaigns(gql, owner, project, product) -> None:
    market = (await _create(gql, owner, project, name="Doomed"))["market"]
    campaign = await _campaign(owner, project, product, "Survivor", total_accounts=3)
    await _assign(gql, owner, campaign, market["id"])
    market_pk = (await models.Market.get(slug="doomed")).id

    payload = data_of(await gql(DELETE, {"input": {"id": market["id"]}}, as_=owner))["deleteMarket"]
    assert payload == {"deletedMarketId": market["id"], "errors": []}
    survivor = await models.Campaign.get(id=campaign.id)
    assert survivor.market_id is None and survivor.total_accounts == 3
    assert not await models.Market.filter(id=market_pk).exists()
    event = await models.AuditEvent.get(action="market.delete", object_id=market_pk)
    assert event.before["name"] == "Doomed"
    assert event.after == {"released_campaign_ids": [campaign.id]}
    again = data_of(await gql(DELETE, {"input": {"id": market["id"]}}, as_=owner))["deleteMarket"]
    assert again["errors"] == [{"code": "NOT_FOUND", "field": "input.id", "message": "Market not found."}]


async def test_another_projects_markets_are_invisible(gql, owner, project, product, make_user, make_project
                                                      ) -> None:
    bob = await make_user("bob@example.com", "Bob")
    theirs = await make_project(bob, "Bob's")
    their_market = (await _create(gql, bob, theirs, name="Bob land"))["market"]
    missing = global_id("Market", 987_654)
    expected = [{"code": "NOT_FOUND", "field": "input.id", "message": "Market not found."}]

    assert data_of(await gql(NODE, {"id": their_market["id"]}, as_=owner)) == {"node": None}
    assert data_of(await gql(LIST, {"slug": theirs.slug}, as_=owner)) == {"project": None}
    for gid in (their_market["id"], missing):
        update = data_of(await gql(UPDATE, {"input": {"id": gid, "name": "Mine"}}, as_=owner))["updateMarket"]
        delete = data_of(await gql(DELETE, {"input": {"id": gid}}, as_=owner))["deleteMarket"]
        assert update["errors"] == expected and update["market"] is None
        assert delete["errors"] == expected
    create = await _create(gql, owner, theirs, name="Sneaky")
    assert create["errors"] == [{"code": "NOT_FOUND", "field": "input.projectId", "message": "Project not found."}]
    # a campaign cannot join another project's market
    campaign = await _campaign(owner, project, product, "Mine")
    refused = await _assign(gql, owner, campaign, their_market["id"])
    assert [(e["code"], e["field"]) for e in refused["errors"]] == [("NOT_FOUND", "input.marketId")]
    assert [m.name for m in await models.Market.filter(project_id=theirs.id)] == ["Bob land"]


async def test_viewer_cannot_change_markets(gql, owner, project, make_user, add_member) -> None:
    viewer = await make_user("viewer@example.com", "Vic")
    await add_member(viewer, project, Role.VIEWER)
    market = (await _create(gql, owner, project, name="Ours"))["market"]
    listed = data_of(await gql(LIST, {"slug": project.slug}, as_=viewer))["project"]["markets"]
    assert [m["name"] for m in listed] == ["Ours"]
    payloads = [
        await _create(gql, viewer, project, name="Viewer's"),
        data_of(await gql(UPDATE, {"input": {"id": market["id"], "name": "X"}}, as_=viewer))["updateMarket"],
        data_of(await gql(DELETE, {"input": {"id": market["id"]}}, as_=viewer))["deleteMarket"],
    ]
    for payload in payloads:
        assert [e["code"] for e in payload["errors"]] == ["FORBIDDEN"]
    assert [m.name for m in await models.Market.all()] == ["Ours"]


async def test_a_list_of_markets_with_metrics_costs_a_constant_number_of_queries(
    gql, owner, project, product, count_queries
) -> None:
    async def selects() -> int:
        with count_queries() as q:
            data = data_of(await gql(LIST, {"slug": project.slug}, as_=owner))
        assert data["project"]["markets"]
        return q.selects

    first = (await _create(gql, owner, project, name="M0"))["market"]
    await _assign(gql, owner, await _campaign(owner, project, product, "C0", total_accounts=1), first["id"])
    one = await selects()
    for i in range(1, 8):
        market = (await _create(gql, owner, project, name=f"M{i}"))["market"]
        for j in range(2):
            campaign = await _campaign(owner, project, product, f"C{i}-{j}", total_accounts=i, outreached_accounts=1)
            await _assign(gql, owner, campaign, market["id"])
    assert await selects() == one
