"""One `Settings` object, the one handed to `create_app`, decides the page and query limits, the
broker, the event bus and what services run with: not the process environment."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker

from outboundql.app import create_app
from outboundql.goals.testing import registry_with
from outboundql.services import events, runtime
from outboundql.settings import Settings
from outboundql.workers import current_broker, execution, scoring, tokens
from tests.helpers import Person

TIGHT = Settings(database_url="sqlite://:memory:", redis_url=None, max_page_size=2, max_query_depth=3,
                 max_aliases=2, max_tokens=100)


@pytest.fixture
async def tight(db: Any) -> Any:
    """``await tight(query, person)``: the response JSON of an app created with `TIGHT` settings."""
    app = create_app(TIGHT, manage_db=False, run_worker=False, goals=registry_with())

    async def run(query: str, person: Person) -> dict[str, Any]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
            response = await client.post("/graphql", json={"query": query}, headers=person.headers)
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    return run


def _messages(result: dict[str, Any]) -> list[str]:
    return [e["message"] for e in result.get("errors") or []]


async def test_the_page_size_is_the_apps_setting(tight: Any, owner: Person) -> None:
    result = await tight("{ projects(first: 3) { totalCount } }", owner)
    assert result["errors"][0]["extensions"]["code"] == "PAGE_TOO_LARGE"
    assert "at most 2 items" in result["errors"][0]["message"]
    assert "errors" not in await tight("{ projects(first: 2) { totalCount } }", owner)


async def test_the_query_limits_are_the_apps_settings(tight: Any, owner: Person) -> None:
    assert "errors" not in await tight("{ viewer { memberships { role } } }", owner)
    deep = await tight("{ viewer { memberships { project { slug } } } }", owner)
    assert _messages(deep) == ["The operation nests 4 levels of fields; at most 3 are allowed."], deep
    aliases = await tight("{ a: viewer { email } b: viewer { email } c: viewer { email } }", owner)
    assert any("aliases" in m.lower() for m in _messages(aliases)), aliases
    long = await tight("{ " + " ".join("viewer { email }" for _ in range(40)) + " }", owner)
    assert any("more than 100 tokens" in m for m in _messages(long)), long


async def test_services_run_with_the_apps_settings_and_goals(db: Any) -> None:
    goals = registry_with()
    create_app(TIGHT, manage_db=False, run_worker=False, goals=goals)
    assert runtime.settings() is TIGHT and runtime.goals() is goals
    assert isinstance(events.get_bus(), events.InProcessBus)


@pytest.fixture
def embedded_again() -> Iterator[None]:
    yield
    create_app(Settings(database_url="sqlite://:memory:", redis_url=None), manage_db=False, run_worker=False,
               goals=registry_with())
    assert isinstance(current_broker(), StubBroker)


def test_the_broker_follows_the_apps_settings_with_every_actor(embedded_again: None) -> None:
    embedded = current_broker()
    same = Settings(database_url="sqlite://:memory:", redis_url=None, max_page_size=7)
    create_app(same, manage_db=False, run_worker=False, goals=registry_with())
    assert current_broker() is embedded  # nothing about the broker changed: it stays

    create_app(Settings(database_url="postgres://nobody@127.0.0.1:1/x", redis_url="redis://127.0.0.1:1/0"),
               manage_db=False, run_worker=False, goals=registry_with())
    distributed = current_broker()
    assert isinstance(distributed, RedisBroker)
    assert sorted(distributed.actors) == sorted(embedded.actors) == [
        "classify_replies", "deliver_webhooks", "execute_attempts", "propose_signals", "run_import", "score_batch",
        "scoring_batch_gave_up", "sync_audience", "touch_api_token"]
    assert scoring.score_batch.broker is distributed and tokens.touch_api_token.broker is distributed
    assert execution.execute_attempts.broker is distributed
