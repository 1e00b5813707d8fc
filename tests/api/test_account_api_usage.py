"""Account.apiUsage: what paid API calls about an account cost (USD, by model). A call about several accounts (an
llm scoring batch against the fake OpenAI-compatible server, replies read together for signals) gives each its
share, the shares adding up to the call; the campaign's usage still counts each call once. A page of accounts
reads it in a bounded number of statements; erasure and merging handle the shares; another project's accounts
never get a share."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from outboundql import models
from outboundql.enums import Channel, Direction, MessageMode, MessageStatus, UsageOperation
from outboundql.services import api_usage, signal_proposals
from outboundql.settings import Settings
from tests.api.test_score_campaign import Setup, score
from tests.api.test_score_campaign import setup as setup  # the fixture
from tests.fakes.openai_server import FakeOpenAI, answer, scores
from tests.helpers import Person, data_of, global_id, warm_up

ACCOUNTS = """
query($slug: String!, $first: Int) {
  project(slug: $slug) {
    accounts(first: $first) { edges { node { id name apiUsage {
      costUsd calls byModel { provider model calls inputUnits outputUnits costUsd } } } } }
  }
}
"""

CAMPAIGN_USAGE = """
query($id: ID!) { node(id: $id) { ... on Campaign { costs { apiUsage {
  costUsd calls byModel { provider model calls inputUnits outputUnits costUsd } } } } } }
