"""Time zones of accounts and contacts (``timeZone``): an IANA name stored in its canonical spelling, set,
changed and cleared like ``language`` on every path that writes them; an unknown zone is INVALID as data."""

from __future__ import annotations

from typing import Any

import pytest

from outboundql import models
from tests.helpers import data_of, global_id

ACCOUNT = "id name timeZone contacts { name email timeZone }"

CREATE = f"""
mutation($input: CreateAccountInput!) {{
  createAccount(input: $input) {{ created mergedFields account {{ {ACCOUNT} }} errors {{ code field message }} }}
}}
"""

UPDATE = f"""
mutation($input: UpdateAccountInput!) {{
  updateAccount(input: $input) {{ account {{ {ACCOUNT} }} errors {{ code field message }} }}
}}
"""

BULK = f"""
mutation($input: BulkCreateAccountsInput!) {{
  bulkCreateAccounts(input: $input) {{
    createdCount failedCount
    results {{ index account {{ {ACCOUNT} }} errors {{ code field message }} }}
    errors {{ code field message }}
  }}
}}
"""

CREATE_CONTACT = """
mutation($input: CreateContactInput!) {
  createContact(input: $input) { created contact { id name timeZone } errors { code field message } }
}
"""

UPDATE_CONTACT = """
mutation($input: UpdateContactInput!) {
  updateContact(input: $input) { contact { id name timeZone } errors { code field message } }
}
"""

MERGE = f"""
mutation($input: MergeAccountsInput!) {{
  mergeAccounts(input: $input) {{ account {{ {ACCOUNT} }} errors {{ code field message }} }}
}}
"""


def ok(payload: dict[str, Any]) -> dict[str, Any]:
    assert payload["errors"] == [], payload["errors"]
    return payload


def invalid_on(payload: dict[str, Any], *fields: str) -> None:
    assert sorted(e["field"] for e in payload["errors"]) == sorted(fields), payload["errors"]
    assert all(e["code"] == "INVALID" and e["message"] for e in payload["errors"])


@pytest.fixture
def run(gql: Any, owner: Any) -> Any:
    async def call(query: str, mutation: str, /, **fields: Any) -> dict[str, Any]:
        return data_of(await gql(query, {"input": fields}, as_=owner))[mutation]

    return call


@pytest.fixture
def create(run: Any, project: models.Project) -> Any:
    async def call(**fields: Any) -> dict[str, Any]:
        return await run(CREATE, "createAccount", projectId=global_id("Project", project.id), **fields)

    return call


@pytest.fixture
def update(run: Any) -> Any:
    async def call(account_id: str, **fields: Any) -> dict[str, Any]:
        return await run(UPDATE, "updateAccount", id=account_id, **fields)

    return call


# --- accounts --------------------------------------------------------------------------------------------


async def test_create_account_stores_the_canonical_zone(create: Any) -> None:
    acc = ok(await create(name="Acme", timeZone="europe/MADRID",
                          contacts=[{"name": "Ana", "email": "ana@acme.com", "timeZone": "AMERICA/new_york"},
                                    {"name": "Bob", "email": "bob@acme.com"}]))["account"]
    assert acc["timeZone"] == "Europe/Madrid"
    assert acc["contacts"] == [{"name": "Ana", "email": "ana@acme.com", "timeZone": "America/New_York"},
                               {"name": "Bob", "email": "bob@acme.com", "timeZone": None}]
    row = await models.Account.get(name="Acme")
    assert row.time_zone == "Europe/Madrid"


@pytest.mark.parametrize("value", [None, "", "   "])
async def test_create_account_without_a_zone(create: Any, value: str | None) -> None:
    assert ok(await create(name="Acme", timeZone=value))["account"]["timeZone"] is None


async def test_create_account_refuses_an_unknown_zone_as_data(create: Any) -> None:
    p = await create(name="Acme", timeZone="Mars/Olympus_Mons",
                     contacts=[{"name": "Ana", "timeZone": "Europe/Nowhere"}])
    assert p["account"] is None
    invalid_on(p, "input.timeZone", "input.contacts[0].timeZone")
    assert not await models.Account.exists()


async def test_update_account_sets_changes_and_clears_the_zone(create: Any, update: Any) -> None:
    account_id = ok(await create(name="Acme"))["account"]["id"]
    assert ok(await update(account_id, timeZone="asia/tokyo"))["account"]["timeZone"] == "Asia/Tokyo"
    assert ok(await update(account_id, name="Acme Inc"))["account"]["timeZone"] == "Asia/Tokyo"  # not given: kept
    assert ok(await update(account_id, timeZone="Europe/Madrid"))["account"]["timeZone"] == "Europe/Madrid"
    p = await update(account_id, timeZone="Europe/Atlantis")
    invalid_on(p, "input.timeZone")
    assert (await models.Account.get(name="Acme Inc")).time_zone == "Europe/Madrid"
    assert ok(await update(account_id, timeZone=None))["account"]["timeZone"] is None
    assert (await models.Account.get(name="Acme Inc")).time_zone is None


