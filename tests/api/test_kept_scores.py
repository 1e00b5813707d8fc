"""The scores kept on each campaign row (AI score, staleness, effective score) and the score counters
(``scoredAccounts``, ``staleScoreCount``, ``scoreDistribution``) equal what the fit scores and overrides
say after every kind of writer, and ``recount`` repairs them; the review list pages by key through a
list that changes between pages, with its unscored rows last; a page costs a fixed number of statements;
on PostgreSQL its query is an index range even without table statistics."""

from __future__ import annotations

import pytest
from tortoise import connections

from outboundql import models
from outboundql.goals.testing import registry_with
from outboundql.services import account_merge, campaign_account_queries, campaign_stats, external_scores
from outboundql.services import campaign_accounts as ca_service
from outboundql.services import campaigns as campaigns_service
from outboundql.services.access import Access
from outboundql.services.campaign_removal import RemoveAccountsFromCampaign, remove_accounts
from outboundql.services.sql import is_postgres
from tests.api import test_score_campaign as scoring
from tests.api.test_score_campaign import ACCOUNTS, Setup, make_campaign, score
from tests.helpers import Person, data_of, global_id

setup, settings = scoring.setup, scoring.settings  # its fixtures: the scoring world, batches of 3


async def assert_kept(*campaign_ids: int) -> None:
    """Every row's kept scores equal those computed from the fit scores and the override, and the counters
    equal the rows': nothing for ``recount`` to repair."""
    for campaign_id in campaign_ids:
        campaign = await models.Campaign.get(id=campaign_id)
        scores = {(s.account_id, s.goal_key): s.score
                  for s in await models.FitScore.filter(product_id=campaign.product_id)}
        scored_accounts = {account_id for account_id, _ in scores}
        for row in await models.CampaignAccount.filter(campaign_id=campaign_id):
            ai = scores.get((row.account_id, campaign.goal_key))
            stale = ai is None and row.account_id in scored_accounts
            effective = row.override_score if row.override_score is not None else ai
            assert (row.ai_score, row.score_stale, row.effective_score) == (ai, stale, effective), row.id
        assert await campaign_stats.recount([campaign_id]) == []


async def external(campaign: models.Campaign, scores: dict[int, float]) -> None:
    await external_scores.attach(campaign, {i: external_scores.ExternalScore(score=v) for i, v in scores.items()},
                                 scale=10)


