"""A campaign's accounts: the connection (filters, orderings, cursors, query counts), bulk review,
override scores, and updateCampaignAccount (tags, notes, contact snapshot, forward-only outreach)."""

from __future__ import annotations

from typing import Any

import pytest

from outboundql import models
from outboundql.enums import AccountStatus, Band, OutreachStatus, ReviewStatus, Role
from outboundql.services import campaign_stats
from tests.helpers import Person, data_of, global_id

PAGE = """
query($slug: String!, $filter: CampaignAccountFilter, $order: CampaignAccountOrder, $first: Int, $after: String) {
  project(slug: $slug) { campaign(slug: "camp") {
    accounts(filter: $filter, orderBy: $order, first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { account { name } } }
    }
  } }
}
"""

FULL_PAGE = """
query($slug: String!, $first: Int!) {
  project(slug: $slug) { campaign(slug: "camp") {
    accounts(first: $first) {
      totalCount
      edges { node {
        id reviewStatus outreachStatus overrideScore effectiveScore band tags notes contactSnapshot
        aiScore { score band stale goal { key } justifications { kind criterion text } personaVersion scorer model }
        account { id name domain }
        contact { id name email }
      } }
    }
  } }
}
"""

REVIEW = """
mutation($input: ReviewCampaignAccountsInput!) {
  reviewCampaignAccounts(input: $input) {
    changedCount failedCount
    results { id campaignAccount { id reviewStatus } errors { code field message } }
    errors { code field message }
  }
}
"""

OVERRIDE = """
mutation($input: SetOverrideScoreInput!) {
  setOverrideScore(input: $input) {
    campaignAccount { overrideScore effectiveScore band aiScore { score } }
    errors { code field message }
  }
}
"""

UPDATE = """
mutation($input: UpdateCampaignAccountInput!) {
  updateCampaignAccount(input: $input) {
    campaignAccount {
      id tags notes outreachStatus contactSnapshot contact { id name }
      campaign { outreachedAccounts respondedAccounts responseRate }
    }
    errors { code field message }
  }
}
"""


async def score(project: models.Project, product: models.Product, account: models.Account, value: float,
                goal: str = "sales") -> None:
    band = Band.MISMATCH if value < 5 else Band.MODERATE if value < 8 else Band.EXCELLENT
    await models.FitScore.create(project=project, product=product, account=account, goal_key=goal, score=value,
                                 band=band, scorer="test", model="m1", persona_version=2,
                                 justifications=[{"kind": "fit", "criterion": "industry", "text": "Ops heavy"}])


async def join(campaign: models.Campaign, account: models.Account, **fields: Any) -> models.CampaignAccount:
    row = await models.CampaignAccount.create(campaign=campaign, account=account, **fields)
    await campaign_stats.recount([campaign.id])  # the setup rows' kept scores and the counters, exact
    await row.refresh_from_db()
    return row


@pytest.fixture
async def rows(project, product, campaign) -> dict[str, models.CampaignAccount]:
    """Eight accounts: scores, a stale one, overrides, tags, statuses."""
    spec: list[tuple[str, float | None, float | None, str | None]] = [
        # name, sales score, override, press score
        ("Alpha", 9.0, None, None),
        ("Bravo", 6.0, None, None),
        ("Charlie", 3.0, None, None),
        ("Delta", None, None, 8.5),  # stale: only a press score
        ("Echo", None, None, None),  # unscored
        ("Foxtrot", 6.0, None, None),  # ties with Bravo
        ("Golf", 2.0, 7.5, None),  # override lifts it to moderate
        ("Hotel", None, 4.0, None),  # override only
    ]
    made = {}
    for name, sales, override, press in spec:
        account = await models.Account.create(project=project, name=name, domain=f"{name.lower()}.example")
        if sales is not None:
            await score(project, product, account, sales)
        if press is not None:
            await score(project, product, account, press, goal="press")
        made[name] = await join(campaign, account, override_score=override)
    made["Bravo"].review_status = ReviewStatus.APPROVED
    made["Charlie"].review_status = ReviewStatus.REJECTED
    made["Foxtrot"].outreach_status = OutreachStatus.SENT
    made["Alpha"].outreach_status = OutreachStatus.RESPONDED
    for row in made.values():
        await row.save()
    for name, tags in {"Alpha": ["hot", "q3"], "Bravo": ["hot"], "Echo": ["cold"]}.items():
        for tag in tags:
            await models.CampaignAccountTag.create(campaign_account=made[name], campaign=campaign, tag=tag)
    await campaign_stats.recount([campaign.id])
    for row in made.values():
        await row.refresh_from_db()
    return made


