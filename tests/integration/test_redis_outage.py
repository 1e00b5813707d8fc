"""Redis down under a distributed API server (PostgreSQL + a private ``redis-server`` that the test stops):
what does not need Redis keeps answering, and what committed is answered as done.

* Authenticated queries answer 200 with their data (the token's "last used" touch is skipped, logged);
  ``/readyz`` still says 503.
* A mutation answers its result (its live event is lost, logged).
* ``scoreCampaign`` answers the run as started: the run and its pending items are committed, and they, not
  the lost job messages, are what gets enqueued again later.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.conftest import child_env, pg_fetch, run_cli, running_server
from tests.integration.redis_server import RedisServer

pytestmark = pytest.mark.integration

PROJECT = "query { viewer { email } projects(first: 5) { edges { node { id name } } } }"
CREATE_PRODUCT = """
mutation($input: CreateProductInput!) { createProduct(input: $input) { product { id } errors { code message } } }
"""
BULK = """
mutation($input: BulkCreateAccountsInput!) {
  bulkCreateAccounts(input: $input) { createdCount results { account { id } } errors { message } }
}
"""
CREATE_CAMPAIGN = """
mutation($input: CreateCampaignInput!) { createCampaign(input: $input) { campaign { id } errors { message } } }
"""
ADD = """
mutation($input: AddAccountsToCampaignInput!) { addAccountsToCampaign(input: $input) { added errors { message } } }
"""
CREATE_ACCOUNT = """
mutation($input: CreateAccountInput!) { createAccount(input: $input) { created account { name } errors { message } } }
"""
SCORE = """
mutation($input: ScoreCampaignInput!) {
  scoreCampaign(input: $input) { started run { status total done } errors { code field message } }
}
"""
ACCOUNTS = 7


def _ok(result: Any) -> str:
    assert result.returncode == 0, f"exit {result.returncode}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    return str(result.stdout)


def _gql(server: Any, token: str, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    response = httpx.post(server.url, json={"query": query, "variables": variables or {}},
                          headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert response.status_code == 200, response.text
    body = response.json()
    assert not body.get("errors"), body
    return dict(body["data"])


def _campaign(server: Any, token: str) -> str:
    """A product, 7 accounts and a campaign holding them (made while Redis is up); the campaign's id."""
    project_id = _gql(server, token, PROJECT)["projects"]["edges"][0]["node"]["id"]
    product = _gql(server, token, CREATE_PRODUCT, {"input": {
        "projectId": project_id, "name": "Warehouse OS", "description": "Software for warehouses"}})
    product_id = product["createProduct"]["product"]["id"]
    accounts = _gql(server, token, BULK, {"input": {"projectId": project_id, "accounts": [
        {"name": f"Company {i}", "industry": "Logistics", "country": "ES", "employeeCount": 200}
        for i in range(ACCOUNTS)]}})["bulkCreateAccounts"]
    assert accounts["createdCount"] == ACCOUNTS, accounts
    campaign = _gql(server, token, CREATE_CAMPAIGN, {"input": {
        "projectId": project_id, "productId": product_id, "name": "Spring"}})["createCampaign"]["campaign"]
    added = _gql(server, token, ADD, {"input": {
        "campaignId": campaign["id"], "accountIds": [r["account"]["id"] for r in accounts["results"]]}})
    assert added["addAccountsToCampaign"]["added"] == ACCOUNTS, added
    return str(campaign["id"])


async def test_with_redis_down_the_api_serves_what_does_not_need_it(tmp_path: Path, empty_pg_url: str) -> None:
    with RedisServer.started(tmp_path / "redis") as redis_server:
        env = child_env(OUTBOUNDQL_DATABASE_URL=empty_pg_url, OUTBOUNDQL_REDIS_URL=redis_server.url,
                        OUTBOUNDQL_SCORER="rubric")
        _ok(run_cli("migrate", cwd=tmp_path, env=env))
        _ok(run_cli("create-user", "--email", "ops@example.com", "--name", "Ops", cwd=tmp_path, env=env))
        _ok(run_cli("create-project", "--name", "Outage", "--owner", "ops@example.com", cwd=tmp_path, env=env))
        token = _ok(run_cli("create-token", "--email", "ops@example.com", cwd=tmp_path, env=env)).strip()
        with running_server(cwd=tmp_path, env=env) as server:
            campaign_id = _campaign(server, token)
            assert httpx.get(f"{server.base}/readyz", timeout=30).status_code == 200

            redis_server.stop()

            for _ in range(3):  # each request tries the touch again, and answers all the same
                data = _gql(server, token, PROJECT)
                assert data == {"viewer": {"email": "ops@example.com"},
                                "projects": {"edges": [{"node": {"id": data["projects"]["edges"][0]["node"]["id"],
                                                                 "name": "Outage"}}]}}
            ready = httpx.get(f"{server.base}/readyz", timeout=30)
            assert ready.status_code == 503
            assert ready.json()["checks"]["database"] == "ok"
            assert ready.json()["checks"]["broker"].startswith("error: ")

            project_id = _gql(server, token, PROJECT)["projects"]["edges"][0]["node"]["id"]
            created = _gql(server, token, CREATE_ACCOUNT, {"input": {"projectId": project_id, "name": "Late Co"}})
            assert created["createAccount"] == {"created": True, "account": {"name": "Late Co"}, "errors": []}

            started = _gql(server, token, SCORE, {"input": {"campaignId": campaign_id}})["scoreCampaign"]
            assert started == {"started": True, "run": {"status": "RUNNING", "total": ACCOUNTS, "done": 0},
                               "errors": []}
            rows = await pg_fetch(empty_pg_url, "SELECT r.status, COUNT(i.id) AS pending FROM scoring_run r "
                                  "JOIN scoring_run_item i ON i.run_id = r.id AND i.state = 'pending' GROUP BY r.id")
            assert [(r["status"], r["pending"]) for r in rows] == [("running", ACCOUNTS)]

            touched = await pg_fetch(empty_pg_url, "SELECT last_used_at FROM api_token")
            assert [r["last_used_at"] for r in touched] == [None]  # no worker ran, and the touches were lost
            output = server.child.output
        assert "last-used time was not recorded" in output, output
        assert "were not enqueued" in output, output
        assert "Exception in ASGI application" not in output, output
