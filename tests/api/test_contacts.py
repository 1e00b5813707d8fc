"""createContact / updateContact: dedupe within an account on phone first, then e-mail; never across accounts."""

from __future__ import annotations

from typing import Any

import pytest

from outboundql import models
from tests.helpers import data_of, global_id

CREATE_ACCOUNT = """
mutation($input: CreateAccountInput!) {
  createAccount(input: $input) { account { id } errors { field message } }
}
"""

CREATE_CONTACT = """
mutation($input: CreateContactInput!) {
  createContact(input: $input) {
    created
    contact { id name title email phone linkedinUrl roleKind doNotContact account { name } }
    errors { code field message }
  }
}
"""

UPDATE_CONTACT = """
mutation($input: UpdateContactInput!) {
  updateContact(input: $input) { contact { id name email phone } errors { code field message } }
}
"""


@pytest.fixture
def make_account(gql: Any, owner: Any, project: models.Project) -> Any:
    async def run(**fields: Any) -> str:
        variables = {"input": {"projectId": global_id("Project", project.id), **fields}}
        payload = data_of(await gql(CREATE_ACCOUNT, variables, as_=owner))["createAccount"]
        assert payload["errors"] == []
        return payload["account"]["id"]

    return run


@pytest.fixture
def contact(gql: Any, owner: Any) -> Any:
    async def run(account_id: str, **fields: Any) -> dict[str, Any]:
        variables = {"input": {"accountId": account_id, **fields}}
        return data_of(await gql(CREATE_CONTACT, variables, as_=owner))["createContact"]

    return run


async def test_create_contact_normalises(make_account: Any, contact: Any) -> None:
    acc = await make_account(name="Acme", country="ES")
    p = await contact(acc, name=" Ana ", email="Ana@ACME.com", phone="612 345 678",
                      linkedinUrl="linkedin.com/in/ana", roleKind="JOURNALIST")
    assert p["errors"] == [] and p["created"] is True
    c = p["contact"]
    assert c["name"] == "Ana"
    assert c["email"] == "ana@acme.com"
    assert c["phone"] == "+34612345678"  # national format parsed with the account's country
    assert c["linkedinUrl"] == "https://linkedin.com/in/ana"
    assert c["roleKind"] == "JOURNALIST"
    assert c["account"] == {"name": "Acme"}
    assert await models.AuditEvent.filter(action="contact.create").count() == 1


async def test_contact_dedupes_on_phone(make_account: Any, contact: Any) -> None:
    acc = await make_account(name="Acme", country="ES")
    first = (await contact(acc, name="Ana", phone="612345678"))["contact"]
    second = await contact(acc, name="Ana Other", phone="+34 612 34 56 78", email="ana@acme.com", title="CEO")
    assert second["created"] is False
    assert second["contact"]["id"] == first["id"]
    assert second["contact"]["name"] == "Ana"
    assert second["contact"]["email"] == "ana@acme.com"
    assert second["contact"]["title"] == "CEO"
    assert await models.Contact.all().count() == 1
    assert await models.AuditEvent.filter(action="contact.dedupe_merge").count() == 1


async def test_contact_dedupes_on_email(make_account: Any, contact: Any) -> None:
    acc = await make_account(name="Acme")
    first = (await contact(acc, name="Ana", email="ana@acme.com", title="CEO"))["contact"]
    second = await contact(acc, name="Ana B", email="ANA@acme.com", title="CTO", doNotContact=True)
    assert second["created"] is False
    assert second["contact"]["id"] == first["id"]
    assert second["contact"]["title"] == "CEO"  # never overwritten
    assert second["contact"]["doNotContact"] is True  # a protection flag is kept


async def test_contact_phone_match_wins_over_email_match(make_account: Any, contact: Any) -> None:
    acc = await make_account(name="Acme")
    by_email = (await contact(acc, name="By Email", email="x@acme.com"))["contact"]
    by_phone = (await contact(acc, name="By Phone", phone="+34612345678"))["contact"]
    hit = await contact(acc, name="Both", email="x@acme.com", phone="+34612345678")
    assert hit["created"] is False
    assert hit["contact"]["id"] == by_phone["id"] != by_email["id"]


async def test_same_person_at_two_accounts_is_two_contacts(make_account: Any, contact: Any) -> None:
    a = await make_account(name="Acme")
    b = await make_account(name="Beta")
    first = await contact(a, name="Ana", email="ana@example.com", phone="+34612345678")
    second = await contact(b, name="Ana", email="ana@example.com", phone="+34612345678")
    assert first["created"] is True and second["created"] is True
    assert first["contact"]["id"] != second["contact"]["id"]
    assert await models.Contact.all().count() == 2


async def test_contact_without_keys_never_dedupes(make_account: Any, contact: Any) -> None:
    acc = await make_account(name="Acme")
    await contact(acc, name="Ana")
    again = await contact(acc, name="Ana")
    assert again["created"] is True
    assert await models.Contact.all().count() == 2


async def test_create_contact_validation(make_account: Any, contact: Any) -> None:
    acc = await make_account(name="Acme")
    p = await contact(acc, name=" ", email="bad", phone="abc", linkedinUrl="ftp://x", language="xyz")
    assert p["contact"] is None
    assert {e["field"] for e in p["errors"]} == {
        "input.name", "input.email", "input.phone", "input.linkedinUrl", "input.language"
    }
    assert await models.Contact.all().count() == 0


async def test_create_contact_on_unknown_account(contact: Any) -> None:
    p = await contact(global_id("Account", 99999), name="Ana")
    assert [(e["code"], e["field"]) for e in p["errors"]] == [("NOT_FOUND", "input.accountId")]


async def test_update_contact_conflicts_with_a_duplicate(make_account: Any, contact: Any, gql: Any,
                                                         owner: Any) -> None:
    acc = await make_account(name="Acme")
    await contact(acc, name="Ana", email="ana@acme.com")
    bob = (await contact(acc, name="Bob", email="bob@acme.com"))["contact"]
    p = data_of(await gql(UPDATE_CONTACT, {"input": {"id": bob["id"], "email": "ANA@acme.com"}},
                          as_=owner))["updateContact"]
    assert [(e["code"], e["field"]) for e in p["errors"]] == [("CONFLICT", "input.email")]
    ok = data_of(await gql(UPDATE_CONTACT, {"input": {"id": bob["id"], "email": "robert@acme.com",
                                                      "phone": "+34 699 999 999"}}, as_=owner))["updateContact"]
    assert ok["errors"] == []
    assert ok["contact"]["email"] == "robert@acme.com"
    assert ok["contact"]["phone"] == "+34699999999"