async def test_kept_scores_follow_every_writer(gql, setup: Setup, jobs) -> None:
    access = await Access.for_user(setup.owner.user)
    ids = [a.id for a in setup.accounts]
    press = await make_campaign(setup.owner, setup.project, setup.product, "Press push", setup.accounts[:4], "press")
    await assert_kept(setup.campaign.id, press.id)

    await score(gql, setup)  # a scoring run: every row of the product's campaigns holding these accounts
    await jobs()
    await assert_kept(setup.campaign.id, press.id)
    assert (await models.Campaign.get(id=press.id)).stale_score_count == 4  # only sales scores

    rows = {r.account_id: r for r in await models.CampaignAccount.filter(campaign_id=setup.campaign.id)}
    for value in (9.7, None):  # an override set, then cleared
        await ca_service.set_override_score(access, ca_service.SetOverrideScore(rows[ids[1]].id, value))
        await assert_kept(setup.campaign.id)
        expected = value if value is not None else (await models.FitScore.get(
            product_id=setup.product.id, goal_key="sales", account_id=ids[1])).score
        assert (await models.CampaignAccount.get(id=rows[ids[1]].id)).effective_score == expected

    await external(press, {ids[0]: 2.0, ids[1]: 9.5})  # external scores for the press goal: no longer stale there
    await assert_kept(setup.campaign.id, press.id)
    assert (await models.Campaign.get(id=press.id)).stale_score_count == 2

    await models.Persona.filter(product_id=setup.product.id, goal_key="sales").update(version=2)
    await score(gql, setup, force=True)  # rescored under a new rubric version
    await jobs()
    await assert_kept(setup.campaign.id, press.id)

    await campaigns_service.update_campaign(access, registry_with(), campaigns_service.UpdateCampaign(
        id=setup.campaign.id, goal="press"))  # a goal switch: most rows become stale, two are scored
    await assert_kept(setup.campaign.id)
    switched = await models.Campaign.get(id=setup.campaign.id)
    assert (switched.scored_accounts, switched.stale_score_count) == (2, len(ACCOUNTS) - 2)
    await campaigns_service.update_campaign(access, registry_with(), campaigns_service.UpdateCampaign(
        id=setup.campaign.id, goal="sales"))
    await assert_kept(setup.campaign.id)

    # An account scored while in another campaign only: added here, its row has its score at once.
    newcomer = await models.Account.create(project=setup.project, name="Newcomer")
    other = await make_campaign(setup.owner, setup.project, setup.product, "Other", [newcomer])
    await external(other, {newcomer.id: 8.8})
    await ca_service.add_accounts(access, registry_with(), ca_service.AddAccountsToCampaign(
        setup.campaign.id, [newcomer.id]))
    added = await models.CampaignAccount.get(campaign_id=setup.campaign.id, account_id=newcomer.id)
    assert (added.ai_score, added.effective_score) == (8.8, 8.8)
    await assert_kept(setup.campaign.id, other.id)

    # A merge: an unscored duplicate folds into a scored account (its override carried), and back the other way.
    duplicate = await models.Account.create(project=setup.project, name="Acme Robotics (dup)")
    await ca_service.add_accounts(access, registry_with(), ca_service.AddAccountsToCampaign(
        press.id, [duplicate.id]))
    await account_merge.merge_accounts(access, account_merge.MergeAccounts(target_id=duplicate.id,
                                                                           source_ids=(ids[0],)))
    await assert_kept(setup.campaign.id, press.id)
    merged = await models.CampaignAccount.get(campaign_id=setup.campaign.id, account_id=duplicate.id)
    assert merged.ai_score is not None and merged.effective_score == merged.ai_score

    # Removing rows takes their scores out of the counters.
    await remove_accounts(access, RemoveAccountsFromCampaign(setup.campaign.id, account_ids=ids[2:5],
                                                             keep_approved=False, keep_outreach_started=False))
    await assert_kept(setup.campaign.id)


async def test_recount_repairs_a_corrupted_row_and_counter(gql, setup: Setup, jobs) -> None:
    await score(gql, setup)
    await jobs()
    row = await models.CampaignAccount.filter(campaign_id=setup.campaign.id, ai_score__isnull=False).first()
    assert row is not None
    await models.CampaignAccount.filter(id=row.id).update(effective_score=0.1, ai_score=None, score_stale=True)
    await models.Campaign.filter(id=setup.campaign.id).update(score_bucket_3=41, stale_score_count=7)

    [drift] = await campaign_stats.recount([setup.campaign.id])
    assert drift.rows_repaired == 1
    assert {"score_bucket_3", "stale_score_count"} <= set(drift.fields)
    await assert_kept(setup.campaign.id)


PAGE = """
query($id: ID!, $first: Int, $after: String, $last: Int, $before: String, $order: CampaignAccountOrder) {
  node(id: $id) { ... on Campaign { accounts(first: $first, after: $after, last: $last, before: $before,
                                             orderBy: $order) {
    totalCount pageInfo { hasNextPage hasPreviousPage endCursor startCursor }
    edges { cursor node { effectiveScore band account { name } } }
  } } }
}
"""


async def _scored_campaign(owner: Person, project: models.Project, product: models.Product, scored: int,
                           unscored: int) -> tuple[models.Campaign, list[models.Account]]:
    accounts = [await models.Account.create(project=project, name=f"R{i:03d}") for i in range(scored + unscored)]
    campaign = await make_campaign(owner, project, product, "Paged", accounts)
    await external(campaign, {a.id: float(i % 7) for i, a in enumerate(accounts[:scored])})
    return campaign, accounts