async def names(gql: Any, who: Person, project: models.Project, flt: dict[str, Any] | None = None,
                order: dict[str, Any] | None = None, first: int | None = None) -> list[str]:
    variables = {"slug": project.slug, "filter": flt, "order": order, "first": first}
    conn = data_of(await gql(PAGE, variables, as_=who))["project"]["campaign"]["accounts"]
    got = [e["node"]["account"]["name"] for e in conn["edges"]]
    if first is None:
        assert conn["totalCount"] == len(got)
    return got


def gid(row: models.CampaignAccount) -> str:
    return global_id("CampaignAccount", row.id)


def by_id(rows: dict[str, models.CampaignAccount], *wanted: str, descending: bool = False) -> list[str]:
    """``wanted`` ordered by id (ties are broken by id, descending when the sort is)."""
    return sorted(wanted, key=lambda n: rows[n].id, reverse=descending)


# --- the connection: filters --------------------------------------------------------------------


@pytest.mark.parametrize(("flt", "expected"), [
    ({"bands": ["EXCELLENT"]}, {"Alpha"}),
    ({"bands": ["MODERATE"]}, {"Bravo", "Foxtrot", "Golf"}),
    ({"bands": ["MISMATCH"]}, {"Charlie", "Hotel"}),
    ({"bands": ["EXCELLENT", "MISMATCH"]}, {"Alpha", "Charlie", "Hotel"}),
    ({"scored": True}, {"Alpha", "Bravo", "Charlie", "Foxtrot", "Golf", "Hotel"}),
    ({"scored": False}, {"Delta", "Echo"}),
    ({"stale": True}, {"Delta"}),
    ({"stale": False}, {"Alpha", "Bravo", "Charlie", "Echo", "Foxtrot", "Golf", "Hotel"}),
    ({"reviewStatuses": ["APPROVED", "REJECTED"]}, {"Bravo", "Charlie"}),
    ({"reviewStatuses": ["PENDING"]}, {"Alpha", "Delta", "Echo", "Foxtrot", "Golf", "Hotel"}),
    ({"outreachStatuses": ["SENT", "RESPONDED"]}, {"Alpha", "Foxtrot"}),
    ({"tags": ["hot"]}, {"Alpha", "Bravo"}),
    ({"tags": ["q3", "cold"]}, {"Alpha", "Echo"}),
    ({"tags": ["nope"]}, set()),
    ({"search": "ALP"}, {"Alpha"}),
    ({"search": "trot.exam"}, {"Foxtrot"}),
    ({"tags": ["hot"], "bands": ["MODERATE"]}, {"Bravo"}),
    ({"scored": True, "reviewStatuses": ["PENDING"], "bands": ["MISMATCH", "MODERATE"]}, {"Foxtrot", "Golf",
                                                                                          "Hotel"}),
])
async def test_filters(gql, owner, project, rows, flt, expected) -> None:
    got = await names(gql, owner, project, flt)
    assert set(got) == expected
    assert len(got) == len(expected)  # a row matching two tags is listed once


# --- the connection: orderings ------------------------------------------------------------------


async def test_effective_score_desc_best_first_unscored_last(gql, owner, project, rows) -> None:
    got = await names(gql, owner, project)  # the default order
    assert got == ["Alpha", "Golf", *by_id(rows, "Bravo", "Foxtrot", descending=True), "Hotel", "Charlie",
                   *by_id(rows, "Delta", "Echo", descending=True)]
    assert got == await names(gql, owner, project, order={"field": "EFFECTIVE_SCORE", "direction": "DESC"})


