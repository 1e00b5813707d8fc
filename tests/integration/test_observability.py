"""Metrics, logs and request ids across real processes: ``outboundql serve --workers 2`` and ``outboundql worker
--processes 2`` on PostgreSQL + Redis.

* The request id of a request (the client's ``X-Request-ID``) comes back in the response and is on the log lines
  of the worker processes that ran the jobs the request enqueued, with the run they belong to.
* Logs are JSON lines when not on a terminal, and every one parses.
* ``/metrics`` of the API sums both API processes; the worker's metrics port sums both worker processes.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.conftest import Child, free_port, pg_fetch, running_server, running_worker
from tests.integration.test_scoring_workers import SCORE, _campaign_with_accounts, _env

pytestmark = pytest.mark.integration

DEADLINE = 120.0
ACCOUNTS, BATCH = 30, 10
PINGS = 40


def _json_lines(child: Child) -> list[dict[str, Any]]:
    """Every structured line of the child's output; each must parse."""
    return [json.loads(line) for line in child.lines if line.startswith("{")]


def _sample(exposition: str, name: str, **labels: str) -> float:
    """The value of one sample of a Prometheus text exposition (0 when absent)."""
    for line in exposition.splitlines():
        match = re.match(rf"^{re.escape(name)}(?:\{{(.*)\}})? (\S+)$", line)
        if match and dict(re.findall(r'(\w+)="([^"]*)"', match[1] or "")) == labels:
            return float(match[2])
    return 0.0


async def _until(check: Any, what: str, *children: Child) -> Any:
    end = time.monotonic() + DEADLINE
    while not (found := await check()):
        assert time.monotonic() < end, f"{what} did not happen:\n" + "\n".join(c.output for c in children)
        await asyncio.sleep(0.2)
    return found


async def test_request_ids_logs_and_metrics_across_api_and_worker_processes(
    tmp_path: Path, empty_pg_url: str, private_redis_url: str,
) -> None:
    env, token = _env(tmp_path, empty_pg_url, private_redis_url, batch_size=BATCH)
    metrics_port = free_port()
    with running_server("--workers", "2", cwd=tmp_path, env=env) as server, \
            running_worker("--processes", "2", "--threads", "2", "--metrics-port", str(metrics_port),
                           cwd=tmp_path, env=env) as worker:
        campaign = await _campaign_with_accounts(server.url, token, ACCOUNTS)
        request_id = f"it-{secrets.token_hex(8)}"
        async with httpx.AsyncClient(timeout=60) as client:
            scored = await client.post(server.url, json={"query": SCORE, "variables": {"input": {
                "campaignId": campaign}}}, headers={"Authorization": f"Bearer {token}", "X-Request-ID": request_id})
            assert scored.headers["X-Request-ID"] == request_id
            assert scored.json()["data"]["scoreCampaign"]["started"], scored.text
            fresh = await client.post(server.url, json={"query": "{ __typename }"},
                                      headers={"X-Request-ID": "not a valid id; " + "x" * 200})
            assert re.fullmatch(r"[0-9a-f]{32}", fresh.headers["X-Request-ID"])  # replaced, not echoed

            async def completed() -> bool:
                rows = await pg_fetch(empty_pg_url, "SELECT status FROM scoring_run")
                return [r["status"] for r in rows] == ["completed"]

            await _until(completed, "the scoring run's completion", worker)
            run_id = (await pg_fetch(empty_pg_url, "SELECT id FROM scoring_run"))[0]["id"]

            pings = [client.post(server.url, json={"query": "query Ping { __typename }", "operationName": "Ping"})
                     for _ in range(PINGS)]
            assert {r.status_code for r in await asyncio.gather(*pings)} == {200}
            api_metrics = (await client.get(f"{server.base}/metrics")).text

            async def worker_metrics() -> str | None:
                text = (await client.get(f"http://127.0.0.1:{metrics_port}/metrics")).text
                return text if _sample(text, "outboundql_accounts_scored_total") == ACCOUNTS else None

            jobs_metrics = await _until(worker_metrics, "the worker metrics' sum", worker)

        def finished_jobs() -> list[dict[str, Any]]:
            return [e for e in _json_lines(worker) if e.get("request_id") == request_id
                    and e["event"] == "job finished"]

        await _until(lambda: asyncio.sleep(0, result=len([e for e in finished_jobs() if e["actor"] == "score_batch"])
                                             >= ACCOUNTS // BATCH),
                     "the jobs' log lines", worker)
        api_events = _json_lines(server.child)

    # The id of the request is on the lines of the jobs it enqueued, with the run and the batch they worked on.
    # (The request may also have recorded its token's use, when the touch of an earlier request had not run yet.)
    finished = finished_jobs()
    assert {e["actor"] for e in finished} <= {"score_batch", "touch_api_token"}, finished
    jobs = [e for e in finished if e["actor"] == "score_batch"]
    assert {e["run_id"] for e in jobs} == {run_id}, jobs
    assert len({e["batch"] for e in jobs}) == ACCOUNTS // BATCH, jobs
    assert len({e["pid"] for e in _json_lines(worker) if e.get("event") == "job started"}) >= 1
    assert any(e["event"] == "scoring run ended" and e["scoring_run_id"] == run_id for e in _json_lines(worker))
    started = [e for e in api_events if e["event"] == "scoring run started"]
    assert [(e["request_id"], e["scoring_run_id"]) for e in started] == [(request_id, run_id)]
    requests = [e for e in api_events if e["event"] == "request" and e.get("request_id") == request_id]
    assert [(e["method"], e["path"], e["status"]) for e in requests] == [("POST", "/graphql", 200)]
    assert len({e["pid"] for e in api_events if e["event"] == "request"}) >= 1
    assert all(e["level"] in ("debug", "info", "warning", "error", "critical") for e in api_events)

    # One scrape of either API process counts the operations both answered; errors by code; pool use.
    assert _sample(api_metrics, "outboundql_graphql_requests_total", operation="Ping", outcome="ok",
                   type="query") == PINGS
    assert _sample(api_metrics, "outboundql_graphql_requests_total", operation="anonymous", outcome="ok",
                   type="mutation") >= 1
    assert _sample(api_metrics, "outboundql_graphql_request_duration_seconds_count", operation="Ping",
                   type="query") == PINGS
    assert _sample(api_metrics, "outboundql_db_pool_connections", state="max") > 0
    # The worker port sums its processes: every account scored once, whichever process scored it.
    assert _sample(jobs_metrics, "outboundql_jobs_total", actor="score_batch", outcome="done") >= ACCOUNTS // BATCH
    assert _sample(jobs_metrics, "outboundql_job_duration_seconds_count", actor="score_batch") >= ACCOUNTS // BATCH
