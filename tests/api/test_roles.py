"""Roles inside one project: VIEWER reads only, MEMBER changes data, ADMIN invites members and viewers,
OWNER anyone (the invitee joins by accepting). A refused mutation reports FORBIDDEN as data and changes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from outboundql import models
from outboundql.enums import Role
from tests.api._authz import (
    DATA_MUTATIONS,
    MUTATIONS,
    NEWCOMER_EMAIL,
    READ_MUTATIONS,
    Mutation,
    World,
    build_world,
    own_input,
    snapshot,
)
from tests.helpers import Person, data_of

INVITE = """
mutation($input: InviteMemberInput!) { inviteMember(input: $input) { token errors { code field message } } }
"""
ACCEPT = """
mutation($token: String!) {
  acceptInvitation(input: {token: $token}) { project { members { role user { email } } } errors { code } }
}
"""


@pytest.fixture
async def world(owner: Person) -> World:
    return await build_world(owner, "alpha")


@pytest.fixture
async def newcomer(make_user: Any) -> Person:
    return await make_user(NEWCOMER_EMAIL, "Nina Newcomer")


@pytest.fixture
def with_role(make_user: Any, add_member: Any, world: World) -> Any:
    async def make(role: Role) -> Person:
        person = await make_user(f"{role.value}@example.com", f"A {role.value}")
        await add_member(person, world.project, role)
        return person

    return make


async def run(gql: Any, m: Mutation, world: World, person: Person) -> dict[str, Any]:
    return data_of(await gql(m.document, {"input": own_input(m, world)}, as_=person))[m.op]


# --- VIEWER -------------------------------------------------------------------------------------

READ_EVERYTHING = """
query($slug: String!, $ids: [ID!]!) {
  viewer { email memberships { role project { slug } } apiTokens { name } }
  projects { totalCount edges { node { slug } } }
  project(slug: $slug) {
    slug viewerRole
    members { role user { email } }
    products(includeArchived: true) { slug personas { goalKey status product { slug } } }
    product(slug: "product-alpha") { name persona(goal: "sales") { name } }
    accounts(first: 10) {
      totalCount
      edges { node { name contacts { name account { name } } statusHistory { toStatus changedBy { email } } } }
    }
  }
  nodes(ids: $ids) { __typename id }
}
"""


async def test_viewer_can_run_every_query(gql, world: World, with_role) -> None:
    viewer = await with_role(Role.VIEWER)
    ids = [world.gid(a) for a in ("project", "product", "persona", "account", "contact")]
    data = data_of(await gql(READ_EVERYTHING, {"slug": world.project.slug, "ids": ids}, as_=viewer))

    assert data["viewer"]["memberships"] == [{"role": "VIEWER", "project": {"slug": world.project.slug}}]
    assert data["projects"]["edges"] == [{"node": {"slug": world.project.slug}}]
    project = data["project"]
    assert project["viewerRole"] == "VIEWER"
    assert {m["user"]["email"] for m in project["members"]} == {"owner@example.com", "viewer@example.com"}
    assert project["products"] == [
        {"slug": "product-alpha", "personas": [{"goalKey": "sales", "status": "DRAFT",
                                                "product": {"slug": "product-alpha"}}]}
    ]
    assert project["product"] == {"name": "Product alpha", "persona": {"name": "Buyer alpha"}}
    assert project["accounts"]["totalCount"] == 2
    first = project["accounts"]["edges"][0]["node"]
    assert first["contacts"] == [{"name": "Contact alpha", "account": {"name": "Account alpha"}}]
    assert first["statusHistory"] == [{"toStatus": "NEW", "changedBy": {"email": "owner@example.com"}}]
    assert [n["__typename"] for n in data["nodes"]] == ["Project", "Product", "Persona", "Account", "Contact"]
    assert [n["id"] for n in data["nodes"]] == ids


@pytest.mark.parametrize("m", MUTATIONS, ids=lambda m: m.label)
async def test_viewer_cannot_run_any_mutation(gql, world: World, with_role, newcomer, m: Mutation) -> None:
    viewer = await with_role(Role.VIEWER)
    before = await snapshot()

    payload = await run(gql, m, world, viewer)

    assert [e["code"] for e in payload["errors"]] == ["FORBIDDEN"]
    assert "VIEWER" in payload["errors"][0]["message"].upper()
    result_key = m.result.split()[0]
    assert payload[result_key] in (None, 0)
    assert await snapshot() == before


@pytest.mark.parametrize("m", READ_MUTATIONS, ids=lambda m: m.label)
async def test_viewer_can_run_read_mutations(gql, world: World, with_role, m: Mutation) -> None:
    viewer = await with_role(Role.VIEWER)

    payload = await run(gql, m, world, viewer)

    assert payload["errors"] == []
    assert payload[m.result.split()[0]]


# --- MEMBER -------------------------------------------------------------------------------------


@pytest.mark.parametrize("m", DATA_MUTATIONS, ids=lambda m: m.label)
async def test_member_can_run_data_mutations(gql, world: World, with_role, m: Mutation) -> None:
    member = await with_role(Role.MEMBER)
    before = await snapshot()

    payload = await run(gql, m, world, member)

    assert payload["errors"] == []
    result_key = m.result.split()[0]
    assert payload[result_key]
    if m.op != "unarchiveProduct":  # unarchiving an active product is a no-op
        assert await snapshot() != before


async def test_member_cannot_invite(gql, world: World, with_role, newcomer) -> None:
    member = await with_role(Role.MEMBER)
    before = await snapshot()
    for role in ("VIEWER", "MEMBER"):
        payload = await _invite(gql, world, member, role)
        assert payload["token"] is None
        assert [e["code"] for e in payload["errors"]] == ["FORBIDDEN"]
    assert await snapshot() == before


# --- adding members: ADMIN and OWNER invite, the invitee accepts ----------------------------------


async def _invite(gql: Any, world: World, by: Person, role: str) -> dict[str, Any]:
    variables = {"input": {"projectId": world.gid("project"), "email": NEWCOMER_EMAIL, "role": role}}
    return data_of(await gql(INVITE, variables, as_=by))["inviteMember"]


async def _add(gql: Any, world: World, by: Person, role: str, newcomer: Person) -> dict[str, Any]:
    """Invite the newcomer with ``role``; the newcomer accepts, signed in."""
    invited = await _invite(gql, world, by, role)
    if invited["errors"]:
        return invited
    assert await _role_of_newcomer(world) is None  # nobody joins without accepting
    return data_of(await gql(ACCEPT, {"token": invited["token"]}, as_=newcomer))["acceptInvitation"]


async def _role_of_newcomer(world: World) -> str | None:
    row = await models.Membership.filter(project_id=world.project.id, user__email=NEWCOMER_EMAIL).first()
    return row.role.value if row else None


@pytest.mark.parametrize("role", ["MEMBER", "VIEWER"])
async def test_admin_can_add_members_and_viewers(gql, world: World, with_role, newcomer, role: str) -> None:
    admin = await with_role(Role.ADMIN)
    payload = await _add(gql, world, admin, role, newcomer)
    assert payload["errors"] == []
    assert {"role": role, "user": {"email": NEWCOMER_EMAIL}} in payload["project"]["members"]
    assert await _role_of_newcomer(world) == role.lower()


@pytest.mark.parametrize("role", ["ADMIN", "OWNER"])
async def test_admin_cannot_add_admins_or_owners(gql, world: World, with_role, newcomer, role: str) -> None:
    admin = await with_role(Role.ADMIN)
    before = await snapshot()
    payload = await _invite(gql, world, admin, role)
    assert payload["token"] is None
    assert [e["code"] for e in payload["errors"]] == ["FORBIDDEN"]
    assert "ADMIN" in payload["errors"][0]["message"].upper()
    assert await _role_of_newcomer(world) is None
    assert await snapshot() == before


@pytest.mark.parametrize("role", ["VIEWER", "MEMBER", "ADMIN", "OWNER"])
async def test_owner_can_add_anyone(gql, world: World, owner: Person, newcomer, role: str) -> None:
    payload = await _add(gql, world, owner, role, newcomer)
    assert payload["errors"] == []
    assert await _role_of_newcomer(world) == role.lower()


async def test_the_added_role_takes_effect(gql, world: World, owner: Person, newcomer) -> None:
    """A viewer added by the owner can read the project but not change it."""
    assert (await _add(gql, world, owner, "VIEWER", newcomer))["errors"] == []
    query = "query($id: ID!) { node(id: $id) { ... on Project { slug viewerRole } } }"
    assert data_of(await gql(query, {"id": world.gid("project")}, as_=newcomer))["node"] == {
        "slug": world.project.slug, "viewerRole": "VIEWER"}
    m = next(m for m in MUTATIONS if m.op == "updateProduct")
    payload = await run(gql, m, world, newcomer)
    assert [e["code"] for e in payload["errors"]] == ["FORBIDDEN"]


async def test_inviting_an_existing_member(gql, world: World, owner: Person, newcomer) -> None:
    assert (await _add(gql, world, owner, "MEMBER", newcomer))["errors"] == []
    again = await _invite(gql, world, owner, "VIEWER")
    assert [(e["code"], e["field"]) for e in again["errors"]] == [("CONFLICT", "input.email")]
    assert await _role_of_newcomer(world) == "member"


async def test_members_are_added_only_by_invitation(gql) -> None:
    """No mutation adds a user by e-mail without their consent (the removed addProjectMember did)."""
    data = data_of(await gql('{ __type(name: "Mutation") { fields(includeDeprecated: true) { name } } }'))
    assert "addProjectMember" not in {f["name"] for f in data["__type"]["fields"]}


async def test_every_mutation_of_the_slice_is_covered(gql) -> None:
    """A new mutation must be added to the role and tenancy tables (_authz.MUTATIONS)."""
    data = data_of(await gql('{ __type(name: "Mutation") { fields(includeDeprecated: true) { name } } }'))
    names = {f["name"] for f in data["__type"]["fields"]}
    # createApiToken / revokeApiToken / createProject need no project role (see test_api_tokens), nor do
    # acceptInvitation and updateViewer (test_teams). importAccounts takes its file in a multipart request: its roles
    # and tenancy are tested in test_import_jobs (and enumerated by tests/reliability).
    covered = {m.op for m in MUTATIONS + READ_MUTATIONS}
    assert names - {"createApiToken", "revokeApiToken", "createProject", "importAccounts", "acceptInvitation",
                    "updateViewer"} == covered
