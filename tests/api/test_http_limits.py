"""Limits of the HTTP endpoint (body size, depth, aliases), error visibility, GET and the probes."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from tortoise.exceptions import OperationalError

from outboundql import models
from outboundql.settings import Settings, get_settings
from tests.helpers import Person, data_of

SMALL_BODY = 4096

VIEWER = "query Viewer { viewer { email } }"


@pytest.fixture
def settings() -> Settings:
    return Settings(database_url="sqlite://:memory:", redis_url=None, max_body_bytes=SMALL_BODY)


def _nested_viewer_query(depth: int) -> str:
    """``viewer { memberships { project { members { user { memberships … } } } } }``, ``depth`` fields deep."""
    cycle = ["memberships", "project", "members", "user"]
    fields = ["viewer"] + [cycle[i % len(cycle)] for i in range(depth - 1)]
    leaf = {"viewer": "email", "memberships": "role", "project": "slug", "members": "role", "user": "email"}
    body = leaf[fields[-1]]
    for name in reversed(fields):
        body = f"{name} {{ {body} }}"
    return f"query Deep {{ {body} }}"


def _messages(result: dict[str, Any]) -> list[str]:
    return [e["message"] for e in result.get("errors") or []]


async def test_request_body_over_the_limit_is_413(client: httpx.AsyncClient, owner: Person) -> None:
    padding = "x" * (SMALL_BODY * 2)
    payload = {"query": VIEWER, "variables": {"padding": padding}}
    response = await client.post("/graphql", content=json.dumps(payload), headers={
        **owner.headers, "content-type": "application/json"})
    assert response.status_code == 413


async def test_request_body_under_the_limit_is_served(client: httpx.AsyncClient, owner: Person) -> None:
    response = await client.post("/graphql", json={"query": VIEWER}, headers=owner.headers)
    assert response.status_code == 200
    assert data_of(response.json())["viewer"]["email"] == owner.user.email


async def test_query_deeper_than_the_limit_is_refused(gql: Any, owner: Person) -> None:
    limit = get_settings().max_query_depth
    allowed = await gql(_nested_viewer_query(limit), as_=owner)
    assert "errors" not in allowed or not allowed["errors"], allowed

    refused = await gql(_nested_viewer_query(limit + 1), as_=owner)
    assert refused.get("data") is None
    assert any("exceeds maximum operation depth" in m for m in _messages(refused)), refused


async def test_too_many_aliases_are_refused(gql: Any, owner: Person) -> None:
    limit = get_settings().max_aliases
    query = "query Many { " + " ".join(f"a{i}: viewer {{ email }}" for i in range(limit + 1)) + " }"
    result = await gql(query, as_=owner)
    assert result.get("data") is None
    assert any("aliases" in m.lower() for m in _messages(result)), result


async def test_unknown_field_is_a_visible_validation_error(gql: Any, owner: Person) -> None:
    result = await gql("query Oops { viewer { emailAddress } }", as_=owner)
    messages = _messages(result)
    assert messages, result
    assert any("Cannot query field 'emailAddress' on type 'User'" in m for m in messages), messages
    assert "Unexpected error." not in messages  # validation errors are never masked


async def test_get_query_works(client: httpx.AsyncClient, owner: Person) -> None:
    response = await client.get("/graphql", params={"query": VIEWER}, headers={
        **owner.headers, "accept": "application/json"})
    assert response.status_code == 200, response.text
    assert data_of(response.json())["viewer"]["email"] == owner.user.email


async def test_get_cannot_run_a_mutation(client: httpx.AsyncClient, owner: Person) -> None:
    mutation = 'mutation { createProject(input: {name: "Via GET"}) { project { slug } } }'
    response = await client.get("/graphql", params={"query": mutation}, headers={
        **owner.headers, "accept": "application/json"})
    assert response.status_code in (400, 405), response.text
    assert "mutations are not allowed" in response.text


async def test_healthz(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_reports_each_check(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ready", "checks": {"database": "ok", "broker": "ok"}}


PAGE = """
query Page($slug: String!, $first: Int, $after: String) {
  project(slug: $slug) { accounts(first: $first, after: $after) { totalCount } }
}
"""


@pytest.mark.parametrize(("first", "after"), [(10, "garbage"), (10, "UHJvamVjdDox"), (-1, None)])
async def test_bad_pagination_arguments_are_a_visible_client_error(
    gql: Any, owner: Person, project: models.Project, first: int, after: str | None
) -> None:
    result = await gql(PAGE, {"slug": project.slug, "first": first, "after": after}, as_=owner)
    errors = result.get("errors") or []
    assert errors, result
    assert errors[0]["extensions"]["code"] == "BAD_PAGINATION"
    assert errors[0]["message"].startswith("Invalid pagination arguments")
    assert "Unexpected error." not in _messages(result)


async def test_an_unexpected_error_is_masked(gql: Any, owner: Person, project: models.Project,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError('relation "product" does not exist: SELECT "id","secret" FROM "product"')

    monkeypatch.setattr(models.Product, "filter", broken)
    result = await gql("query P($slug: String!) { project(slug: $slug) { products { name } } }",
                       {"slug": project.slug}, as_=owner)
    assert _messages(result) == ["Unexpected error."]
    text = json.dumps(result)
    assert "SELECT" not in text and "product\\\"" not in text and "Traceback" not in text


async def test_only_unexpected_errors_reach_the_server_log(gql: Any, owner: Person, project: models.Project,
                                                           monkeypatch: pytest.MonkeyPatch,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("ERROR", logger="strawberry.execution"):
        await gql("{ viewer { email } }", headers={"Authorization": "Bearer nope"})  # client mistake
        await gql("{ viewer { nosuchfield } }", as_=owner)  # validation error
    assert caplog.records == []

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("connection reset")

    monkeypatch.setattr(models.Product, "filter", broken)
    with caplog.at_level("ERROR", logger="strawberry.execution"):
        await gql("query P($slug: String!) { project(slug: $slug) { products { name } } }",
                  {"slug": project.slug}, as_=owner)
    assert len(caplog.records) == 1
    assert "connection reset" in caplog.text  # the operator sees the real cause


async def test_nodes_takes_at_most_a_page_of_ids(gql: Any, owner: Person, project: models.Project) -> None:
    from tests.helpers import global_id

    query = "query($ids: [ID!]!) { nodes(ids: $ids) { id } }"
    ok = await gql(query, {"ids": [global_id("Project", project.id)] * 100}, as_=owner)
    assert not ok.get("errors") and len(ok["data"]["nodes"]) == 100
    refused = await gql(query, {"ids": [global_id("Project", project.id)] * 101}, as_=owner)
    [error] = refused["errors"]
    assert error["extensions"]["code"] == "TOO_MANY_IDS" and "at most 100" in error["message"]
