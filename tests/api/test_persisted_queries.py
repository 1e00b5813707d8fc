"""Automatic persisted queries (Apollo's protocol, `outboundql.gql.persisted_queries`) through a real uvicorn
server: a hash alone is PersistedQueryNotFound until the query was sent with it, then runs by POST and GET; a
hash that is not the query's is refused. In this process without Redis; in Redis (the test Redis DB), shared by
every server given it."""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute

from outboundql.app import create_app
from outboundql.goals.testing import registry_with
from outboundql.gql.persisted_queries import KEY_PREFIX, TTL_SECONDS, PersistedQueries
from outboundql.settings import Settings
from tests.api.test_rate_limits import serving
from tests.helpers import Person, data_of

QUERY = "query Me { viewer { email } }"
SHA = hashlib.sha256(QUERY.encode()).hexdigest()
NOT_FOUND = {"message": "PersistedQueryNotFound", "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"}}


def persisted(sha: str = SHA, version: int = 1) -> dict[str, Any]:
    return {"persistedQuery": {"version": version, "sha256Hash": sha}}


def make_app(settings: Settings, redis_url: str | None = None) -> Starlette:
    app = create_app(settings, manage_db=False, run_worker=False, goals=registry_with())
    if redis_url:  # the store alone on Redis: the jobs of this test process stay in memory
        view(app).persisted_queries = PersistedQueries(redis_url)
    return app


def view(app: Starlette) -> Any:
    return next(r.app for r in app.routes if isinstance(r, WebSocketRoute) and r.path == "/graphql")


@contextlib.asynccontextmanager
async def served(app: Starlette) -> AsyncIterator[str]:
    async with serving(app) as url:
        try:
            yield url
        finally:
            await view(app).persisted_queries.aclose()  # the lifespan that would close it is off


@pytest.fixture
async def url(db: Any, settings: Settings) -> AsyncIterator[str]:
    async with served(make_app(settings)) as graphql_url:
        yield graphql_url


async def post(url: str, person: Person, **body: Any) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=30) as http:
        response = await http.post(url, json=body, headers=person.headers)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def get(url: str, person: Person, **params: Any) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=30) as http:
        response = await http.get(url, params={k: json.dumps(v) if isinstance(v, dict) else v
                                               for k, v in params.items()},
                                  headers={**person.headers, "accept": "application/json"})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_a_hash_runs_once_its_query_was_sent_with_it(url: str, owner: Person) -> None:
    missing = await post(url, owner, extensions=persisted())
    assert missing["data"] is None
    assert missing["errors"] == [NOT_FOUND]
    assert (await get(url, owner, extensions=persisted()))["errors"] == [NOT_FOUND]

    first = await post(url, owner, query=QUERY, extensions=persisted())  # the client's retry, query included
    assert data_of(first) == {"viewer": {"email": owner.user.email}}
    again = await post(url, owner, extensions=persisted(SHA.upper()))
    assert data_of(again) == {"viewer": {"email": owner.user.email}}
    by_get = await get(url, owner, extensions=persisted())
    assert data_of(by_get) == {"viewer": {"email": owner.user.email}}


async def test_variables_and_operation_names_go_with_the_hash(url: str, owner: Person) -> None:
    document = "query A { viewer { email } } query B($x: Boolean!) { viewer { name @include(if: $x) } }"
    sha = hashlib.sha256(document.encode()).hexdigest()
    await post(url, owner, query=document, operationName="A", extensions=persisted(sha))
    answer = await post(url, owner, operationName="B", variables={"x": True}, extensions=persisted(sha))
    assert data_of(answer) == {"viewer": {"name": owner.user.name}}
    unnamed = await post(url, owner, extensions=persisted(sha))
    assert unnamed["errors"][0]["extensions"]["code"] == "OPERATION_NAME_REQUIRED"


async def test_a_hash_that_is_not_the_querys_is_refused_and_nothing_stored(url: str, owner: Person) -> None:
    other = hashlib.sha256(b"query Other { viewer { name } }").hexdigest()
    refused = await post(url, owner, query=QUERY, extensions=persisted(other))
    assert refused["data"] is None
    [error] = refused["errors"]
    assert error["extensions"] == {"code": "PERSISTED_QUERY_HASH_MISMATCH"}
    assert (await post(url, owner, extensions=persisted(other)))["errors"] == [NOT_FOUND]


@pytest.mark.parametrize("extension", [
    {"persistedQuery": {"version": 2, "sha256Hash": SHA}},
    {"persistedQuery": {"version": 1, "sha256Hash": "abc"}},
    {"persistedQuery": "yes"},
])
async def test_a_malformed_persisted_query_is_a_clear_error(url: str, owner: Person, extension: Any) -> None:
    answer = await post(url, owner, extensions=extension)
    assert answer["data"] is None
    assert answer["errors"][0]["extensions"] == {"code": "BAD_PERSISTED_QUERY"}


async def test_requests_without_a_persisted_query_are_untouched(url: str, owner: Person) -> None:
    answer = await post(url, owner, query=QUERY, extensions={"other": 1})
    assert data_of(answer) == {"viewer": {"email": owner.user.email}}


async def test_the_in_process_store_keeps_the_most_recently_used() -> None:
    store = PersistedQueries(None, size=2)
    await store.put("a" * 64, "{ a }")
    await store.put("b" * 64, "{ b }")
    assert await store.get("a" * 64) == "{ a }"  # now the most recent
    await store.put("c" * 64, "{ c }")
    assert [await store.get(k * 64) for k in "abc"] == ["{ a }", None, "{ c }"]


@pytest.fixture
def apq_redis(redis_url: str) -> Iterator[str]:
    """The test Redis DB, without persisted-query keys before and after (only those keys are touched)."""
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        for key in client.scan_iter(KEY_PREFIX + "*"):
            client.delete(key)
        yield redis_url
        for key in client.scan_iter(KEY_PREFIX + "*"):
            client.delete(key)
    finally:
        client.close()


@pytest.mark.integration
async def test_servers_on_one_redis_share_persisted_queries(db: Any, owner: Person, settings: Settings,
                                                            apq_redis: str) -> None:
    async with served(make_app(settings, apq_redis)) as first, served(make_app(settings, apq_redis)) as second:
        assert (await post(second, owner, extensions=persisted()))["errors"] == [NOT_FOUND]
        assert data_of(await post(first, owner, query=QUERY, extensions=persisted()))
        assert data_of(await get(second, owner, extensions=persisted())) == {"viewer": {"email": owner.user.email}}
    import redis

    client = redis.Redis.from_url(apq_redis)
    try:
        assert client.get(KEY_PREFIX + SHA) == QUERY.encode()
        assert 0 < client.ttl(KEY_PREFIX + SHA) <= TTL_SECONDS
    finally:
        client.close()
