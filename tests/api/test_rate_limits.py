"""Rate limits (`outboundql.rate_limits`) through a real uvicorn server: points per API token, or per IP address
without one, in fixed windows of the app's clock; the standard ``RateLimit-*`` headers; 429 with ``Retry-After``
once spent. In this process without Redis; shared in Redis (the test Redis DB) by every server given it."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette

from outboundql.app import create_app
from outboundql.goals.testing import registry_with
from outboundql.rate_limits import RateLimiter, points_for
from outboundql.services.clock import Clock, FakeClock
from outboundql.settings import Settings
from tests.helpers import Person, data_of

POINTS = 5
WINDOW = 60
START = datetime(2026, 3, 2, 9, 0, 10, tzinfo=UTC)  # 10 s into a window: 50 s left
VIEWER = "query Viewer { viewer { email } }"
PAGE = "query Page($slug: String!) { project(slug: $slug) { campaigns(first: 100) { edges { node { id } } } } }"


@pytest.fixture
def clock() -> Clock:
    return FakeClock(START)


@pytest.fixture
def settings() -> Settings:
    return Settings(database_url="sqlite://:memory:", redis_url=None, rate_limit_points=POINTS,
                    rate_limit_window_seconds=WINDOW)


@contextlib.asynccontextmanager
async def serving(app: Starlette) -> AsyncIterator[str]:
    """``app`` served by uvicorn on a free port of 127.0.0.1 until the block ends; yields its /graphql URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_level="warning"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/graphql"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 30)
        sock.close()
        await app.state.rate_limiter.aclose()  # the lifespan that would close it is off


def make_app(settings: Settings, clock: Clock, redis_url: str | None = None) -> Starlette:
    app = create_app(settings, manage_db=False, run_worker=False, goals=registry_with(), clock=clock)
    if redis_url:  # the limiter alone on Redis: the jobs of this test process stay in memory
        app.state.rate_limiter = RateLimiter(settings.rate_limit_points, settings.rate_limit_window_seconds,
                                             redis_url)
    return app


@pytest.fixture
async def url(db: Any, settings: Settings, clock: Clock) -> AsyncIterator[str]:
    async with serving(make_app(settings, clock)) as served:
        yield served


async def post(url: str, query: str, person: Person | None = None, **variables: Any) -> httpx.Response:
    async with httpx.AsyncClient(timeout=30) as http:
        return await http.post(url, json={"query": query, "variables": variables},
                               headers=person.headers if person else {})


def limits(response: httpx.Response) -> tuple[str | None, ...]:
    return tuple(response.headers.get(h) for h in ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"))


async def spend_all(url: str, person: Person | None) -> None:
    """Spend a whole window of ``person`` (or of this IP address) with one-point operations, checking each."""
    for left in range(POINTS - 1, -1, -1):
        response = await post(url, VIEWER, person)
        assert response.status_code == 200
        assert limits(response) == (str(POINTS), str(left), "50")


async def assert_refused(url: str, person: Person | None) -> None:
    response = await post(url, VIEWER, person)
    assert response.status_code == 429
    assert limits(response) == (str(POINTS), "0", "50")
    assert response.headers["Retry-After"] == "50"
    body = response.json()
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"] == {"code": "RATE_LIMITED", "retryAfterSeconds": 50}
    assert error["message"] == ("This operation costs 1 point(s) and 0 of the 5 of this window are left; try again "
                                "in 50 s.")


def test_points_follow_the_query_cost() -> None:
    assert [points_for(c) for c in (0, 1, 100, 101, 250, 10_000)] == [1, 1, 1, 2, 3, 100]


async def test_a_token_spends_its_window_then_waits_for_the_next(url: str, owner: Person, clock: FakeClock,
                                                                 make_user: Any) -> None:
    await spend_all(url, owner)
    await assert_refused(url, owner)
    other = await make_user("other@example.com")
    assert (await post(url, VIEWER, other)).status_code == 200  # each token has its own points
    clock.advance(seconds=50)  # the next window
    response = await post(url, VIEWER, owner)
    assert data_of(response.json())["viewer"]["email"] == owner.user.email
    assert limits(response) == ("5", "4", "60")
    rate = response.json()["extensions"]["cost"]["rateLimit"]
    assert rate == {"limit": 5, "cost": 1, "remaining": 4, "resetAt": "2026-03-02T09:02:00+00:00"}


async def test_an_operation_spends_points_by_its_cost(url: str, owner: Person, project: Any) -> None:
    response = await post(url, PAGE, owner, slug=project.slug)  # 2 + 100 × 2 objects: 3 points
    assert response.status_code == 200
    assert response.json()["extensions"]["cost"]["requestedQueryCost"] == 202
    assert limits(response) == ("5", "2", "50")
    refused = await post(url, PAGE, owner, slug=project.slug)  # 3 more points than the 2 left: nothing spent
    assert refused.status_code == 429
    assert limits(refused) == ("5", "2", "50")
    assert (await post(url, VIEWER, owner)).status_code == 200


async def test_requests_without_a_token_spend_their_ip_address_points(url: str, owner: Person) -> None:
    await spend_all(url, None)
    await assert_refused(url, None)
    bad = Person(owner.user, "oql_not-a-token")
    assert (await post(url, VIEWER, bad)).status_code == 429  # a wrong token is no way around it
    assert (await post(url, VIEWER, owner)).status_code == 200


async def test_no_limit_when_switched_off(db: Any, owner: Person, clock: Clock) -> None:
    settings = Settings(database_url="sqlite://:memory:", redis_url=None, rate_limit_points=0)
    async with serving(make_app(settings, clock)) as served:
        for _ in range(3):
            response = await post(served, VIEWER, owner)
            assert response.status_code == 200
            assert "RateLimit-Limit" not in response.headers
            assert "rateLimit" not in response.json()["extensions"]["cost"]


def test_the_settings_have_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    defaults = Settings()
    assert (defaults.rate_limit_points, defaults.rate_limit_window_seconds, defaults.max_query_cost) == (
        5000, 3600, 50_000)
    monkeypatch.setenv("OUTBOUNDQL_RATE_LIMIT_POINTS", "0")
    assert Settings().rate_limit_points == 0


@pytest.fixture
def rate_redis(redis_url: str) -> Iterator[str]:
    """The test Redis DB, without rate-limit keys before and after (only those keys are touched)."""
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        for key in client.scan_iter("outboundql:rate:*"):
            client.delete(key)
        yield redis_url
        for key in client.scan_iter("outboundql:rate:*"):
            client.delete(key)
    finally:
        client.close()


@pytest.mark.integration
async def test_servers_on_one_redis_share_each_token_s_points(db: Any, owner: Person, settings: Settings,
                                                              clock: FakeClock, rate_redis: str) -> None:
    async with serving(make_app(settings, clock, rate_redis)) as first, \
            serving(make_app(settings, clock, rate_redis)) as second:
        for index in range(POINTS):
            response = await post((first, second)[index % 2], VIEWER, owner)
            assert limits(response) == (str(POINTS), str(POINTS - 1 - index), "50")
        await assert_refused(first, owner)
        await assert_refused(second, owner)
        clock.advance(seconds=50)
        assert limits(await post(second, VIEWER, owner)) == ("5", "4", "60")
    import redis

    client = redis.Redis.from_url(rate_redis)
    try:
        keys = list(client.scan_iter("outboundql:rate:*"))
        assert len(keys) == 2  # one per window, expiring with it
        assert all(0 < client.ttl(k) <= WINDOW + 60 for k in keys)
    finally:
        client.close()
