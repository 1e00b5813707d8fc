"""Fault tests of scoring on PostgreSQL + Redis (the reliability suite), each mid-run:

* a worker process killed with SIGKILL under a supervised ``outboundql worker --processes 2``: it is
  replaced, the other one never stops;
* Redis stopped and restarted empty (a private ``redis-server``): the queued batches are lost, and the
  workers' periodic check enqueues them again from the database, with no worker restarted;
* the API process killed and started again: the workers carry on and the new process serves the run.

Each ends with the run completed, exact counters (done == total, one FitScore per account, the
campaign's ``scoredAccounts``), nothing duplicated, and the API answering a query that needs no Redis
throughout (except while it is itself restarted). A few hundred accounts in batches of three keep each
run a few seconds long; every wait has a deadline and every process started is stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.conftest import Child, Server, pg_fetch, running_server, running_worker
from tests.integration.process_tree import alive, ready, started, wait_ready
from tests.integration.redis_server import RedisServer
from tests.integration.test_scoring_workers import (
    _assert_exactly_one_score_per_account,
    _campaign_with_accounts,
    _env,
    _score,
)

pytestmark = pytest.mark.integration

COUNT = 300
BATCH = 3  # 100 job messages: a run of a few seconds
DEADLINE = 90.0  # seconds; bounds every wait, never asserted as a speed
NEEDS_NO_REDIS = "query { viewer { email } projects(first: 1) { edges { node { id } } } }"
PROGRESS = """query($id: ID!) { node(id: $id) { ... on Campaign { scoringStatus scoringProgress { done total } } } }"""


@contextlib.asynccontextmanager
async def answering(server: Server, token: str) -> AsyncIterator[list[str]]:
    """Ask ``server`` a query that needs no Redis every 0.1 s while the block runs; after it, every
    answer must have been a 200 with data (the list yielded collects the failures)."""
    failures: list[str] = []
    answers = 0

    async def ask() -> None:
        nonlocal answers
        async with httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
            while True:
                try:
                    response = await client.post(server.url, json={"query": NEEDS_NO_REDIS})
                    body = response.json()
                    if response.status_code != 200 or body.get("errors") or not body["data"]["viewer"]:
                        failures.append(f"{response.status_code}: {response.text[:500]}")
                except (httpx.HTTPError, ValueError) as exc:
                    failures.append(f"{type(exc).__name__}: {exc}")
                answers += 1
                await asyncio.sleep(0.1)

    task = asyncio.create_task(ask())
    try:
        yield failures
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert failures == [], failures[:5]
    assert answers >= 3


async def _run(pg_url: str) -> dict[str, Any]:
    rows = await pg_fetch(pg_url, "SELECT status, done, total FROM scoring_run")
    assert len(rows) == 1, rows
    return dict(rows[0])


async def _mid_run(pg_url: str, *watched: Child) -> int:
    """Wait until the run has scored something; it must not be over yet. Its done count."""
    end = time.monotonic() + DEADLINE
    while (run := await _run(pg_url))["done"] == 0:
        assert time.monotonic() < end, "no progress:\n" + "\n".join(c.output for c in watched)
        await asyncio.sleep(0.02)
    assert run["status"] == "running" and run["done"] < run["total"], run
    return int(run["done"])


async def _completed(pg_url: str, *watched: Child) -> None:
    end = time.monotonic() + DEADLINE
    while (run := await _run(pg_url))["status"] == "running":
        assert time.monotonic() < end, f"the run stalled at {run}:\n" + "\n".join(c.output for c in watched)
        await asyncio.sleep(0.1)
    assert run["status"] == "completed", run


async def test_a_worker_process_killed_mid_run_is_replaced_and_the_other_keeps_scoring(
    tmp_path: Path, empty_pg_url: str, private_redis_url: str,
) -> None:
    env, token = _env(tmp_path, empty_pg_url, private_redis_url, batch_size=BATCH)
    with running_server(cwd=tmp_path, env=env) as server, \
            running_worker("--processes", "2", "--threads", "1", cwd=tmp_path, env=env) as worker:
        campaign = await _campaign_with_accounts(server.url, token, COUNT)
        victim, survivor = await asyncio.to_thread(wait_ready, worker, 2, DEADLINE)
        async with answering(server, token):
            assert await _score(server.url, token, campaign) == COUNT
            await _mid_run(empty_pg_url, worker)
            os.kill(victim, signal.SIGKILL)
            replacement = (await asyncio.to_thread(wait_ready, worker, 3, DEADLINE))[2]
            await _completed(empty_pg_url, worker)
        assert not alive(victim) and alive(survivor) and alive(replacement), worker.output
        assert len(started(worker)) == 3 and worker.proc.poll() is None, worker.output  # one replacement
        assert "exited unexpectedly (code 1); starting another." in worker.output  # its dramatiq process's code
    assert worker.proc.returncode == 0, worker.output  # SIGTERM stopped every child cleanly
    await _assert_exactly_one_score_per_account(empty_pg_url, COUNT)


async def test_redis_restarted_empty_mid_run_the_run_completes_by_itself_with_no_worker_restarted(
    tmp_path: Path, empty_pg_url: str,
) -> None:
    with RedisServer.started(tmp_path / "redis") as redis_server:
        env, token = _env(tmp_path, empty_pg_url, redis_server.url, batch_size=BATCH)
        env["OUTBOUNDQL_SCORING_RESUME_INTERVAL_SECONDS"] = "0.5"  # a run with no progress for 1 s is stalled
        with running_server(cwd=tmp_path, env=env) as server, \
                running_worker("--processes", "2", "--threads", "1", cwd=tmp_path, env=env) as worker:
            campaign = await _campaign_with_accounts(server.url, token, COUNT)
            workers = await asyncio.to_thread(wait_ready, worker, 2, DEADLINE)
            async with answering(server, token):
                assert await _score(server.url, token, campaign) == COUNT
                await _mid_run(empty_pg_url, worker)
                redis_server.stop()
                assert httpx.get(f"{server.base}/readyz", timeout=30).status_code == 503  # truly needs Redis
                # Down long enough for a periodic check to fail (and be tried again), then back, empty.
                await asyncio.to_thread(_wait_for_line, worker, "Stalled scoring runs could not be enqueued again")
                at_outage = await _run(empty_pg_url)
                redis_server.start()
                await _completed(empty_pg_url, worker)
            assert at_outage["status"] == "running" and at_outage["done"] < COUNT, at_outage
            assert "no progress for a while" in worker.output  # healed by the periodic check
            assert ready(worker) == workers and len(started(worker)) == 2, worker.output  # no worker restarted
            assert httpx.get(f"{server.base}/readyz", timeout=30).status_code == 200
    await _assert_exactly_one_score_per_account(empty_pg_url, COUNT)


async def test_the_api_process_killed_mid_run_and_started_again_serves_the_run_to_its_end(
    tmp_path: Path, empty_pg_url: str, private_redis_url: str,
) -> None:
    env, token = _env(tmp_path, empty_pg_url, private_redis_url, batch_size=BATCH)
    with running_worker("--processes", "2", "--threads", "1", cwd=tmp_path, env=env) as worker:
        with running_server(cwd=tmp_path, env=env) as first:
            campaign = await _campaign_with_accounts(first.url, token, COUNT)
            workers = await asyncio.to_thread(wait_ready, worker, 2, DEADLINE)
            assert await _score(first.url, token, campaign) == COUNT
            await _mid_run(empty_pg_url, worker)
            try:
                for pid in workers:  # frozen, so the run is still mid-run when the new API answers
                    os.kill(pid, signal.SIGSTOP)
                os.killpg(first.child.proc.pid, signal.SIGKILL)
                first.child.proc.wait(timeout=30)
                with running_server(cwd=tmp_path, env=env) as second:
                    frozen = await _run(empty_pg_url)
                    assert frozen["status"] == "running" and frozen["done"] < COUNT, frozen
                    async with answering(second, token):
                        assert await _progress(second, token, campaign) == ("RUNNING", frozen["done"], COUNT)
                        for pid in workers:
                            os.kill(pid, signal.SIGCONT)
                        await _completed(empty_pg_url, worker, second.child)
                        assert await _progress(second, token, campaign) == ("COMPLETED", COUNT, COUNT)
            finally:
                for pid in workers:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGCONT)
        assert ready(worker) == workers and len(started(worker)) == 2, worker.output  # the workers carried on
    await _assert_exactly_one_score_per_account(empty_pg_url, COUNT)


async def _progress(server: Server, token: str, campaign: str) -> tuple[str, int, int]:
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
        response = await client.post(server.url, json={"query": PROGRESS, "variables": {"id": campaign}})
    node = response.json()["data"]["node"]
    return node["scoringStatus"], node["scoringProgress"]["done"], node["scoringProgress"]["total"]


def _wait_for_line(child: Child, text: str) -> None:
    end = time.monotonic() + DEADLINE
    while not any(text in line for line in list(child.lines)):
        assert child.proc.poll() is None, f"exited with {child.proc.returncode}:\n{child.output}"
        assert time.monotonic() < end, f"no line with {text!r} within {DEADLINE}s:\n{child.output}"
        time.sleep(0.05)
