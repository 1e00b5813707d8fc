"""Idempotency keys on the mutations that create: a retry with the key answers the first result
(``replayed: true``) and writes nothing; the key with other input is CONFLICT and writes nothing; keys
are per project (per user for createProject) and per mutation. Every such mutation is in `CREATES`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from outboundql import models
from outboundql.enums import Role
from outboundql.services import events
from tests.helpers import Person, data_of, global_id


@dataclass(frozen=True)
class Create:
    """One mutation that creates: its input (from the test's ids), what it answers and the rows it makes."""

    mutation: str
    input_type: str
    selection: str  # the payload's fields besides replayed and errors
    make_input: Callable[[dict[str, str]], dict[str, Any]]
    other_input: Callable[[dict[str, str]], dict[str, Any]]  # the same mutation, other content
    created_ids: Callable[[dict[str, Any]], list[str]]  # the new rows' ids in the payload
    rows: Callable[[], Any]  # a queryset of the rows it makes

    def document(self) -> str:
        return (f"mutation($input: {self.input_type}!) {{ {self.mutation}(input: $input) {{ {self.selection} "
                "replayed errors { code field message } } }")


def _one(node: str) -> Callable[[dict[str, Any]], list[str]]:
    return lambda payload: [payload[node]["id"]]


CREATES = [
    Create("createProject", "CreateProjectInput", "project { id }",
           lambda ids: {"name": "Second"}, lambda ids: {"name": "Third"}, _one("project"),
           lambda: models.Project.all()),
    Create("createProduct", "CreateProductInput", "product { id }",
           lambda ids: {"projectId": ids["project"], "name": "Gadget"},
           lambda ids: {"projectId": ids["project"], "name": "Gadget", "description": "Other"},
           _one("product"), lambda: models.Product.all()),
    Create("createCampaign", "CreateCampaignInput", "campaign { id }",
           lambda ids: {"projectId": ids["project"], "productId": ids["product"], "name": "Autumn"},
           lambda ids: {"projectId": ids["project"], "productId": ids["product"], "name": "Winter"},
           _one("campaign"), lambda: models.Campaign.all()),
    Create("createAccount", "CreateAccountInput", "account { id } created matchedOn mergedFields",
           lambda ids: {"projectId": ids["project"], "name": "Beta Corp", "domain": "beta.example"},
           lambda ids: {"projectId": ids["project"], "name": "Gamma Corp"},
           _one("account"), lambda: models.Account.all()),
    Create("bulkCreateAccounts", "BulkCreateAccountsInput",
           "createdCount mergedCount failedCount results { index account { id } created errors { code field } }",
           lambda ids: {"projectId": ids["project"], "accounts": [{"name": "One"}, {"name": "Two"}, {"name": ""}]},
           lambda ids: {"projectId": ids["project"], "accounts": [{"name": "One"}]},
           lambda payload: [r["account"]["id"] for r in payload["results"] if r["account"]],
           lambda: models.Account.all()),
    Create("createContact", "CreateContactInput", "contact { id } created",
           lambda ids: {"accountId": ids["account"], "name": "Ana", "email": "ana@alpha.example"},
           lambda ids: {"accountId": ids["account"], "name": "Ana", "email": "ana@other.example"},
           _one("contact"), lambda: models.Contact.all()),
    Create("createMarket", "CreateMarketInput", "market { id }",
           lambda ids: {"projectId": ids["project"], "name": "Iberia", "filters": {"countries": ["ES", "PT"]}},
           lambda ids: {"projectId": ids["project"], "name": "Iberia", "filters": {"countries": ["ES"]}},
           _one("market"), lambda: models.Market.all()),
    Create("createSavedFilter", "CreateSavedFilterInput", "savedFilter { id }",
           lambda ids: {"projectId": ids["project"], "name": "Spain",
                        "expression": {"field": "country", "op": "eq", "value": "ES"}},
           lambda ids: {"projectId": ids["project"], "name": "Spain",
                        "expression": {"field": "country", "op": "eq", "value": "FR"}},
           _one("savedFilter"), lambda: models.SavedFilter.all()),
    Create("addExpense", "AddExpenseInput", "expense { id }",
           lambda ids: {"campaignId": ids["campaign"], "kind": "SOFTWARE", "amount": "120.50", "currency": "EUR"},
           lambda ids: {"campaignId": ids["campaign"], "kind": "SOFTWARE", "amount": "120.51", "currency": "EUR"},
           _one("expense"), lambda: models.Expense.all()),
]
IDS = [c.mutation for c in CREATES]


@pytest.fixture
async def ids(project: models.Project, product: models.Product, campaign: models.Campaign) -> dict[str, str]:
    account = await models.Account.create(project=project, name="Alpha", domain="alpha.example")
    return {"project": global_id("Project", project.id), "product": global_id("Product", product.id),
            "campaign": global_id("Campaign", campaign.id), "account": global_id("Account", account.id)}


async def call(gql: Any, create: Create, fields: dict[str, Any], person: Person, key: str | None) -> dict[str, Any]:
    variables = {"input": {**fields, **({} if key is None else {"idempotencyKey": key})}}
    return dict(data_of(await gql(create.document(), variables, as_=person))[create.mutation])


async def counts(create: Create) -> tuple[int, int, int]:
    return (await create.rows().count(), await models.AuditEvent.all().count(),
            await models.IdempotencyKey.all().count())


@pytest.mark.parametrize("create", CREATES, ids=IDS)
async def test_a_retry_with_the_key_answers_the_first_result_and_writes_nothing(
    gql, owner: Person, ids: dict[str, str], create: Create,
) -> None:
    first = await call(gql, create, create.make_input(ids), owner, "req-1")
    assert first["errors"] == [] and first["replayed"] is False
    assert create.created_ids(first)
    written = await counts(create)

    retry = await call(gql, create, create.make_input(ids), owner, "req-1")
    assert retry["replayed"] is True
    assert {**retry, "replayed": False} == first  # the same rows, the same answer
    assert await counts(create) == written


@pytest.mark.parametrize("create", CREATES, ids=IDS)
async def test_the_key_with_other_input_is_a_conflict_and_writes_nothing(
    gql, owner: Person, ids: dict[str, str], create: Create,
) -> None:
    await call(gql, create, create.make_input(ids), owner, "req-2")
    written = await counts(create)
    other = await call(gql, create, create.other_input(ids), owner, "req-2")
    assert [(e["code"], e["field"]) for e in other["errors"]] == [("CONFLICT", "input.idempotencyKey")]
    assert await counts(create) == written


@pytest.mark.parametrize("create", CREATES, ids=IDS)
async def test_without_a_key_nothing_is_recorded(gql, owner: Person, ids: dict[str, str], create: Create) -> None:
    first = await call(gql, create, create.make_input(ids), owner, None)
    assert first["errors"] == [] and first["replayed"] is False
    assert await models.IdempotencyKey.all().count() == 0


@pytest.mark.parametrize("create", CREATES, ids=IDS)
async def test_a_key_too_long_is_invalid(gql, owner: Person, ids: dict[str, str], create: Create) -> None:
    rows = await create.rows().count()
    result = await call(gql, create, create.make_input(ids), owner, "k" * 201)
    assert [(e["code"], e["field"]) for e in result["errors"]] == [("INVALID", "input.idempotencyKey")]
    assert await create.rows().count() == rows
    assert (await call(gql, create, create.make_input(ids), owner, "k" * 200))["errors"] == []


async def test_one_key_serves_each_mutation_once(gql, owner: Person, ids: dict[str, str]) -> None:
    """Keys are per mutation: the same key on every mutation that creates makes each one's rows."""
    for create in CREATES:
        result = await call(gql, create, create.make_input(ids), owner, "shared")
        assert result["errors"] == [] and result["replayed"] is False, create.mutation
    assert await models.IdempotencyKey.filter(key="shared").count() == len(CREATES)


async def test_keys_are_per_project(gql, owner: Person, ids: dict[str, str], make_project: Any) -> None:
    other = await make_project(owner, "Other")
    create = next(c for c in CREATES if c.mutation == "createProduct")
    here = await call(gql, create, create.make_input(ids), owner, "k1")
    there = await call(gql, create, create.make_input({"project": global_id("Project", other.id)}), owner, "k1")
    assert (here["replayed"], there["replayed"]) == (False, False)
    assert here["product"]["id"] != there["product"]["id"]


async def test_anyone_in_the_project_retries_a_request_but_no_stranger_sees_it(
    gql, owner: Person, ids: dict[str, str], make_user: Any, add_member: Any, project: models.Project,
) -> None:
    member, stranger = await make_user("member@example.com"), await make_user("stranger@example.com")
    await add_member(member, project, Role.MEMBER)
    create = next(c for c in CREATES if c.mutation == "createMarket")
    first = await call(gql, create, create.make_input(ids), owner, "k1")
    retry = await call(gql, create, create.make_input(ids), member, "k1")
    assert (retry["replayed"], retry["market"]) == (True, first["market"])
    refused = await call(gql, create, create.make_input(ids), stranger, "k1")
    assert [(e["code"], e["field"]) for e in refused["errors"]] == [("NOT_FOUND", "input.projectId")]
    assert refused["market"] is None


async def test_project_keys_are_the_users(gql, owner: Person, make_user: Any) -> None:
    """createProject has no project yet: its keys are the user's."""
    create = CREATES[0]
    other = await make_user("other@example.com")
    mine = await call(gql, create, {"name": "Mine"}, owner, "k1")
    theirs = await call(gql, create, {"name": "Mine"}, other, "k1")
    again = await call(gql, create, {"name": "Mine"}, other, "k1")
    assert (mine["replayed"], theirs["replayed"], again["replayed"]) == (False, False, True)
    assert mine["project"]["id"] != theirs["project"]["id"] == again["project"]["id"]


async def test_a_retry_after_the_row_was_deleted_is_a_conflict(gql, owner: Person, ids: dict[str, str]) -> None:
    create = next(c for c in CREATES if c.mutation == "createMarket")
    first = await call(gql, create, create.make_input(ids), owner, "k1")
    deleted = await gql("mutation($id: ID!) { deleteMarket(input: {id: $id}) { errors { code } } }",
                        {"id": first["market"]["id"]}, as_=owner)
    assert data_of(deleted)["deleteMarket"]["errors"] == []
    retry = await call(gql, create, create.make_input(ids), owner, "k1")
    assert [(e["code"], e["field"]) for e in retry["errors"]] == [("CONFLICT", "input.idempotencyKey")]
    assert "gone" in retry["errors"][0]["message"]
    assert await models.Market.all().count() == 0


async def test_a_campaign_retry_is_answered_though_its_product_was_archived_since(
    gql, owner: Person, ids: dict[str, str], product: models.Product,
) -> None:
    create = next(c for c in CREATES if c.mutation == "createCampaign")
    first = await call(gql, create, create.make_input(ids), owner, "k1")
    archived = await gql("mutation($id: ID!) { archiveProduct(input: {id: $id}) { errors { code } } }",
                         {"id": ids["product"]}, as_=owner)
    assert data_of(archived)["archiveProduct"]["errors"] == []
    retry = await call(gql, create, create.make_input(ids), owner, "k1")
    assert (retry["replayed"], retry["campaign"], retry["errors"]) == (True, first["campaign"], [])
    fresh = await call(gql, create, {**create.make_input(ids), "name": "Another"}, owner, "k2")
    assert [(e["code"], e["field"]) for e in fresh["errors"]] == [("INVALID", "input.productId")]


async def test_a_bulk_retry_answers_every_item_as_the_first_did(gql, owner: Person, ids: dict[str, str]) -> None:
    create = next(c for c in CREATES if c.mutation == "bulkCreateAccounts")
    first = await call(gql, create, create.make_input(ids), owner, "k1")
    assert (first["createdCount"], first["failedCount"]) == (2, 1)
    assert first["results"][2]["errors"] == [{"code": "INVALID", "field": "input.accounts[2].name"}]
    retry = await call(gql, create, create.make_input(ids), owner, "k1")
    assert {**retry, "replayed": False} == first


async def test_a_replay_publishes_no_live_event(gql, owner: Person, ids: dict[str, str],
                                                project: models.Project) -> None:
    create = next(c for c in CREATES if c.mutation == "createAccount")
    received: list[dict[str, Any]] = []

    async def consume() -> None:
        async for event in events.get_bus().subscribe(events.account_channel(project.id)):
            received.append(event)

    task = asyncio.create_task(consume())
    await asyncio.sleep(0)
    try:
        await call(gql, create, create.make_input(ids), owner, "k1")
        await call(gql, create, create.make_input(ids), owner, "k1")
        for _ in range(10):
            await asyncio.sleep(0)
    finally:
        task.cancel()
    assert [e["kind"] for e in received] == ["created"]