async def test_effective_score_asc_still_puts_unscored_last(gql, owner, project, rows) -> None:
    got = await names(gql, owner, project, order={"field": "EFFECTIVE_SCORE", "direction": "ASC"})
    assert got == ["Charlie", "Hotel", *by_id(rows, "Bravo", "Foxtrot"), "Golf", "Alpha", *by_id(rows, "Delta",
                                                                                                   "Echo")]


async def test_name_and_added_at_orders(gql, owner, project, rows) -> None:
    alphabetical = ["Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot", "Golf", "Hotel"]
    assert await names(gql, owner, project, order={"field": "NAME", "direction": "ASC"}) == alphabetical
    assert await names(gql, owner, project, order={"field": "NAME", "direction": "DESC"}) == alphabetical[::-1]
    assert await names(gql, owner, project, order={"field": "ADDED_AT", "direction": "ASC"}) == alphabetical
    assert await names(gql, owner, project, order={"field": "ADDED_AT", "direction": "DESC"}) == alphabetical[::-1]


@pytest.mark.parametrize("order", [
    {"field": "EFFECTIVE_SCORE", "direction": "DESC"}, {"field": "EFFECTIVE_SCORE", "direction": "ASC"},
    {"field": "ADDED_AT", "direction": "ASC"},
])
async def test_pages_with_ties_are_stable(gql, owner, project, product, campaign, order) -> None:
    for i in range(12):  # twelve equal scores, four unscored, all added in one instant
        account = await models.Account.create(project=project, name=f"Tie {i:02d}")
        if i < 8:
            await score(project, product, account, 5.0)
        await join(campaign, account)
    await models.CampaignAccount.filter(campaign_id=campaign.id).update(created_at=campaign.created_at)
    whole = await names(gql, owner, project, order=order)
    assert whole == await names(gql, owner, project, order=order)
    paged: list[str] = []
    after = None
    while True:
        variables = {"slug": project.slug, "order": order, "first": 5, "after": after}
        conn = data_of(await gql(PAGE, variables, as_=owner))["project"]["campaign"]["accounts"]
        assert conn["totalCount"] == 12
        paged += [e["node"]["account"]["name"] for e in conn["edges"]]
        if not conn["pageInfo"]["hasNextPage"]:
            break
        after = conn["pageInfo"]["endCursor"]
    assert paged == whole and len(set(paged)) == 12
    if order["field"] == "EFFECTIVE_SCORE":
        assert set(whole[-4:]) == {f"Tie {i:02d}" for i in range(8, 12)}


async def test_a_node_resolves_every_field(gql, owner, project, rows) -> None:
    data = data_of(await gql(FULL_PAGE, {"slug": project.slug, "first": 100}, as_=owner))
    nodes = {e["node"]["account"]["name"]: e["node"] for e in data["project"]["campaign"]["accounts"]["edges"]}
    alpha, delta, golf, echo = nodes["Alpha"], nodes["Delta"], nodes["Golf"], nodes["Echo"]
    assert alpha["aiScore"] == {"score": 9.0, "band": "EXCELLENT", "stale": False, "goal": {"key": "sales"},
                                "justifications": [{"kind": "fit", "criterion": "industry", "text": "Ops heavy"}],
                                "personaVersion": 2, "scorer": "test", "model": "m1"}
    assert (alpha["effectiveScore"], alpha["band"], alpha["tags"]) == (9.0, "EXCELLENT", ["hot", "q3"])
    assert delta["aiScore"]["stale"] is True and delta["aiScore"]["goal"] == {"key": "press"}
    assert (delta["effectiveScore"], delta["band"]) == (None, None)
    assert (golf["aiScore"]["score"], golf["overrideScore"], golf["effectiveScore"], golf["band"]) == (
        2.0, 7.5, 7.5, "MODERATE")
    assert (echo["aiScore"], echo["effectiveScore"], echo["band"], echo["contact"]) == (None, None, None, None)


