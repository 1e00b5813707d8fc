"""Distributed mode: API processes and ``outboundql worker`` on PostgreSQL + Redis.

* Jobs enqueued by the API (token touches) are run by the worker process, not by the server.
* Live events cross processes through Redis pub/sub.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from gql.transport.exceptions import TransportError
from gql.transport.httpx import HTTPXAsyncTransport
from gql.transport.websockets import WebsocketsTransport

from gql import Client, GraphQLRequest
from tests.integration.conftest import child_env, pg_fetch, run_cli, running_server, running_worker

pytestmark = pytest.mark.integration

DEADLINE = 60.0
QUEUE_KEY = "dramatiq:default"  # RedisBroker namespace "dramatiq", queue "default"

VIEWER = "query Viewer { viewer { email } }"
PROJECTS = "query Projects { projects(first: 5) { edges { node { id slug } } } }"
CREATE_ACCOUNT = """
mutation Create($input: CreateAccountInput!) {
  createAccount(input: $input) { created account { id name } errors { message } }
}
"""
ACCOUNT_EVENTS = """
subscription Events($projectId: ID!) { accountEvents(projectId: $projectId) { kind account { id name } } }
"""


def _ok(result: Any) -> str:
    assert result.returncode == 0, f"exit {result.returncode}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    return str(result.stdout)


def _setup(tmp_path: Path, env: dict[str, str], *, project: str | None = None) -> str:
    """Migrate, create a user (and a project), and return a fresh API token of that user."""
    _ok(run_cli("migrate", cwd=tmp_path, env=env))
    _ok(run_cli("create-user", "--email", "ops@example.com", "--name", "Ops", cwd=tmp_path, env=env))
    if project:
        _ok(run_cli("create-project", "--name", project, "--owner", "ops@example.com", cwd=tmp_path, env=env))
    return _ok(run_cli("create-token", "--email", "ops@example.com", cwd=tmp_path, env=env)).strip()



def _http(url: str, token: str) -> Client:
    return Client(transport=HTTPXAsyncTransport(url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30))


async def test_the_worker_process_runs_jobs_the_api_enqueues(tmp_path: Path, empty_pg_url: str,
                                                             private_redis_url: str) -> None:
    import redis

    env = child_env(OUTBOUNDQL_DATABASE_URL=empty_pg_url, OUTBOUNDQL_REDIS_URL=private_redis_url)
    token = _setup(tmp_path, env)
    queue = redis.Redis.from_url(private_redis_url)
    try:
        with running_server(cwd=tmp_path, env=env) as server:
            async with _http(server.url, token) as session:
                viewer = (await session.execute(GraphQLRequest(VIEWER)))["viewer"]
            assert viewer == {"email": "ops@example.com"}

            # No worker yet: the touch waits in Redis and the server does not do it itself.
            assert queue.hlen(f"{QUEUE_KEY}.msgs") >= 1, "the request enqueued no job on Redis"
            rows = await pg_fetch(empty_pg_url, "SELECT last_used_at FROM api_token")
            assert [r["last_used_at"] for r in rows] == [None]

            with running_worker("--processes", "1", "--threads", "2", cwd=tmp_path, env=env) as worker:
                end = time.monotonic() + DEADLINE
                used_at = None
                while time.monotonic() < end and used_at is None:
                    if worker.proc.poll() is not None:
                        raise AssertionError(f"worker exited with {worker.proc.returncode}:\n{worker.output}")
                    rows = await pg_fetch(empty_pg_url, "SELECT last_used_at FROM api_token")
                    used_at = rows[0]["last_used_at"]
                    if used_at is None:
                        await asyncio.sleep(0.2)
                assert used_at is not None, f"the worker did not touch the token within {DEADLINE}s:\n{worker.output}"
            assert "Traceback" not in worker.output, worker.output
        assert queue.hlen(f"{QUEUE_KEY}.msgs") == 0, "the job is still queued"
    finally:
        queue.close()


async def test_events_cross_api_processes_through_redis(tmp_path: Path, empty_pg_url: str,
                                                        private_redis_url: str) -> None:
    import redis

    env = child_env(OUTBOUNDQL_DATABASE_URL=empty_pg_url, OUTBOUNDQL_REDIS_URL=private_redis_url)
    token = _setup(tmp_path, env, project="Cross Process")
    pubsub = redis.Redis.from_url(private_redis_url)
    try:
        event = await _cross_process_event(tmp_path, env, token, pubsub)
    finally:
        pubsub.close()
    assert event["kind"] == "CREATED"
    assert event["account"]["name"].startswith("Cross ")


async def _cross_process_event(tmp_path: Path, env: dict[str, str], token: str, pubsub: Any) -> dict[str, Any]:
    """Subscribe on server A, create an account on server B, return the event A delivered."""
    with running_server(cwd=tmp_path, env=env) as a, running_server(cwd=tmp_path, env=env) as b:
        async with _http(a.url, token) as session:
            project_id = (await session.execute(GraphQLRequest(PROJECTS)))["projects"]["edges"][0]["node"]["id"]
        pk = int(base64.b64decode(project_id).decode().split(":", 1)[1])
        channel = f"outboundql:project:{pk}:accounts"
        before = dict(pubsub.pubsub_numsub(channel)).get(channel.encode(), 0)

        ws = WebsocketsTransport(url=a.ws_url, subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
                                 init_payload={"Authorization": f"Bearer {token}"}, connect_timeout=20,
                                 ack_timeout=20)
        events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        async with Client(transport=ws) as ws_session:

            async def listen() -> None:
                request = GraphQLRequest(ACCOUNT_EVENTS, variable_values={"projectId": project_id})
                async for result in ws_session.subscribe(request):
                    events.put_nowait(result["accountEvents"])

            listener = asyncio.create_task(listen())
            try:
                # Server A is subscribed on Redis once the channel has one more subscriber.
                end = time.monotonic() + DEADLINE
                while dict(pubsub.pubsub_numsub(channel)).get(channel.encode(), 0) <= before:
                    if listener.done():
                        listener.result()
                        raise AssertionError("the subscription ended")
                    assert time.monotonic() < end, "server A never subscribed to the Redis channel"
                    await asyncio.sleep(0.1)

                name = f"Cross {uuid.uuid4().hex[:8]}"
                async with _http(b.url, token) as session:
                    created = (await session.execute(GraphQLRequest(
                        CREATE_ACCOUNT, variable_values={"input": {"projectId": project_id, "name": name}})))
                assert created["createAccount"]["errors"] == [], created
                account_id = created["createAccount"]["account"]["id"]

                end = time.monotonic() + DEADLINE
                while True:
                    remaining = end - time.monotonic()
                    assert remaining > 0, f"server A delivered no event for {name} within {DEADLINE}s"
                    event = await asyncio.wait_for(events.get(), timeout=remaining)
                    if event["account"] and event["account"]["name"] == name:
                        break
            finally:
                listener.cancel()
                with contextlib.suppress(asyncio.CancelledError, TransportError):
                    await listener
    assert event == {"kind": "CREATED", "account": {"id": account_id, "name": name}}
    return event
