"""scoreCampaign with the llm scorer, end to end on the embedded default against a real HTTP server
speaking the OpenAI chat-completions protocol on loopback: batches per request, the feedback
examples in the prompt, an account whose answer stays invalid marked failed without failing the
run, every call recorded as ApiUsage with its cost, and an endpoint that stays down failing the run."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from outboundql import models
from outboundql.enums import ReviewStatus, ScoringStatus, UsageOperation
from outboundql.settings import Settings
from tests.api.test_score_campaign import ACCOUNTS, Setup, fit_scores, make_campaign, read, score
from tests.api.test_score_campaign import setup as setup  # the fixture
from tests.fakes.openai_server import FakeOpenAI, default_score, status

# gpt-4o-mini at the built-in prices: 1000 prompt + 200 completion tokens per fake reply.
COST_PER_CALL = Decimal("0.000270")


@pytest.fixture
def openai_server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


@pytest.fixture
def settings(openai_server: FakeOpenAI) -> Settings:
    return openai_server.settings(llm_batch_size=4, llm_max_attempts=2)


async def test_an_llm_run_scores_in_batches_and_records_every_call(gql, setup: Setup, jobs,
                                                                   openai_server: FakeOpenAI) -> None:
    result = await score(gql, setup)  # OUTBOUNDQL_SCORER=llm in these settings
    assert result["errors"] == [] and result["run"]["scorer"] == "llm"
    await jobs()

    assert [len(r.account_ids) for r in openai_server.requests] == [4, 3]  # 7 accounts, 4 per request
    assert all(r.headers["authorization"] == "Bearer test-key" for r in openai_server.requests)
    campaign = await read(gql, setup)
    assert campaign["scoringStatus"] == "COMPLETED" and campaign["scoredAccounts"] == len(ACCOUNTS)
    scores = await fit_scores(setup)
    assert {a.id: scores[a.id].score for a in setup.accounts} == {a.id: default_score(a.id) for a in setup.accounts}
    assert {(s.scorer, s.model) for s in scores.values()} == {("llm", "gpt-4o-mini")}
    usage = await models.ApiUsage.filter(campaign_id=setup.campaign.id).order_by("id")
    assert [(u.operation, u.model, u.input_units, u.output_units, u.cost_usd) for u in usage] == [
        (UsageOperation.SCORE, "gpt-4o-mini", 1000, 200, COST_PER_CALL)] * 2
    assert all(u.project_id == setup.project.id for u in usage)


async def test_the_scorer_is_picked_per_run(gql, setup: Setup, jobs, openai_server: FakeOpenAI) -> None:
    await score(gql, setup, scorer="rubric")
    await jobs()
    assert openai_server.requests == []
    assert {s.scorer for s in (await fit_scores(setup)).values()} == {"rubric"}


async def test_an_account_whose_answer_stays_invalid_fails_alone(gql, setup: Setup, jobs,
                                                                 openai_server: FakeOpenAI) -> None:
    from tests.fakes.openai_server import scores

    unlucky = setup.accounts[0].id
    bad = {unlucky: {"account_id": unlucky, "score": 42, "justifications": []}}
    openai_server.enqueue(scores(entries=bad), scores(entries=bad))  # the first answer and the re-ask
    await score(gql, setup)
    await jobs()
    run = await models.ScoringRun.get(campaign_id=setup.campaign.id)
    assert (run.status, run.done, run.failed) == (ScoringStatus.COMPLETED, len(ACCOUNTS), 1)
    assert unlucky not in await fit_scores(setup)
    assert len(await fit_scores(setup)) == len(ACCOUNTS) - 1
    assert await models.ApiUsage.filter(campaign_id=setup.campaign.id).count() == 3  # 2 batches + 1 re-ask


async def test_an_endpoint_that_stays_down_fails_the_run_and_keeps_the_billed_calls(
    gql, setup: Setup, jobs, stub_broker, openai_server: FakeOpenAI, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from outboundql.workers.scoring import score_batch

    monkeypatch.setitem(score_batch.options, "min_backoff", 10)
    monkeypatch.setitem(score_batch.options, "max_retries", 1)
    openai_server.enqueue(*[status(503, usage=(10, 0))] * 20)
    await score(gql, setup)
    await jobs(fail_fast=False)
    campaign = await read(gql, setup)
    assert campaign["scoringStatus"] == "FAILED"
    assert "503" in campaign["scoringError"], campaign["scoringError"]
    assert await models.FitScore.all().count() == 0
    billed = await models.ApiUsage.filter(campaign_id=setup.campaign.id)
    assert billed and {u.input_units for u in billed} == {10}


async def test_a_refused_request_fails_the_run_at_once(gql, setup: Setup, jobs, openai_server: FakeOpenAI) -> None:
    openai_server.enqueue(status(401))
    await score(gql, setup)
    await jobs()
    campaign = await read(gql, setup)
    assert campaign["scoringStatus"] == "FAILED"
    assert campaign["scoringError"].startswith("The LLM refused the request"), campaign["scoringError"]
    assert len(openai_server.requests) == 1  # not retried


async def test_reviewed_examples_are_given_in_the_prompt(gql, setup: Setup, jobs, openai_server: FakeOpenAI) -> None:
    reviewed = []
    for i in range(6):
        reviewed.append((await models.Account.create(project=setup.project, name=f"Approved {i}",
                                                     industry="Software"), True))
        reviewed.append((await models.Account.create(project=setup.project, name=f"Rejected {i}",
                                                     industry="Food"), False))
    other = await make_campaign(setup.owner, setup.project, setup.product, "Reviewed", [a for a, _ in reviewed])
    for account, approved in reviewed:
        await models.CampaignAccount.filter(campaign_id=other.id, account_id=account.id).update(
            review_status=ReviewStatus.APPROVED if approved else ReviewStatus.REJECTED)
    await score(gql, setup)
    await jobs()
    prompt: Any = openai_server.requests[0].prompt
    assert sum(f"Approved {i}" in prompt for i in range(6)) == 5
    assert sum(f"Rejected {i}" in prompt for i in range(6)) == 5