async def test_a_page_of_100_costs_the_same_selects_as_a_page_of_10(gql, owner, project, product, campaign,
                                                                      count_queries) -> None:
    await models.Account.bulk_create([models.Account(project=project, name=f"Bulk {i:03d}") for i in range(120)])
    accounts = await models.Account.filter(project_id=project.id).order_by("id")
    await models.Contact.bulk_create([models.Contact(project=project, account_id=a.id, name=f"P{a.id}")
                                      for a in accounts])
    contacts = {c.account_id: c.id for c in await models.Contact.all()}
    await models.FitScore.bulk_create([
        models.FitScore(project=project, product=product, account_id=a.id, goal_key="sales" if i % 3 else "press",
                        score=float(i % 10), band=Band.MISMATCH, scorer="test") for i, a in enumerate(accounts)
    ])
    await models.CampaignAccount.bulk_create([
        models.CampaignAccount(campaign=campaign, account_id=a.id, contact_id=contacts[a.id],
                               override_score=7.0 if i % 7 == 0 else None) for i, a in enumerate(accounts)
    ])
    cas = await models.CampaignAccount.filter(campaign_id=campaign.id)
    await models.CampaignAccountTag.bulk_create([
        models.CampaignAccountTag(campaign_account_id=ca.id, campaign_id=campaign.id, tag=t)
        for ca in cas for t in ("a", "b")
    ])

    async def selects(first: int) -> int:
        with count_queries() as q:
            data = data_of(await gql(FULL_PAGE, {"slug": project.slug, "first": first}, as_=owner))
        edges = data["project"]["campaign"]["accounts"]["edges"]
        assert len(edges) == first
        assert all(e["node"]["contact"] and e["node"]["tags"] == ["a", "b"] for e in edges)
        return q.selects

    await selects(1)  # warm: whatever a first request of the token caches is not the page's cost
    assert await selects(100) == await selects(10)


# --- review -------------------------------------------------------------------------------------


async def review(gql: Any, who: Person, ids: list[str], decision: str) -> dict[str, Any]:
    variables = {"input": {"campaignAccountIds": ids, "decision": decision}}
    return data_of(await gql(REVIEW, variables, as_=who))["reviewCampaignAccounts"]


async def approved(campaign: models.Campaign) -> int:
    fresh = await models.Campaign.get(id=campaign.id)
    assert {k: getattr(fresh, k) for k in campaign_stats.COUNTERS} == await campaign_stats.exact(fresh)
    return fresh.approved_accounts


async def test_bulk_review_moves_approved_exactly(gql, owner, campaign, rows) -> None:
    assert await approved(campaign) == 1  # Bravo
    ids = [gid(rows[n]) for n in ("Alpha", "Bravo", "Charlie", "Delta")]
    payload = await review(gql, owner, ids, "APPROVED")
    assert payload["errors"] == [] and (payload["changedCount"], payload["failedCount"]) == (4, 0)
    assert [r["campaignAccount"]["reviewStatus"] for r in payload["results"]] == ["APPROVED"] * 4
    assert await approved(campaign) == 4

    again = await review(gql, owner, ids, "APPROVED")  # idempotent
    assert again["changedCount"] == 4 and await approved(campaign) == 4
    rejected = await review(gql, owner, [*ids[:2], gid(rows["Echo"])], "REJECTED")
    assert rejected["failedCount"] == 0 and await approved(campaign) == 2
    reset = await review(gql, owner, ids, "PENDING")
    assert [r["campaignAccount"]["reviewStatus"] for r in reset["results"]] == ["PENDING"] * 4
    assert await approved(campaign) == 0
    assert await models.AuditEvent.filter(action="campaign.review").count() == 4


