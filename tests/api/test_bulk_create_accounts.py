"""bulkCreateAccounts: dedupe against the project and within the call, per-item errors, limits."""

from __future__ import annotations

from typing import Any

import pytest

from outboundql import models
from outboundql.settings import Settings
from tests.helpers import data_of, global_id

MAX_ITEMS = 5

BULK = """
mutation($input: BulkCreateAccountsInput!) {
  bulkCreateAccounts(input: $input) {
    createdCount mergedCount failedCount
    results { index created matchedOn account { id name domain city phone tags } errors { code field message } }
    errors { code field message }
  }
}
"""

CREATE = """
mutation($input: CreateAccountInput!) {
  createAccount(input: $input) { created account { id } errors { field } }
}
"""


@pytest.fixture
def settings() -> Settings:
    return Settings(database_url="sqlite://:memory:", redis_url=None, max_bulk_items=MAX_ITEMS)


@pytest.fixture
def bulk(gql: Any, owner: Any, project: models.Project) -> Any:
    async def run(accounts: list[dict[str, Any]]) -> dict[str, Any]:
        variables = {"input": {"projectId": global_id("Project", project.id), "accounts": accounts}}
        return data_of(await gql(BULK, variables, as_=owner))["bulkCreateAccounts"]

    return run


async def test_bulk_creates_every_good_item(bulk: Any, project: models.Project) -> None:
    p = await bulk([{"name": "A", "domain": "a.com"}, {"name": "B", "domain": "b.com"}, {"name": "C"}])
    assert p["errors"] == []
    assert (p["createdCount"], p["mergedCount"], p["failedCount"]) == (3, 0, 0)
    assert [r["index"] for r in p["results"]] == [0, 1, 2]
    assert all(r["created"] and r["errors"] == [] for r in p["results"])
    assert [r["account"]["name"] for r in p["results"]] == ["A", "B", "C"]
    assert await models.Account.filter(project_id=project.id).count() == 3
    assert await models.AccountStatusChange.all().count() == 3


async def test_bulk_dedupes_against_existing_rows(bulk: Any, gql: Any, owner: Any, project: models.Project) -> None:
    existing = data_of(await gql(CREATE, {"input": {"projectId": global_id("Project", project.id), "name": "Acme",
                                                    "domain": "acme.com"}}, as_=owner))["createAccount"]
    p = await bulk([
        {"name": "ACME Inc", "domain": "https://www.Acme.com/x", "city": "Madrid"},
        {"name": "New One"},
    ])
    assert (p["createdCount"], p["mergedCount"], p["failedCount"]) == (1, 1, 0)
    first = p["results"][0]
    assert first["created"] is False
    assert first["matchedOn"] == "DOMAIN"
    assert first["account"]["id"] == existing["account"]["id"]
    assert first["account"]["name"] == "Acme"
    assert first["account"]["city"] == "Madrid"
    assert await models.Account.filter(project_id=project.id).count() == 2
    assert await models.AuditEvent.filter(action="account.dedupe_merge").count() == 1


async def test_bulk_dedupes_inside_one_call_on_every_rule(bulk: Any, project: models.Project) -> None:
    p = await bulk([
        {"name": "Acme", "domain": "acme.com", "tags": ["x"]},
        {"name": "Acme Again", "domain": "WWW.ACME.COM", "tags": ["y"]},
        {"name": "The Beta Company, Inc.", "city": "Madrid"},
        {"name": "BETA S.L.", "city": "madrid"},
        {"name": "Gamma", "country": "ES", "phone": "612 345 678"},
    ])
    assert (p["createdCount"], p["mergedCount"], p["failedCount"]) == (3, 2, 0)
    r = p["results"]
    assert r[1]["created"] is False and r[1]["matchedOn"] == "DOMAIN"
    assert r[1]["account"]["id"] == r[0]["account"]["id"]
    assert r[1]["account"]["tags"] == ["x", "y"]
    assert r[3]["created"] is False and r[3]["matchedOn"] == "NAME_CITY"
    assert r[3]["account"]["id"] == r[2]["account"]["id"]
    assert await models.Account.filter(project_id=project.id).count() == 3


