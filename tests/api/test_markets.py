"""Markets through GraphQL: create / update / delete, slugs, assigning campaigns, metrics rolled up
from the campaigns (constant queries for a list), tenancy and roles."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from typing import Any

import pytest
from tortoise import connections

from outboundql import models
from outboundql.enums import OutreachStatus, ReviewStatus, Role
from outboundql.errors import Collector
from outboundql.goals.testing import registry_with
from outboundql.services import accounts as accounts_service
from outboundql.services import campaign_accounts as ca_service
from outboundql.services import campaigns as campaigns_service
from outboundql.services.access import Access
from outboundql.services.filter_expressions import match, validate_expression
from tests.helpers import Person, access_for, data_of, global_id, warm_up

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


# --- a landscape past the databases' parameter limits -------------------------------------------------------

TERRITORY = {"any": [{"field": "country", "op": "eq", "value": "FR"},
                     {"field": "city", "op": "eq", "value": "STRASSE"}]}
LANDSCAPE = """
query($id: ID!, $first: Int, $after: String, $last: Int, $before: String) {
  node(id: $id) { ... on Market {
    accounts(first: $first, after: $after, last: $last, before: $before) {
      edges { cursor node { id } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
  } }
}
"""
LANDSCAPE_WITH_COUNTS = """
query($id: ID!) {
  node(id: $id) { ... on Market {
    accounts(first: 10) { totalCount edges { node { id } } pageInfo { hasNextPage } }
    coverage { landscape inCampaigns reached rate }
  } }
}
"""
SEED_TERRITORY = """
{numbers}INSERT INTO account (project_id, created_at, updated_at, name, name_key, city_key, description, tags,
                              custom_fields, status, country, city)
SELECT {project}, {now}, {now}, 'Co ' || i, 'co ' || i, '', '', '[]'{json}, '{{}}'{json}, 'new',
       CASE WHEN i > {n} - 250 OR i % 11 = 3 THEN 'DE' ELSE 'FR' END,
       CASE WHEN i > {n} - 250 THEN 'ÉCOLE' WHEN i % 11 = 3 AND i % 2 = 0 THEN 'Straße'
            WHEN i % 11 = 3 THEN 'ÉCOLE' ELSE 'Paris' END
FROM {source}
"""


@pytest.fixture
async def stock_sqlite_limits(db: Any) -> AsyncIterator[None]:
    """On SQLite, the bound-parameter limit of an unpatched build (32,766): Debian's raises it to 250,000."""
    conn = connections.get("default")
    if conn.capabilities.dialect != "sqlite":
        yield
        return
    raw = conn._connection  # aiosqlite's: its sqlite3 connection is used on its own thread
    old = await raw._execute(raw._conn.getlimit, sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    await raw._execute(raw._conn.setlimit, sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 32_766)
    try:
        yield
    finally:
        await raw._execute(raw._conn.setlimit, sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, old)


async def _seed_territory(project: models.Project, n: int) -> list[int]:
    """``n`` accounts in one statement: French ones in Paris (matched in SQL), German ones in Straße (matched only
    by the Python evaluation: SQL cannot fold ß) or in ÉCOLE (rejected by it), the last 250 all of the latter.
    Answers the ids the market's territory holds, by the Python evaluation."""
    conn = connections.get("default")
    pg = conn.capabilities.dialect == "postgres"
    await conn.execute_script(SEED_TERRITORY.format(
        numbers="" if pg else f"WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < {n}) ",
        source=f"generate_series(1, {n}) AS g(i)" if pg else "g", project=project.id, n=n,
        now="now()" if pg else "'2026-01-01 00:00:00+00:00'", json="::jsonb" if pg else ""))
    check = Collector()
    expression = validate_expression(TERRITORY, check)
    rows = list(await models.Account.filter(project_id=project.id).order_by("id").values("id", "country", "city"))
    assert len(rows) == n
    return match(expression, rows)


async def _hold(campaign: models.Campaign, account_id: int, status: OutreachStatus) -> None:
    await models.CampaignAccount.create(campaign=campaign, account_id=account_id, outreach_status=status)


async def test_a_landscape_past_the_parameter_limits_pages_by_key_in_bounded_statements(
        gql, owner, project, make_project, count_queries, stock_sqlite_limits) -> None:
    """More matching accounts than SQLite and PostgreSQL take bound parameters (32,766 and 32,767): the landscape
    is a condition of the account query, never a list of ids, so a page, its count and the coverage cost the same
    few statements as for a small market."""
    await warm_up(gql, owner)
    costs: dict[int, tuple[int, int]] = {}
    for n in (1_000, 40_000):
        home = await make_project(owner, f"Territory {n}")
        want = await _seed_territory(home, n)
        market = (await _create(gql, owner, home, name="Territory", filters=TERRITORY))["market"]
        product = await models.Product.create(project=home, name="Widget", slug="widget")
        campaign = await _campaign(owner, home, product, "In the territory")
        await _assign(gql, owner, campaign, market["id"])
        german = await models.Account.filter(project_id=home.id, city="Straße").order_by("id").first()
        outside = await models.Account.filter(project_id=home.id, city="ÉCOLE").order_by("id").first()
        assert german is not None and outside is not None
        await _hold(campaign, want[0], OutreachStatus.SENT)
        await _hold(campaign, want[1], OutreachStatus.NOT_STARTED)
        await _hold(campaign, german.id, OutreachStatus.RESPONDED)
        await _hold(campaign, outside.id, OutreachStatus.SENT)  # not in the territory: not counted

        with count_queries() as q:
            data = data_of(await gql(LANDSCAPE_WITH_COUNTS, {"id": market["id"]}, as_=owner))["node"]
        first_page = len(q)
        assert data["accounts"]["totalCount"] == len(want)
        assert [e["node"]["id"] for e in data["accounts"]["edges"]] == [global_id("Account", i) for i in want[:10]]
        assert data["accounts"]["pageInfo"]["hasNextPage"] is True
        assert data["coverage"] == {"landscape": len(want), "inCampaigns": 3, "reached": 2,
                                    "rate": round(2 / len(want), 4)}

        with count_queries() as q:  # the last page: read back through the 250 rejected accounts
            last = data_of(await gql(LANDSCAPE, {"id": market["id"], "last": 3}, as_=owner))["node"]["accounts"]
        last_page = len(q)
        assert [e["node"]["id"] for e in last["edges"]] == [global_id("Account", i) for i in want[-3:]]
        assert last["pageInfo"]["hasPreviousPage"] is True and last["pageInfo"]["hasNextPage"] is False
        before = data_of(await gql(LANDSCAPE, {"id": market["id"], "last": 4,
                                               "before": last["pageInfo"]["startCursor"]}, as_=owner))
        before = before["node"]["accounts"]
        assert [e["node"]["id"] for e in before["edges"]] == [global_id("Account", i) for i in want[-7:-3]]
        onwards = data_of(await gql(LANDSCAPE, {"id": market["id"], "first": 40,
                                                "after": before["edges"][0]["cursor"]}, as_=owner))
        onwards = onwards["node"]["accounts"]
        assert [e["node"]["id"] for e in onwards["edges"]] == [global_id("Account", i) for i in want[-6:]]
        assert onwards["pageInfo"]["hasNextPage"] is False
        costs[n] = (first_page, last_page)
        if n == 40_000:
            assert len(want) > 32_767
    assert costs[1_000] == costs[40_000]
    # The market; the page (its first read's rejected account makes it read on once), each read's accounts SQL
    # cannot judge; the count and the coverage, each a statement plus two for those accounts. The last page reads
    # back through 250 rejected accounts in 7 growing reads.
    assert costs[40_000] == (11, 15), costs