async def test_partial_failure_answers_which_ids_failed_and_why(gql, owner, project, campaign, rows, make_user,
                                                                make_project) -> None:
    stranger = await make_user("stranger@example.com")
    theirs = await make_project(stranger, "Theirs")
    their_campaign = await models.Campaign.create(
        project=theirs, product=await models.Product.create(project=theirs, name="P", slug="p"), name="T", slug="t")
    their_row = await join(their_campaign, await models.Account.create(project=theirs, name="Theirs"))
    # own, foreign, missing, wrong type, own, and a repeated id (answered twice)
    ids = [gid(rows["Echo"]), gid(their_row), global_id("CampaignAccount", 987_654),
           global_id("Account", rows["Alpha"].account_id), gid(rows["Golf"]), gid(rows["Echo"])]

    payload = await review(gql, owner, ids, "APPROVED")

    assert payload["errors"] == [  # each failed id once, at its position
        {"code": "NOT_FOUND", "field": f"input.campaignAccountIds[{i}]", "message": "CampaignAccount not found."}
        for i in (1, 2, 3)
    ]
    assert (payload["changedCount"], payload["failedCount"]) == (3, 3)
    assert [r["id"] for r in payload["results"]] == ids
    outcome = [(r["campaignAccount"] is not None, [e["code"] for e in r["errors"]]) for r in payload["results"]]
    assert outcome == [(True, []), (False, ["NOT_FOUND"]), (False, ["NOT_FOUND"]), (False, ["NOT_FOUND"]),
                       (True, []), (True, [])]
    assert [r["errors"] for r in payload["results"][1:4]] == [[e] for e in payload["errors"]]
    assert await approved(campaign) == 3  # Bravo, Echo, Golf
    assert (await models.CampaignAccount.get(id=their_row.id)).review_status is ReviewStatus.PENDING


async def test_viewer_cannot_review(gql, project, campaign, rows, make_user, add_member) -> None:
    viewer = await make_user("viewer@example.com")
    await add_member(viewer, project, Role.VIEWER)
    payload = await review(gql, viewer, [gid(rows["Echo"])], "APPROVED")
    assert [e["code"] for e in payload["errors"]] == ["FORBIDDEN"]
    assert await approved(campaign) == 1


async def test_review_needs_between_one_and_ten_thousand_ids(gql, owner, rows) -> None:
    payload = await review(gql, owner, [], "APPROVED")
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("INVALID", "input.campaignAccountIds")]


# --- override score -----------------------------------------------------------------------------


async def override(gql: Any, who: Person, row: models.CampaignAccount, value: float | None) -> dict[str, Any]:
    variables = {"input": {"campaignAccountId": gid(row), "score": value}}
    return data_of(await gql(OVERRIDE, variables, as_=who))["setOverrideScore"]


async def test_override_supersedes_and_clearing_restores_the_ai_score(gql, owner, project, rows) -> None:
    charlie = rows["Charlie"]  # AI 3.0 mismatch
    up = await override(gql, owner, charlie, 8.26)
    assert up["errors"] == []
    assert up["campaignAccount"] == {"overrideScore": 8.3, "effectiveScore": 8.3, "band": "EXCELLENT",
                                     "aiScore": {"score": 3.0}}
    assert "Charlie" in await names(gql, owner, project, {"bands": ["EXCELLENT"]})
    assert (await names(gql, owner, project))[:2] == ["Alpha", "Charlie"]

    for edge in (0, 10):
        assert (await override(gql, owner, charlie, edge))["campaignAccount"]["effectiveScore"] == edge
    cleared = await override(gql, owner, charlie, None)
    assert cleared["campaignAccount"] == {"overrideScore": None, "effectiveScore": 3.0, "band": "MISMATCH",
                                          "aiScore": {"score": 3.0}}
    echo = await override(gql, owner, rows["Echo"], 5.0)  # an unscored row gains a score
    assert (echo["campaignAccount"]["band"], echo["campaignAccount"]["aiScore"]) == ("MODERATE", None)
    assert "Echo" in await names(gql, owner, project, {"scored": True})
    assert await models.AuditEvent.filter(action="campaign_account.override_score").count() == 5


@pytest.mark.parametrize("value", [-0.1, 10.01, 11])
async def test_override_out_of_range_is_invalid(gql, owner, rows, value) -> None:
    payload = await override(gql, owner, rows["Alpha"], value)
    assert payload["campaignAccount"] is None
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("INVALID", "input.score")]
    assert (await models.CampaignAccount.get(id=rows["Alpha"].id)).override_score is None


# --- updateCampaignAccount ----------------------------------------------------------------------


async def update(gql: Any, who: Person, row: models.CampaignAccount, **changes: Any) -> dict[str, Any]:
    return data_of(await gql(UPDATE, {"input": {"id": gid(row), **changes}}, as_=who))["updateCampaignAccount"]


