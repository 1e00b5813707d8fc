"""The audit trail through GraphQL: `Project.auditEvents` in keyset pages, its filters, the trails of a campaign
and an account, where each change came from, and erased people never reappearing in it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from outboundql import models
from outboundql.models.audit import AuditSource
from outboundql.services import audit
from tests.api._authz import World, build_world
from tests.helpers import Person, data_of, global_id

EVENTS = """
query($slug: String!, $filter: AuditEventFilter, $first: Int, $after: String, $last: Int, $before: String) {
  project(slug: $slug) {
    auditEvents(filter: $filter, first: $first, after: $after, last: $last, before: $before) {
      totalCount
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      edges { cursor node { id action objectType objectId createdAt source apiTokenName actor { email }
                            changes { field before after } } }
    }
  }
}"""
UPDATE_CAMPAIGN = """
mutation($input: UpdateCampaignInput!) { updateCampaign(input: $input) { errors { code field message } } }"""


@pytest.fixture
async def world(owner: Person) -> World:
    return await build_world(owner, "alpha")


async def events(gql: Any, person: Person, world: World, **variables: Any) -> dict[str, Any]:
    result = await gql(EVENTS, {"slug": world.project.slug, **variables}, as_=person)
    return data_of(result)["project"]["auditEvents"]


async def test_pages_are_keyset_pages_newest_first(gql, owner: Person, world: World) -> None:
    everything = await events(gql, owner, world, first=100)
    total = everything["totalCount"]
    assert total == len(everything["edges"]) > 10
    ids = [e["node"]["id"] for e in everything["edges"]]
    stamps = [e["node"]["createdAt"] for e in everything["edges"]]
    assert stamps == sorted(stamps, reverse=True)

    seen: list[str] = []
    after = None
    while True:
        page = await events(gql, owner, world, first=4, after=after)
        seen += [e["node"]["id"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
        # A change written while paging lands before the first page, never in the next one.
        await gql(UPDATE_CAMPAIGN, {"input": {"id": world.gid("campaign"), "description": f"d{len(seen)}"}},
                  as_=owner)
    assert seen == ids

    back = await events(gql, owner, world, last=3, before=everything["edges"][5]["cursor"])
    assert [e["node"]["id"] for e in back["edges"]] == ids[2:5]
    assert back["pageInfo"]["hasPreviousPage"] is True
    oldest = await events(gql, owner, world, last=2)
    assert [e["node"]["id"] for e in oldest["edges"]] == ids[-2:]

    bad = await gql(EVENTS, {"slug": world.project.slug, "after": "bm90IGEgY3Vyc29y"}, as_=owner)
    assert [e["extensions"]["code"] for e in bad["errors"]] == ["BAD_PAGINATION"]
    big = await gql(EVENTS, {"slug": world.project.slug, "first": 101}, as_=owner)
    assert [e["extensions"]["code"] for e in big["errors"]] == ["PAGE_TOO_LARGE"]


async def test_a_change_shows_who_when_where_and_only_what_changed(gql, owner: Person, world: World) -> None:
    assert world.campaign is not None
    done = data_of(await gql(UPDATE_CAMPAIGN, {"input": {"id": world.gid("campaign"), "description": "Spring push",
                                                         "name": world.campaign.name}}, as_=owner))
    assert done["updateCampaign"]["errors"] == []
    page = await events(gql, owner, world, first=1, filter={"actions": ["campaign.update"]})
    node = page["edges"][0]["node"]
    assert node["action"] == "campaign.update" and node["objectType"] == "Campaign"
    assert node["objectId"] == world.gid("campaign")
    assert node["actor"] == {"email": "owner@example.com"}
    assert (node["source"], node["apiTokenName"]) == ("API", "test")
    assert node["changes"] == [{"field": "description", "before": "", "after": "Spring push"}]
    # Rows written by services called directly (as the world was built) are the worker's.
    first = await events(gql, owner, world, last=1)
    assert first["edges"][0]["node"]["source"] == "WORKER"


async def test_filters(gql, owner: Person, world: World, make_user, add_member) -> None:
    from outboundql.enums import Role

    colleague = await make_user("colleague@example.com")
    await add_member(colleague, world.project, Role.MEMBER)
    await gql(UPDATE_CAMPAIGN, {"input": {"id": world.gid("campaign"), "description": "By a colleague"}},
              as_=colleague)

    by_colleague = await events(gql, owner, world, filter={"actorId": global_id("User", colleague.user.id)})
    assert [e["node"]["action"] for e in by_colleague["edges"]] == ["campaign.update"]
    about = await events(gql, owner, world, filter={"objectId": world.gid("campaign")})
    assert {e["node"]["objectId"] for e in about["edges"]} == {world.gid("campaign")}
    assert {e["node"]["action"] for e in about["edges"]} >= {"campaign.create", "campaign.update"}
    kinds = await events(gql, owner, world, filter={"actions": ["campaign.", "expense.add"]})
    assert {e["node"]["action"].split(".")[0] for e in kinds["edges"]} == {"campaign", "expense"}
    typed = await events(gql, owner, world, filter={"objectType": "Invitation"})
    assert [e["node"]["action"] for e in typed["edges"]] == ["invitation.create"]
    newest = about["edges"][0]["node"]["createdAt"]
    since = await events(gql, owner, world, filter={"since": newest, "objectId": world.gid("campaign")})
    assert [e["node"]["id"] for e in since["edges"]] == [about["edges"][0]["node"]["id"]]
    until = await events(gql, owner, world, filter={"until": newest, "objectId": world.gid("campaign")})
    assert about["edges"][0]["node"]["id"] not in {e["node"]["id"] for e in until["edges"]}
    api = await events(gql, owner, world, filter={"source": "API"})
    assert [e["node"]["actor"]["email"] for e in api["edges"]] == ["colleague@example.com"]
    nobody = await events(gql, owner, world, filter={"actorId": global_id("User", 987_654)})
    assert nobody["totalCount"] == 0
    refused = await gql(EVENTS, {"slug": world.project.slug}, as_=colleague)  # a member: not the project's trail
    assert [e["extensions"]["code"] for e in refused["errors"]] == ["FORBIDDEN"]


async def test_campaign_and_account_trails_and_provenance(gql, owner: Person, world: World) -> None:
    assert world.campaign is not None
    query = """
    query($campaign: ID!, $account: ID!, $product: ID!) {
      product: node(id: $product) { ... on Product { createdBy { email } } }
      campaign: node(id: $campaign) { ... on Campaign { createdBy { email }
        auditEvents(first: 50) { edges { node { action objectId } } } } }
      account: node(id: $account) { ... on Account {
        auditEvents(first: 50, filter: {actions: ["contact."]}) { edges { node { action objectType } } } } }
    }"""
    data = data_of(await gql(query, {"campaign": world.gid("campaign"), "account": world.gid("account"),
                                     "product": world.gid("product")}, as_=owner))
    assert data["campaign"]["createdBy"] == data["product"]["createdBy"] == {"email": "owner@example.com"}
    assert {e["node"]["objectId"] for e in data["campaign"]["auditEvents"]["edges"]} == {world.gid("campaign")}
    assert {e["node"]["action"] for e in data["campaign"]["auditEvents"]["edges"]} >= {"campaign.create"}
    account_events = data["account"]["auditEvents"]["edges"]
    assert account_events and {e["node"]["objectType"] for e in account_events} == {"Contact"}


async def test_the_trail_stays_inside_the_project(gql, owner: Person, world: World, make_user) -> None:
    stranger = await make_user("stranger@example.com")
    theirs = await build_world(stranger, "beta")
    mine = await events(gql, owner, world, first=100)
    assert theirs.campaign is not None
    leaked = await events(gql, owner, world, filter={"objectId": theirs.gid("campaign")})
    assert leaked["totalCount"] == 0
    assert "beta" not in json.dumps(mine)
    node = "query($id: ID!) { node(id: $id) { id } }"
    foreign = await models.AuditEvent.filter(project_id=theirs.project.id).first()
    assert foreign is not None
    assert data_of(await gql(node, {"id": global_id("AuditEvent", foreign.id)}, as_=owner))["node"] is None


async def test_erased_people_never_reappear(gql, owner: Person, world: World) -> None:
    contact_email = "erase.me@alpha-one.example"
    update_contact = """mutation($input: UpdateContactInput!) { updateContact(input: $input) { errors { code } } }"""
    assert data_of(await gql(update_contact, {"input": {"id": world.gid("contact"), "email": contact_email}},
                             as_=owner))["updateContact"]["errors"] == []
    before = await events(gql, owner, world, first=100)
    assert contact_email in json.dumps(before)

    erase = """mutation($input: DeleteAccountsInput!) { deleteAccounts(input: $input) { errors { code } } }"""
    assert data_of(await gql(erase, {"input": {"accountIds": [world.gid("account")]}},
                             as_=owner))["deleteAccounts"]["errors"] == []
    after = await events(gql, owner, world, first=100)
    text = json.dumps(after)
    assert contact_email not in text and "Contact alpha" not in text
    assert "account.erase" in {e["node"]["action"] for e in after["edges"]}


async def test_sources_of_commands_and_imports(owner: Person, world: World) -> None:
    for source in (AuditSource.CLI, AuditSource.IMPORT):
        with audit.origin(source):
            await audit.record(project_id=world.project.id, actor=None, action="test.origin", row=world.project)
            await models.AuditEvent.bulk_create([models.AuditEvent(
                project_id=world.project.id, action="test.bulk", object_type="Project", object_id=world.project.id)])
    rows = await models.AuditEvent.filter(action__startswith="test.").order_by("id").values_list("source", flat=True)
    assert [AuditSource(s) for s in rows] == [AuditSource.CLI, AuditSource.CLI, AuditSource.IMPORT,
                                              AuditSource.IMPORT]