async def test_bulk_dedupes_on_phone_inside_one_call(bulk: Any) -> None:
    p = await bulk([
        {"name": "Gamma", "country": "ES", "phone": "612 345 678"},
        {"name": "Delta", "phone": "+34612345678"},
    ])
    assert p["results"][1]["matchedOn"] == "PHONE"
    assert p["results"][1]["account"]["id"] == p["results"][0]["account"]["id"]
    assert p["results"][1]["account"]["name"] == "Gamma"


async def test_bulk_reports_bad_items_by_index_and_keeps_good_ones(bulk: Any, project: models.Project) -> None:
    p = await bulk([
        {"name": "Good One", "domain": "good.com"},
        {"name": "Bad Domain", "domain": "not a domain"},
        {"name": "Bad Country", "country": "XX"},
        {"name": "Bad Email", "email": "nope@"},
        {"name": "   "},
    ])
    assert p["errors"] == []
    assert (p["createdCount"], p["mergedCount"], p["failedCount"]) == (1, 0, 4)
    r = p["results"]
    assert r[0]["created"] is True and r[0]["errors"] == []
    expected = {1: "input.accounts[1].domain", 2: "input.accounts[2].country", 3: "input.accounts[3].email",
                4: "input.accounts[4].name"}
    for i, field in expected.items():
        assert r[i]["account"] is None
        assert r[i]["created"] is False
        assert [e["field"] for e in r[i]["errors"]] == [field]
        assert r[i]["errors"][0]["code"] == "INVALID"
        assert r[i]["errors"][0]["message"]
    assert await models.Account.filter(project_id=project.id).values_list("name", flat=True) == ["Good One"]


async def test_bulk_item_with_several_errors_lists_them_all(bulk: Any) -> None:
    p = await bulk([{"name": "X", "domain": "bad", "language": "english",
                     "contacts": [{"name": "C", "email": "bad"}]}])
    assert {e["field"] for e in p["results"][0]["errors"]} == {
        "input.accounts[0].domain", "input.accounts[0].language", "input.accounts[0].contacts[0].email"
    }


async def test_bulk_over_the_limit_is_refused_whole(bulk: Any, project: models.Project) -> None:
    p = await bulk([{"name": f"Account {i}"} for i in range(MAX_ITEMS + 1)])
    assert p["results"] == []
    assert (p["createdCount"], p["mergedCount"], p["failedCount"]) == (0, 0, 0)
    [error] = p["errors"]
    assert error["code"] == "INVALID"
    assert error["field"] == "input.accounts"
    assert str(MAX_ITEMS) in error["message"]
    assert await models.Account.filter(project_id=project.id).count() == 0


async def test_bulk_at_the_limit_is_accepted(bulk: Any) -> None:
    p = await bulk([{"name": f"Account {i}"} for i in range(MAX_ITEMS)])
    assert p["createdCount"] == MAX_ITEMS


async def test_bulk_empty_list_is_refused(bulk: Any) -> None:
    p = await bulk([])
    assert p["results"] == []
    assert [(e["code"], e["field"]) for e in p["errors"]] == [("INVALID", "input.accounts")]
    assert await models.Account.all().count() == 0


async def test_bulk_with_contacts_dedupes_them_per_account(bulk: Any) -> None:
    p = await bulk([
        {"name": "Acme", "domain": "acme.com", "contacts": [{"name": "Ana", "email": "ana@acme.com"}]},
        {"name": "Acme", "domain": "acme.com", "contacts": [{"name": "Ana", "email": "ANA@acme.com",
                                                              "title": "CTO"}]},
    ])
    assert p["failedCount"] == 0
    contacts = await models.Contact.all()
    assert len(contacts) == 1
    assert contacts[0].title == "CTO"


async def test_bulk_in_another_users_project_is_not_found(gql: Any, make_user: Any, project: models.Project) -> None:
    stranger = await make_user("stranger@example.com")
    variables = {"input": {"projectId": global_id("Project", project.id), "accounts": [{"name": "X"}]}}
    p = data_of(await gql(BULK, variables, as_=stranger))["bulkCreateAccounts"]
    assert [e["code"] for e in p["errors"]] == ["NOT_FOUND"]
    assert await models.Account.all().count() == 0