async def test_tags_and_notes(gql, owner, project, rows) -> None:
    echo = rows["Echo"]
    payload = await update(gql, owner, echo, tags=[" warm ", "q4"], notes="  Call in May ")
    assert payload["errors"] == []
    assert payload["campaignAccount"]["tags"] == ["q4", "warm"]
    assert payload["campaignAccount"]["notes"] == "Call in May"
    assert set(await names(gql, owner, project, {"tags": ["warm"]})) == {"Echo"}
    assert set(await names(gql, owner, project, {"tags": ["cold"]})) == set()

    notes_only = await update(gql, owner, echo, notes="")
    assert notes_only["campaignAccount"]["tags"] == ["q4", "warm"]  # tags untouched when not given
    cleared = await update(gql, owner, echo, tags=[])
    assert cleared["campaignAccount"]["tags"] == []
    assert await models.CampaignAccountTag.filter(campaign_account_id=echo.id).count() == 0


async def test_contact_must_belong_to_the_account_and_is_snapshotted(gql, owner, project, rows, make_user,
                                                                      make_project) -> None:
    alpha = rows["Alpha"]
    mine = await models.Contact.create(project=project, account_id=alpha.account_id, name="Ann Alpha",
                                       title="COO", email="ann@alpha.example", linkedin_url="https://l.in/ann")
    elsewhere = await models.Contact.create(project=project, account_id=rows["Bravo"].account_id, name="Bob")
    stranger = await make_user("stranger@example.com")
    theirs = await make_project(stranger, "Theirs")
    foreign = await models.Contact.create(project=theirs, account=await models.Account.create(project=theirs,
                                                                                              name="X"), name="Eve")
    for bad in (elsewhere.id, foreign.id, 987_654):
        payload = await update(gql, owner, alpha, contactId=global_id("Contact", bad))
        assert payload["campaignAccount"] is None
        assert [(e["code"], e["field"]) for e in payload["errors"]] == [("NOT_FOUND", "input.contactId")]
    wrong_type = await update(gql, owner, alpha, contactId=global_id("Account", alpha.account_id))
    assert [(e["code"], e["field"]) for e in wrong_type["errors"]] == [("NOT_FOUND", "input.contactId")]

    picked = await update(gql, owner, alpha, contactId=global_id("Contact", mine.id))
    assert picked["errors"] == []
    snapshot = {"name": "Ann Alpha", "title": "COO", "email": "ann@alpha.example", "linkedin_url": "https://l.in/ann"}
    assert picked["campaignAccount"]["contact"] == {"id": global_id("Contact", mine.id), "name": "Ann Alpha"}
    assert picked["campaignAccount"]["contactSnapshot"] == snapshot

    mine.title = "CEO"
    mine.name = "Ann A. Alpha"
    await mine.save()
    later = await update(gql, owner, alpha, notes="still Ann")
    assert later["campaignAccount"]["contactSnapshot"] == snapshot  # taken when picked
    assert later["campaignAccount"]["contact"]["name"] == "Ann A. Alpha"

    unset = await update(gql, owner, alpha, contactId=None)
    assert unset["campaignAccount"]["contact"] is None and unset["campaignAccount"]["contactSnapshot"] is None


async def stats(campaign: models.Campaign) -> tuple[int, int, float]:
    fresh = await models.Campaign.get(id=campaign.id)
    assert {k: getattr(fresh, k) for k in campaign_stats.COUNTERS} == await campaign_stats.exact(fresh)
    return fresh.outreached_accounts, fresh.responded_accounts, campaign_stats.response_rate(fresh)