"""

ACCOUNT = """
query($id: ID!) { node(id: $id) { ... on Account { apiUsage { costUsd calls byModel { model calls costUsd } } } } }
"""

DELETE_ACCOUNTS = """
mutation($input: DeleteAccountsInput!) { deleteAccounts(input: $input) { deletedAccountIds errors { code } } }
"""

MERGE = """
mutation($input: MergeAccountsInput!) {
  mergeAccounts(input: $input) { account { apiUsage { costUsd calls byModel { model calls inputUnits costUsd } } }
                                 errors { code } }
}
"""

CALL = Decimal("0.000270")  # gpt-4o-mini at the built-in prices: 1000 prompt + 200 completion tokens per fake reply


@pytest.fixture
def openai_server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


@pytest.fixture
def settings(openai_server: FakeOpenAI) -> Settings:
    return openai_server.settings(llm_batch_size=4, llm_max_attempts=1)


async def _usage_by_name(gql: Any, owner: Person, project: models.Project) -> dict[str, dict[str, Any]]:
    data = data_of(await gql(ACCOUNTS, {"slug": project.slug, "first": 100}, as_=owner))
    return {e["node"]["name"]: e["node"]["apiUsage"] for e in data["project"]["accounts"]["edges"]}


async def _account_usage(gql: Any, owner: Person, account_id: int) -> dict[str, Any] | None:
    node = data_of(await gql(ACCOUNT, {"id": global_id("Account", account_id)}, as_=owner))["node"]
    return None if node is None else node["apiUsage"]  # type: ignore[no-any-return]


def _one_model(cost: str, calls: int, inputs: int, outputs: int) -> dict[str, Any]:
    return {"costUsd": cost, "calls": calls, "byModel": [
        {"provider": "openai-compatible", "model": "gpt-4o-mini", "calls": calls, "inputUnits": inputs,
         "outputUnits": outputs, "costUsd": cost}]}


def _decimal(usage: dict[str, Any]) -> Decimal:
    return Decimal(usage["costUsd"])


async def test_a_scoring_batch_shares_each_call_between_its_accounts(
    gql: Any, setup: Setup, jobs: Any, openai_server: FakeOpenAI
) -> None:
    await score(gql, setup)
    await jobs()
    assert [r.account_ids for r in openai_server.requests] == [
        [a.id for a in setup.accounts[:4]], [a.id for a in setup.accounts[4:]]]  # 7 accounts, 4 per request

    usage = await _usage_by_name(gql, setup.owner, setup.project)
    names = [a.name for a in setup.accounts]
    # 270 micro-dollars over 4 accounts: 68, 68, 67, 67 (the remainder to the first in id order); units alike
    assert [(_decimal(usage[n]), usage[n]["calls"]) for n in names] == [
        (Decimal("0.000068"), 1), (Decimal("0.000068"), 1), (Decimal("0.000067"), 1), (Decimal("0.000067"), 1),
        (Decimal("0.00009"), 1), (Decimal("0.00009"), 1), (Decimal("0.00009"), 1)]
    assert [(usage[n]["byModel"][0]["inputUnits"], usage[n]["byModel"][0]["outputUnits"]) for n in names] == [
        (250, 50)] * 4 + [(334, 67), (333, 67), (333, 66)]
    assert {(m["provider"], m["model"], m["calls"]) for n in names for m in usage[n]["byModel"]} == {
        ("openai-compatible", "gpt-4o-mini", 1)}
    assert sum(_decimal(usage[n]) for n in names) == 2 * CALL  # the shares add up to the calls, exactly

    # the campaign's usage counts each call once, whatever the number of accounts sharing it
    campaign = data_of(await gql(CAMPAIGN_USAGE, {"id": setup.gid}, as_=setup.owner))["node"]["costs"]["apiUsage"]
    assert campaign["calls"] == 2 and Decimal(campaign["costUsd"]) == 2 * CALL
    assert [(m["calls"], m["inputUnits"], m["outputUnits"]) for m in campaign["byModel"]] == [(2, 2000, 400)]


async def test_a_re_ask_is_paid_by_the_accounts_it_asks_about(
    gql: Any, setup: Setup, jobs: Any, openai_server: FakeOpenAI
) -> None:
    unlucky = setup.accounts[1]
    openai_server.enqueue(scores(omit={unlucky.id}))  # the first answer forgets one account: it is asked again
    await score(gql, setup)
    await jobs()
    assert [r.account_ids for r in openai_server.requests] == [
        [a.id for a in setup.accounts[:4]], [unlucky.id], [a.id for a in setup.accounts[4:]]]

    usage = await _usage_by_name(gql, setup.owner, setup.project)
    assert usage[unlucky.name] == _one_model("0.000338", 2, 250 + 1000, 50 + 200)  # its share + the whole re-ask
    assert usage[setup.accounts[0].name] == _one_model("0.000068", 1, 250, 50)
    assert sum(_decimal(u) for u in usage.values()) == 3 * CALL
    campaign = data_of(await gql(CAMPAIGN_USAGE, {"id": setup.gid}, as_=setup.owner))["node"]["costs"]["apiUsage"]
    assert campaign["calls"] == 3


async def test_replies_read_together_for_signals_share_the_call(
    gql: Any, setup: Setup, openai_server: FakeOpenAI
) -> None:
    first, second = setup.accounts[:2]
    rows = {r.account_id: r for r in await models.CampaignAccount.filter(campaign_id=setup.campaign.id)}
    messages = [await models.Message.create(
        project=setup.project, campaign_account=rows[account.id], direction=Direction.INBOUND,
        channel=Channel.EMAIL, status=MessageStatus.SENT, mode=MessageMode.PASTE_INBOUND,
        original_text=f"{account.name}: call me in May", sent_at=datetime.now(UTC)) for account in (first, second)]
    openai_server.enqueue(answer({"conversations": []}))
    assert sorted(await signal_proposals.propose([m.id for m in messages])) == sorted(m.id for m in messages)
    assert len(openai_server.requests) == 1  # one call read both replies

    assert await _account_usage(gql, setup.owner, first.id) == {
        "costUsd": "0.000135", "calls": 1, "byModel": [{"model": "gpt-4o-mini", "calls": 1, "costUsd": "0.000135"}]}
    assert await _account_usage(gql, setup.owner, second.id) == await _account_usage(gql, setup.owner, first.id)
    assert await _account_usage(gql, setup.owner, setup.accounts[2].id) == {"costUsd": "0", "calls": 0,
                                                                           "byModel": []}
    call = await models.ApiUsage.get(operation=UsageOperation.SIGNALS)
    assert call.account_id is None and call.cost_usd == CALL  # about two accounts: no single account on the call


async def _record(project: models.Project, campaign: models.Campaign | None, cost: str, account_ids: list[int],
                  model: str = "gpt-4o-mini") -> None:
    await api_usage.record(project.id, campaign.id if campaign else None, [api_usage.PaidCall(
        "openai", model, UsageOperation.SCORE, 1000, 200, Decimal(cost), account_ids=account_ids)])


async def test_a_page_of_accounts_reads_its_usage_in_bounded_statements(
    gql: Any, setup: Setup, count_queries: Any, make_project: Any
) -> None:
    small = await make_project(setup.owner, "Small")
    for project, n in ((small, 3), (setup.project, 30)):
        accounts = [await models.Account.create(project=project, name=f"Bulk {n} {i}") for i in range(n)]
        for i, account in enumerate(accounts):
            await _record(project, None, "0.000010", [account.id, accounts[i - 1].id])
            await _record(project, None, "0.002000", [account.id], model="gpt-4o")

    await warm_up(gql, setup.owner)
    with count_queries() as few:
        small_usage = await _usage_by_name(gql, setup.owner, small)
    with count_queries() as many:
        big_usage = await _usage_by_name(gql, setup.owner, setup.project)
    assert len(small_usage) == 3 and len(big_usage) == 30 + len(setup.accounts)
    usage = big_usage["Bulk 30 0"]
    assert (usage["calls"], _decimal(usage)) == (3, Decimal("0.00201"))  # its two shared calls and its own
    assert [(m["model"], m["calls"], Decimal(m["costUsd"])) for m in usage["byModel"]] == [
        ("gpt-4o", 1, Decimal("0.002")), ("gpt-4o-mini", 2, Decimal("0.00001"))]
    assert many.selects == few.selects
    assert many.selects <= 3  # the project, the page, and one grouped statement for every account's usage


async def test_another_projects_accounts_get_no_share(gql: Any, setup: Setup, make_user: Any, make_project: Any
                                                      ) -> None:
    stranger = await make_user("stranger@example.com")
    theirs = await make_project(stranger, "Theirs")
    their_account = await models.Account.create(project=theirs, name="Theirs Co")
    mine = setup.accounts[0]
    await _record(setup.project, setup.campaign, "0.000300", [mine.id, their_account.id])
    # a call of this project cannot be attributed to an account of another: the project's account pays it all
    assert await _account_usage(gql, setup.owner, mine.id) == {
        "costUsd": "0.000300", "calls": 1, "byModel": [{"model": "gpt-4o-mini", "calls": 1, "costUsd": "0.000300"}]}
    assert await _account_usage(gql, stranger, their_account.id) == {"costUsd": "0", "calls": 0, "byModel": []}
    assert await _account_usage(gql, stranger, mine.id) is None  # and theirs cannot read it
    assert not await models.ApiUsageShare.filter(account_id=their_account.id).exists()


async def test_erasing_an_account_drops_its_shares_and_keeps_the_calls(gql: Any, setup: Setup) -> None:
    gone, kept = setup.accounts[:2]
    await _record(setup.project, setup.campaign, "0.000300", [gone.id, kept.id])
    await _record(setup.project, setup.campaign, "0.000100", [gone.id])
    result = data_of(await gql(DELETE_ACCOUNTS, {"input": {"accountIds": [global_id("Account", gone.id)]}},
                               as_=setup.owner))["deleteAccounts"]
    assert result["errors"] == []
    assert not await models.ApiUsageShare.filter(account_id=gone.id).exists()
    assert not await models.ApiUsage.filter(account_id=gone.id).exists()
    assert await _account_usage(gql, setup.owner, kept.id) == {
        "costUsd": "0.000150", "calls": 1, "byModel": [{"model": "gpt-4o-mini", "calls": 1, "costUsd": "0.000150"}]}
    campaign = data_of(await gql(CAMPAIGN_USAGE, {"id": setup.gid}, as_=setup.owner))["node"]["costs"]["apiUsage"]
    assert campaign["calls"] == 2 and Decimal(campaign["costUsd"]) == Decimal("0.0004")  # the cost stays


async def test_merging_accounts_adds_up_their_shares(gql: Any, setup: Setup) -> None:
    target, source = setup.accounts[:2]
    await _record(setup.project, setup.campaign, "0.000300", [target.id, source.id, setup.accounts[2].id])
    await _record(setup.project, setup.campaign, "0.000100", [source.id])
    result = data_of(await gql(MERGE, {"input": {"targetId": global_id("Account", target.id),
                                                 "sourceIds": [global_id("Account", source.id)]}},
                               as_=setup.owner))["mergeAccounts"]
    assert result["errors"] == []
    # the call both shared counts once for the target, with both shares; the source's own call moves whole
    assert result["account"]["apiUsage"] == {"costUsd": "0.000300", "calls": 2, "byModel": [
        {"model": "gpt-4o-mini", "calls": 2, "inputUnits": 334 + 333 + 1000, "costUsd": "0.000300"}]}
    assert await models.ApiUsageShare.filter(account_id=target.id).count() == 2
