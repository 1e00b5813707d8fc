"""scoreCampaign through GraphQL on the embedded default (real dramatiq worker on the test's loop):
durable runs, the score cache, goal switches, one run at a time, resume after a crash, retries,
counters kept exact, and the feedback loop."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import Any

import pytest

from outboundql import models
from outboundql.enums import ReviewStatus, ScoringItemState, ScoringStatus
from outboundql.goals.testing import registry_with
from outboundql.scoring.scorers import RubricScorer
from outboundql.services import campaign_stats, scoring_runs
from outboundql.services import campaigns as campaigns_service
from outboundql.services import products as products_service
from outboundql.services.access import Access
from outboundql.settings import Settings
from tests.helpers import Person, data_of, global_id

SCORE = """
mutation($input: ScoreCampaignInput!) {
  scoreCampaign(input: $input) {
    started
    run { id status scorer force total done failed error }
    campaign { id scoringStatus scoringProgress { done total } }
    errors { code field message }
  }
}
"""

CAMPAIGN = """
query($id: ID!) {
  node(id: $id) {
    ... on Campaign {
      scoringStatus scoringError scoringProgress { done total } scoredAccounts totalAccounts staleScoreCount
      scoringRuns { status total done failed error scorer }
      accounts(first: 100) {
        edges { node { account { name } aiScore { score band scorer personaVersion goal { key } createdAt scoredAt
                                                  justifications { kind criterion text } } } }
      }
    }
  }
}
"""

ACCOUNTS = [
    # name, industry, employees, country, description
    ("Acme Robotics", "Software", 250, "ES", "Warehouse automation software for logistics teams"),
    ("Bakery Bros", "Food", 8, "FR", "Artisan bread and pastries"),
    ("Cloudy Data", "Software", 1200, "DE", "Data platform for analytics teams"),
    ("Dental Care", "Healthcare", 40, "US", "Family dentistry"),
    ("Edge Logistics", "Logistics", 600, "ES", "Freight forwarding and warehouse software"),
    ("Fjord Fisheries", None, None, None, ""),
    ("Gamma Analytics", "Software", 90, "ES", "Analytics software for retail"),
]


@dataclass
class Setup:
    owner: Person
    project: models.Project
    product: models.Product
    campaign: models.Campaign
    accounts: list[models.Account]

    @property
    def gid(self) -> str:
        return global_id("Campaign", self.campaign.id)


async def make_campaign(owner: Person, project: models.Project, product: models.Product, name: str,
                        accounts: list[models.Account], goal_key: str = "sales") -> models.Campaign:
    access = await Access.for_user(owner.user)
    campaign = (await campaigns_service.create_campaign(access, registry_with(), campaigns_service.CreateCampaign(
        project_id=project.id, product_id=product.id, name=name, goal=goal_key))).campaign
    for account in accounts:
        await models.CampaignAccount.create(campaign=campaign, account=account)
    await campaign_stats.recount([campaign.id])
    return await models.Campaign.get(id=campaign.id)


@pytest.fixture
async def setup(owner: Person, project: models.Project) -> Setup:
    access = await Access.for_user(owner.user)
    product = (await products_service.create_product(access, products_service.CreateProduct(
        project_id=project.id, name="Warehouse OS",
        description="Software that runs warehouses for logistics teams"))).product
    await models.Persona.create(project=project, product=product, goal_key="sales", name="Ops leaders",
                                industries=["Software", "Logistics"], countries=["ES"], keywords=["warehouse"],
                                company_size_min=50, company_size_max=1000, job_titles=["Head of Operations"])
    accounts = []
    for name, industry, size, country, description in ACCOUNTS:
        account = await models.Account.create(project=project, name=name, industry=industry, employee_count=size,
                                              country=country, description=description)
        accounts.append(account)
    await models.Contact.create(project=project, account=accounts[0], name="Ana", title="Head of Operations")
    campaign = await make_campaign(owner, project, product, "Spring", accounts)
    return Setup(owner, project, product, campaign, accounts)


@pytest.fixture
def settings() -> Settings:
    """Batches of 3 accounts, so a campaign of 7 takes several job messages."""
    return Settings(database_url="sqlite://:memory:", redis_url=None, scoring_batch_size=3)


async def score(gql: Any, s: Setup, campaign: models.Campaign | None = None, **options: Any) -> dict[str, Any]:
    gid = global_id("Campaign", (campaign or s.campaign).id)
    return data_of(await gql(SCORE, {"input": {"campaignId": gid, **options}}, as_=s.owner))["scoreCampaign"]


async def read(gql: Any, s: Setup, campaign: models.Campaign | None = None) -> dict[str, Any]:
    gid = global_id("Campaign", (campaign or s.campaign).id)
    return data_of(await gql(CAMPAIGN, {"id": gid}, as_=s.owner))["node"]


async def fit_scores(s: Setup, goal: str = "sales") -> dict[int, models.FitScore]:
    rows = await models.FitScore.filter(product_id=s.product.id, goal_key=goal)
    assert len({r.account_id for r in rows}) == len(rows)
    return {r.account_id: r for r in rows}


async def assert_counters_exact(*campaign_ids: int) -> None:
    assert await campaign_stats.recount(list(campaign_ids)) == []


async def test_a_run_scores_every_account_once_in_batches(gql, setup: Setup, jobs) -> None:
    started = await score(gql, setup)
    assert started["errors"] == []
    assert started["started"] is True
    assert started["run"]["status"] == "RUNNING"
    assert started["run"]["total"] == len(ACCOUNTS)
    assert started["campaign"]["scoringStatus"] == "RUNNING"
    assert started["campaign"]["scoringProgress"] == {"done": 0, "total": len(ACCOUNTS)}
    batches = await models.ScoringRunItem.filter(run__campaign_id=setup.campaign.id).values_list("batch", flat=True)
    assert sorted(batches) == [0, 0, 0, 1, 1, 1, 2]  # batches of 3 (this module's settings)

    await jobs()

    campaign = await read(gql, setup)
    assert campaign["scoringStatus"] == "COMPLETED"
    assert campaign["scoringError"] is None
    assert campaign["scoringProgress"] == {"done": len(ACCOUNTS), "total": len(ACCOUNTS)}
    assert campaign["scoredAccounts"] == len(ACCOUNTS)
    assert campaign["scoringRuns"] == [{"status": "COMPLETED", "total": 7, "done": 7, "failed": 0, "error": None,
                                        "scorer": "rubric"}]
    scores = {e["node"]["account"]["name"]: e["node"]["aiScore"] for e in campaign["accounts"]["edges"]}
    assert all(s is not None for s in scores.values())
    criteria = {c.key for c in registry_with().get("sales").rubric}  # type: ignore[union-attr]
    for value in scores.values():
        assert value["goal"] == {"key": "sales"} and value["scorer"] == "rubric" and value["personaVersion"] == 1
        assert 0.0 <= value["score"] <= 10.0 and round(value["score"], 1) == value["score"]
        assert {j["criterion"] for j in value["justifications"]} <= criteria | {"feedback"}
        assert all(j["kind"] in {"fit", "gap", "risk", "missing_data"} and j["text"] for j in value["justifications"])
    # The rubric tells a fit from a mismatch: the Spanish warehouse-software firm beats the bakery.
    assert scores["Acme Robotics"]["score"] > scores["Bakery Bros"]["score"]
    assert scores["Bakery Bros"]["band"] == "MISMATCH"
    assert len(await fit_scores(setup)) == len(ACCOUNTS)
    await assert_counters_exact(setup.campaign.id)


async def test_the_cache_scores_only_what_is_missing_unless_forced(gql, setup: Setup, jobs) -> None:
    await score(gql, setup)
    await jobs()
    first = await fit_scores(setup)

    again = await score(gql, setup)
    assert again["started"] is True
    assert again["run"]["total"] == 0 and again["run"]["status"] == "COMPLETED"  # nothing to do: done at once
    await jobs()
    assert {k: v.updated_at for k, v in (await fit_scores(setup)).items()} == {
        k: v.updated_at for k, v in first.items()}

    newcomer = await models.Account.create(project=setup.project, name="Hola Software", industry="Software",
                                           country="ES")
    await models.CampaignAccount.create(campaign=setup.campaign, account=newcomer)
    await campaign_stats.recount([setup.campaign.id])
    only_new = await score(gql, setup)
    assert only_new["run"]["total"] == 1
    await jobs()
    assert len(await fit_scores(setup)) == len(ACCOUNTS) + 1

    forced = await score(gql, setup, force=True)
    assert forced["run"]["total"] == len(ACCOUNTS) + 1 and forced["run"]["force"] is True
    await jobs()
    after = await fit_scores(setup)
    assert len(after) == len(ACCOUNTS) + 1
    assert all(after[k].updated_at > first[k].updated_at for k in first)
    rows = (await read(gql, setup))["accounts"]["edges"]
    assert all(e["node"]["aiScore"]["scoredAt"] > e["node"]["aiScore"]["createdAt"] for e in rows)
    await assert_counters_exact(setup.campaign.id)


async def test_a_second_campaign_of_the_same_product_and_goal_never_rescores(gql, setup: Setup, jobs) -> None:
    await score(gql, setup)
    await jobs()
    before = {k: v.updated_at for k, v in (await fit_scores(setup)).items()}
    other = await make_campaign(setup.owner, setup.project, setup.product, "Autumn", setup.accounts[:4])
    assert other.scored_accounts == 4  # counted when added: the scores live on the product

    result = await score(gql, setup, campaign=other)
    assert result["run"]["total"] == 0
    await jobs()
    assert {k: v.updated_at for k, v in (await fit_scores(setup)).items()} == before
    assert (await read(gql, setup, other))["scoredAccounts"] == 4


async def test_a_score_counts_in_every_campaign_of_the_product_and_goal_holding_the_account(
    gql, setup: Setup, jobs,
) -> None:
    other = await make_campaign(setup.owner, setup.project, setup.product, "Autumn", setup.accounts[:3])
    press = await make_campaign(setup.owner, setup.project, setup.product, "Press", setup.accounts[:3],
                                goal_key="press")
    await score(gql, setup)
    await jobs()
    assert (await read(gql, setup, other))["scoredAccounts"] == 3
    assert (await read(gql, setup, press))["scoredAccounts"] == 0  # another goal: not its score
    await assert_counters_exact(setup.campaign.id, other.id, press.id)


async def test_a_new_persona_version_makes_scores_stale_for_the_next_run(gql, setup: Setup, jobs) -> None:
    await score(gql, setup)
    await jobs()
    await models.Persona.filter(product_id=setup.product.id, goal_key="sales").update(version=2)
    result = await score(gql, setup)
    assert result["run"]["total"] == len(ACCOUNTS)
    await jobs()
    assert {s.persona_version for s in (await fit_scores(setup)).values()} == {2}


async def test_after_a_goal_switch_rescoring_brings_stale_scores_to_zero(gql, setup: Setup, jobs) -> None:
    await score(gql, setup)
    await jobs()
    access = await Access.for_user(setup.owner.user)
    await campaigns_service.update_campaign(access, registry_with(),
                                            campaigns_service.UpdateCampaign(id=setup.campaign.id, goal="partnership"))
    campaign = await read(gql, setup)
    assert campaign["staleScoreCount"] == len(ACCOUNTS)
    assert campaign["scoredAccounts"] == 0

    result = await score(gql, setup)
    assert result["run"]["total"] == len(ACCOUNTS)
    await jobs()
    campaign = await read(gql, setup)
    assert campaign["staleScoreCount"] == 0
    assert campaign["scoredAccounts"] == len(ACCOUNTS)
    assert {e["node"]["aiScore"]["goal"]["key"] for e in campaign["accounts"]["edges"]} == {"partnership"}
    assert len(await fit_scores(setup, "sales")) == len(ACCOUNTS)  # old scores are kept
    await assert_counters_exact(setup.campaign.id)


async def test_concurrent_calls_make_one_run(gql, setup: Setup, jobs) -> None:
    first, second = await asyncio.gather(score(gql, setup), score(gql, setup))
    results = sorted([first, second], key=lambda r: not r["started"])
    assert [r["started"] for r in results] == [True, False]
    assert results[0]["run"]["id"] == results[1]["run"]["id"]
    assert [e["code"] for e in results[1]["errors"]] == ["CONFLICT"]
    assert "already being scored" in results[1]["errors"][0]["message"]
    assert await models.ScoringRun.filter(campaign_id=setup.campaign.id).count() == 1
    await jobs()
    assert len(await fit_scores(setup)) == len(ACCOUNTS)


@pytest.mark.parametrize("language", ["es", "es-ES"])  # a regional tag uses its base language's catalog
async def test_justifications_come_in_the_campaign_language(gql, setup: Setup, jobs, language: str) -> None:
    await models.Campaign.filter(id=setup.campaign.id).update(communication_language=language)
    await score(gql, setup)
    await jobs()
    assert (await models.ScoringRun.get(campaign_id=setup.campaign.id)).language == language
    texts = [j["text"] for e in (await read(gql, setup))["accounts"]["edges"]
             for j in e["node"]["aiScore"]["justifications"]]
    # the Spanish catalog, naming the criterion by its Spanish description
    assert "Opera en un sector al que apunta el perfil: sí (sector: Software)." in texts, texts
    assert not any("industry" in t or "industry_fit" in t for t in texts), texts


async def test_a_run_interrupted_by_a_crash_resumes_from_the_database(gql, setup: Setup, jobs, stub_broker) -> None:
    await score(gql, setup)
    await jobs_for_one_batch(stub_broker)
    run = await models.ScoringRun.get(campaign_id=setup.campaign.id)
    assert 0 < run.done < run.total
    stub_broker.flush_all()  # the process died: its in-memory messages are gone

    resumed = await scoring_runs.resume_interrupted()
    assert resumed == [run.id]
    assert await scoring_runs.resume_interrupted() == []  # claimed: a second booting worker does not repeat it
    await jobs()
    run = await models.ScoringRun.get(id=run.id)
    assert (run.status, run.done, run.total) == (ScoringStatus.COMPLETED, len(ACCOUNTS), len(ACCOUNTS))
    assert len(await fit_scores(setup)) == len(ACCOUNTS)
    await assert_counters_exact(setup.campaign.id)


async def test_a_run_whose_batches_cannot_be_enqueued_is_started_and_resumed_later(
    gql, setup: Setup, jobs, stub_broker, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    """Redis down right after the run committed: the run is answered as started (a client told otherwise would
    retry), the failure is logged, and its pending items in the database are what gets enqueued later."""
    import redis.exceptions

    def enqueue(message: Any, *, delay: int | None = None) -> Any:
        raise redis.exceptions.ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    with monkeypatch.context() as outage:
        outage.setattr(stub_broker, "enqueue", enqueue)
        started = await score(gql, setup)
    assert started["errors"] == [] and started["started"] is True
    assert (started["run"]["status"], started["run"]["total"]) == ("RUNNING", len(ACCOUNTS))
    run = await models.ScoringRun.get(campaign_id=setup.campaign.id)
    assert await models.ScoringRunItem.filter(run_id=run.id, state=ScoringItemState.PENDING).count() == len(ACCOUNTS)
    assert stub_broker.queues["scoring"].qsize() == 0
    assert any(r.name == "outboundql.services.scoring_runs" and r.levelname == "WARNING"
               and f"Scoring run {run.id} started" in r.getMessage() for r in caplog.records)

    assert await scoring_runs.resume_interrupted() == [run.id]  # the queue is back
    await jobs()
    run = await models.ScoringRun.get(id=run.id)
    assert (run.status, run.done, run.total) == (ScoringStatus.COMPLETED, len(ACCOUNTS), len(ACCOUNTS))
    await assert_counters_exact(setup.campaign.id)


async def jobs_for_one_batch(stub_broker: Any) -> None:
    """Process exactly the first queued scoring message, as a worker that dies right after would."""
    import dramatiq

    from outboundql.services import scoring_batches

    queue = stub_broker.queues["scoring"]
    message = dramatiq.Message.decode(queue.get_nowait())
    queue.task_done()
    run_id, batch = message.args
    await scoring_batches.process(run_id, batch, registry_with(), Settings(database_url="sqlite://:memory:"))


async def test_a_batch_delivered_twice_counts_once(gql, setup: Setup, jobs, stub_broker) -> None:
    from outboundql.workers.scoring import score_batch

    started = await score(gql, setup)
    run_id = int((await models.ScoringRun.get(campaign_id=setup.campaign.id)).id)
    assert started["run"]["total"] == len(ACCOUNTS)
    score_batch.send(run_id, 0)
    score_batch.send(run_id, 0)
    await jobs()
    run = await models.ScoringRun.get(id=run_id)
    assert (run.done, run.failed, run.status) == (len(ACCOUNTS), 0, ScoringStatus.COMPLETED)
    assert (await read(gql, setup))["scoringProgress"] == {"done": len(ACCOUNTS), "total": len(ACCOUNTS)}
    await assert_counters_exact(setup.campaign.id)


async def test_a_batch_that_keeps_failing_fails_the_run_and_a_retry_finishes_it(
    gql, setup: Setup, jobs, stub_broker, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from outboundql.workers.scoring import score_batch

    monkeypatch.setitem(score_batch.options, "min_backoff", 10)
    monkeypatch.setitem(score_batch.options, "max_retries", 1)

    async def broken(self: RubricScorer, context: Any, items: Any) -> Any:
        raise RuntimeError("scorer exploded")

    monkeypatch.setattr(RubricScorer, "score", broken)
    await score(gql, setup)
    await jobs(fail_fast=False)
    campaign = await read(gql, setup)
    assert campaign["scoringStatus"] == "FAILED"
    assert re.match(r"Batch \d failed after 2 attempts: RuntimeError: scorer exploded", campaign["scoringError"])
    assert "scorer exploded" in campaign["scoringError"]
    assert await models.FitScore.filter(product_id=setup.product.id).count() == 0

    monkeypatch.undo()
    stub_broker.flush_all()  # forget the dead-lettered message
    retry = await score(gql, setup)
    assert retry["started"] is True and retry["errors"] == []
    await jobs()
    campaign = await read(gql, setup)
    assert campaign["scoringStatus"] == "COMPLETED" and campaign["scoringError"] is None
    assert [r["status"] for r in campaign["scoringRuns"]] == ["COMPLETED", "FAILED"]
    assert len(await fit_scores(setup)) == len(ACCOUNTS)


async def test_an_account_the_scorer_cannot_score_is_marked_failed_and_the_run_goes_on(
    gql, setup: Setup, jobs, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from outboundql.scoring.scorers import ScoreFailed

    real = RubricScorer.score
    unlucky = setup.accounts[1].id

    async def partly(self: RubricScorer, context: Any, items: Any) -> Any:
        outcome = await real(self, context, [i for i in items if i.account_id != unlucky])
        outcome.failed.append(ScoreFailed(unlucky, "answer did not match the schema"))
        return outcome

    monkeypatch.setattr(RubricScorer, "score", partly)
    await score(gql, setup)
    await jobs()
    run = await models.ScoringRun.get(campaign_id=setup.campaign.id)
    assert (run.status, run.done, run.failed) == (ScoringStatus.COMPLETED, len(ACCOUNTS), 1)
    item = await models.ScoringRunItem.get(run_id=run.id, account_id=unlucky)
    assert (item.state, item.error) == (ScoringItemState.FAILED, "answer did not match the schema")
    assert unlucky not in await fit_scores(setup)
    failures = "query($id: ID!) { node(id: $id) { ... on ScoringRun { failures { accountId error } } } }"
    result = data_of(await gql(failures, {"id": global_id("ScoringRun", run.id)}, as_=setup.owner))
    assert result["node"]["failures"] == [{"accountId": global_id("Account", unlucky),
                                           "error": "answer did not match the schema"}]


async def test_feedback_from_reviews_lowers_an_account_resembling_rejections(gql, setup: Setup, jobs) -> None:
    project, product = setup.project, setup.product
    target = await models.Account.create(project=project, name="Crumbs Catering", industry="Food", country="FR",
                                         employee_count=300, description="Warehouse catering for logistics teams")
    campaign = await make_campaign(setup.owner, project, product, "Feedback", [target])
    await score(gql, setup, campaign=campaign)
    await jobs()
    before = (await fit_scores(setup))[target.id].score

    # 10 reviews: five rejected food companies (like the target), five approved software firms.
    examples = []
    for i in range(5):
        examples.append((await models.Account.create(project=project, name=f"Food {i}", industry="Food",
                                                     country="FR", employee_count=300,
                                                     description="Catering for logistics teams"), False))
        examples.append((await models.Account.create(project=project, name=f"Soft {i}", industry="Software",
                                                     country="ES", employee_count=200,
                                                     description="Warehouse software"), True))
    reviewed = await make_campaign(setup.owner, project, product, "Reviewed", [a for a, _ in examples])
    for account, approved in examples:
        await models.CampaignAccount.filter(campaign_id=reviewed.id, account_id=account.id).update(
            review_status=ReviewStatus.APPROVED if approved else ReviewStatus.REJECTED)

    forced = await score(gql, setup, campaign=campaign, force=True)
    run = await models.ScoringRun.get(id=int((await models.ScoringRun.filter(campaign_id=campaign.id)
                                              .order_by("-id").first()).id))  # type: ignore[union-attr]
    assert forced["started"] is True
    assert sorted(approved for _, approved in run.examples) == [False] * 5 + [True] * 5
    await jobs()
    after = (await fit_scores(setup))[target.id]
    assert after.score < before
    assert any(j["criterion"] == "feedback" and j["kind"] == "risk" for j in after.justifications)


async def test_fewer_than_ten_reviews_give_no_examples(setup: Setup) -> None:
    for account in setup.accounts[:5]:
        await models.CampaignAccount.filter(campaign_id=setup.campaign.id, account_id=account.id).update(
            review_status=ReviewStatus.REJECTED)
    assert await scoring_runs.feedback_examples(setup.product.id) == []


@pytest.mark.parametrize(("options", "code", "needle"), [
    ({"scorer": "magic"}, "INVALID", "Unknown scorer 'magic'; installed scorers: llm, rubric."),
    ({"scorer": "llm"}, "UNAVAILABLE", "OUTBOUNDQL_LLM_URL"),  # no LLM configured on this server
])
async def test_a_scorer_that_cannot_run_is_refused_before_anything_is_written(
    gql, setup: Setup, options: dict[str, Any], code: str, needle: str,
) -> None:
    result = await score(gql, setup, **options)
    assert result["started"] is False and result["run"] is None
    assert [(e["code"], e["field"]) for e in result["errors"]] == [(code, "input.scorer")]
    assert needle in result["errors"][0]["message"]
    assert await models.ScoringRun.all().count() == 0


async def test_an_archived_campaign_is_not_scored(gql, setup: Setup) -> None:
    access = await Access.for_user(setup.owner.user)
    await campaigns_service.set_archived(access, campaigns_service.SetCampaignArchived(id=setup.campaign.id,
                                                                                      archived=True))
    result = await score(gql, setup)
    assert [(e["code"], e["field"]) for e in result["errors"]] == [("INVALID", "input.campaignId")]
    assert "unarchive" in result["errors"][0]["message"]


async def test_the_goal_cannot_be_switched_while_a_run_scores_the_current_one(gql, setup: Setup, jobs) -> None:
    update = """mutation($input: UpdateCampaignInput!) {
      updateCampaign(input: $input) { campaign { goal { key } } errors { code field message } } }"""
    await score(gql, setup)
    refused = data_of(await gql(update, {"input": {"id": setup.gid, "goal": "press"}}, as_=setup.owner))
    assert [(e["code"], e["field"]) for e in refused["updateCampaign"]["errors"]] == [("CONFLICT", "input.goal")]
    assert (await models.Campaign.get(id=setup.campaign.id)).goal_key == "sales"
    await jobs()
    switched = data_of(await gql(update, {"input": {"id": setup.gid, "goal": "press"}}, as_=setup.owner))
    assert switched["updateCampaign"] == {"campaign": {"goal": {"key": "press"}}, "errors": []}


async def test_the_latest_reviews_are_the_examples(setup: Setup) -> None:
    from datetime import UTC, datetime, timedelta

    accounts = [await models.Account.create(project=setup.project, name=f"R{i}") for i in range(12)]
    reviewed = await make_campaign(setup.owner, setup.project, setup.product, "Reviewed", accounts)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for i, account in enumerate(accounts):  # R0..R5 approved, R6..R11 rejected, later ones reviewed later
        await models.CampaignAccount.filter(campaign_id=reviewed.id, account_id=account.id).update(
            review_status=ReviewStatus.APPROVED if i < 6 else ReviewStatus.REJECTED,
            reviewed_at=start + timedelta(days=i))
    undated = accounts[0]  # reviewed by a path that left no date: counted, but after every dated review
    await models.CampaignAccount.filter(campaign_id=reviewed.id, account_id=undated.id).update(reviewed_at=None)
    examples = await scoring_runs.feedback_examples(setup.product.id)
    names = {a.id: a.name for a in accounts}
    assert [(names[i], ok) for i, ok in examples] == [
        ("R5", True), ("R4", True), ("R3", True), ("R2", True), ("R1", True),
        ("R11", False), ("R10", False), ("R9", False), ("R8", False), ("R7", False)]


class FakeClock:
    def __init__(self, now: Any) -> None:
        self.now = now

    def __call__(self) -> Any:
        return self.now

    def advance(self, seconds: float) -> None:
        from datetime import timedelta

        self.now += timedelta(seconds=seconds)


def queued_batches(stub_broker: Any) -> list[tuple[int, int]]:
    import dramatiq

    queue = stub_broker.queues["scoring"]
    return sorted(tuple(dramatiq.Message.decode(raw).args) for raw in list(queue.queue))  # type: ignore[misc]


async def test_a_stalled_run_is_enqueued_again_once_per_window_and_a_progressing_one_is_left_alone(
    gql, setup: Setup, jobs, stub_broker,
) -> None:
    """Redis restarted empty: the queued batches are gone and no worker boots. Every worker process
    ticks each interval; a run with no progress for two intervals gets its pending batches enqueued
    again by one of them, while a run that progressed within that window is not enqueued twice."""
    from datetime import UTC, datetime

    from outboundql.workers.middleware import ResumeScoringRuns

    await score(gql, setup)  # batches 0, 1, 2 (3 + 3 + 1 accounts)
    run = await models.ScoringRun.get(campaign_id=setup.campaign.id)
    long_ago = datetime(2026, 1, 1, tzinfo=UTC)
    await models.ScoringRun.filter(id=run.id).update(updated_at=long_ago)
    await jobs_for_one_batch(stub_broker)
    progressed = (await models.ScoringRun.get(id=run.id)).updated_at
    assert progressed > long_ago  # a batch's progress is when the run last moved
    stub_broker.flush_all()  # the queue is lost

    clock = FakeClock(progressed)
    workers = [ResumeScoringRuns(interval=10, clock=clock) for _ in range(2)]
    clock.advance(19)
    assert [await w.tick(first=False) for w in workers] == [[], []]  # progressed 19 s ago: healthy
    assert queued_batches(stub_broker) == []
    clock.advance(2)
    assert [await w.tick(first=False) for w in workers] == [[run.id], []]  # stalled: one worker re-sends it
    assert queued_batches(stub_broker) == [(run.id, 1), (run.id, 2)]
    clock.advance(19)
    assert [await w.tick(first=False) for w in workers] == [[], []]  # claimed for the window
    clock.advance(2)  # 21 s after the last re-send, still no progress: the batches were lost again
    assert [await w.tick(first=False) for w in workers] == [[run.id], []]
    assert queued_batches(stub_broker) == [(run.id, 1), (run.id, 1), (run.id, 2), (run.id, 2)]

    await jobs()  # the copies find nothing left to do
    run = await models.ScoringRun.get(id=run.id)
    assert (run.status, run.done, run.failed) == (ScoringStatus.COMPLETED, len(ACCOUNTS), 0)
    assert len(await fit_scores(setup)) == len(ACCOUNTS)
    await assert_counters_exact(setup.campaign.id)
    clock.advance(60)
    assert await workers[0].tick(first=False) == []  # a finished run is never resumed


async def test_a_stalled_run_whose_batches_cannot_be_sent_is_tried_again_at_the_next_tick(
    setup: Setup, gql, jobs, stub_broker, settings: Settings,
) -> None:
    from datetime import UTC, datetime

    from outboundql.services import runtime
    from outboundql.workers import DramatiqJobs
    from outboundql.workers.middleware import ResumeScoringRuns

    class Down(DramatiqJobs):
        async def score_batches(self, run_id: int, batches: Any) -> None:
            raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    await score(gql, setup)
    run = await models.ScoringRun.get(campaign_id=setup.campaign.id)
    stub_broker.flush_all()
    clock = FakeClock(datetime.now(UTC))
    clock.advance(3600)
    worker = ResumeScoringRuns(interval=10, clock=clock)
    with runtime.using(runtime.Runtime(settings, registry_with(), Down())), pytest.raises(ConnectionError):
        await worker.tick(first=False)
    assert (await models.ScoringRun.get(id=run.id)).resumed_at is None  # released, not claimed for the window
    clock.advance(10)
    assert await worker.tick(first=False) == [run.id]  # Redis is back
    assert queued_batches(stub_broker) == [(run.id, 0), (run.id, 1), (run.id, 2)]
    await jobs()
    assert (await models.ScoringRun.get(id=run.id)).status is ScoringStatus.COMPLETED


def test_the_tick_thread_outlives_failing_ticks_and_resumes_everything_until_a_boot_tick_succeeded() -> None:
    import asyncio

    from outboundql.workers.middleware import ResumeScoringRuns

    middleware = ResumeScoringRuns(interval=0)
    firsts: list[bool] = []

    def tick(*, first: bool) -> Any:
        firsts.append(first)
        return asyncio.sleep(0, [])

    class Loop:
        def run_coroutine(self, coro: Any) -> Any:
            coro.close()
            if len(firsts) in (1, 3):
                raise ConnectionError("Redis is down")
            if len(firsts) == 5:
                middleware.stopping.set()  # the worker shuts down
            return []

    middleware.tick = tick  # type: ignore[method-assign]
    middleware.run(Loop())  # type: ignore[arg-type]
    assert firsts == [True, True, False, False, False]


def test_worker_processes_tick_at_the_interval_of_their_settings_and_the_embedded_server_does_not() -> None:
    from outboundql.workers.broker import build_broker
    from outboundql.workers.middleware import ResumeScoringRuns

    def ticks(settings: Settings) -> list[float]:
        broker = build_broker(settings)
        try:
            return [m.interval for m in broker.middleware if isinstance(m, ResumeScoringRuns)]
        finally:
            broker.close()

    distributed = Settings(database_url="postgres://x@127.0.0.1:1/x", redis_url="redis://127.0.0.1:1/0",
                           scoring_resume_interval_seconds=7)
    assert ticks(distributed) == [7]
    assert ticks(Settings(database_url="sqlite://:memory:", redis_url=None)) == []  # restarts resume at start
