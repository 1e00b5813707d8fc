"""setExternalScores: scores computed outside outboundql, stored as FitScores with scorer ``external``
(normalised to 0.0–10.0, components as justifications), taking part in bands, the histogram, review and the
low-fit removal like computed ones; a scoring run replaces them only when forced."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from outboundql import models
from outboundql.enums import Role
from outboundql.goals.testing import registry_with
from outboundql.services import campaign_stats, external_scores
from outboundql.services import campaigns as campaigns_service
from outboundql.services import products as products_service
from outboundql.services.access import Access
from tests.helpers import Person, data_of, global_id

SET = """
mutation($input: SetExternalScoresInput!) {
  setExternalScores(input: $input) {
    campaign { id totalAccounts scoredAccounts }
    scale scored newlyScored
    results { account { name } fitScore { score band scorer justifications { kind criterion text value } } }
    errors { code field message }
  }
}
"""

CAMPAIGN = """
query($id: ID!) {
  node(id: $id) {
    ... on Campaign {
      scoredAccounts staleScoreCount
      scoreDistribution { from to count }
      accounts(first: 100) {
        edges { node { id account { name } effectiveScore band
                       aiScore { score band scorer stale justifications { kind criterion value } } } }
      }
      mismatch: accounts(first: 100, filter: { bands: [MISMATCH] }) { edges { node { account { name } } } }
      excellent: accounts(first: 100, filter: { bands: [EXCELLENT] }) { edges { node { account { name } } } }
    }
  }
}
"""

SCORE = """
mutation($input: ScoreCampaignInput!) {
  scoreCampaign(input: $input) { run { total status } errors { code field message } }
}
"""

REVIEW = """
mutation($input: ReviewCampaignAccountsInput!) {
  reviewCampaignAccounts(input: $input) { changedCount errors { code field message } }
}
"""

REMOVE = """
mutation($input: RemoveLowFitAccountsInput!) {
  removeLowFitAccounts(input: $input) {
    campaign { totalAccounts scoredAccounts approvedAccounts }
    wouldRemove removed confirmToken errors { code field message }
  }
}
"""

NAMES = ("Alpha", "Bravo", "Charlie", "Delta")


@dataclass
class Setup:
    owner: Person
    project: models.Project
    product: models.Product
    campaign: models.Campaign
    accounts: dict[str, models.Account]

    @property
    def gid(self) -> str:
        return global_id("Campaign", self.campaign.id)

    def account(self, name: str) -> str:
        return global_id("Account", self.accounts[name].id)


async def make_campaign(owner: Person, project: models.Project, product: models.Product, name: str,
                        accounts: list[models.Account], goal: str = "sales") -> models.Campaign:
    access = await Access.for_user(owner.user)
    campaign = (await campaigns_service.create_campaign(access, registry_with(), campaigns_service.CreateCampaign(
        project_id=project.id, product_id=product.id, name=name, goal=goal))).campaign
    for account in accounts:
        await models.CampaignAccount.create(campaign=campaign, account=account)
    await campaign_stats.recount([campaign.id])
    return await models.Campaign.get(id=campaign.id)


@pytest.fixture
async def setup(owner: Person, project: models.Project) -> Setup:
    access = await Access.for_user(owner.user)
    product = (await products_service.create_product(access, products_service.CreateProduct(
        project_id=project.id, name="Backlinks", description="Guest posts for software blogs"))).product
    await models.Persona.create(project=project, product=product, goal_key="sales", name="Editors",
                                industries=["Software"], keywords=["blog"])
    accounts = {n: await models.Account.create(project=project, name=n, industry="Software", domain=f"{n}.example")
                for n in NAMES}
    campaign = await make_campaign(owner, project, product, "Links", list(accounts.values()))
    return Setup(owner, project, product, campaign, accounts)


async def put(gql: Any, s: Setup, scores: list[dict[str, Any]], as_: Person | None = None,
              **options: Any) -> dict[str, Any]:
    result = await gql(SET, {"input": {"campaignId": s.gid, "scores": scores, **options}}, as_=as_ or s.owner)
    return data_of(result)["setExternalScores"]


async def read(gql: Any, s: Setup) -> dict[str, Any]:
    return data_of(await gql(CAMPAIGN, {"id": s.gid}, as_=s.owner))["node"]


async def assert_counters_exact(*campaign_ids: int) -> None:
    assert await campaign_stats.recount(list(campaign_ids)) == []


def components(**values: float) -> list[dict[str, Any]]:
    return [{"name": k, "value": v} for k, v in values.items()]


async def test_scores_on_0_to_1_are_inferred_normalised_and_keep_their_components(gql, setup: Setup) -> None:
    answer = await put(gql, setup, [
        {"accountId": setup.account("Alpha"), "score": 0.87,
         "components": components(quality_score=0.9, relevance_score=0.8, guest_post_likelihood=1)},
        {"accountId": setup.account("Bravo"), "score": 0.3},
    ])
    assert answer["errors"] == []
    assert answer["scale"] == 1.0 and answer["scored"] == 2 and answer["newlyScored"] == 2
    assert answer["campaign"]["scoredAccounts"] == 2
    alpha, bravo = answer["results"]
    assert alpha["account"]["name"] == "Alpha"
    assert alpha["fitScore"]["score"] == 8.7 and alpha["fitScore"]["band"] == "EXCELLENT"
    assert alpha["fitScore"]["scorer"] == "external"
    assert alpha["fitScore"]["justifications"] == [
        {"kind": "component", "criterion": "quality_score", "text": "quality_score: 0.9 on a 0–1 scale.",
         "value": 9.0},
        {"kind": "component", "criterion": "relevance_score", "text": "relevance_score: 0.8 on a 0–1 scale.",
         "value": 8.0},
        {"kind": "component", "criterion": "guest_post_likelihood",
         "text": "guest_post_likelihood: 1 on a 0–1 scale.", "value": 10.0},
    ]
    assert bravo["fitScore"] == {"score": 3.0, "band": "MISMATCH", "scorer": "external", "justifications": []}
    row = await models.FitScore.get(account_id=setup.accounts["Alpha"].id, product_id=setup.product.id,
                                    goal_key="sales")
    assert row.scorer == "external" and row.score == 8.7 and row.model is None
    await assert_counters_exact(setup.campaign.id)


async def test_a_value_above_1_reads_the_batch_on_0_to_10_and_the_mean_stands_in_for_a_missing_score(
        gql, setup: Setup) -> None:
    answer = await put(gql, setup, [
        {"accountId": setup.account("Alpha"), "score": 8.5},
        {"accountId": setup.account("Bravo"), "score": 0.5},  # on 0–10 too: the batch has a value above 1
        {"accountId": setup.account("Charlie"), "components": components(quality_score=7, relevance_score=4.6)},
    ])
    assert answer["errors"] == [] and answer["scale"] == 10.0
    assert [r["fitScore"]["score"] for r in answer["results"]] == [8.5, 0.5, 5.8]
    assert [r["fitScore"]["band"] for r in answer["results"]] == ["EXCELLENT", "MISMATCH", "MODERATE"]
    assert [j["value"] for j in answer["results"][2]["fitScore"]["justifications"]] == [7.0, 4.6]


async def test_an_explicit_scale_wins_over_the_inference(gql, setup: Setup) -> None:
    answer = await put(gql, setup, [{"accountId": setup.account("Alpha"), "score": 0.9}], scale=10)
    assert answer["errors"] == [] and answer["scale"] == 10.0
    assert answer["results"][0]["fitScore"]["score"] == 0.9


async def test_bad_values_are_refused_on_their_exact_paths_and_nothing_is_written(gql, setup: Setup,
                                                                                  make_project) -> None:
    other = await make_project(setup.owner, name="Other")
    stranger = await models.Account.create(project=other, name="Stranger")
    answer = await put(gql, setup, [
        {"accountId": setup.account("Alpha"), "score": 0.5},
        {"accountId": setup.account("Bravo"), "score": 1.5},
        {"accountId": global_id("Account", stranger.id), "score": 0.5},
        {"accountId": setup.account("Alpha"), "score": 0.2},
        {"accountId": setup.account("Charlie"), "components": components(quality_score=0.5, spam=-0.1)},
        {"accountId": setup.account("Delta")},
    ], scale=1)
    assert answer["results"] == [] and answer["campaign"] is None
    assert {(e["code"], e["field"]) for e in answer["errors"]} == {
        ("INVALID", "input.scores[1].score"),
        ("NOT_FOUND", "input.scores[2].accountId"),
        ("INVALID", "input.scores[3].accountId"),
        ("INVALID", "input.scores[4].components[1].value"),
        ("INVALID", "input.scores[5]"),
    }
    assert "outside the scale 0–1" in next(e["message"] for e in answer["errors"]
                                            if e["field"] == "input.scores[1].score")
    assert await models.FitScore.all().count() == 0
    assert await models.AuditEvent.filter(action="campaign.set_external_scores").count() == 0

    wrong_scale = await put(gql, setup, [{"accountId": setup.account("Alpha"), "score": 0.5}], scale=100)
    assert [(e["code"], e["field"]) for e in wrong_scale["errors"]] == [("INVALID", "input.scale")]
    too_high = await put(gql, setup, [{"accountId": setup.account("Alpha"), "score": 11}])
    assert [e["field"] for e in too_high["errors"]] == ["input.scores[0].score"]
    twice = await put(gql, setup, [{"accountId": setup.account("Alpha"),
                                    "components": components(q=0.1) + components(q=0.2)}])
    assert [e["field"] for e in twice["errors"]] == ["input.scores[0].components[1].name"]
    none = await put(gql, setup, [])
    assert [e["field"] for e in none["errors"]] == ["input.scores"]
    assert await models.FitScore.all().count() == 0


async def test_external_scores_take_part_in_bands_histogram_review_and_low_fit_removal(gql, setup: Setup) -> None:
    await put(gql, setup, [
        {"accountId": setup.account("Alpha"), "score": 9.2},
        {"accountId": setup.account("Bravo"), "score": 2.4},
        {"accountId": setup.account("Charlie"), "score": 6.0},
    ])
    campaign = await read(gql, setup)
    assert campaign["scoredAccounts"] == 3 and campaign["staleScoreCount"] == 0
    bars = {b["from"]: b["count"] for b in campaign["scoreDistribution"]}
    assert bars[9.0] == 1 and bars[2.0] == 1 and bars[6.0] == 1 and sum(bars.values()) == 3
    ordered = [(e["node"]["account"]["name"], e["node"]["effectiveScore"], e["node"]["band"])
               for e in campaign["accounts"]["edges"]]
    assert ordered == [("Alpha", 9.2, "EXCELLENT"), ("Charlie", 6.0, "MODERATE"), ("Bravo", 2.4, "MISMATCH"),
                       ("Delta", None, None)]
    assert [e["node"]["account"]["name"] for e in campaign["mismatch"]["edges"]] == ["Bravo"]
    assert [e["node"]["account"]["name"] for e in campaign["excellent"]["edges"]] == ["Alpha"]

    alpha_row = next(e["node"]["id"] for e in campaign["accounts"]["edges"] if e["node"]["account"]["name"] == "Alpha")
    reviewed = data_of(await gql(REVIEW, {"input": {"campaignAccountIds": [alpha_row], "decision": "APPROVED"}},
                                 as_=setup.owner))["reviewCampaignAccounts"]
    assert reviewed["errors"] == [] and reviewed["changedCount"] == 1

    dry = data_of(await gql(REMOVE, {"input": {"campaignId": setup.gid}}, as_=setup.owner))["removeLowFitAccounts"]
    assert dry["wouldRemove"] == 1
    done = data_of(await gql(REMOVE, {"input": {"campaignId": setup.gid, "dryRun": False,
                                                "confirmToken": dry["confirmToken"]}},
                             as_=setup.owner))["removeLowFitAccounts"]
    assert done["removed"] == 1
    assert done["campaign"] == {"totalAccounts": 3, "scoredAccounts": 2, "approvedAccounts": 1}
    assert await models.FitScore.filter(account_id=setup.accounts["Bravo"].id).exists()  # scores are never deleted
    await assert_counters_exact(setup.campaign.id)


async def test_every_campaign_of_the_product_and_goal_counts_the_new_scores(gql, setup: Setup) -> None:
    twin = await make_campaign(setup.owner, setup.project, setup.product, "Twin",
                               [setup.accounts["Alpha"], setup.accounts["Delta"]])
    press = await make_campaign(setup.owner, setup.project, setup.product, "Press", [setup.accounts["Alpha"]],
                                goal="press")
    answer = await put(gql, setup, [{"accountId": setup.account("Alpha"), "score": 7},
                                    {"accountId": setup.account("Delta"), "score": 1}])
    assert answer["newlyScored"] == 2
    assert (await models.Campaign.get(id=twin.id)).scored_accounts == 2
    assert (await models.Campaign.get(id=press.id)).scored_accounts == 0  # another goal: not its score
    again = await put(gql, setup, [{"accountId": setup.account("Alpha"), "score": 4}])
    assert again["newlyScored"] == 0 and again["campaign"]["scoredAccounts"] == 2
    assert await models.FitScore.filter(account_id=setup.accounts["Alpha"].id).count() == 1
    await assert_counters_exact(setup.campaign.id, twin.id, press.id)


async def test_a_scoring_run_keeps_external_scores_unless_forced(gql, setup: Setup, jobs) -> None:
    await put(gql, setup, [{"accountId": setup.account("Alpha"), "score": 0.91}])
    run = data_of(await gql(SCORE, {"input": {"campaignId": setup.gid}}, as_=setup.owner))["scoreCampaign"]
    assert run["run"]["total"] == len(NAMES) - 1  # Alpha's score is current
    await jobs()
    scores = {r.account_id: r for r in await models.FitScore.filter(product_id=setup.product.id)}
    assert scores[setup.accounts["Alpha"].id].scorer == "external"
    assert scores[setup.accounts["Alpha"].id].score == 9.1
    assert {r.scorer for i, r in scores.items() if i != setup.accounts["Alpha"].id} == {"rubric"}

    # A persona change makes computed scores due again, not the external one.
    await models.Persona.filter(product_id=setup.product.id).update(version=5)
    run = data_of(await gql(SCORE, {"input": {"campaignId": setup.gid}}, as_=setup.owner))["scoreCampaign"]
    assert run["run"]["total"] == len(NAMES) - 1
    await jobs()
    assert (await models.FitScore.get(account_id=setup.accounts["Alpha"].id)).scorer == "external"

    forced = data_of(await gql(SCORE, {"input": {"campaignId": setup.gid, "force": True}},
                               as_=setup.owner))["scoreCampaign"]
    assert forced["run"]["total"] == len(NAMES)
    await jobs()
    assert (await models.FitScore.get(account_id=setup.accounts["Alpha"].id)).scorer == "rubric"
    await assert_counters_exact(setup.campaign.id)


async def test_a_batch_under_way_does_not_overwrite_a_score_attached_meanwhile(gql, setup: Setup, jobs) -> None:
    run = data_of(await gql(SCORE, {"input": {"campaignId": setup.gid}}, as_=setup.owner))["scoreCampaign"]
    assert run["run"]["total"] == len(NAMES)
    await put(gql, setup, [{"accountId": setup.account("Bravo"), "score": 0.42}])
    await jobs()
    bravo = await models.FitScore.get(account_id=setup.accounts["Bravo"].id)
    assert bravo.scorer == "external" and bravo.score == 4.2
    await assert_counters_exact(setup.campaign.id)


async def test_viewers_cannot_and_other_projects_cannot_see(gql, setup: Setup, add_member, make_user,
                                                            make_project) -> None:
    viewer = await make_user("viewer@example.com")
    await add_member(viewer, setup.project, Role.VIEWER)
    refused = await put(gql, setup, [{"accountId": setup.account("Alpha"), "score": 5}], as_=viewer)
    assert [e["code"] for e in refused["errors"]] == ["FORBIDDEN"]
    outsider = await make_user("out@example.com")
    await make_project(outsider, name="Theirs")
    hidden = await put(gql, setup, [{"accountId": setup.account("Alpha"), "score": 5}], as_=outsider)
    assert [(e["code"], e["field"]) for e in hidden["errors"]] == [("NOT_FOUND", "input.campaignId")]
    assert await models.FitScore.all().count() == 0


async def test_audited_and_published_after_the_commit(gql, setup: Setup, monkeypatch) -> None:
    published: list[tuple[int, str]] = []

    async def record(campaign_id: int, kind: str, data: Any = None) -> None:
        published.append((campaign_id, kind))

    monkeypatch.setattr(external_scores.events, "publish_campaign_event", record)
    await put(gql, setup, [{"accountId": setup.account("Alpha"), "score": 5}])
    assert published == [(setup.campaign.id, "accounts_changed")]
    event = await models.AuditEvent.get(action="campaign.set_external_scores")
    assert event.object_id == setup.campaign.id and event.actor_id == setup.owner.user.id
    assert event.after == {"scale": 10.0, "scored": 1, "newly_scored": 1,
                           "account_ids": [setup.accounts["Alpha"].id]}


async def test_a_thousand_scores_in_a_bounded_number_of_statements(gql, setup: Setup, count_queries) -> None:
    accounts = [models.Account(project=setup.project, name=f"Bulk {i}") for i in range(1000)]
    await models.Account.bulk_create(accounts)
    ids = await models.Account.filter(project=setup.project, name__startswith="Bulk ").values_list("id", flat=True)
    await models.CampaignAccount.bulk_create([models.CampaignAccount(campaign=setup.campaign, account_id=i)
                                              for i in ids])
    await campaign_stats.recount([setup.campaign.id])
    scores = [{"accountId": global_id("Account", i), "score": (n % 100) / 100,
               "components": components(quality_score=0.5)} for n, i in enumerate(ids)]
    with count_queries() as q:
        answer = await put(gql, setup, scores)
    assert answer["errors"] == [] and answer["scored"] == 1000 and answer["scale"] == 1.0
    assert answer["campaign"]["scoredAccounts"] == 1000
    assert len(q) <= 20, len(q)  # 15 measured: a few per 500 scores, none per score
    await assert_counters_exact(setup.campaign.id)


@pytest.mark.parametrize(("text", "value"), [("0.8", 0.8), ("8,5", 8.5), (" 85% ", 0.85), ("10", 10.0),
                                              (".5", 0.5)])
def test_parse_value_reads_what_spreadsheets_write(text: str, value: float) -> None:
    assert external_scores.parse_value(text) == pytest.approx(value)


@pytest.mark.parametrize("text", ["", "high", "8.5.1", "1e3", "nan", "%"])
def test_parse_value_refuses_what_is_not_a_number(text: str) -> None:
    with pytest.raises(ValueError, match="is not a score"):
        external_scores.parse_value(text)


def test_the_inferred_scale_is_1_only_when_every_value_is_at_most_1() -> None:
    scores = [external_scores.ExternalScore(0.5, {"q": 1.0}), external_scores.ExternalScore(None, {"r": 0.0})]
    assert external_scores.infer_scale(scores) == 1.0
    assert external_scores.infer_scale([*scores, external_scores.ExternalScore(1.01, {})]) == 10.0
