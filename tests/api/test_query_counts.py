"""No N+1: a page of 100 rows with nested lists costs the same number of SELECTs as a page of 10."""

from __future__ import annotations

from typing import Any

import pytest

from outboundql import models
from outboundql.enums import AccountStatus, PersonaStatus, StatusSource
from tests.helpers import data_of, warm_up

# project, page, count, contacts, history, contact.account, changedBy users (authentication: cached)
MAX_SELECTS = 7

ACCOUNTS = """
query($slug: String!, $first: Int!) {
  project(slug: $slug) {
    accounts(first: $first) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node {
        id name status
        contacts { id name email account { name } }
        statusHistory { fromStatus toStatus source changedBy { email } }
      } }
    }
  }
}
"""

PRODUCTS = """
query($slug: String!) {
  project(slug: $slug) {
    products {
      slug
      personas { goalKey version product { slug } }
      persona(goal: "sales") { name status }
    }
  }
}
"""


async def seed_accounts(project: models.Project, user: models.User, n: int, prefix: str) -> None:
    await models.Account.bulk_create([
        models.Account(project=project, name=f"{prefix} {i:03d}", name_key=f"{prefix} {i:03d}".lower())
        for i in range(n)
    ])
    rows = await models.Account.filter(project_id=project.id, name__startswith=prefix).order_by("id")
    await models.Contact.bulk_create([
        models.Contact(project=project, account_id=row.id, name=f"Person {j}", email=f"p{j}@{row.id}.example")
        for row in rows for j in range(3)
    ])
    await models.AccountStatusChange.bulk_create([
        change
        for row in rows
        for change in (
            models.AccountStatusChange(account_id=row.id, from_status=None, to_status=AccountStatus.NEW,
                                       source=StatusSource.API, changed_by=user),
            models.AccountStatusChange(account_id=row.id, from_status=AccountStatus.NEW,
                                       to_status=AccountStatus.QUALIFIED, source=StatusSource.MANUAL,
                                       changed_by=user),
        )
    ])


async def seed_products(project: models.Project, user: models.User, n: int) -> None:
    await models.Product.bulk_create([
        models.Product(project=project, name=f"Product {i}", slug=f"product-{i}", created_by=user) for i in range(n)
    ])
    products = await models.Product.filter(project_id=project.id)
    await models.Persona.bulk_create([
        models.Persona(project=project, product_id=p.id, goal_key=goal, name=f"{goal} of {p.slug}",
                       status=PersonaStatus.DRAFT)
        for p in products for goal in ("sales", "press")
    ])


@pytest.fixture
def selects(gql: Any, owner: Any, count_queries: Any) -> Any:
    async def run(query: str, variables: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        await warm_up(gql, owner)
        with count_queries() as counter:
            data = data_of(await gql(query, variables, as_=owner))
        return counter.selects, data

    return run


async def test_account_page_costs_a_constant_number_of_selects(
    owner: Any, project: models.Project, make_project: Any, selects: Any
) -> None:
    small = await make_project(owner, "Small")
    await seed_accounts(small, owner.user, 10, "Small")
    await seed_accounts(project, owner.user, 120, "Big")

    small_count, small_data = await selects(ACCOUNTS, {"slug": small.slug, "first": 10})
    big_count, big_data = await selects(ACCOUNTS, {"slug": project.slug, "first": 100})

    small_edges = small_data["project"]["accounts"]["edges"]
    big_edges = big_data["project"]["accounts"]["edges"]
    assert len(small_edges) == 10 and len(big_edges) == 100
    assert big_data["project"]["accounts"]["totalCount"] == 120
    node = big_edges[0]["node"]
    assert len(node["contacts"]) == 3
    assert node["contacts"][0]["account"] == {"name": node["name"]}
    assert [h["toStatus"] for h in node["statusHistory"]] == ["QUALIFIED", "NEW"]
    assert node["statusHistory"][0]["changedBy"] == {"email": "owner@example.com"}

    assert big_count == small_count
    assert big_count <= MAX_SELECTS


async def test_product_list_costs_a_constant_number_of_selects(
    owner: Any, project: models.Project, make_project: Any, selects: Any
) -> None:
    small = await make_project(owner, "Small")
    await seed_products(small, owner.user, 2)
    await seed_products(project, owner.user, 40)

    small_count, small_data = await selects(PRODUCTS, {"slug": small.slug})
    big_count, big_data = await selects(PRODUCTS, {"slug": project.slug})

    assert len(small_data["project"]["products"]) == 2
    products = big_data["project"]["products"]
    assert len(products) == 40
    assert [p["goalKey"] for p in products[0]["personas"]] == ["press", "sales"]
    assert products[0]["personas"][0]["product"] == {"slug": products[0]["slug"]}
    assert products[0]["persona"] == {"name": f"sales of {products[0]['slug']}", "status": "DRAFT"}

    assert big_count == small_count
    assert big_count <= MAX_SELECTS
