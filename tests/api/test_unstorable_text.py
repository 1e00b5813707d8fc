"""Text no database can store — a NUL character (PostgreSQL refuses it) or a lone UTF-16 surrogate (sent as
``\\ud800`` in JSON; SQLite's driver cannot encode it) — is INVALID on the field that carries it, on
both databases, wherever text enters: plain fields, list items, custom fields (keys and values, at any
depth), market filters, notes, token names and the e-mail a member is looked up by. Before, PostgreSQL
answered "Unexpected error." and wrote nothing.

(The reliability suite throws these values at every text field of every mutation; this module pins
the exact answers.)"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from outboundql import models
from outboundql.services import fields
from tests.helpers import Person, global_id

NUL = "\x00"
SURROGATE = "\ud800"


async def call(client: httpx.AsyncClient, person: Person, mutation: str, value: dict[str, Any]) -> dict[str, Any]:
    """``mutation(input: value)`` sent as a browser would send it (non-ASCII escaped: ``\\ud800``)."""
    document = (f"mutation($input: {mutation[0].upper()}{mutation[1:]}Input!) {{ {mutation}(input: $input) "
                "{ errors { code field message } } }")
    response = await client.post("/graphql", content=json.dumps({"query": document, "variables": {"input": value}}),
                                 headers={**person.headers, "content-type": "application/json"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert not body.get("errors"), body["errors"]
    return body["data"][mutation]  # type: ignore[no-any-return]


@pytest.fixture
def ids(project: models.Project, campaign: models.Campaign) -> dict[str, str]:
    return {"project": global_id("Project", project.id), "campaign": global_id("Campaign", campaign.id)}


CASES = [
    # mutation, input (PROJECT/PRODUCT/CAMPAIGN replaced by ids), the field reported, the message's start
    ("createAccount", {"projectId": "PROJECT", "name": f"Acme{NUL}Corp"}, "input.name", "Name contains a NUL"),
    ("createAccount", {"projectId": "PROJECT", "name": "Acme", "city": f"Ma{SURROGATE}drid"}, "input.city",
     "City contains a lone UTF-16 surrogate at position 2"),
    ("createAccount", {"projectId": "PROJECT", "name": "Acme", "tags": ["ok", f"b{NUL}d"]}, "input.tags",
     "An item of Tags contains a NUL"),
    ("createAccount", {"projectId": "PROJECT", "name": "Acme", "website": f"https://acme.example/{NUL}"},
     "input.website", "The URL contains a NUL"),
    ("createAccount", {"projectId": "PROJECT", "name": "Acme", "customFields": {f"ti{NUL}er": "gold"}},
     "input.customFields", "A key of Custom fields contains a NUL"),
    ("createAccount", {"projectId": "PROJECT", "name": "Acme", "customFields": {"a": [{"b": f"x{SURROGATE}"}]}},
     "input.customFields", "Custom fields contains a lone UTF-16 surrogate"),
    ("createAccount", {"projectId": "PROJECT", "name": "Acme", "contacts": [{"name": "Ann", "title": f"C{NUL}O"}]},
     "input.contacts[0].title", "Title contains a NUL"),
    ("createProject", {"name": f"P{SURROGATE}"}, "input.name", "Name contains a lone UTF-16 surrogate"),
    ("createApiToken", {"name": f"ci{NUL}"}, "input.name", "Token name contains a NUL"),
    ("inviteMember", {"projectId": "PROJECT", "email": f"a{SURROGATE}@example.com", "role": "MEMBER"},
     "input.email", None),
    ("createMarket", {"projectId": "PROJECT", "name": "Iberia", "filters": {"cities": [f"Ma{NUL}drid"]}},
     "input.filters", "Filters contains a NUL"),
    ("createSavedFilter", {"projectId": "PROJECT", "name": "Gold", "expression": {
        "field": "cf.tier", "op": "eq", "value": f"go{NUL}ld"}}, "input.expression",
     "The expression contains a NUL"),
    ("addExpense", {"campaignId": "CAMPAIGN", "kind": "SOFTWARE", "amount": "10.00", "currency": "EUR",
                    "vendor": f"V{NUL}"}, "input.vendor", "Vendor contains a NUL"),
    ("createCampaign", {"projectId": "PROJECT", "productId": "PRODUCT", "name": "Fall", "goal": "sales",
                        "keywords": [f"k{SURROGATE}"]}, "input.keywords", "An item of Keywords contains"),
]


@pytest.mark.parametrize(("mutation", "value", "field", "message"), CASES,
                         ids=[f"{c[0]}:{c[2]}" for c in CASES])
async def test_unstorable_text_is_invalid_on_its_field(
    client: httpx.AsyncClient, owner: Person, ids: dict[str, str], product: models.Product, mutation: str,
    value: dict[str, Any], field: str, message: str | None,
) -> None:
    ids = {**ids, "product": global_id("Product", product.id)}
    text = json.dumps(value)
    for name, gid in ids.items():
        text = text.replace(f'"{name.upper()}"', json.dumps(gid))
    accounts_before = await models.Account.all().count()
    payload = await call(client, owner, mutation, json.loads(text))
    [error] = [e for e in payload["errors"] if e["field"] == field]
    assert error["code"] == "INVALID"
    assert message is None or error["message"].startswith(message), error
    assert await models.Account.all().count() == accounts_before


async def test_a_bulk_item_with_unstorable_text_fails_alone(client: httpx.AsyncClient, owner: Person,
                                                            project: models.Project) -> None:
    document = ("mutation($input: BulkCreateAccountsInput!) { bulkCreateAccounts(input: $input) { createdCount "
                "results { errors { code field message } } } }")
    variables = {"input": {"projectId": global_id("Project", project.id),
                           "accounts": [{"name": "Fine"}, {"name": f"Bad{NUL}"}]}}
    response = await client.post("/graphql", content=json.dumps({"query": document, "variables": variables}),
                                 headers={**owner.headers, "content-type": "application/json"})
    result = response.json()["data"]["bulkCreateAccounts"]
    assert result["createdCount"] == 1
    assert [e["field"] for e in result["results"][1]["errors"]] == ["input.accounts[1].name"]


@pytest.mark.parametrize("value", ["ok", "tab\tnew\nline", "emoji \U0001f600", "=HYPERLINK(\"x\")", "é"])
def test_storable_keeps_every_other_text(value: str) -> None:
    assert fields.storable(value) == value


@pytest.mark.parametrize(("value", "what"), [("a\x00", "a NUL character at position 1"),
                                             ("\udfff", "a lone UTF-16 surrogate at position 0"),
                                             ("ok \ud83d", "a lone UTF-16 surrogate at position 3")])
def test_storable_names_what_and_where(value: str, what: str) -> None:
    with pytest.raises(ValueError, match=f"^Name contains {what}; text cannot hold it.$"):
        fields.storable(value, "Name")


def test_json_object_checks_keys_values_and_depth() -> None:
    clean = fields.json_object(max_depth=3, label="Custom fields")
    assert clean(None) == {}
    assert clean({"a": {"b": [1, "x"]}}) == {"a": {"b": [1, "x"]}}
    with pytest.raises(ValueError, match="at most 3 levels deep"):
        clean({"a": {"b": [[1]]}})
    with pytest.raises(ValueError, match=r"^A key of Custom fields contains a NUL"):
        clean({"a": {"\x00": 1}})
    with pytest.raises(ValueError, match="non-empty string keys"):
        clean({"": 1})
