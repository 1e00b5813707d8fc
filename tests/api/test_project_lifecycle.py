"""A project's life through GraphQL: renaming, archiving (read-only, hidden, live campaigns paused), unarchiving,
deleting with everything in it (owners only, the name typed back, audited outside the project)."""

from __future__ import annotations

from typing import Any

import pytest
from tortoise import Tortoise

from outboundql import models
from outboundql.enums import ExecutionState, Role
from tests.api._authz import MUTATIONS, World, build_world, own_input, snapshot
from tests.helpers import Person, data_of, global_id

UPDATE = """
mutation($input: UpdateProjectInput!) {
  updateProject(input: $input) { project { name slug description } errors { code field message } }
}"""
ARCHIVE = """
mutation($input: ProjectIdInput!) {
  archiveProject(input: $input) { project { archivedAt } pausedCampaignIds errors { code field message } }
}"""
UNARCHIVE = """
mutation($input: ProjectIdInput!) {
  unarchiveProject(input: $input) { project { archivedAt } errors { code field message } }
}"""
DELETE = """
mutation($input: DeleteProjectInput!) {
  deleteProject(input: $input) { deletedProjectId errors { code field message } }
}"""
LISTS = "query { projects { edges { node { slug } } } all: projects(includeArchived: true) { totalCount } }"


@pytest.fixture
async def world(owner: Person) -> World:
    return await build_world(owner, "alpha")


def pid(world: World) -> dict[str, Any]:
    return {"input": {"id": world.gid("project")}}


async def test_update_project(gql, world: World, owner: Person, make_project) -> None:
    other = await make_project(owner, "Taken")
    renamed = data_of(await gql(UPDATE, {"input": {"id": world.gid("project"), "name": " Alpha Two ",
                                                   "description": "Our team"}}, as_=owner))["updateProject"]
    assert renamed == {"project": {"name": "Alpha Two", "slug": world.project.slug, "description": "Our team"},
                       "errors": []}
    taken = data_of(await gql(UPDATE, {"input": {"id": world.gid("project"), "slug": other.slug}},
                              as_=owner))["updateProject"]
    assert [(e["code"], e["field"]) for e in taken["errors"]] == [("CONFLICT", "input.slug")]
    bad = data_of(await gql(UPDATE, {"input": {"id": world.gid("project"), "slug": "Not A Slug", "name": ""}},
                            as_=owner))["updateProject"]
    assert sorted((e["code"], e["field"]) for e in bad["errors"]) == [("INVALID", "input.name"),
                                                                     ("INVALID", "input.slug")]
    moved = data_of(await gql(UPDATE, {"input": {"id": world.gid("project"), "slug": "alpha-two"}},
                              as_=owner))["updateProject"]
    assert moved["project"]["slug"] == "alpha-two"
    event = await models.AuditEvent.filter(project_id=world.project.id, action="project.update").order_by("id")
    assert (event[0].before, event[0].after) == ({"name": "Project alpha", "description": ""},
                                                 {"name": "Alpha Two", "description": "Our team"})


