"""Query cost (`outboundql.gql.query_cost`): computed before an operation runs, reported in ``extensions.cost``,
and over ``max_query_cost`` refused with QUERY_TOO_COSTLY and nothing run; several operations need an
``operationName``."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import get_operation_ast, parse

from outboundql import models
from outboundql.gql.query_cost import operation_cost
from outboundql.gql.schema import schema
from outboundql.settings import Settings
from tests.helpers import Person, data_of

PAGES = """
query Pages($slug: String!, $campaigns: Int, $rows: Int = 100) {
  project(slug: $slug) {
    campaigns(first: $campaigns) {
      totalCount
      edges { node { accounts(first: $rows) { edges { node { id account { name } } } } } }
    }
  }
}
"""

DEEP = """
query Deep($slug: String!) {
  project(slug: $slug) {
    campaigns(first: 100) { edges { node { accounts(first: 100) { edges { node { account {
      messages(first: 100) { edges { node { id } } }
    } } } } } } }
  }
}
"""

CREATE_PROJECT = """
mutation Create($name: String!) {
  createProject(input: {name: $name}) {
    project { campaigns(first: 100) { edges { node { accounts(first: 100) { edges { node {
      attempts(limit: 100) { id }
    } } } } } } }
    errors { code }
  }
}
"""


def cost(document: str, variables: dict[str, Any] | None = None, page: int = 100) -> int:
    parsed = parse(document)
    operation = get_operation_ast(parsed)
    assert operation is not None
    return operation_cost(schema._schema, parsed, operation, variables, page)


def test_page_sizes_multiply_through_nested_connections() -> None:
    # project 1 + campaigns 1 + n × (edge 1 + campaign 1 + accounts 1 + m × (edge 1 + row 1 + account 1))
    assert cost(PAGES, {"slug": "x", "campaigns": 10, "rows": 5}) == 2 + 10 * (3 + 5 * 3)
    assert cost(PAGES, {"slug": "x", "campaigns": 1}) == 2 + 1 * (3 + 100 * 3)  # the variable's default
    assert cost(PAGES, {"slug": "x"}) == 2 + 100 * (3 + 100 * 3)  # no first: the default page
    assert cost(PAGES, {"slug": "x"}, page=10) == 2 + 10 * (3 + 100 * 3)
    assert cost(DEEP, {"slug": "x"}) > 100**3


def test_limits_ids_fragments_and_introspection() -> None:
    assert cost("{ __schema { types { fields { name } } } __typename }") == 0
    assert cost('{ nodes(ids: ["a", "b", "c"]) { id } }') == 3
    # a fragment is costed once, then multiplied by each place it is spread in
    fragment = "fragment Row on CampaignAccount { id account { name } attempts { id } }"
    document = ('{ project(slug: "x") { campaigns(first: 2) { edges { node { accounts(first: 3) { edges { node '
                '{ ...Row } } } } } } } } ' + fragment)
    # attempts: a list of `limit` (20 by default) attempts per row
    assert cost(document) == 1 + 1 + 2 * (1 + 1 + 1 + 3 * (1 + 1 + 1 + 20))
    assert cost("mutation { createApiToken(input: {name: \"a\"}) { errors { code } } }") == 10 + 2


async def test_the_cost_is_reported_with_the_budget(gql: Any, owner: Person, project: models.Project) -> None:
    result = await gql(PAGES, {"slug": project.slug, "campaigns": 10, "rows": 5}, as_=owner)
    assert data_of(result)["project"]["campaigns"]["totalCount"] == 0
    reported = result["extensions"]["cost"]
    assert reported.pop("rateLimit").keys() == {"limit", "cost", "remaining", "resetAt"}  # test_rate_limits.py
    assert reported == {"requestedQueryCost": 2 + 10 * (3 + 5 * 3), "maximumQueryCost": 50_000}


async def test_a_query_over_the_budget_is_refused_with_its_cost(gql: Any, owner: Person,
                                                                project: models.Project) -> None:
    result = await gql(DEEP, {"slug": project.slug}, as_=owner)
    assert result["data"] is None
    [error] = result["errors"]
    expected = cost(DEEP, {"slug": project.slug})
    assert error["extensions"] == {"code": "QUERY_TOO_COSTLY", "cost": expected, "maximumCost": 50_000}
    assert error["message"].startswith(f"This operation may return {expected:,} objects; at most 50,000 are allowed.")


async def test_a_costly_mutation_is_refused_before_it_runs(gql: Any, owner: Person) -> None:
    result = await gql(CREATE_PROJECT, {"name": "Never made"}, as_=owner)
    assert result["errors"][0]["extensions"]["code"] == "QUERY_TOO_COSTLY"
    assert result["data"] is None
    assert not await models.Project.filter(name="Never made").exists()


async def test_variables_decide_the_cost(gql: Any, owner: Person, project: models.Project) -> None:
    small = await gql(PAGES, {"slug": project.slug, "campaigns": 1, "rows": 1}, as_=owner)
    assert small["extensions"]["cost"]["requestedQueryCost"] == 2 + 1 * (3 + 1 * 3)
    assert not small.get("errors")


@pytest.fixture
def settings() -> Settings:
    return Settings(database_url="sqlite://:memory:", redis_url=None, max_query_cost=50_000)


async def test_several_operations_need_an_operation_name(gql: Any, client: Any, owner: Person) -> None:
    document = "query First { viewer { email } } query Second { viewer { name } }"
    refused = await gql(document, as_=owner)
    assert refused["data"] is None
    [error] = refused["errors"]
    assert error["extensions"] == {"code": "OPERATION_NAME_REQUIRED"}
    assert error["message"] == ("The document holds 2 operations (First, Second): say which one to run with "
                                "`operationName`.")
    named = await client.post("/graphql", json={"query": document, "operationName": "Second"}, headers=owner.headers)
    assert data_of(named.json()) == {"viewer": {"name": owner.user.name}}
    single = await gql("query Only { viewer { email } }", as_=owner)
    assert data_of(single) == {"viewer": {"email": owner.user.email}}