async def review_order(campaign: models.Campaign) -> list[int]:
    """The account ids of the review list's default order: best effective score first, unscored last, ties and
    unscored rows newest first."""
    rows = await models.CampaignAccount.filter(campaign_id=campaign.id)
    rows.sort(key=lambda r: (r.effective_score is None, -(r.effective_score or 0), -r.id))
    return [r.account_id for r in rows]


async def test_pages_neither_skip_nor_repeat_rows_of_a_changing_list(gql, owner, project, product) -> None:
    campaign, accounts = await _scored_campaign(owner, project, product, 20, 5)
    access = await Access.for_user(owner.user)
    before_any = await review_order(campaign)
    names = {a.id: a.name for a in accounts}
    seen: list[str] = []
    after = None
    removed: set[str] = set()
    pages = 0
    while True:
        conn = data_of(await gql(PAGE, {"id": global_id("Campaign", campaign.id), "first": 6, "after": after},
                                 as_=owner))["node"]["accounts"]
        seen += [e["node"]["account"]["name"] for e in conn["edges"]]
        pages += 1
        if pages == 1:
            # Meanwhile: a new best row (before the cursor), a row already read and one not read yet go away.
            best = await models.Account.create(project=project, name="Newcomer")
            await ca_service.add_accounts(access, registry_with(), ca_service.AddAccountsToCampaign(
                campaign.id, [best.id]))
            await external(campaign, {best.id: 10.0})
            gone = [names[before_any[0]], names[before_any[10]]]
            await remove_accounts(access, RemoveAccountsFromCampaign(
                campaign.id, account_ids=[before_any[0], before_any[10]], keep_approved=False,
                keep_outreach_started=False))
            removed.update(gone)
        if not conn["pageInfo"]["hasNextPage"]:
            break
        after = conn["pageInfo"]["endCursor"]
    expected = [names[i] for i in before_any if names[i] not in removed or names[i] in seen[:6]]
    assert seen == expected  # nothing twice, nothing missed, the newcomer (before the cursor) not shown late
    assert seen[-5:] == [names[a.id] for a in accounts[20:]][::-1]  # unscored last, newest id first

    # Backwards from the end gives the same rows in the same order.
    back: list[str] = []
    before = None
    while True:
        conn = data_of(await gql(PAGE, {"id": global_id("Campaign", campaign.id), "last": 4, "before": before},
                                 as_=owner))["node"]["accounts"]
        back = [e["node"]["account"]["name"] for e in conn["edges"]] + back
        if not conn["pageInfo"]["hasPreviousPage"]:
            break
        before = conn["pageInfo"]["startCursor"]
    now = [names.get(i, "Newcomer") for i in await review_order(campaign)]
    assert back == now


@pytest.mark.parametrize("direction", ["ASC", "DESC"])
async def test_unscored_rows_come_last_both_ways(gql, owner, project, product, direction: str) -> None:
    campaign, _ = await _scored_campaign(owner, project, product, 5, 3)
    scores: list[float | None] = []
    after = None
    while True:
        conn = data_of(await gql(PAGE, {"id": global_id("Campaign", campaign.id), "first": 3, "after": after,
                                        "order": {"field": "EFFECTIVE_SCORE", "direction": direction}},
                                 as_=owner))["node"]["accounts"]
        scores += [e["node"]["effectiveScore"] for e in conn["edges"]]
        if not conn["pageInfo"]["hasNextPage"]:
            break
        after = conn["pageInfo"]["endCursor"]
    assert scores[5:] == [None] * 3
    assert scores[:5] == sorted(scores[:5], reverse=direction == "DESC")


async def test_an_old_position_cursor_is_a_clear_error(gql, owner, project, product) -> None:
    campaign, _ = await _scored_campaign(owner, project, product, 3, 0)
    old = "YXJyYXljb25uZWN0aW9uOjE="  # arrayconnection:1, as cursors were before pages were cut by key
    result = await gql(PAGE, {"id": global_id("Campaign", campaign.id), "first": 2, "after": old}, as_=owner)
    [error] = result["errors"]
    assert error["extensions"]["code"] == "BAD_PAGINATION"
    assert "earlier version" in error["message"] and "first page" in error["message"]


