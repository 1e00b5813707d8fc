"""Scoring in distributed mode: an API server and separate ``outboundql worker`` processes on
PostgreSQL + Redis.

* The progress a worker process makes reaches a websocket subscriber of the API server.
* A worker killed (SIGKILL) mid-run, its queue lost as well, and restarted finishes the run from
  the database with exactly one FitScore per account: none missing, none duplicated, counters exact.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path
from typing import Any

import pytest
from gql.transport.exceptions import TransportError
from gql.transport.httpx import HTTPXAsyncTransport
from gql.transport.websockets import WebsocketsTransport

from gql import Client, GraphQLRequest
from tests.integration.conftest import child_env, pg_fetch, run_cli, running_server, running_worker
from tests.integration.process_tree import kill_tree

pytestmark = pytest.mark.integration

DEADLINE = 120.0

PROJECTS = "query { projects(first: 1) { edges { node { id } } } }"
CREATE_PRODUCT = """mutation($input: CreateProductInput!) {
  createProduct(input: $input) { product { id } errors { message } } }"""
CREATE_CAMPAIGN = """mutation($input: CreateCampaignInput!) {
  createCampaign(input: $input) { campaign { id } errors { message } } }"""
BULK = """mutation($input: BulkCreateAccountsInput!) {
  bulkCreateAccounts(input: $input) { results { account { id } } errors { message } } }"""
ADD = """mutation($input: AddAccountsToCampaignInput!) {
  addAccountsToCampaign(input: $input) { added errors { message } } }"""
SCORE = """mutation($input: ScoreCampaignInput!) {
  scoreCampaign(input: $input) { started run { total } errors { message } } }"""
PROGRESS = """subscription($id: ID!) { campaignScoringProgress(campaignId: $id) { status done total failed } }"""

INDUSTRIES = ["Software", "Logistics", "Food", "Healthcare", "Retail", "Manufacturing"]
COUNTRIES = ["ES", "FR", "DE", "US", "GB"]


def _ok(result: Any) -> str:
    assert result.returncode == 0, f"exit {result.returncode}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    return str(result.stdout)


def _http(url: str, token: str) -> Client:
    return Client(transport=HTTPXAsyncTransport(url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60))



def _env(tmp_path: Path, pg_url: str, redis_url: str, batch_size: int) -> tuple[dict[str, str], str]:
    env = child_env(OUTBOUNDQL_DATABASE_URL=pg_url, OUTBOUNDQL_REDIS_URL=redis_url,
                    OUTBOUNDQL_SCORING_BATCH_SIZE=str(batch_size))
    _ok(run_cli("migrate", cwd=tmp_path, env=env))
    _ok(run_cli("create-user", "--email", "ops@example.com", "--name", "Ops", cwd=tmp_path, env=env))
    _ok(run_cli("create-project", "--name", "Scoring", "--owner", "ops@example.com", cwd=tmp_path, env=env))
    return env, _ok(run_cli("create-token", "--email", "ops@example.com", cwd=tmp_path, env=env)).strip()


async def _campaign_with_accounts(url: str, token: str, count: int) -> str:
    """A product, ``count`` varied accounts (through bulkCreateAccounts) and a campaign holding them."""
    async with _http(url, token) as s:
        project = (await s.execute(GraphQLRequest(PROJECTS)))["projects"]["edges"][0]["node"]["id"]
        product = (await s.execute(GraphQLRequest(CREATE_PRODUCT, variable_values={"input": {
            "projectId": project, "name": "Warehouse OS",
            "description": "Software that runs warehouses for logistics teams"}})))["createProduct"]["product"]["id"]
        campaign = (await s.execute(GraphQLRequest(CREATE_CAMPAIGN, variable_values={"input": {
            "projectId": project, "productId": product, "name": "Spring"}})))["createCampaign"]["campaign"]["id"]
        ids: list[str] = []
        for start in range(0, count, 1000):
            accounts = [{"name": f"Company {i}", "domain": f"company-{i}.example",
                         "industry": INDUSTRIES[i % len(INDUSTRIES)], "country": COUNTRIES[i % len(COUNTRIES)],
                         "employeeCount": 10 + (i * 37) % 2000, "description": f"Warehouse software {i % 7}"}
                        for i in range(start, min(count, start + 1000))]
            result = (await s.execute(GraphQLRequest(BULK, variable_values={"input": {
                "projectId": project, "accounts": accounts}})))["bulkCreateAccounts"]
            assert result["errors"] == [], result["errors"]
            ids += [r["account"]["id"] for r in result["results"]]
        added = (await s.execute(GraphQLRequest(ADD, variable_values={"input": {
            "campaignId": campaign, "accountIds": ids}})))["addAccountsToCampaign"]
        assert added == {"added": count, "errors": []}
    return campaign


async def _score(url: str, token: str, campaign: str) -> int:
    async with _http(url, token) as s:
        result = (await s.execute(GraphQLRequest(SCORE, variable_values={"input": {"campaignId": campaign}})))
    assert result["scoreCampaign"]["errors"] == [] and result["scoreCampaign"]["started"], result
    return int(result["scoreCampaign"]["run"]["total"])


async def _assert_exactly_one_score_per_account(pg_url: str, count: int) -> None:
    rows = await pg_fetch(pg_url, "SELECT COUNT(*) AS n, COUNT(DISTINCT account_id) AS d FROM fit_score")
    assert (rows[0]["n"], rows[0]["d"]) == (count, count)
    rows = await pg_fetch(pg_url, "SELECT status, done, failed, total FROM scoring_run")
    assert [tuple(r) for r in rows] == [("completed", count, 0, count)]
    rows = await pg_fetch(pg_url, "SELECT state, COUNT(*) AS n FROM scoring_run_item GROUP BY state")
    assert [tuple(r) for r in rows] == [("done", count)]
    rows = await pg_fetch(pg_url, "SELECT scoring_status, scoring_done, scoring_total, scored_accounts, total_accounts "
                             "FROM campaign")
    assert [tuple(r) for r in rows] == [("completed", count, count, count, count)]


async def test_a_websocket_subscriber_sees_the_progress_a_worker_process_makes(
    tmp_path: Path, empty_pg_url: str, private_redis_url: str,
) -> None:
    count = 600
    env, token = _env(tmp_path, empty_pg_url, private_redis_url, batch_size=100)
    with running_server(cwd=tmp_path, env=env) as server, \
            running_worker("--processes", "1", "--threads", "2", cwd=tmp_path, env=env) as worker:
        campaign = await _campaign_with_accounts(server.url, token, count)
        ws = WebsocketsTransport(url=server.ws_url, subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
                                 init_payload={"Authorization": f"Bearer {token}"}, connect_timeout=20,
                                 ack_timeout=20)
        seen: list[dict[str, Any]] = []
        async with Client(transport=ws) as ws_session:

            async def listen() -> None:
                async for result in ws_session.subscribe(GraphQLRequest(PROGRESS, variable_values={"id": campaign})):
                    seen.append(result["campaignScoringProgress"])
                    if seen[-1]["status"] != "RUNNING":
                        return

            listener = asyncio.create_task(listen())
            try:
                await asyncio.sleep(1.0)  # the server subscribes to Redis once the websocket operation starts
                assert await _score(server.url, token, campaign) == count
                await asyncio.wait_for(listener, timeout=DEADLINE)
            finally:
                listener.cancel()
                with contextlib.suppress(asyncio.CancelledError, TransportError):
                    await listener
        assert "Traceback" not in worker.output, worker.output
    assert seen[-1] == {"status": "COMPLETED", "done": count, "total": count, "failed": 0}
    done = [event["done"] for event in seen]
    assert done == sorted(done) and len(set(done)) >= 3, seen  # several batches reported as they happened
    await _assert_exactly_one_score_per_account(empty_pg_url, count)


async def test_a_worker_killed_mid_run_and_restarted_finishes_with_one_score_per_account(
    tmp_path: Path, empty_pg_url: str, private_redis_url: str,
) -> None:
    count = 3000
    env, token = _env(tmp_path, empty_pg_url, private_redis_url, batch_size=10)
    with running_server(cwd=tmp_path, env=env) as server:
        campaign = await _campaign_with_accounts(server.url, token, count)
        with running_worker("--processes", "1", "--threads", "4", cwd=tmp_path, env=env) as first:
            await asyncio.sleep(3.0)  # booted (and found nothing to resume) before the run starts
            assert await _score(server.url, token, campaign) == count
            end = time.monotonic() + DEADLINE
            while True:
                done = (await pg_fetch(empty_pg_url, "SELECT done FROM scoring_run"))[0]["done"]
                if done > 0:
                    break
                assert time.monotonic() < end, f"the first worker made no progress:\n{first.output}"
                await asyncio.sleep(0.02)
            kill_tree(first)  # every process of it, mid-run: no chance to clean up
        at_kill = (await pg_fetch(empty_pg_url, "SELECT done, status FROM scoring_run"))[0]
        assert at_kill["status"] == "running" and 0 < at_kill["done"] < count, dict(at_kill)
        # Lose every queued and in-flight message too: only the database can say what is left to do.
        import redis

        client = redis.Redis.from_url(private_redis_url)
        client.flushdb()
        client.close()

        with running_worker("--processes", "1", "--threads", "4", cwd=tmp_path, env=env) as second:
            end = time.monotonic() + DEADLINE
            while (await pg_fetch(empty_pg_url, "SELECT status FROM scoring_run"))[0]["status"] == "running":
                assert time.monotonic() < end, f"the restarted worker did not finish the run:\n{second.output}"
                await asyncio.sleep(0.2)
        assert "Traceback" not in second.output, second.output
    await _assert_exactly_one_score_per_account(empty_pg_url, count)
