"""Racing retries with one idempotency key on PostgreSQL: every mutation that creates makes its rows once.

Each retry claims the key first in its transaction; the unique constraint on (scope, operation, key)
makes the others wait for the winner's commit, roll back and answer the winner's result."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from outboundql import models
from outboundql.enums import ExpenseKind
from outboundql.goals.testing import registry_with
from outboundql.services import accounts, campaigns, contacts, expenses, markets, products, projects, saved_filters
from outboundql.services.access import Access
from tests.conftest import global_database

pytestmark = pytest.mark.integration

RETRIES = 8


@dataclass
class Scene:
    access: Access
    project: models.Project
    product: models.Product
    campaign: models.Campaign
    account: models.Account


@asynccontextmanager
async def scene(pg_url: str) -> AsyncIterator[Scene]:
    async with global_database(pg_url):
        user = await models.User.create(email="racer@example.com", name="Racer")
        access = await Access.for_user(user)
        project = (await projects.create_project(access, projects.CreateProject(name="Race"))).project
        product = await models.Product.create(project=project, name="Widget", slug="widget")
        campaign = (await campaigns.create_campaign(access, registry_with(), campaigns.CreateCampaign(
            project_id=project.id, product_id=product.id, name="Race"))).campaign
        account = await models.Account.create(project=project, name="Alpha", domain="alpha.example")
        yield Scene(access, project, product, campaign, account)


Retry = Callable[[Scene, str], Awaitable[Any]]

RACES: dict[str, tuple[Retry, Callable[[Any], list[int]], type[Any]]] = {
    # a retry of the mutation, the ids of the rows its result names, the model of those rows
    "createProject": (lambda s, key: projects.create_project(s.access, projects.CreateProject(
        name="Racing", idempotency_key=key)), lambda r: [r.project.id], models.Project),
    "createProduct": (lambda s, key: products.create_product(s.access, products.CreateProduct(
        project_id=s.project.id, name="Gadget", idempotency_key=key)), lambda r: [r.product.id], models.Product),
    "createCampaign": (lambda s, key: campaigns.create_campaign(s.access, registry_with(), campaigns.CreateCampaign(
        project_id=s.project.id, product_id=s.product.id, name="Autumn", idempotency_key=key)),
        lambda r: [r.campaign.id], models.Campaign),
    "createAccount": (lambda s, key: accounts.create_account(s.access, accounts.CreateAccount(
        project_id=s.project.id, name="Beta", idempotency_key=key)), lambda r: [r.account.id], models.Account),
    "bulkCreateAccounts": (lambda s, key: accounts.bulk_create_accounts(s.access, accounts.BulkCreateAccounts(
        project_id=s.project.id, accounts=(accounts.NewAccount(name="One"), accounts.NewAccount(name="Two")),
        idempotency_key=key), max_items=10),
        lambda r: [i.upserted.account.id for i in r.items], models.Account),
    "createContact": (lambda s, key: contacts.create_contact(s.access, contacts.CreateContact(
        account_id=s.account.id, name="Ana", email="ana@alpha.example", idempotency_key=key)),
        lambda r: [r.contact.id], models.Contact),
    "createMarket": (lambda s, key: markets.create_market(s.access, markets.CreateMarket(
        project_id=s.project.id, name="Iberia", idempotency_key=key)), lambda r: [r.market.id], models.Market),
    "createSavedFilter": (lambda s, key: saved_filters.create_saved_filter(s.access, saved_filters.CreateSavedFilter(
        project_id=s.project.id, name="Spain", expression={"field": "country", "op": "eq", "value": "ES"},
        idempotency_key=key)), lambda r: [r.saved_filter.id], models.SavedFilter),
    "addExpense": (lambda s, key: expenses.add_expense(s.access, expenses.AddExpense(
        campaign_id=s.campaign.id, kind=ExpenseKind.SOFTWARE, amount=Decimal("99.00"), currency="EUR",
        idempotency_key=key)), lambda r: [r.expense.id], models.Expense),
}


@pytest.mark.parametrize("mutation", list(RACES))
async def test_racing_retries_with_one_key_make_the_rows_once(pg_url: str, mutation: str) -> None:
    retry, ids_of, model = RACES[mutation]
    async with scene(pg_url) as s:
        before = await model.all().count()
        results = await asyncio.gather(*[retry(s, "race-1") for _ in range(RETRIES)])
        assert len({tuple(ids_of(r)) for r in results}) == 1, [ids_of(r) for r in results]
        assert [r.replayed for r in results].count(False) == 1
        assert await model.all().count() == before + len(ids_of(results[0]))
        assert await models.IdempotencyKey.filter(key="race-1").count() == 1
        assert await models.AuditEvent.filter(object_type=model.__name__, object_id__in=ids_of(results[0])) \
            .count() == len(ids_of(results[0]))