HOT_PAGE = """
query($id: ID!) {
  node(id: $id) { ... on Campaign { accounts(first: 100) {
    totalCount
    edges { node { effectiveScore band account { name } aiScore { score justifications { text } } } }
  } } }
}
"""


async def test_the_campaign_page_costs_at_most_four_statements(gql, owner, project, product,
                                                               count_queries) -> None:
    campaign, _ = await _scored_campaign(owner, project, product, 120, 0)
    variables = {"id": global_id("Campaign", campaign.id)}
    data_of(await gql(HOT_PAGE, variables, as_=owner))  # warm: what a token's first request caches
    with count_queries() as q:
        page = data_of(await gql(HOT_PAGE, variables, as_=owner))["node"]["accounts"]
    assert len(page["edges"]) == 100 and page["totalCount"] == 120
    assert all(e["node"]["aiScore"]["score"] == e["node"]["effectiveScore"] for e in page["edges"])
    assert len(q) <= 4, q.statements  # the campaign, the page with its accounts, their scores (+ auth when cold)


FRAGMENT_PAGE = """
query($id: ID!) {
  node(id: $id) { ... on Campaign { accounts(first: 100) { edges { node { ...Row } } } } }
}
fragment Row on CampaignAccount { effectiveScore ... on CampaignAccount { aiScore { score } } }
"""
NAMES_PAGE = """
query($id: ID!) { node(id: $id) { ... on Campaign { accounts(first: 100) { edges { node { account { name } } } } } } }
"""


async def test_the_page_loads_scores_ahead_only_when_asked(gql, owner, project, product, count_queries) -> None:
    campaign, _ = await _scored_campaign(owner, project, product, 120, 0)
    variables = {"id": global_id("Campaign", campaign.id)}
    data_of(await gql(NAMES_PAGE, variables, as_=owner))
    with count_queries() as q:  # asked through fragments: still one read of the scores for the whole page
        page = data_of(await gql(FRAGMENT_PAGE, variables, as_=owner))["node"]["accounts"]
    assert len(page["edges"]) == 100
    assert all(e["node"]["aiScore"]["score"] == e["node"]["effectiveScore"] for e in page["edges"])
    assert sum("fit_score" in s for s in q.statements) == 1, q.statements
    with count_queries() as q:
        page = data_of(await gql(NAMES_PAGE, variables, as_=owner))["node"]["accounts"]
    assert len(page["edges"]) == 100 and all(e["node"]["account"]["name"] for e in page["edges"])
    assert not any("fit_score" in s for s in q.statements), q.statements


async def _plan(sql: str) -> str:
    conn = connections.get("default")
    _, rows = await conn.execute_query(f"EXPLAIN {sql}")
    return "\n".join(str(next(iter(dict(r).values()))) for r in rows)


async def _index_of(table: str, column: str) -> str:
    _, rows = await connections.get("default").execute_query(
        "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = $1 "
        "AND indexdef LIKE $2", [table, f"%, {column}, id)%"])
    return str(rows[0]["indexname"])


async def test_hot_queries_use_their_indexes_without_statistics(owner, project, product) -> None:
    conn = connections.get("default")
    if not is_postgres(conn):
        pytest.skip("EXPLAIN plans are PostgreSQL's")
    campaign, _ = await _scored_campaign(owner, project, product, 40, 10)
    for table in ("campaign_account", "account"):  # as a fresh database has them: no statistics
        await conn.execute_query(f"DELETE FROM pg_statistic WHERE starelid = '{table}'::regclass")
    page = campaign_account_queries.campaign_accounts(campaign).filter(effective_score__isnull=False).limit(101)
    plan = await _plan(page.sql(params_inline=True))
    assert await _index_of("campaign_account", "effective_score") in plan, plan
    assert "Sort" not in plan.replace("Sort Key", ""), plan
    accounts = models.Account.filter(project_id=project.id, employee_count__isnull=False).order_by(
        "-employee_count", "-id").limit(51)
    plan = await _plan(accounts.sql(params_inline=True))
    assert await _index_of("account", "employee_count") in plan, plan
    assert "Sort" not in plan.replace("Sort Key", ""), plan
