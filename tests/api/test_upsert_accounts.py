"""upsertAccounts: accounts and contacts kept in step with a CRM by (source, externalId) — UPSERT creates,
updates or links a dedupe match, UPDATE_ONLY never creates, REMOVE erases; the same call again answers
UNCHANGED everywhere; each item answered on its own, bad ones failing alone."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from outboundql import models
from outboundql.enums import AccountStatus, Role
from outboundql.services import campaign_stats
from tests.helpers import Person, data_of, global_id

UPSERT = """
mutation($input: UpsertAccountsInput!) {
  upsertAccounts(input: $input) {
    results {
      index externalId result changedFields
      account { id name domain city industry tags source externalId status
                contacts { name email phone title source externalId doNotContact } }
      errors { code field message }
    }
    createdCount updatedCount unchangedCount removedCount failedCount
    errors { code field message }
  }
}
"""


async def upsert(gql: Any, owner: Person, project: models.Project, items: list[dict[str, Any]],
                 mode: str = "UPSERT", source: str = "hubspot") -> dict[str, Any]:
    result = await gql(UPSERT, {"input": {"projectId": global_id("Project", project.id), "source": source,
                                          "mode": mode, "items": items}}, as_=owner)
    return data_of(result)["upsertAccounts"]


def outcomes(answer: dict[str, Any]) -> list[str]:
    return [r["result"] for r in answer["results"]]


ITEMS = [
    {"externalId": "c-1", "name": "Acme Robotics", "domain": "acme.example", "city": "Madrid",
     "tags": ["crm"], "contacts": [{"externalId": "p-1", "name": "Ana", "email": "ana@acme.example"},
                                   {"externalId": "p-2", "name": "Bo", "phone": "+34600000001"}]},
    {"externalId": "c-2", "name": "Bakery Bros", "industry": "Food"},
]


async def test_upsert_creates_then_the_same_call_is_unchanged_everywhere(gql, owner: Person,
                                                                        project: models.Project) -> None:
    first = await upsert(gql, owner, project, ITEMS)
    assert first["errors"] == []
    assert outcomes(first) == ["CREATED", "CREATED"] and first["createdCount"] == 2
    acme = first["results"][0]["account"]
    assert acme["source"] == "hubspot" and acme["externalId"] == "c-1" and acme["status"] == "NEW"
    assert [(c["name"], c["externalId"], c["source"]) for c in acme["contacts"]] == [
        ("Ana", "p-1", "hubspot"), ("Bo", "p-2", "hubspot")]
    bakery = await models.Account.get(external_id="c-2")
    assert await models.AccountStatusChange.filter(account_id=bakery.id).count() == 1
    audit_before = await models.AuditEvent.all().count()

    again = await upsert(gql, owner, project, ITEMS)
    assert outcomes(again) == ["UNCHANGED", "UNCHANGED"] and again["unchangedCount"] == 2
    assert [r["changedFields"] for r in again["results"]] == [[], []]
    assert again["results"][0]["account"]["id"] == acme["id"]
    assert await models.Account.filter(project=project).count() == 2
    assert await models.Contact.filter(project=project).count() == 2
    assert await models.AuditEvent.all().count() == audit_before  # nothing written


async def test_given_fields_replace_omitted_ones_stay_and_null_clears(gql, owner: Person,
                                                                     project: models.Project) -> None:
    await upsert(gql, owner, project, ITEMS)
    answer = await upsert(gql, owner, project, [
        {"externalId": "c-1", "city": "Barcelona", "industry": "Robots", "tags": None, "status": "CUSTOMER",
         "contacts": [{"externalId": "p-1", "title": "CTO", "email": None}]},
    ])
    assert outcomes(answer) == ["UPDATED"]
    result = answer["results"][0]
    assert set(result["changedFields"]) == {"city", "industry", "tags", "status", "contacts"}
    account = result["account"]
    assert account["name"] == "Acme Robotics" and account["domain"] == "acme.example"  # left out: kept
    assert account["city"] == "Barcelona" and account["industry"] == "Robots" and account["tags"] == []
    assert account["status"] == "CUSTOMER"
    ana = next(c for c in account["contacts"] if c["externalId"] == "p-1")
    assert ana["title"] == "CTO" and ana["email"] is None and ana["name"] == "Ana"
    row = await models.Account.get(external_id="c-1")
    assert row.city_key == "barcelona"
    history = await models.AccountStatusChange.filter(account_id=row.id).order_by("id").values_list(
        "from_status", "to_status")
    assert history == [(None, AccountStatus.NEW), (AccountStatus.NEW, AccountStatus.CUSTOMER)]
    assert await models.AuditEvent.filter(action="account.upsert", object_id=row.id).count() == 1

    cleared = await upsert(gql, owner, project, [{"externalId": "c-1", "industry": None, "employeeCount": None}])
    assert outcomes(cleared) == ["UPDATED"] and cleared["results"][0]["changedFields"] == ["industry"]
    assert cleared["results"][0]["account"]["industry"] is None

    only_contacts = await upsert(gql, owner, project, [
        {"externalId": "c-1", "contacts": [{"externalId": "p-3", "name": "Cy", "email": "cy@acme.example"}]}])
    assert outcomes(only_contacts) == ["UPDATED"] and only_contacts["results"][0]["changedFields"] == ["contacts"]
    assert await models.Contact.filter(account_id=row.id).count() == 3  # the others are never deleted


async def test_update_only_never_creates(gql, owner: Person, project: models.Project) -> None:
    await upsert(gql, owner, project, ITEMS[:1])
    answer = await upsert(gql, owner, project, [{"externalId": "c-1", "industry": "Robots"},
                                                {"externalId": "c-9", "name": "Nobody"}], mode="UPDATE_ONLY")
    assert outcomes(answer) == ["UPDATED", "FAILED"]
    assert [(e["code"], e["field"]) for e in answer["results"][1]["errors"]] == [
        ("NOT_FOUND", "input.items[1].externalId")]
    assert answer["errors"] == answer["results"][1]["errors"]
    assert not await models.Account.filter(external_id="c-9").exists()


async def test_remove_erases_the_account_and_moves_the_counters(gql, owner: Person, project: models.Project,
                                                                campaign: models.Campaign) -> None:
    await upsert(gql, owner, project, ITEMS)
    ids = [(await models.Account.get(external_id=e)).id for e in ("c-1", "c-2")]
    for account_id in ids:
        await models.CampaignAccount.create(campaign=campaign, account_id=account_id)
    await campaign_stats.recount([campaign.id])
    answer = await upsert(gql, owner, project, [{"externalId": "c-1"}, {"externalId": "c-404"}], mode="REMOVE")
    assert outcomes(answer) == ["REMOVED", "UNCHANGED"] and answer["removedCount"] == 1
    assert answer["results"][0]["account"] is None and answer["results"][1]["account"] is None
    assert answer["errors"] == []
    assert not await models.Account.filter(id=ids[0]).exists()
    assert not await models.Contact.filter(account_id=ids[0]).exists()
    assert (await models.Campaign.get(id=campaign.id)).total_accounts == 1
    assert await campaign_stats.recount([campaign.id]) == []
    # A retried REMOVE finds nothing left to remove: UNCHANGED, like any call made twice.
    again = await upsert(gql, owner, project, [{"externalId": "c-1"}], mode="REMOVE")
    assert outcomes(again) == ["UNCHANGED"] and again["unchangedCount"] == 1 and again["errors"] == []
    assert again["results"][0]["account"] is None


async def test_a_dedupe_match_is_linked_not_duplicated(gql, owner: Person, project: models.Project) -> None:
    existing = await models.Account.create(project=project, name="Acme Robotics", domain="acme.example",
                                           source="fair")
    answer = await upsert(gql, owner, project, [{"externalId": "c-1", "name": "Acme Robotics S.L.",
                                                 "website": "https://www.acme.example/about"}])
    assert outcomes(answer) == ["UPDATED"]
    assert answer["results"][0]["account"]["id"] == global_id("Account", existing.id)
    assert {"source", "externalId", "name"} <= set(answer["results"][0]["changedFields"])
    row = await models.Account.get(id=existing.id)
    assert (row.source, row.external_id, row.name) == ("hubspot", "c-1", "Acme Robotics S.L.")
    assert await models.Account.filter(project=project).count() == 1
    assert await models.AuditEvent.filter(action="account.link", object_id=existing.id).count() == 1
    again = await upsert(gql, owner, project, [{"externalId": "c-1", "name": "Acme Robotics S.L.",
                                                "website": "https://www.acme.example/about"}])
    assert outcomes(again) == ["UNCHANGED"]


async def test_a_dedupe_match_carrying_another_external_id_is_a_conflict(gql, owner: Person,
                                                                        project: models.Project) -> None:
    await upsert(gql, owner, project, ITEMS[:1])
    answer = await upsert(gql, owner, project, [{"externalId": "c-77", "name": "Acme", "domain": "acme.example"},
                                                {"externalId": "c-78", "name": "Fresh"}])
    assert outcomes(answer) == ["FAILED", "CREATED"]
    error = answer["results"][0]["errors"][0]
    assert error["code"] == "CONFLICT" and error["field"] == "input.items[0].externalId"
    assert "'c-1'" in error["message"]
    assert await models.Account.filter(project=project).count() == 2


async def test_contacts_by_external_id_within_the_account(gql, owner: Person, project: models.Project) -> None:
    await upsert(gql, owner, project, ITEMS)
    account = await models.Account.get(external_id="c-1")
    manual = await models.Contact.create(project=project, account=account, name="Dee", email="dee@acme.example")
    answer = await upsert(gql, owner, project, [
        {"externalId": "c-1", "contacts": [
            {"externalId": "p-4", "name": "Dee Dee", "email": "DEE@acme.example"},  # linked by e-mail
            {"externalId": "p-5", "email": "nobody@acme.example"},  # new without a name
        ]},
        {"externalId": "c-2", "contacts": [{"externalId": "p-1", "name": "Ana"}]},  # p-1 is at c-1
    ])
    assert outcomes(answer) == ["FAILED", "FAILED"]
    assert [(e["code"], e["field"]) for e in answer["errors"]] == [
        ("INVALID", "input.items[0].contacts[1].name"), ("CONFLICT", "input.items[1].contacts[0].externalId")]
    answer = await upsert(gql, owner, project, [
        {"externalId": "c-1", "contacts": [{"externalId": "p-4", "name": "Dee Dee", "email": "DEE@acme.example"}]}])
    assert outcomes(answer) == ["UPDATED"]
    dee = await models.Contact.get(id=manual.id)
    assert (dee.external_id, dee.source, dee.name) == ("p-4", "hubspot", "Dee Dee")
    assert await models.Contact.filter(account=account).count() == 3


async def test_bad_items_fail_alone_on_their_paths(gql, owner: Person, project: models.Project) -> None:
    answer = await upsert(gql, owner, project, [
        {"externalId": "c-1", "name": "Good"},
        {"externalId": "  ", "name": "No id"},
        {"externalId": "c-1", "name": "Twice"},
        {"externalId": "c-3"},
        {"externalId": "c-4", "name": "Bad phone", "phone": "call me", "employeeCount": -1},
        {"externalId": "c-5", "name": None},
        {"externalId": "c-6", "name": "Bad status", "status": None},
    ])
    assert outcomes(answer) == ["CREATED"] + ["FAILED"] * 6
    assert {(e["code"], e["field"]) for e in answer["errors"]} == {
        ("INVALID", "input.items[1].externalId"), ("INVALID", "input.items[2].externalId"),
        ("INVALID", "input.items[3].name"), ("INVALID", "input.items[4].phone"),
        ("INVALID", "input.items[4].employeeCount"), ("INVALID", "input.items[5].name"),
        ("INVALID", "input.items[6].status"),
    }
    assert await models.Account.filter(project=project).count() == 1
    empty = await upsert(gql, owner, project, [])
    assert [(e["code"], e["field"]) for e in empty["errors"]] == [("INVALID", "input.items")]
    no_source = await upsert(gql, owner, project, ITEMS, source=" ")
    assert [(e["code"], e["field"]) for e in no_source["errors"]] == [("INVALID", "input.source")]


async def test_tenancy_and_roles(gql, owner: Person, project: models.Project, make_user, make_project,
                                 add_member) -> None:
    await upsert(gql, owner, project, ITEMS[:1])
    outsider = await make_user("out@example.com")
    theirs = await make_project(outsider, name="Theirs")
    hidden = await gql(UPSERT, {"input": {"projectId": global_id("Project", project.id), "source": "hubspot",
                                          "items": [{"externalId": "c-1", "name": "Stolen"}]}}, as_=outsider)
    assert [(e["code"], e["field"]) for e in data_of(hidden)["upsertAccounts"]["errors"]] == [
        ("NOT_FOUND", "input.projectId")]
    # The same external id in another project is another record.
    mine = await upsert(gql, outsider, theirs, [{"externalId": "c-1", "name": "Theirs", "domain": "acme.example"}])
    assert outcomes(mine) == ["CREATED"]
    assert (await models.Account.get(project=project, external_id="c-1")).name == "Acme Robotics"
    viewer = await make_user("viewer@example.com")
    await add_member(viewer, project, Role.VIEWER)
    refused = await upsert(gql, viewer, project, ITEMS[:1])
    assert [e["code"] for e in refused["errors"]] == ["FORBIDDEN"]


async def test_a_thousand_items_in_a_bounded_number_of_statements(gql, owner: Person, project: models.Project,
                                                                  count_queries) -> None:
    items = [{"externalId": f"x-{i}", "name": f"Company {i}", "domain": f"company-{i}.example",
              "contacts": [{"externalId": f"px-{i}", "name": f"Person {i}"}]} for i in range(1000)]
    with count_queries() as created:
        answer = await upsert(gql, owner, project, items)
    assert answer["createdCount"] == 1000 and answer["errors"] == []
    assert len(created) <= 25, len(created)  # 18 measured
    with count_queries() as unchanged:
        answer = await upsert(gql, owner, project, items)
    assert answer["unchangedCount"] == 1000
    assert len(unchanged) <= 10, len(unchanged)  # 7 measured: lookups only
    for item in items:
        item["industry"] = "Software"
    with count_queries() as updated:
        answer = await upsert(gql, owner, project, items)
    assert answer["updatedCount"] == 1000
    assert len(updated) <= 20, len(updated)  # 14 measured


@pytest.mark.parametrize("mode", ["UPSERT", "UPDATE_ONLY"])
async def test_the_account_type_shows_its_external_id(gql, owner: Person, project: models.Project, mode: str) -> None:
    await models.Account.create(project=project, name="Pre", source="hubspot", external_id="c-1")
    answer = await upsert(gql, owner, project, [{"externalId": "c-1", "city": "Lyon"}], mode=mode)
    assert outcomes(answer) == ["UPDATED"]
    assert answer["results"][0]["account"]["externalId"] == "c-1"


async def test_a_domain_of_another_account_and_bad_contacts_of_a_bad_item(gql, owner: Person,
                                                                         project: models.Project) -> None:
    await upsert(gql, owner, project, ITEMS)
    answer = await upsert(gql, owner, project, [
        {"externalId": "c-2", "domain": "acme.example"},  # Acme's domain
        {"externalId": "c-3", "contacts": [{"externalId": "p-9", "name": "Zed", "phone": "call me"}]},
    ])
    assert outcomes(answer) == ["FAILED", "FAILED"]
    assert [(e["code"], e["field"]) for e in answer["errors"]] == [
        ("CONFLICT", "input.items[0].domain"), ("INVALID", "input.items[1].contacts[0].phone")]
    assert (await models.Account.get(external_id="c-2")).domain is None
    # Without a name an item can still link the same organisation (here by domain), not create one.
    await models.Account.create(project=project, name="Zeta", domain="zeta.example")
    linked = await upsert(gql, owner, project, [{"externalId": "c-5", "domain": "zeta.example"},
                                                {"externalId": "c-6", "domain": "new.example"}])
    assert outcomes(linked) == ["UPDATED", "FAILED"]
    assert [(e["code"], e["field"]) for e in linked["errors"]] == [("INVALID", "input.items[1].name")]


async def test_events_only_for_what_changed(gql, owner: Person, project: models.Project, monkeypatch) -> None:
    from outboundql.services import account_upserts

    heard: list[str] = []

    async def publish(project_id: int, account_id: int, kind: str) -> None:
        heard.append(kind)

    monkeypatch.setattr(account_upserts.events, "publish_account_change", publish)
    await upsert(gql, owner, project, ITEMS)
    assert heard == ["created", "created"]
    await upsert(gql, owner, project, [ITEMS[0], {**ITEMS[1], "industry": "Bread"}])
    assert heard == ["created", "created", "updated"]


async def test_the_same_call_twice_at_once_makes_each_record_once(gql, owner: Person,
                                                                  project: models.Project) -> None:
    first, second = await asyncio.gather(upsert(gql, owner, project, ITEMS), upsert(gql, owner, project, ITEMS))
    assert first["errors"] == [] and second["errors"] == []
    for a, b in zip(outcomes(first), outcomes(second), strict=True):
        assert sorted([a, b]) == ["CREATED", "UNCHANGED"]
    assert await models.Account.filter(project=project).count() == 2
    assert await models.Contact.filter(project=project).count() == 2


async def test_suppressed_people_and_domains_are_not_brought_back(gql, owner: Person,
                                                                  project: models.Project) -> None:
    from tests.api.test_erasure import DELETE_ACCOUNTS

    item = {"externalId": "c-9", "name": "Zed Ltd", "contacts": [
        {"externalId": "p-9", "name": "Zed", "email": "zed@zed.example", "phone": "+34600000009"}]}
    first = await upsert(gql, owner, project, [item])
    erased = data_of(await gql(DELETE_ACCOUNTS, {"input": {"accountIds": [first["results"][0]["account"]["id"]],
                                                           "suppress": True}}, as_=owner))["deleteAccounts"]
    assert erased["errors"] == [] and erased["suppressed"] == 2
    await models.Suppression.create(project=project, kind="domain", value="gone.example", reason="", source="x")
    again = await upsert(gql, owner, project, [
        item, {"externalId": "c-10", "name": "Gone", "domain": "gone.example"},
        {"externalId": "c-11", "name": "Else", "contacts": [{"externalId": "p-11", "name": "Ann",
                                                              "email": "ann@gone.example"}]},
        {"externalId": "c-12", "name": "Kept"}])
    assert outcomes(again) == ["FAILED", "FAILED", "FAILED", "CREATED"]
    assert [(e["code"], e["field"]) for e in again["errors"]] == [
        ("INVALID", "input.items[0].contacts[0].email"), ("INVALID", "input.items[1].domain"),
        ("INVALID", "input.items[2].contacts[0].email")]
    assert all("suppression list" in e["message"] for e in again["errors"])
    assert not await models.Contact.filter(project=project).exists()
    assert await models.Account.filter(project=project).count() == 1
    # An existing person is not linked to a suppressed phone either.
    kept = await models.Account.get(external_id="c-12")
    await models.Contact.create(project=project, account=kept, name="Zed", phone="+34600000009")
    linked = await upsert(gql, owner, project, [{"externalId": "c-12", "contacts": [
        {"externalId": "p-9", "phone": "+34600000009"}]}])
    assert outcomes(linked) == ["FAILED"]
    assert [e["field"] for e in linked["errors"]] == ["input.items[0].contacts[0].phone"]
    assert (await models.Contact.get(account_id=kept.id)).external_id is None


async def test_two_records_linking_one_organisation_at_once_one_wins(owner: Person, project: models.Project,
                                                                     monkeypatch) -> None:
    from outboundql.services import account_upserts as service
    from outboundql.services.access import Access

    load = service.DedupeIndex.load

    async def slow_load(*args: Any, **kwargs: Any) -> Any:
        index = await load(*args, **kwargs)
        await asyncio.sleep(0.2)  # both calls have matched before either writes
        return index

    monkeypatch.setattr(service.DedupeIndex, "load", slow_load)
    acme = await models.Account.create(project=project, name="Acme", name_key="acme", domain="acme.example")
    access = await Access.for_user(owner.user)

    def command(external_id: str) -> service.UpsertAccounts:
        return service.UpsertAccounts(project.id, "hubspot", service.UpsertMode.UPSERT, (
            service.AccountItem(external_id=external_id, domain="acme.example", industry=external_id),))

    a, b = await asyncio.gather(service.upsert_accounts(access, command("A"), max_items=10),
                                service.upsert_accounts(access, command("B"), max_items=10))
    answers = {r.external_id: r for r in (*a.results, *b.results)}
    assert sorted(r.outcome.value for r in answers.values()) == ["failed", "updated"]
    winner = next(r for r in answers.values() if r.outcome is service.UpsertOutcome.UPDATED)
    loser = next(r for r in answers.values() if r.outcome is service.UpsertOutcome.FAILED)
    assert [(i.code, i.field) for i in loser.issues] == [("CONFLICT", "items[0].external_id")]
    row = await models.Account.get(id=acme.id)
    assert (row.external_id, row.industry) == (winner.external_id, winner.external_id)
