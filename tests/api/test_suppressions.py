"""The suppression list through GraphQL: addSuppressions (normalised, validated per entry, already present answered,
capped), Project.suppressions (newest first, by kind, searched), removeSuppressions, roles and tenancy; and what it
holds back: planning disqualifies a row nobody reachable is left at (or whose domain is suppressed), with why on the
row, and logMessage refuses a sent message to a suppressed address unless told to log it all the same."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from outboundql import models
from outboundql.enums import ExecutionMode, ExecutionStatus, Role
from outboundql.services.clock import FakeClock
from outboundql.settings import Settings
from tests.api.cadence_world import MONDAY_8, World, call_step, email_step, gid
from tests.api.cadence_world import world as world  # the fixture
from tests.helpers import Person, data_of

ADD = """
mutation($input: AddSuppressionsInput!) {
  addSuppressions(input: $input) {
    added { id kind value reason source createdAt createdBy { email } }
    alreadyPresent { id kind value reason source }
    errors { code field message }
  }
}
"""

REMOVE = """
mutation($input: RemoveSuppressionsInput!) {
  removeSuppressions(input: $input) { removedIds errors { code field message } }
}
"""

LIST = """
query($id: ID!, $kind: SuppressionKind, $search: String, $first: Int, $after: String) {
  node(id: $id) {
    ... on Project {
      suppressions(kind: $kind, search: $search, first: $first, after: $after) {
        totalCount pageInfo { hasNextPage endCursor } edges { node { id kind value reason source } }
      }
    }
  }
}
"""

LOG = """
mutation($input: LogMessageInput!) {
  logMessage(input: $input) { message { id } errors { code field message } }
}
"""


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(MONDAY_8)


@pytest.fixture
def settings() -> Settings:
    """At most 5 entries per call, so the cap shows with a few."""
    return Settings(database_url="sqlite://:memory:", redis_url=None, max_bulk_items=5)


def entry(kind: str, value: str, reason: str | None = None) -> dict[str, Any]:
    return {"kind": kind, "value": value, **({"reason": reason} if reason is not None else {})}


async def add(gql: Any, person: Person, project: models.Project, *entries: dict[str, Any]) -> dict[str, Any]:
    result = await gql(ADD, {"input": {"projectId": gid("Project", project), "entries": list(entries)}}, as_=person)
    return dict(data_of(result)["addSuppressions"])


async def listed(gql: Any, person: Person, project: models.Project, **args: Any) -> dict[str, Any] | None:
    node = data_of(await gql(LIST, {"id": gid("Project", project), **args}, as_=person))["node"]
    return None if node is None else node["suppressions"]


def values(page: dict[str, Any] | None) -> list[str]:
    assert page is not None
    return [e["node"]["value"] for e in page["edges"]]


async def test_add_normalises_validates_and_answers_what_was_already_there(
        gql: Any, owner: Person, project: models.Project, clock: FakeClock) -> None:
    payload = await add(gql, owner, project, entry("EMAIL", " Jane.Doe@ACME.example ", "Asked by phone."),
                        entry("EMAIL", "not an address"), entry("PHONE", "+34 612 345 678"),
                        entry("DOMAIN", "https://www.Globex.example/about"), entry("PHONE", "612"))
    assert [(s["kind"], s["value"], s["reason"], s["source"]) for s in payload["added"]] == [
        ("EMAIL", "jane.doe@acme.example", "Asked by phone.", "MANUAL"), ("PHONE", "+34612345678", "", "MANUAL"),
        ("DOMAIN", "globex.example", "", "MANUAL")]
    assert {s["createdBy"]["email"] for s in payload["added"]} == {owner.user.email}
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [
        ("INVALID", "input.entries[1].value"), ("INVALID", "input.entries[4].value")]
    assert "not a valid e-mail address" in payload["errors"][0]["message"]
    assert payload["alreadyPresent"] == []

    clock.advance(timedelta(minutes=1))
    again = await add(gql, owner, project, entry("EMAIL", "JANE.DOE@acme.example", "Another reason"),
                      entry("EMAIL", "jane.doe@acme.example"), entry("DOMAIN", "initech.example"))
    assert again["errors"] == []
    assert [(s["value"], s["reason"]) for s in again["alreadyPresent"]] == [
        ("jane.doe@acme.example", "Asked by phone.")]
    assert [s["value"] for s in again["added"]] == ["initech.example"]
    events = await models.AuditEvent.filter(project_id=project.id, action="suppression.add").order_by("id")
    assert [e.after["value"] for e in events if e.after] == [
        "jane.doe@acme.example", "+34612345678", "globex.example", "initech.example"]
    assert all(e.actor_id == owner.user.id and e.object_type == "Suppression" for e in events)


async def test_a_request_with_no_entries_or_too_many_writes_nothing(
        gql: Any, owner: Person, project: models.Project) -> None:
    none = await add(gql, owner, project)
    assert [(e["code"], e["field"]) for e in none["errors"]] == [("INVALID", "input.entries")]
    many = await add(gql, owner, project, *(entry("EMAIL", f"p{i}@acme.example") for i in range(6)))
    assert [(e["code"], e["field"], e["message"]) for e in many["errors"]] == [
        ("INVALID", "input.entries", "At most 5 entries per request; send the rest in further requests.")]
    assert await models.Suppression.filter(project_id=project.id).count() == 0


async def test_the_list_is_paged_newest_first_by_kind_and_searched(
        gql: Any, owner: Person, project: models.Project, clock: FakeClock) -> None:
    for value in ("a@acme.example", "b@acme.example", "c@globex.example"):
        await add(gql, owner, project, entry("EMAIL", value))
        clock.advance(timedelta(minutes=1))
    await add(gql, owner, project, entry("PHONE", "+34 612 345 678"), entry("DOMAIN", "acme.example"))
    everything = await listed(gql, owner, project)
    assert everything is not None and everything["totalCount"] == 5
    assert values(everything)[2:] == ["c@globex.example", "b@acme.example", "a@acme.example"]
    first = await listed(gql, owner, project, first=2)
    assert first is not None and first["pageInfo"]["hasNextPage"]
    rest = await listed(gql, owner, project, first=3, after=first["pageInfo"]["endCursor"])
    assert values(first) + values(rest) == values(everything)
    assert values(await listed(gql, owner, project, kind="EMAIL")) == [
        "c@globex.example", "b@acme.example", "a@acme.example"]
    assert values(await listed(gql, owner, project, search="ACME")) == [
        "acme.example", "b@acme.example", "a@acme.example"]
    assert values(await listed(gql, owner, project, search="612 345")) == ["+34612345678"]
    assert values(await listed(gql, owner, project, search="nobody")) == []


async def test_remove_by_id_answers_unknown_ids_and_is_audited(
        gql: Any, owner: Person, project: models.Project, make_project: Any) -> None:
    added = (await add(gql, owner, project, entry("EMAIL", "a@acme.example"), entry("DOMAIN", "acme.example")))["added"]
    other = await make_project(owner, "Other")
    theirs = (await add(gql, owner, other, entry("EMAIL", "a@acme.example")))["added"][0]
    result = data_of(await gql(REMOVE, {"input": {"projectId": gid("Project", project),
                                                  "ids": [added[0]["id"], theirs["id"]]}}, as_=owner))
    payload = result["removeSuppressions"]
    assert payload["removedIds"] == [added[0]["id"]]
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("NOT_FOUND", "input.ids[1]")]
    assert values(await listed(gql, owner, project)) == ["acme.example"]
    assert values(await listed(gql, owner, other)) == ["a@acme.example"]  # another project's entry stays
    event = await models.AuditEvent.get(project_id=project.id, action="suppression.remove")
    assert event.before == {"kind": "email", "value": "a@acme.example", "reason": "", "source": "manual"}


async def test_a_viewer_reads_but_cannot_write_and_another_project_is_invisible(
        gql: Any, owner: Person, project: models.Project, make_user: Any, add_member: Any,
        make_project: Any) -> None:
    added = (await add(gql, owner, project, entry("EMAIL", "a@acme.example")))["added"]
    viewer = await make_user("viewer@example.com")
    await add_member(viewer, project, Role.VIEWER)
    assert values(await listed(gql, viewer, project)) == ["a@acme.example"]
    refused = await add(gql, viewer, project, entry("EMAIL", "b@acme.example"))
    assert [e["code"] for e in refused["errors"]] == ["FORBIDDEN"] and refused["added"] == []
    removal = data_of(await gql(REMOVE, {"input": {"projectId": gid("Project", project), "ids": [added[0]["id"]]}},
                                as_=viewer))["removeSuppressions"]
    assert [e["code"] for e in removal["errors"]] == ["FORBIDDEN"] and removal["removedIds"] == []

    stranger = await make_user("stranger@example.com")
    await make_project(stranger, "Theirs")
    assert await listed(gql, stranger, project) is None
    blocked = await add(gql, stranger, project, entry("EMAIL", "b@acme.example"))
    assert [(e["code"], e["field"]) for e in blocked["errors"]] == [("NOT_FOUND", "input.projectId")]
    node = data_of(await gql("query($id: ID!) { node(id: $id) { id } }", {"id": added[0]["id"]}, as_=stranger))
    assert node["node"] is None
    assert await models.Suppression.filter(project_id=project.id).count() == 1


async def test_planning_disqualifies_a_row_whose_reachable_addresses_or_domain_are_suppressed(
        gql: Any, owner: Person, project: models.Project, world: World) -> None:
    await world.cadence(steps=[email_step()], executionMode=ExecutionMode.ON_ADD.name)
    barred = await world.account("Acme", {"name": "Jane", "email": "jane@acme.example"},
                                 {"name": "Joe", "email": "joe@acme.example"})
    fallback = await world.account("Initech", {"name": "Ann", "email": "ann@initech.example"},
                                   {"name": "Bob", "email": "bob@initech.example"})
    by_domain = await world.account("Globex", {"name": "Gil", "email": "gil@globex.example"}, domain="globex.example")
    clear = await world.account("Hooli", {"name": "Hal", "email": "hal@hooli.example"})
    await add(gql, owner, project, entry("EMAIL", "jane@acme.example", "Asked us to stop."),
              entry("EMAIL", "JOE@acme.example"), entry("EMAIL", "ann@initech.example"),
              entry("DOMAIN", "globex.example", "Legal said no."))
    await world.go_live()

    row = await world.row(barred)
    assert row["execution"]["status"] == ExecutionStatus.DISQUALIFIED.name
    assert [(a["status"], a["address"], a["error"]) for a in row["attempts"]] == [
        ("CANCELLED", "jane@acme.example", "Nobody at Acme can be reached by email: jane@acme.example, "
         "joe@acme.example are on the project's suppression list.")]
    row = await world.row(by_domain)
    assert row["execution"]["status"] == ExecutionStatus.DISQUALIFIED.name
    assert [a["error"] for a in row["attempts"]] == [
        "globex.example, the domain of Globex, is on the project's suppression list: nobody there is contacted."]
    next_attempt = (await world.row(fallback))["execution"]["nextAttempt"]
    assert next_attempt["address"] == "bob@initech.example"  # the suppressed contact is passed over
    assert (await world.row(clear))["execution"]["nextAttempt"]["address"] == "hal@hooli.example"


async def test_a_suppressed_domain_holds_back_calls_to_the_organisation_too(
        gql: Any, owner: Person, project: models.Project, world: World) -> None:
    await world.cadence(steps=[call_step()], executionMode=ExecutionMode.ON_ADD.name)
    row = await world.account("Globex", {"name": "Gil", "phone": "+34600000001"}, domain="globex.example")
    await add(gql, owner, project, entry("DOMAIN", "globex.example"))
    await world.go_live()
    seen = await world.row(row)
    assert seen["execution"]["status"] == ExecutionStatus.DISQUALIFIED.name
    assert "globex.example, the domain of Globex" in seen["attempts"][0]["error"]


async def test_log_message_refuses_a_sent_message_to_a_suppressed_address_unless_overridden(
        gql: Any, owner: Person, project: models.Project, world: World) -> None:
    row = await world.account("Acme", {"name": "Jane", "email": "jane@acme.example", "phone": "+34600000001"},
                              domain="acme.example")
    contact = await world.contact("Jane")
    await add(gql, owner, project, entry("EMAIL", "jane@acme.example", "Asked us to stop."))
    base = {"campaignAccountId": gid("CampaignAccount", row), "contactId": gid("Contact", contact), "text": "Hi"}
    refused = data_of(await gql(LOG, {"input": {**base, "channel": "EMAIL"}}, as_=owner))["logMessage"]
    assert refused["message"] is None
    assert refused["errors"] == [{
        "code": "INVALID", "field": "input.contactId",
        "message": "jane@acme.example is on the project's suppression list since 2026-03-02 (manual: Asked us to "
                   "stop.): a sent outbound message cannot be logged, and nothing was written. If it went out all "
                   "the same, log it with overrideSuppression."}]
    assert await models.Message.filter(campaign_account_id=row.id).count() == 0
    # The phone is not suppressed: a call is logged.
    call = data_of(await gql(LOG, {"input": {**base, "channel": "PHONE_CALL"}}, as_=owner))["logMessage"]
    assert call["errors"] == [] and call["message"] is not None
    # A received message is never refused.
    inbound = data_of(await gql(LOG, {"input": {**base, "channel": "EMAIL", "direction": "INBOUND"}},
                                as_=owner))["logMessage"]
    assert inbound["errors"] == []
    forced = data_of(await gql(LOG, {"input": {**base, "channel": "EMAIL", "overrideSuppression": True}},
                               as_=owner))["logMessage"]
    assert forced["errors"] == [] and forced["message"] is not None

    await add(gql, owner, project, entry("DOMAIN", "acme.example", "The whole company."))
    by_domain = data_of(await gql(LOG, {"input": {**base, "channel": "PHONE_CALL"}}, as_=owner))["logMessage"]
    assert [e["message"].split(":")[0] for e in by_domain["errors"]] == [
        "Every address at acme.example is on the project's suppression list since 2026-03-02 (manual"]


async def test_a_page_costs_the_same_statements_for_3_or_30_entries(
        gql: Any, owner: Person, project: models.Project, make_user: Any, add_member: Any,
        count_queries: Any) -> None:
    query = """query($id: ID!) { node(id: $id) { ... on Project { suppressions(first: 50) { totalCount
        edges { node { id kind value reason source createdAt createdBy { email } } } } } } }"""
    members = [owner]
    for i in range(2):
        member = await make_user(f"m{i}@example.com")
        await add_member(member, project, Role.MEMBER)
        members.append(member)

    async def statements(count: int, start: int) -> int:
        for i in range(count):
            await add(gql, members[i % 3], project, entry("EMAIL", f"p{start + i}@acme.example"))
        with count_queries() as counted:
            page = data_of(await gql(query, {"id": gid("Project", project)}, as_=owner))["node"]["suppressions"]
        assert page["totalCount"] == start + count
        assert {e["node"]["createdBy"]["email"] for e in page["edges"]} == {m.user.email for m in members}
        return len(counted)

    assert await statements(3, 0) == await statements(27, 3)
