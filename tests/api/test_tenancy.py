"""Tenancy: another project's rows are indistinguishable from rows that do not exist.

Alice owns project "alpha", Bob owns project "beta"; each has a product, a persona, two accounts
and a contact. Whatever Alice sends with Bob's ids, she gets exactly the answer she would get
for an id that was never issued, and Bob's data does not change.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest

from outboundql import models
from outboundql.goals.testing import registry_with
from outboundql.gql.context import Context
from outboundql.services.access import Access
from outboundql.settings import Settings
from tests.api._authz import (
    FABRICATED_PK,
    IMPOSSIBLE_PKS,
    MUTATIONS,
    READ_MUTATIONS,
    TYPE_OF,
    Mutation,
    World,
    build_world,
    snapshot,
)
from tests.helpers import Person, data_of, global_id

ATTRS = ["project", "product", "persona", "account", "contact"]


@pytest.fixture
async def alice(make_user: Any) -> Person:
    return await make_user("alice@example.com", "Alice")


@pytest.fixture
async def bob(make_user: Any) -> Person:
    return await make_user("bob@example.com", "Bob")


@pytest.fixture
async def mine(alice: Person) -> World:
    return await build_world(alice, "alpha")


@pytest.fixture
async def theirs(bob: Person, mine: World) -> World:
    return await build_world(bob, "beta")


@pytest.fixture
async def newcomer(make_user: Any) -> Person:
    from tests.api._authz import NEWCOMER_EMAIL

    return await make_user(NEWCOMER_EMAIL, "Nina Newcomer")


def fabricated(type_name: str, pk: int | str = FABRICATED_PK) -> str:
    return global_id(type_name, pk)  # type: ignore[arg-type]


# --- queries ------------------------------------------------------------------------------------

NODE = "query($id: ID!) { node(id: $id) { __typename id } }"
NODES = "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }"


@pytest.mark.parametrize("attr", ATTRS)
async def test_node_of_another_project_is_null_like_a_missing_one(gql, alice, mine, theirs, attr) -> None:
    type_name = TYPE_OF[attr]
    own = data_of(await gql(NODE, {"id": mine.gid(attr)}, as_=alice))
    assert own["node"] == {"__typename": type_name, "id": mine.gid(attr)}

    foreign = await gql(NODE, {"id": theirs.gid(attr)}, as_=alice)
    missing = await gql(NODE, {"id": fabricated(type_name)}, as_=alice)
    assert data_of(foreign) == data_of(missing) == {"node": None}
    for pk in IMPOSSIBLE_PKS:
        assert data_of(await gql(NODE, {"id": fabricated(type_name, pk)}, as_=alice)) == {"node": None}


async def test_nodes_of_another_project_are_null_entries(gql, alice, mine, theirs) -> None:
    ids = []
    for attr in ATTRS:
        impossible = [fabricated(TYPE_OF[attr], pk) for pk in IMPOSSIBLE_PKS]
        ids += [mine.gid(attr), theirs.gid(attr), fabricated(TYPE_OF[attr]), *impossible]
    nodes = data_of(await gql(NODES, {"ids": ids}, as_=alice))["nodes"]
    expected: list[Any] = []
    for attr in ATTRS:
        expected += [{"__typename": TYPE_OF[attr], "id": mine.gid(attr)}, None, None, *[None] * len(IMPOSSIBLE_PKS)]
    assert nodes == expected


async def test_users_and_tokens_of_another_project_are_null(gql, alice, bob, mine, theirs) -> None:
    bob_token = await models.ApiToken.filter(user_id=bob.user.id).first()
    alice_token = await models.ApiToken.filter(user_id=alice.user.id).first()
    assert bob_token is not None and alice_token is not None
    ids = [
        global_id("User", alice.user.id), global_id("User", bob.user.id), fabricated("User"),
        global_id("ApiToken", alice_token.id), global_id("ApiToken", bob_token.id), fabricated("ApiToken"),
        *[fabricated(t, pk) for t in ("User", "ApiToken") for pk in IMPOSSIBLE_PKS],
    ]
    nodes = data_of(await gql(NODES, {"ids": ids}, as_=alice))["nodes"]
    assert nodes == [{"__typename": "User", "id": ids[0]}, None, None,
                     {"__typename": "ApiToken", "id": ids[3]}, None, None, None, None, None, None]


async def test_project_by_slug_and_project_list(gql, alice, mine, theirs) -> None:
    query = """
    query($mine: String!, $theirs: String!) {
      mine: project(slug: $mine) { slug }
      theirs: project(slug: $theirs) { slug }
      missing: project(slug: "no-such-project") { slug }
      projects(includeArchived: true) { totalCount edges { node { slug } } }
      viewer { memberships { project { slug } } }
    }
    """
    data = data_of(await gql(query, {"mine": mine.project.slug, "theirs": theirs.project.slug}, as_=alice))
    assert data["mine"] == {"slug": mine.project.slug}
    assert data["theirs"] is None
    assert data["missing"] is None
    assert data["projects"] == {"totalCount": 1, "edges": [{"node": {"slug": mine.project.slug}}]}
    assert data["viewer"]["memberships"] == [{"project": {"slug": mine.project.slug}}]


async def test_nested_lists_stay_inside_the_project(gql, alice, mine, theirs) -> None:
    query = """
    query($slug: String!, $theirProduct: String!) {
      project(slug: $slug) {
        members { user { email } }
        products(includeArchived: true) { slug }
        product(slug: $theirProduct) { slug }
        accounts { totalCount edges { node { name contacts { name } } } }
        search: accounts(filter: {search: "beta"}) { totalCount }
      }
    }
    """
    variables = {"slug": mine.project.slug, "theirProduct": theirs.product.slug}
    project = data_of(await gql(query, variables, as_=alice))["project"]
    assert project["members"] == [{"user": {"email": "alice@example.com"}}]
    assert project["products"] == [{"slug": mine.product.slug}]
    assert project["product"] is None
    assert project["accounts"]["totalCount"] == 2
    assert {e["node"]["name"] for e in project["accounts"]["edges"]} == {"Account alpha", "Other alpha"}
    assert project["search"] == {"totalCount": 0}


# --- mutations ----------------------------------------------------------------------------------


async def _errors(gql: Any, m: Mutation, world: World, gid: str, person: Person) -> list[dict[str, Any]]:
    payload = data_of(await gql(m.document, {"input": m.make(world, gid)}, as_=person))[m.op]
    result_key = m.result.split()[0]
    assert payload[result_key] in (None, 0), payload
    return payload["errors"]


@pytest.mark.parametrize("m", MUTATIONS + READ_MUTATIONS, ids=lambda m: m.label)
async def test_mutation_on_another_project_is_not_found_like_a_missing_id(
    gql, alice, mine, theirs, newcomer, m: Mutation
) -> None:
    type_name = TYPE_OF[m.slot]
    before_theirs = await snapshot(theirs.project.id)

    foreign = await _errors(gql, m, mine, theirs.gid(m.slot), alice)
    missing = await _errors(gql, m, mine, fabricated(type_name), alice)

    expected = [{"code": "NOT_FOUND", "field": m.field, "message": f"{type_name} not found."}]
    assert foreign == expected
    assert missing == expected
    for pk in IMPOSSIBLE_PKS:
        assert await _errors(gql, m, mine, fabricated(type_name, pk), alice) == expected
    assert await snapshot(theirs.project.id) == before_theirs


@pytest.mark.parametrize("m", MUTATIONS + READ_MUTATIONS, ids=lambda m: m.label)
async def test_mutation_with_an_id_of_the_wrong_type_is_not_found(
    gql, alice, mine, theirs, newcomer, m: Mutation
) -> None:
    type_name = TYPE_OF[m.slot]
    # An id of one of Alice's own rows, of another type: only the type makes it wrong.
    other_attr = "account" if type_name == "Product" else "product"
    before = await snapshot()

    wrong = await _errors(gql, m, mine, mine.gid(other_attr), alice)

    assert wrong == [{"code": "NOT_FOUND", "field": m.field, "message": f"{type_name} not found."}]
    assert wrong == await _errors(gql, m, mine, fabricated(type_name), alice)
    assert await snapshot() == before


async def test_merging_across_projects_is_refused_even_for_a_member_of_both(
    gql, alice, bob, mine, theirs, add_member
) -> None:
    """Being in both projects makes the rows visible, but accounts never cross projects."""
    from outboundql.enums import Role

    await add_member(alice, theirs.project, Role.MEMBER)
    m = next(m for m in MUTATIONS if m.op == "mergeAccounts")
    before = await snapshot()
    payload = data_of(await gql(m.document, {"input": {"targetId": mine.gid("account"),
                                                       "sourceIds": [theirs.gid("account")]}}, as_=alice))
    errors = payload["mergeAccounts"]["errors"]
    assert [(e["code"], e["field"]) for e in errors] == [("INVALID", "input.sourceIds[0]")]
    assert await snapshot() == before


async def test_alice_leaves_bob_alone_after_everything(gql, alice, mine, theirs, newcomer) -> None:
    """Run every mutation with Bob's ids back to back; Bob's project is byte-for-byte unchanged."""
    before = await snapshot(theirs.project.id)
    for m in MUTATIONS + READ_MUTATIONS:
        await gql(m.document, {"input": m.make(mine, theirs.gid(m.slot))}, as_=alice)
    assert await snapshot(theirs.project.id) == before
    assert not await models.Membership.filter(project_id=theirs.project.id, user__email="newcomer@example.com")


# --- subscriptions ------------------------------------------------------------------------------

SUBSCRIBE = "subscription($projectId: ID!) { accountEvents(projectId: $projectId) { kind account { name } } }"


async def _first_result(person: Person, project_gid: str, publish: Any = None) -> Any:
    from outboundql.gql.schema import schema

    context = Context(
        request=None, response=None, settings=Settings(database_url="sqlite://:memory:"),  # type: ignore[arg-type]
        goals=registry_with(), access_or_none=await Access.for_user(person.user),
    )
    stream = await schema.subscribe(SUBSCRIBE, context_value=context, variable_values={"projectId": project_gid})
    if not hasattr(stream, "__anext__"):  # a pre-execution error
        return stream
    try:
        task = asyncio.ensure_future(stream.__anext__())
        if publish is not None:
            await asyncio.sleep(0.05)  # let the resolver subscribe to the bus first
            await publish()
        return await asyncio.wait_for(task, timeout=5)
    finally:
        with contextlib.suppress(Exception):
            await stream.aclose()


async def test_subscription_on_another_project_is_refused_like_a_missing_one(alice, mine, theirs) -> None:
    foreign = await _first_result(alice, theirs.gid("project"))
    missing = await _first_result(alice, fabricated("Project"))
    wrong_type = await _first_result(alice, mine.gid("product"))
    impossible = [await _first_result(alice, fabricated("Project", pk)) for pk in IMPOSSIBLE_PKS]
    for result in (foreign, missing, wrong_type, *impossible):
        assert result.data is None
        assert [(e.message, (e.extensions or {}).get("code")) for e in result.errors] == [
            ("Project not found.", "NOT_FOUND")]


async def test_subscription_on_own_project_streams_its_events(alice, mine, theirs) -> None:
    from outboundql.services import events

    async def publish() -> None:
        await events.publish_account_change(theirs.project.id, theirs.account.id, "updated")
        await events.publish_account_change(mine.project.id, mine.account.id, "updated")

    result = await _first_result(alice, mine.gid("project"), publish)
    assert result.errors is None
    assert result.data == {"accountEvents": {"kind": "UPDATED", "account": {"name": "Account alpha"}}}