async def test_a_duplicate_fills_a_missing_zone_and_never_overwrites_one(create: Any) -> None:
    ok(await create(name="Acme", domain="acme.com"))
    second = ok(await create(name="Acme", domain="acme.com", timeZone="europe/lisbon"))
    assert second["created"] is False and "time_zone" in second["mergedFields"]
    assert second["account"]["timeZone"] == "Europe/Lisbon"
    third = ok(await create(name="Acme", domain="acme.com", timeZone="Asia/Tokyo"))
    assert third["mergedFields"] == [] and third["account"]["timeZone"] == "Europe/Lisbon"


async def test_bulk_create_cleans_every_items_zone(run: Any, project: models.Project) -> None:
    p = await run(BULK, "bulkCreateAccounts", projectId=global_id("Project", project.id), accounts=[
        {"name": "A", "timeZone": "europe/berlin", "contacts": [{"name": "Ann", "timeZone": "europe/vienna"}]},
        {"name": "B", "timeZone": "Nowhere/Town"},
        {"name": "C", "contacts": [{"name": "Cid", "timeZone": "utc+2"}]},
        {"name": "D", "timeZone": None},
    ])
    assert p["errors"] == []
    assert (p["createdCount"], p["failedCount"]) == (2, 2)
    a, b, c, d = p["results"]
    assert a["account"]["timeZone"] == "Europe/Berlin"
    assert a["account"]["contacts"] == [{"name": "Ann", "email": None, "timeZone": "Europe/Vienna"}]
    assert b["account"] is None
    invalid_on(b, "input.accounts[1].timeZone")
    assert c["account"] is None
    invalid_on(c, "input.accounts[2].contacts[0].timeZone")
    assert d["account"]["timeZone"] is None


async def test_merge_fills_the_targets_missing_zone(create: Any, run: Any) -> None:
    target = ok(await create(name="Acme", domain="acme.com",
                             contacts=[{"name": "Ana", "email": "ana@acme.com"}]))["account"]["id"]
    source = ok(await create(name="Acme Spain", domain="acme.es", timeZone="Europe/Madrid",
                             contacts=[{"name": "Ana", "email": "ana@acme.com", "timeZone": "Atlantic/Canary"}]))
    other = ok(await create(name="Acme Japan", domain="acme.jp", timeZone="Asia/Tokyo"))
    p = ok(await run(MERGE, "mergeAccounts", targetId=target,
                     sourceIds=[source["account"]["id"], other["account"]["id"]]))
    assert p["account"]["timeZone"] == "Europe/Madrid"  # the first source fills the blank; later ones do not
    assert p["account"]["contacts"] == [{"name": "Ana", "email": "ana@acme.com", "timeZone": "Atlantic/Canary"}]


# --- contacts --------------------------------------------------------------------------------------------


async def test_create_and_update_contact_zone(create: Any, run: Any) -> None:
    account_id = ok(await create(name="Acme", timeZone="Europe/Madrid"))["account"]["id"]
    made = ok(await run(CREATE_CONTACT, "createContact", accountId=account_id, name="Ana",
                        timeZone="america/SAO_PAULO"))
    contact = made["contact"]
    assert contact["timeZone"] == "America/Sao_Paulo"
    invalid_on(await run(CREATE_CONTACT, "createContact", accountId=account_id, name="Bob", timeZone="Lisbon"),
               "input.timeZone")

    changed = ok(await run(UPDATE_CONTACT, "updateContact", id=contact["id"], timeZone="europe/LONDON"))
    assert changed["contact"]["timeZone"] == "Europe/London"
    kept = ok(await run(UPDATE_CONTACT, "updateContact", id=contact["id"], name="Ana B"))
    assert kept["contact"]["timeZone"] == "Europe/London"
    invalid_on(await run(UPDATE_CONTACT, "updateContact", id=contact["id"], timeZone="GMT+25"), "input.timeZone")
    assert (await models.Contact.get(name="Ana B")).time_zone == "Europe/London"
    cleared = ok(await run(UPDATE_CONTACT, "updateContact", id=contact["id"], timeZone=None))
    assert cleared["contact"]["timeZone"] is None
    blank = ok(await run(UPDATE_CONTACT, "updateContact", id=contact["id"], timeZone="Asia/Tokyo"))
    assert blank["contact"]["timeZone"] == "Asia/Tokyo"
    assert ok(await run(UPDATE_CONTACT, "updateContact", id=contact["id"], timeZone=" "))["contact"]["timeZone"] is None


async def test_a_duplicate_contact_fills_a_missing_zone(create: Any, run: Any) -> None:
    account_id = ok(await create(name="Acme"))["account"]["id"]
    first = ok(await run(CREATE_CONTACT, "createContact", accountId=account_id, name="Ana", email="ana@acme.com"))
    again = ok(await run(CREATE_CONTACT, "createContact", accountId=account_id, name="Ana",
                         email="ana@acme.com", timeZone="Europe/Paris"))
    assert again["created"] is False and again["contact"]["id"] == first["contact"]["id"]
    assert again["contact"]["timeZone"] == "Europe/Paris"
