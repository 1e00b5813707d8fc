"""Slow request bodies are answered 408 and their connections closed (``body_timeout_seconds``): a real
uvicorn server on a free port, real sockets that send headers and part of a body, then stall."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator

import pytest
import uvicorn

from outboundql.app import create_app
from outboundql.goals.testing import registry_with
from outboundql.settings import Settings

TIMEOUT = 0.5  # seconds the server gives a body (the setting under test)
WAIT = 30.0  # seconds a client waits for an answer: never reached when the server behaves
QUERY = json.dumps({"query": "{ __typename }"}).encode()


@pytest.fixture
async def port() -> AsyncIterator[int]:
    """A uvicorn server of an app whose bodies time out after `TIMEOUT`, on a socket bound to a free port
    (listening before the server starts, so clients may connect at once)."""
    settings = Settings(database_url="sqlite://:memory:", redis_url=None, body_timeout_seconds=TIMEOUT)
    app = create_app(settings, manage_db=False, run_worker=False, goals=registry_with())
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_level="warning"))
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        yield sock.getsockname()[1]
    finally:
        server.should_exit = True
        await asyncio.wait_for(serving, WAIT)
        sock.close()


async def exchange(port: int, head: bytes, body: bytes) -> bytes:
    """Send a request head and ``body`` (maybe only part of what Content-Length promises), then read the
    answer until the server closes the connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(head + body)
        await writer.drain()
        return await asyncio.wait_for(reader.read(), WAIT)  # up to EOF: the server closed the connection
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


def head(length: int) -> bytes:
    return (f"POST /graphql HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
            f"Content-Length: {length}\r\nConnection: close\r\n\r\n").encode()


async def test_a_body_that_stalls_is_answered_408_and_its_connection_closed(port: int) -> None:
    answer = await exchange(port, head(len(QUERY)), QUERY[:10])
    assert answer.startswith(b"HTTP/1.1 408 "), answer
    assert b"did not arrive within 0.5 seconds" in answer


async def test_a_body_that_never_starts_is_answered_408(port: int) -> None:
    answer = await exchange(port, head(len(QUERY)), b"")
    assert answer.startswith(b"HTTP/1.1 408 "), answer


async def test_many_stalled_bodies_are_each_timed_out(port: int) -> None:
    answers = await asyncio.gather(*(exchange(port, head(len(QUERY)), QUERY[:5]) for _ in range(50)))
    assert [a.split(b"\r\n", 1)[0] for a in answers] == [b"HTTP/1.1 408 Request Timeout"] * 50


async def test_a_whole_body_is_served(port: int) -> None:
    answer = await exchange(port, head(len(QUERY)), QUERY)
    assert answer.startswith(b"HTTP/1.1 200 "), answer
    assert b'{"data":{"__typename":"Query"},' in answer


async def test_a_get_has_no_body_to_wait_for(port: int) -> None:
    request = b"GET /healthz HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n"
    answer = await exchange(port, request, b"")
    assert answer.startswith(b"HTTP/1.1 200 "), answer


def test_the_timeout_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().body_timeout_seconds == 10.0
    monkeypatch.setenv("OUTBOUNDQL_BODY_TIMEOUT_SECONDS", "2.5")
    assert Settings().body_timeout_seconds == 2.5
