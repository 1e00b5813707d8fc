"""End to end: ``outboundql serve --demo`` as a real uvicorn process, used through the `gql` client
over HTTP and websockets (graphql-transport-ws)."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from gql.transport.exceptions import TransportError, TransportQueryError
from gql.transport.httpx import HTTPXAsyncTransport
from gql.transport.websockets import WebsocketsTransport

from gql import Client, GraphQLRequest
from tests.integration.conftest import Server, child_env, running_server

pytestmark = pytest.mark.integration

EVENT_DEADLINE = 60.0

VIEWER = "query Viewer { viewer { email name } }"
PROJECTS = "query Projects { projects(first: 10) { edges { node { id slug name viewerRole } } } }"
ACCOUNTS = """
query Accounts($slug: String!, $after: String) {
  project(slug: $slug) {
    accounts(first: 100, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { id name status } }
    }
  }
}
"""
ACCOUNTS_WITH_STATUS = """
query ByStatus($slug: String!, $statuses: [AccountStatus!]) {
  project(slug: $slug) { accounts(filter: {statuses: $statuses}) { totalCount } }
}
"""
CREATE_ACCOUNT = """
mutation Create($input: CreateAccountInput!) {
  createAccount(input: $input) { created account { id name } errors { code field message } }
}
"""
ACCOUNT_EVENTS = """
subscription Events($projectId: ID!) { accountEvents(projectId: $projectId) { kind account { id name } } }
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One demo server for the module, in a fresh directory (so a fresh ./outboundql.db)."""
    workdir = tmp_path_factory.mktemp("e2e")
    with running_server("--demo", cwd=workdir, env=child_env()) as srv:
        assert (workdir / "outboundql.db").exists()
        yield srv


def http_client(server: Server, token: str | None) -> Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return Client(transport=HTTPXAsyncTransport(url=server.url, headers=headers, timeout=30))


def ws_client(server: Server, init_payload: dict[str, Any] | None) -> Client:
    transport = WebsocketsTransport(url=server.ws_url, subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
                                    init_payload=init_payload or {}, connect_timeout=20, ack_timeout=20)
    return Client(transport=transport)


def request(query: str, **variables: Any) -> GraphQLRequest:
    return GraphQLRequest(query, variable_values=variables or None)


async def demo_project(server: Server) -> dict[str, Any]:
    async with http_client(server, server.token) as session:
        edges = (await session.execute(request(PROJECTS)))["projects"]["edges"]
    assert len(edges) == 1, edges
    return edges[0]["node"]  # type: ignore[no-any-return]


def test_the_demo_prints_a_token_and_the_graphiql_address(server: Server) -> None:
    assert server.token.startswith("oql_")
    assert any("/graphql" in line and "GraphiQL" in line for line in server.child.lines), server.child.output


async def test_viewer_projects_and_the_demo_accounts(server: Server) -> None:
    async with http_client(server, server.token) as session:
        viewer = (await session.execute(request(VIEWER)))["viewer"]
        edges = (await session.execute(request(PROJECTS)))["projects"]["edges"]
        project = edges[0]["node"]

        accounts: list[dict[str, Any]] = []
        after: str | None = None
        total = None
        for _page in range(20):  # bounded
            page = (await session.execute(request(ACCOUNTS, slug=project["slug"], after=after)))["project"]["accounts"]
            total = page["totalCount"]
            accounts += [e["node"] for e in page["edges"]]
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]

        dnc = (await session.execute(request(ACCOUNTS_WITH_STATUS, slug=project["slug"],
                                             statuses=["DO_NOT_CONTACT"])))

    assert viewer["email"] == "demo@outboundql.dev"
    assert [e["node"]["name"] for e in edges] == ["Demo Outbound"]
    assert project["viewerRole"] == "OWNER"
    assert 150 <= len(accounts) <= 250
    assert total == len(accounts)
    assert len({a["id"] for a in accounts}) == len(accounts), "pages overlap"
    statuses = {a["status"] for a in accounts}
    assert {"NEW", "CUSTOMER", "PRESS", "COMPETITOR", "DO_NOT_CONTACT"} <= statuses
    assert dnc["project"]["accounts"]["totalCount"] == sum(a["status"] == "DO_NOT_CONTACT" for a in accounts) >= 1


async def test_an_unauthenticated_query_is_refused(server: Server) -> None:
    async with http_client(server, None) as session:
        with pytest.raises(TransportQueryError) as raised:
            await session.execute(request(VIEWER))
    messages = [e["message"] for e in raised.value.errors or []]
    assert any("Authorization" in m or "Authentication" in m for m in messages), messages


def test_graphiql_and_the_probes(server: Server) -> None:
    page = httpx.get(server.url, headers={"Accept": "text/html"}, timeout=10)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "graphiql" in page.text.lower()

    health = httpx.get(f"{server.base}/healthz", timeout=10)
    assert health.status_code == 200 and health.json() == {"status": "ok"}
    ready = httpx.get(f"{server.base}/readyz", timeout=10)
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "checks": {"database": "ok", "schema": "ok", "broker": "ok"}}


async def test_a_subscriber_sees_an_account_created_by_another_client(server: Server) -> None:
    project = await demo_project(server)
    events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async with ws_client(server, {"Authorization": f"Bearer {server.token}"}) as ws_session:

        async def listen() -> None:
            async for result in ws_session.subscribe(request(ACCOUNT_EVENTS, projectId=project["id"])):
                events.put_nowait(result["accountEvents"])

        listener = asyncio.create_task(listen())
        try:
            names = await _create_until_seen(server, project["id"], events, listener)
        finally:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError, TransportError):
                await listener
    assert names


async def _create_until_seen(server: Server, project_id: str, events: asyncio.Queue[dict[str, Any]],
                             listener: asyncio.Task[None]) -> list[str]:
    """Create accounts through another (HTTP) client until the subscriber reports one of them; the
    subscription may only become active after the first creates, so retry within a deadline."""
    created: list[str] = []
    end = time.monotonic() + EVENT_DEADLINE
    async with http_client(server, server.token) as session:
        while time.monotonic() < end:
            if listener.done():
                listener.result()  # surface the subscription's error
                raise AssertionError("the subscription ended")
            name = f"Live Event {uuid.uuid4().hex[:8]}"
            result = (await session.execute(request(CREATE_ACCOUNT, input={"projectId": project_id, "name": name})))
            assert result["createAccount"]["errors"] == [], result
            assert result["createAccount"]["created"] is True
            created.append(name)
            with contextlib.suppress(TimeoutError):
                while True:
                    event = await asyncio.wait_for(events.get(), timeout=1.0)
                    if event["account"] and event["account"]["name"] in created:
                        assert event["kind"] == "CREATED"
                        return created
    raise AssertionError(f"no accountEvents event within {EVENT_DEADLINE}s for {created}")


async def _subscribe_once(server: Server, init_payload: dict[str, Any] | None, project_id: str) -> None:
    async with ws_client(server, init_payload) as ws_session:
        async for _ in ws_session.subscribe(request(ACCOUNT_EVENTS, projectId=project_id)):
            break


def _close_code(error: BaseException) -> int | None:
    cause = error.__cause__ or error.__context__
    received = getattr(cause, "rcvd", None)
    return getattr(received, "code", None)


@pytest.mark.parametrize("init_payload", [None, {"Authorization": "Bearer oql_wrong"}, {"Authorization": "Basic x"}],
                         ids=["no-token", "unknown-token", "not-bearer"])
async def test_a_websocket_without_a_valid_token_is_rejected(server: Server,
                                                             init_payload: dict[str, Any] | None) -> None:
    project = await demo_project(server)
    with pytest.raises(TransportError) as raised:
        await asyncio.wait_for(_subscribe_once(server, init_payload, project["id"]), timeout=EVENT_DEADLINE)
    assert _close_code(raised.value) == 4403, repr(raised.value)  # graphql-transport-ws "Forbidden"
