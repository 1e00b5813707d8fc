"""mergeAccounts: fill blanks, move contacts (folding duplicates) and history, delete sources, all or nothing."""

from __future__ import annotations

from typing import Any

import pytest
from strawberry.relay import from_base64

from outboundql import models
from tests.helpers import data_of, global_id

CREATE = """
mutation($input: CreateAccountInput!) {
  createAccount(input: $input) { created account { id } errors { field message } }
}
"""

UPDATE = """
mutation($input: UpdateAccountInput!) { updateAccount(input: $input) { errors { field } } }
"""

MERGE = """
mutation($input: MergeAccountsInput!) {
  mergeAccounts(input: $input) {
    account {
      id name domain industry city employeeCount tags customFields status
      contacts { name email phone title }
      statusHistory { fromStatus toStatus source }
    }
    errors { code field message }
  }
}
"""


def pk(gid: str) -> int:
    return int(from_base64(gid)[1])


@pytest.fixture
def create(gql: Any, owner: Any, project: models.Project) -> Any:
    async def run(**fields: Any) -> str:
        variables = {"input": {"projectId": global_id("Project", project.id), **fields}}
        payload = data_of(await gql(CREATE, variables, as_=owner))["createAccount"]
        assert payload["errors"] == [] and payload["created"], payload
        return payload["account"]["id"]

    return run


@pytest.fixture
def merge(gql: Any, owner: Any) -> Any:
    async def run(target: str, sources: list[str]) -> dict[str, Any]:
        variables = {"input": {"targetId": target, "sourceIds": sources}}
        return data_of(await gql(MERGE, variables, as_=owner))["mergeAccounts"]

    return run


async def test_merge_fills_blanks_moves_children_and_deletes_sources(
    create: Any, merge: Any, gql: Any, owner: Any, project: models.Project
) -> None:
    target = await create(name="Acme", domain="acme.com", tags=["a"], customFields={"tier": 1},
                          contacts=[{"name": "Ana", "email": "ana@acme.com"}])
    source = await create(name="Acme Spain", domain="acme.es", industry="Software", city="Madrid",
                          employeeCount=30, tags=["b", "a"], customFields={"tier": 2, "region": "EU"},
                          contacts=[{"name": "Ana Dup", "email": "ANA@acme.com", "title": "CEO"},
                                    {"name": "Bob", "email": "bob@acme.es"}])
    data_of(await gql(UPDATE, {"input": {"id": source, "status": "ENGAGED"}}, as_=owner))

    p = await merge(target, [source])
    assert p["errors"] == []
    acc = p["account"]
    assert acc["id"] == target
    assert acc["name"] == "Acme" and acc["domain"] == "acme.com"  # kept
    assert acc["industry"] == "Software" and acc["city"] == "Madrid" and acc["employeeCount"] == 30
    assert acc["tags"] == ["a", "b"]
    assert acc["customFields"] == {"tier": 1, "region": "EU"}
    # contacts moved; the duplicate (same e-mail) folded into the target's contact
    assert acc["contacts"] == [
        {"name": "Ana", "email": "ana@acme.com", "phone": None, "title": "CEO"},
        {"name": "Bob", "email": "bob@acme.es", "phone": None, "title": None},
    ]
    # the source's history moved to the target
    moves = {(h["fromStatus"], h["toStatus"]) for h in acc["statusHistory"]}
    assert moves == {(None, "NEW"), ("NEW", "ENGAGED")}
    assert len(acc["statusHistory"]) == 3

    assert not await models.Account.filter(id=pk(source)).exists()
    assert await models.Contact.filter(account_id=pk(target)).count() == 2
    assert await models.Contact.all().count() == 2
    merged = await models.AuditEvent.get(action="account.merge")
    assert merged.object_id == pk(target)
    assert merged.after["source_ids"] == [pk(source)]
    assert merged.after["industry"] == "Software"
    into = await models.AuditEvent.get(action="account.merged_into")
    assert into.object_id == pk(source)
    assert into.after == {"target_id": pk(target)}
    assert into.before["name"] == "Acme Spain"


async def test_merge_several_sources_first_one_wins_blanks(create: Any, merge: Any) -> None:
    target = await create(name="T")
    s1 = await create(name="S1", industry="First", city="Rome")
    s2 = await create(name="S2", industry="Second", country="IT")
    acc = (await merge(target, [s1, s2]))["account"]
    assert acc["industry"] == "First"
    assert acc["city"] == "Rome"
    assert await models.Account.all().count() == 1
    assert await models.AuditEvent.filter(action="account.merged_into").count() == 2


async def test_merge_into_itself_is_invalid(create: Any, merge: Any) -> None:
    target = await create(name="Acme")
    p = await merge(target, [target])
    assert p["account"] is None
    [error] = p["errors"]
    assert error["code"] == "INVALID"
    assert error["field"] == "input.sourceIds[0]"
    assert await models.Account.filter(id=pk(target)).exists()


async def test_merge_needs_a_source(create: Any, merge: Any) -> None:
    target = await create(name="Acme")
    p = await merge(target, [])
    assert [(e["code"], e["field"]) for e in p["errors"]] == [("INVALID", "input.sourceIds")]


async def test_merge_is_all_or_nothing(create: Any, merge: Any) -> None:
    target = await create(name="Acme")
    good = await create(name="Good Source", industry="Software", contacts=[{"name": "Zed"}])
    p = await merge(target, [good, global_id("Account", 999_999)])
    assert p["account"] is None
    [error] = p["errors"]
    assert error["code"] == "NOT_FOUND"
    assert error["field"] == "input.sourceIds[1]"
    # nothing changed
    assert await models.Account.filter(id=pk(good)).exists()
    assert (await models.Account.get(id=pk(target))).industry is None
    assert await models.Contact.filter(account_id=pk(good)).count() == 1
    assert not await models.AuditEvent.filter(action__startswith="account.merge").exists()


async def test_merge_across_projects_is_not_found(
    create: Any, merge: Any, gql: Any, owner: Any, make_project: Any
) -> None:
    target = await create(name="Acme")
    other = await make_project(owner, "Other project")
    payload = data_of(await gql(CREATE, {"input": {"projectId": global_id("Project", other.id), "name": "X"}},
                                as_=owner))["createAccount"]
    p = await merge(target, [payload["account"]["id"]])
    assert p["account"] is None
    assert p["errors"][0]["code"] == "INVALID"
    assert await models.Account.all().count() == 2


async def test_merge_source_of_a_stranger_is_not_found(create: Any, gql: Any, make_user: Any) -> None:
    target = await create(name="Acme")
    source = await create(name="Other")
    stranger = await make_user("stranger@example.com")
    p = data_of(await gql(MERGE, {"input": {"targetId": target, "sourceIds": [source]}}, as_=stranger))
    assert p["mergeAccounts"]["errors"][0]["code"] == "NOT_FOUND"
    assert await models.Account.all().count() == 2