async def test_an_archived_project_refuses_every_change(gql, world: World, owner: Person) -> None:
    assert world.outreach_campaign is not None
    archived = data_of(await gql(ARCHIVE, pid(world), as_=owner))["archiveProject"]
    assert archived["errors"] == [] and archived["project"]["archivedAt"]
    assert archived["pausedCampaignIds"] == [global_id("Campaign", world.outreach_campaign.id)]
    campaign = await models.Campaign.get(id=world.outreach_campaign.id)
    assert campaign.execution_state is ExecutionState.PAUSED
    data = data_of(await gql(LISTS, as_=owner))
    assert data["projects"]["edges"] == [] and data["all"]["totalCount"] == 1

    before = await snapshot(world.project.id)
    lifecycle = {"archiveProject", "unarchiveProject", "deleteProject"}
    refused = []
    for m in MUTATIONS:
        if m.op in lifecycle:
            continue
        payload = data_of(await gql(m.document, {"input": own_input(m, world)}, as_=owner))[m.op]
        if [e["code"] for e in payload["errors"]] != ["PROJECT_ARCHIVED"]:
            refused.append(f"{m.label}: {payload['errors']}")
    assert not refused, "\n".join(refused)
    assert await snapshot(world.project.id) == before
    again = data_of(await gql(ARCHIVE, pid(world), as_=owner))["archiveProject"]
    assert again["errors"] == [] and again["pausedCampaignIds"] == []

    back = data_of(await gql(UNARCHIVE, pid(world), as_=owner))["unarchiveProject"]
    assert back == {"project": {"archivedAt": None}, "errors": []}
    m = next(m for m in MUTATIONS if m.op == "updateProduct")
    assert data_of(await gql(m.document, {"input": own_input(m, world)}, as_=owner))[m.op]["errors"] == []
    assert (await models.Campaign.get(id=world.outreach_campaign.id)).execution_state is ExecutionState.PAUSED
    actions = await models.AuditEvent.filter(project_id=world.project.id, action__startswith="project.") \
        .order_by("id").values_list("action", flat=True)
    assert list(actions) == ["project.create", "project.archive", "project.unarchive"]


async def test_who_archives_and_deletes(gql, world: World, owner: Person, make_user, add_member) -> None:
    people = {}
    for role in (Role.VIEWER, Role.MEMBER, Role.ADMIN):
        people[role] = await make_user(f"{role.value}@example.com")
        await add_member(people[role], world.project, role)
    for role in (Role.VIEWER, Role.MEMBER):
        payload = data_of(await gql(ARCHIVE, pid(world), as_=people[role]))["archiveProject"]
        assert [e["code"] for e in payload["errors"]] == ["FORBIDDEN"]
    assert data_of(await gql(ARCHIVE, pid(world), as_=people[Role.ADMIN]))["archiveProject"]["errors"] == []
    refused = data_of(await gql(DELETE, {"input": {"id": world.gid("project"), "confirmName": world.project.name}},
                                as_=people[Role.ADMIN]))["deleteProject"]
    assert [e["code"] for e in refused["errors"]] == ["FORBIDDEN"]
    wrong = data_of(await gql(DELETE, {"input": {"id": world.gid("project"), "confirmName": "project alpha"}},
                              as_=owner))["deleteProject"]
    assert [(e["code"], e["field"]) for e in wrong["errors"]] == [("INVALID", "input.confirmName")]
    assert await models.Project.filter(id=world.project.id).exists()


async def _counts() -> dict[str, int]:
    return {name: await model.all().count() for name, model in Tortoise.apps["models"].items()}


async def test_deleting_removes_everything_of_the_project_and_nothing_else(
    gql, owner: Person, make_user, add_member
) -> None:
    keeper = await make_user("keeper@example.com")
    await build_world(keeper, "beta")
    doomed_owner = await make_user("doomed@example.com")
    member = await make_user("member@example.com")
    counts = await _counts()
    doomed = await build_world(doomed_owner, "alpha")
    await add_member(member, doomed.project, Role.MEMBER)
    # Rows of every other kind the project can hold: an API usage record, an import, an archived state.
    await models.ApiUsage.create(project_id=doomed.project.id, provider="test", model="m", operation="score",
                                 cost_usd="0.01")
    assert await _counts() != counts

    deleted = data_of(await gql(DELETE, {"input": {"id": doomed.gid("project"), "confirmName": "Project alpha"}},
                                as_=doomed_owner))["deleteProject"]
    assert deleted == {"deletedProjectId": doomed.gid("project"), "errors": []}

    after = await _counts()
    assert after.pop("AuditEvent") == counts.pop("AuditEvent") + 1
    assert after == counts
    event = await models.AuditEvent.get(action="project.delete")
    assert event.project_id is None and event.actor_id == doomed_owner.user.id
    assert event.before is not None and event.before["name"] == "Project alpha"
    assert event.before["members"] == 2
    assert data_of(await gql("{ viewer { memberships { role } } }", as_=member))["viewer"]["memberships"] == []
