"""Security review: leaks and permission gaps found by probing, each pinned by a test.

Websockets: one connection carries many operations and a subscription may stream for hours, so the
token and the memberships checked at ``connection_init`` must be checked again on every operation
and every event (a revoked or expired token, or a member removed from the project, stops there).
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from outboundql import enums, models
from outboundql.goals.testing import registry_with
from outboundql.gql.context import Context
from outboundql.services import events
from outboundql.services.access import Access
from outboundql.services.tokens import RevokeApiToken, revoke_api_token
from outboundql.settings import Settings
from tests.api._authz import World, build_world
from tests.helpers import Person


@pytest.fixture
async def alice(make_user: Any) -> Person:
    return await make_user("alice@example.com", "Alice")


@pytest.fixture
async def mine(alice: Person) -> World:
    return await build_world(alice, "alpha")


async def _ws_context(person: Person) -> Context:
    """The context of a websocket connection as the view leaves it after ``connection_init``."""
    return Context(
        request=None, response=None, settings=Settings(database_url="sqlite://:memory:"),  # type: ignore[arg-type]
        goals=registry_with(), access_or_none=await Access.for_user(person.user),
        ws_authorization=f"Bearer {person.token}",
    )


async def _token_row(person: Person) -> models.ApiToken:
    return await models.ApiToken.filter(user_id=person.user.id).order_by("-id").first()  # type: ignore[return-value]


SUBSCRIBE = ("subscription($projectId: ID!) { accountEvents(projectId: $projectId) "
             "{ kind account { name status statusHistory { toStatus } } } }")


class Stream:
    """A live ``accountEvents`` subscription on one context."""

    def __init__(self, context: Context, project_gid: str) -> None:
        self.context, self.project_gid = context, project_gid
        self.stream: Any = None

    async def __aenter__(self) -> Stream:
        from outboundql.gql.schema import schema

        self.stream = await schema.subscribe(SUBSCRIBE, context_value=self.context,
                                             variable_values={"projectId": self.project_gid})
        assert hasattr(self.stream, "__anext__"), self.stream
        return self

    async def next_after(self, publish: Any) -> Any:
        task = asyncio.ensure_future(self.stream.__anext__())
        await asyncio.sleep(0.05)  # let the resolver (re)subscribe to the bus
        await publish()
        return await asyncio.wait_for(task, timeout=5)

    async def __aexit__(self, *exc: object) -> None:
        with contextlib.suppress(Exception):
            await self.stream.aclose()


def _publisher(world: World) -> Any:
    async def publish() -> None:
        await events.publish_account_change(world.project.id, world.account.id, "updated")

    return publish


async def test_subscription_stops_when_its_token_is_revoked(alice, mine) -> None:
    async with Stream(await _ws_context(alice), mine.gid("project")) as live:
        first = await live.next_after(_publisher(mine))
        assert first.errors is None
        assert first.data["accountEvents"]["account"]["name"] == "Account alpha"

        await revoke_api_token(alice.user, RevokeApiToken(id=(await _token_row(alice)).id))
        second = await live.next_after(_publisher(mine))
        assert second.data is None
        assert [(e.extensions or {}).get("code") for e in second.errors] == ["UNAUTHENTICATED"]


async def test_subscription_stops_when_its_token_expires(alice, mine) -> None:
    async with Stream(await _ws_context(alice), mine.gid("project")) as live:
        assert (await live.next_after(_publisher(mine))).errors is None
        await models.ApiToken.filter(user_id=alice.user.id).update(expires_at=datetime.now(UTC) - timedelta(1))
        second = await live.next_after(_publisher(mine))
        assert [(e.extensions or {}).get("code") for e in second.errors] == ["UNAUTHENTICATED"]


async def test_subscription_stops_when_the_viewer_leaves_the_project(alice, mine, make_user, add_member) -> None:
    viewer = await make_user("vera@example.com", "Vera")
    await add_member(viewer, mine.project, enums.Role.VIEWER)
    async with Stream(await _ws_context(viewer), mine.gid("project")) as live:
        assert (await live.next_after(_publisher(mine))).errors is None
        await models.Membership.filter(user_id=viewer.user.id, project_id=mine.project.id).delete()
        second = await live.next_after(_publisher(mine))
        assert second.data is None
        assert [(e.message, (e.extensions or {}).get("code")) for e in second.errors] == [
            ("Project not found.", "NOT_FOUND")]


async def test_subscription_events_are_not_served_from_a_stale_cache(alice, mine) -> None:
    """Dataloaders of a websocket live as long as the connection: each event must read fresh rows."""
    from outboundql.services import accounts as accounts_service

    async with Stream(await _ws_context(alice), mine.gid("project")) as live:
        first = await live.next_after(_publisher(mine))
        assert [h["toStatus"] for h in first.data["accountEvents"]["account"]["statusHistory"]] == ["NEW"]
        await accounts_service.update_account(await Access.for_user(alice.user), accounts_service.UpdateAccount(
            mine.account.id, status=enums.AccountStatus.DO_NOT_CONTACT))
        second = await live.next_after(_publisher(mine))
        history = second.data["accountEvents"]["account"]["statusHistory"]
        assert [h["toStatus"] for h in history] == ["DO_NOT_CONTACT", "NEW"]


async def test_queries_and_mutations_on_a_websocket_recheck_the_token(alice, mine) -> None:
    """graphql-transport-ws also carries queries and mutations: a revoked token must stop them too."""
    from outboundql.gql.schema import schema

    context = await _ws_context(alice)
    query = "{ viewer { email } projects { totalCount } }"
    ok = await schema.execute(query, context_value=context)
    assert ok.errors is None and ok.data["projects"]["totalCount"] == 1

    await revoke_api_token(alice.user, RevokeApiToken(id=(await _token_row(alice)).id))
    refused = await schema.execute(query, context_value=context)
    assert refused.errors and {(e.extensions or {}).get("code") for e in refused.errors} == {"UNAUTHENTICATED"}

    mutation = 'mutation { createProject(input: {name: "Sneaky"}) { project { id } errors { code } } }'
    refused = await schema.execute(mutation, context_value=context)
    assert refused.errors and {(e.extensions or {}).get("code") for e in refused.errors} == {"UNAUTHENTICATED"}
    assert not await models.Project.filter(name="Sneaky").exists()


async def test_websocket_operations_see_a_role_change_made_after_connecting(alice, mine, make_user,
                                                                            add_member) -> None:
    """A member demoted to viewer while connected can no longer change data over the same socket."""
    from outboundql.gql.schema import schema
    from tests.helpers import global_id

    bea = await make_user("bea@example.com", "Bea")
    await add_member(bea, mine.project, enums.Role.MEMBER)
    context = await _ws_context(bea)
    await models.Membership.filter(user_id=bea.user.id, project_id=mine.project.id).update(role="viewer")
    result = await schema.execute(
        "mutation($id: ID!) { updateAccount(input: {id: $id, name: \"Hijacked\"}) { errors { code } } }",
        context_value=context, variable_values={"id": global_id("Account", mine.account.id)})
    assert result.errors is None
    assert result.data["updateAccount"]["errors"] == [{"code": "FORBIDDEN"}]
    assert (await models.Account.get(id=mine.account.id)).name == "Account alpha"
