"""project.accounts: filters, sorting (stable with ties), Relay pagination, page-size cap."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from outboundql import models
from outboundql.enums import AccountStatus
from tests.helpers import data_of, global_id

ACCOUNTS = """
query($slug: String!, $filter: AccountFilter, $orderBy: AccountOrder, $first: Int, $after: String,
      $last: Int, $before: String) {
  project(slug: $slug) {
    accounts(filter: $filter, orderBy: $orderBy, first: $first, after: $after, last: $last, before: $before) {
      totalCount
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      edges { cursor node { id name employeeCount } }
    }
  }
}
"""

SEED = [
    # name, domain, city, country, industry, employees, status
    ("Acme", "acme.com", "Madrid", "ES", "Software", 50, AccountStatus.NEW),
    ("Beta", "beta.io", "Paris", "FR", "Retail", 500, AccountStatus.CUSTOMER),
    ("Gamma", "gamma.de", "Berlin", "DE", "Software", 5, AccountStatus.PARTNER),
    ("Delta", "delta.es", "Sevilla", "ES", "Logistics", None, AccountStatus.NEW),
    ("Epsilon", None, "Madrid", "ES", "Retail", 50, AccountStatus.LOST),
    ("Zeta Madrid Tools", "zeta.com", "Lyon", "FR", None, 1000, AccountStatus.NEW),
]


@pytest.fixture
async def seeded(project: models.Project) -> models.Project:
    await models.Account.bulk_create([
        models.Account(project=project, name=name, name_key=name.lower(), domain=domain, city=city,
                       city_key=city.lower(), country=country, industry=industry, employee_count=employees,
                       status=status)
        for name, domain, city, country, industry, employees, status in SEED
    ])
    return project


@pytest.fixture
def accounts(gql: Any, owner: Any, project: models.Project) -> Any:
    async def run(**variables: Any) -> dict[str, Any]:
        return data_of(await gql(ACCOUNTS, {"slug": project.slug, **variables}, as_=owner))["project"]["accounts"]

    return run


def names(connection: dict[str, Any]) -> list[str]:
    return [e["node"]["name"] for e in connection["edges"]]


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        ({}, ["Acme", "Beta", "Gamma", "Delta", "Epsilon", "Zeta Madrid Tools"]),
        ({"statuses": ["NEW"]}, ["Acme", "Delta", "Zeta Madrid Tools"]),
        ({"statuses": ["CUSTOMER", "LOST"]}, ["Beta", "Epsilon"]),
        ({"countries": ["es"]}, ["Acme", "Delta", "Epsilon"]),
        ({"countries": ["FR", "DE"]}, ["Beta", "Gamma", "Zeta Madrid Tools"]),
        ({"industries": ["Software"]}, ["Acme", "Gamma"]),
        ({"minEmployees": 50}, ["Acme", "Beta", "Epsilon", "Zeta Madrid Tools"]),
        ({"maxEmployees": 50}, ["Acme", "Gamma", "Epsilon"]),
        ({"minEmployees": 10, "maxEmployees": 500}, ["Acme", "Beta", "Epsilon"]),
        ({"search": "madrid"}, ["Acme", "Epsilon", "Zeta Madrid Tools"]),  # city or name
        ({"search": ".io"}, ["Beta"]),  # domain
        ({"search": "  GAMMA "}, ["Gamma"]),
        ({"domain": "https://www.acme.com/x"}, ["Acme"]),
        ({"countries": ["ES"], "statuses": ["NEW"], "industries": ["Logistics"]}, ["Delta"]),
        ({"search": "nothing-like-this"}, []),
    ],
)
async def test_filters(seeded: models.Project, accounts: Any, flt: dict[str, Any], expected: list[str]) -> None:
    result = await accounts(filter=flt)
    assert names(result) == expected
    assert result["totalCount"] == len(expected)


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        ({"field": "NAME", "direction": "ASC"}, ["Acme", "Beta", "Delta", "Epsilon", "Gamma", "Zeta Madrid Tools"]),
        ({"field": "NAME", "direction": "DESC"}, ["Zeta Madrid Tools", "Gamma", "Epsilon", "Delta", "Beta", "Acme"]),
        ({"field": "CREATED_AT", "direction": "ASC"}, [s[0] for s in SEED]),
        ({"field": "CREATED_AT", "direction": "DESC"}, [s[0] for s in reversed(SEED)]),
        # ties (Acme/Epsilon at 50) are broken by id, in the same direction
        ({"field": "EMPLOYEE_COUNT", "direction": "ASC"}, ["Gamma", "Acme", "Epsilon", "Beta", "Zeta Madrid Tools"]),
        ({"field": "EMPLOYEE_COUNT", "direction": "DESC"}, ["Zeta Madrid Tools", "Beta", "Epsilon", "Acme", "Gamma"]),
    ],
)
async def test_order(seeded: models.Project, accounts: Any, order: dict[str, str], expected: list[str]) -> None:
    flt = {"minEmployees": 0} if order["field"] == "EMPLOYEE_COUNT" else {}  # null counts sort per database
    assert names(await accounts(orderBy=order, filter=flt)) == expected


async def test_default_order_is_created_at_then_id(seeded: models.Project, accounts: Any) -> None:
    assert names(await accounts()) == [s[0] for s in SEED]


async def test_ties_give_a_stable_order_across_pages(project: models.Project, accounts: Any) -> None:
    await models.Account.bulk_create([models.Account(project=project, name="Same", employee_count=7)
                                      for _ in range(9)])
    ids = [a.id for a in await models.Account.filter(project_id=project.id).order_by("id")]
    for direction, expected in (("ASC", ids), ("DESC", ids[::-1])):
        seen: list[str] = []
        after = None
        while True:
            page = await accounts(orderBy={"field": "NAME", "direction": direction}, first=4, after=after)
            seen.extend(e["node"]["id"] for e in page["edges"])
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
        assert seen == [global_id("Account", i) for i in expected]


async def test_first_after_walks_every_row_exactly_once(project: models.Project, accounts: Any) -> None:
    await models.Account.bulk_create([models.Account(project=project, name=f"Account {i:03d}") for i in range(23)])
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        page = await accounts(first=5, after=after, orderBy={"field": "NAME", "direction": "ASC"})
        pages += 1
        assert page["totalCount"] == 23
        assert len(page["edges"]) <= 5
        seen.extend(names(page))
        assert page["pageInfo"]["hasPreviousPage"] is (pages > 1)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert pages == 5
    assert seen == [f"Account {i:03d}" for i in range(23)]


async def test_last_before_walks_backwards(project: models.Project, accounts: Any) -> None:
    await models.Account.bulk_create([models.Account(project=project, name=f"Account {i:02d}") for i in range(7)])
    order = {"field": "NAME", "direction": "ASC"}
    everything = await accounts(orderBy=order, first=7)
    tail = await accounts(orderBy=order, last=3, before=everything["edges"][5]["cursor"])
    assert names(tail) == ["Account 02", "Account 03", "Account 04"]


async def test_total_count_ignores_pagination_but_not_filters(seeded: models.Project, accounts: Any) -> None:
    page = await accounts(first=2, filter={"countries": ["ES"]})
    assert names(page) == ["Acme", "Delta"]
    assert page["totalCount"] == 3
    assert page["pageInfo"]["hasNextPage"] is True


async def test_first_above_the_cap_is_refused(seeded: models.Project, gql: Any, owner: Any) -> None:
    result = await gql(ACCOUNTS, {"slug": seeded.slug, "first": 101}, as_=owner)
    assert result["errors"]
    error = result["errors"][0]
    assert error["extensions"]["code"] == "PAGE_TOO_LARGE"
    assert "100" in error["message"]


async def test_last_above_the_cap_is_refused(seeded: models.Project, gql: Any, owner: Any) -> None:
    result = await gql(ACCOUNTS, {"slug": seeded.slug, "last": 500}, as_=owner)
    assert result["errors"][0]["extensions"]["code"] == "PAGE_TOO_LARGE"


async def test_first_at_the_cap_is_fine(seeded: models.Project, accounts: Any) -> None:
    assert len((await accounts(first=100))["edges"]) == len(SEED)


async def test_default_page_size_applies_when_first_is_omitted(project: models.Project, accounts: Any) -> None:
    await models.Account.bulk_create([models.Account(project=project, name=f"A{i:03d}") for i in range(105)])
    page = await accounts()
    assert len(page["edges"]) == 100
    assert page["totalCount"] == 105
    assert page["pageInfo"]["hasNextPage"] is True
    rest = await accounts(after=page["pageInfo"]["endCursor"])
    assert len(rest["edges"]) == 5
    assert rest["pageInfo"]["hasNextPage"] is False


async def test_accounts_of_another_project_are_not_listed(
    seeded: models.Project, accounts: Any, owner: Any, make_project: Any
) -> None:
    other = await make_project(owner, "Other")
    await models.Account.create(project=other, name="Elsewhere")
    assert "Elsewhere" not in names(await accounts())
    assert (await accounts())["totalCount"] == len(SEED)


@pytest.mark.parametrize("direction", ["ASC", "DESC"])
async def test_accounts_without_an_employee_count_come_last_both_ways(seeded: models.Project, accounts: Any,
                                                                      direction: str) -> None:
    order = {"field": "EMPLOYEE_COUNT", "direction": direction}
    seen: list[str] = []
    after = None
    while True:  # pages of two: one of them spans the rows with a count and the row without
        page = await accounts(orderBy=order, first=2, after=after)
        seen += names(page)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen[-1] == "Delta"  # the one account without an employee count
    counted = {"ASC": ["Gamma", "Acme", "Epsilon", "Beta", "Zeta Madrid Tools"],
               "DESC": ["Zeta Madrid Tools", "Beta", "Epsilon", "Acme", "Gamma"]}
    assert seen[:-1] == counted[direction]
    back = await accounts(orderBy=order, last=3)
    assert names(back) == seen[-3:]
    assert back["pageInfo"]["hasPreviousPage"] is True


async def test_rows_added_or_removed_between_pages_are_neither_repeated_nor_skipped(
    project: models.Project, accounts: Any
) -> None:
    await models.Account.bulk_create([models.Account(project=project, name=f"N{i:02d}") for i in range(10)])
    order = {"field": "NAME", "direction": "ASC"}
    first = await accounts(orderBy=order, first=4)
    await models.Account.create(project=project, name="A-first")  # sorts before the cursor
    await models.Account.filter(project_id=project.id, name__in=["N00", "N05"]).delete()  # one read, one not
    rest = await accounts(orderBy=order, first=10, after=first["pageInfo"]["endCursor"])
    assert names(first) == ["N00", "N01", "N02", "N03"]
    assert names(rest) == ["N04", "N06", "N07", "N08", "N09"]


@pytest.mark.parametrize("forged", [
    '["not a date", 1]', "[1, 2, 3]", '[null, 1]', '["2024-01-01", "x"]', "{}", "[1e999, 1]",
])
async def test_a_forged_cursor_is_a_pagination_error(seeded: models.Project, accounts: Any, gql: Any, owner: Any,
                                                     forged: str) -> None:
    cursor = base64.b64encode(f"keyset:{forged}".encode()).decode()
    result = await gql(ACCOUNTS, {"slug": seeded.slug, "after": cursor}, as_=owner)
    assert [e["extensions"]["code"] for e in result["errors"]] == ["BAD_PAGINATION"]