async def test_outreach_moves_forward_and_counts_once(gql, owner, campaign, rows) -> None:
    assert await stats(campaign) == (2, 1, 0.5)  # Foxtrot sent, Alpha responded
    echo = rows["Echo"]
    for status, expected in (("DRAFT", (2, 1, 0.5)), ("SCHEDULED", (2, 1, 0.5)), ("SENT", (3, 1, 0.3333)),
                             ("SENT", (3, 1, 0.3333)), ("RESPONDED", (3, 2, 0.6667))):
        payload = await update(gql, owner, echo, outreachStatus=status)
        assert payload["errors"] == [] and payload["campaignAccount"]["outreachStatus"] == status
        campaign_view = payload["campaignAccount"]["campaign"]
        assert (campaign_view["outreachedAccounts"], campaign_view["respondedAccounts"],
                campaign_view["responseRate"]) == expected
        assert await stats(campaign) == expected

    jump = await update(gql, owner, rows["Hotel"], outreachStatus="RESPONDED")  # straight to responded
    assert jump["errors"] == [] and await stats(campaign) == (4, 3, 0.75)
    bounced = await update(gql, owner, rows["Foxtrot"], outreachStatus="BOUNCED")
    assert bounced["errors"] == [] and await stats(campaign) == (4, 3, 0.75)  # still outreached, once


@pytest.mark.parametrize(("start", "back"), [
    ("SENT", "DRAFT"), ("SENT", "NOT_STARTED"), ("RESPONDED", "SENT"), ("RESPONDED", "BOUNCED"),
    ("SCHEDULED", "DRAFT"),
])
async def test_a_backward_move_is_a_clear_invalid_error(gql, owner, campaign, rows, start, back) -> None:
    golf = rows["Golf"]
    assert (await update(gql, owner, golf, outreachStatus=start))["errors"] == []
    before = await stats(campaign)
    payload = await update(gql, owner, golf, outreachStatus=back, notes="should not stick")
    assert payload["campaignAccount"] is None
    [error] = payload["errors"]
    assert (error["code"], error["field"]) == ("INVALID", "input.outreachStatus")
    assert "forward" in error["message"] and start.lower() in error["message"] and back.lower() in error["message"]
    fresh = await models.CampaignAccount.get(id=golf.id)
    assert fresh.outreach_status.value == start.lower() and fresh.notes == ""
    assert await stats(campaign) == before


async def test_campaign_account_mutations_of_another_project_are_not_found(gql, owner, make_user, make_project,
                                                                           rows) -> None:
    stranger = await make_user("stranger@example.com")
    theirs = await make_project(stranger, "Theirs")
    their_campaign = await models.Campaign.create(
        project=theirs, product=await models.Product.create(project=theirs, name="P", slug="p"), name="T", slug="t")
    their_row = await join(their_campaign, await models.Account.create(project=theirs, name="Theirs"))
    for target in (their_row, models.CampaignAccount(id=987_654)):
        o = await override(gql, owner, target, 5)
        assert o["errors"] == [{"code": "NOT_FOUND", "field": "input.campaignAccountId",
                                "message": "CampaignAccount not found."}]
        u = await update(gql, owner, target, notes="x", outreachStatus="SENT")
        assert u["errors"] == [{"code": "NOT_FOUND", "field": "input.id", "message": "CampaignAccount not found."}]
    fresh = await models.CampaignAccount.get(id=their_row.id)
    assert (fresh.override_score, fresh.notes, fresh.outreach_status) == (None, "", OutreachStatus.NOT_STARTED)
    node = data_of(await gql("query($id: ID!) { node(id: $id) { id } }", {"id": gid(their_row)}, as_=owner))
    assert node == {"node": None}


async def test_viewer_reads_but_cannot_change(gql, project, campaign, rows, make_user, add_member) -> None:
    viewer = await make_user("viewer@example.com")
    await add_member(viewer, project, Role.VIEWER)
    assert len(await names(gql, viewer, project)) == 8
    o = await override(gql, viewer, rows["Alpha"], 5)
    u = await update(gql, viewer, rows["Alpha"], outreachStatus="RESPONDED")
    assert [e["code"] for e in o["errors"]] == [e["code"] for e in u["errors"]] == ["FORBIDDEN"]
    assert await stats(campaign) == (2, 1, 0.5)


async def test_accounts_keep_their_status_in_the_account_list(project, rows) -> None:
    # a campaign never changes the account's own status
    assert set(await models.Account.filter(project_id=project.id).values_list("status", flat=True)) == {
        AccountStatus.NEW}
