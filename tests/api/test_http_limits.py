"""Limits of the HTTP endpoint (body size, depth, aliases), error visibility, GET and the probes."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from tortoise.exceptions import OperationalError

from outboundql import models
from outboundql.settings import Settings, get_settings
from tests.helpers import Person, data_of, global_id

SMALL_BODY = 4096

VIEWER = "query Viewer { viewer { email } }"


@pytest.fixture
def settings() -> Settings:
    return Settings(database_url="sqlite://:memory:", redis_url=None, max_body_bytes=SMALL_BODY)


def _nested_viewer_query(levels: int) -> str:
    """``viewer { memberships { project { members { user { … email } } } } }``: ``levels`` levels of fields,
    the leaf included (``viewer { email }`` is 2)."""
    cycle = ["memberships", "project", "members", "user"]
    fields = ["viewer"] + [cycle[i % len(cycle)] for i in range(levels - 2)]
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


def test_the_nested_query_has_the_levels_it_says() -> None:
    assert _nested_viewer_query(2) == "query Deep { viewer { email } }"
    assert _nested_viewer_query(4) == "query Deep { viewer { memberships { project { slug } } } }"


async def test_the_depth_limit_admits_exactly_its_levels(gql: Any, owner: Person) -> None:
    limit = get_settings().max_query_depth
    allowed = await gql(_nested_viewer_query(limit), as_=owner)
    assert "errors" not in allowed or not allowed["errors"], allowed

    refused = await gql(_nested_viewer_query(limit + 1), as_=owner)
    assert refused.get("data") is None
    [error] = refused["errors"]
    assert error["extensions"] == {"code": "QUERY_TOO_DEEP"}
    assert error["message"] == f"'Deep' nests {limit + 1} levels of fields; at most {limit} are allowed."


async def test_the_depth_limit_counts_through_fragments_and_skips_introspection(gql: Any, owner: Person) -> None:
    limit = get_settings().max_query_depth
    inner = _nested_viewer_query(limit - 1).removeprefix("query Deep { viewer { ").removesuffix(" } }")
    fragment = f"fragment F on User {{ {inner} }}"
    assert not (await gql(f"query Ok {{ viewer {{ ...F }} }} {fragment}", as_=owner)).get("errors")
    deeper = await gql(f"query Deep {{ viewer {{ memberships {{ user {{ ...F }} }} }} }} {fragment}", as_=owner)
    assert deeper["errors"][0]["extensions"]["code"] == "QUERY_TOO_DEEP"
    introspection = "{ __schema { types { fields { type { ofType { ofType { ofType { ofType { name } } } } } } } } }"
    assert not (await gql(introspection, as_=owner)).get("errors")


async def test_too_many_aliases_are_refused_with_a_code(gql: Any, owner: Person) -> None:
    limit = get_settings().max_aliases
    at_limit = "query Many { " + " ".join(f"a{i}: viewer {{ email }}" for i in range(limit)) + " }"
    assert not (await gql(at_limit, as_=owner)).get("errors")
    query = "query Many { " + " ".join(f"a{i}: viewer {{ email }}" for i in range(limit + 1)) + " }"
    result = await gql(query, as_=owner)
    assert result.get("data") is None
    assert result["errors"] == [{"message": f"The document uses {limit + 1} aliases; at most {limit} are allowed.",
                                 "extensions": {"code": "TOO_MANY_ALIASES"}}]


@pytest.mark.parametrize(("query", "variables", "code"), [
    ("{ viewer { email ", None, "GRAPHQL_PARSE_FAILED"),
    ("{ viewer { emailAddress } }", None, "GRAPHQL_VALIDATION_FAILED"),
    ("query($n: Int!) { projects(first: $n) { totalCount } }", {"n": 2**40}, "BAD_USER_INPUT"),
    ("query($id: ID!) { project(slug: $id) { id } }", {"id": "x"}, "GRAPHQL_VALIDATION_FAILED"),
])
async def test_every_top_level_error_has_a_code(gql: Any, owner: Person, query: str,
                                                variables: dict[str, Any] | None, code: str) -> None:
    result = await gql(query, variables, as_=owner)
    assert [e["extensions"]["code"] for e in result["errors"]] == [code], result


async def test_a_malformed_id_in_a_mutation_is_a_coded_not_found(gql: Any, owner: Person) -> None:
    mutation = "mutation($id: ID!) { archiveCampaign(input: {id: $id}) { errors { code } } }"
    for garbage in ("garbage!!", "", "x" * 3000):
        result = await gql(mutation, {"id": garbage}, as_=owner)
        [error] = result["errors"]
        assert error["extensions"] == {"code": "NOT_FOUND"}, error
        assert error["message"] == ("An id in the arguments does not name any object: ids are the opaque `id` "
                                    "strings this API returns.")


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


NOT_A_CURSOR = ("Argument 'after' is not a cursor of the `accounts` connection: use a cursor from its pageInfo or "
                "edges.")


@pytest.mark.parametrize(("first", "after", "message"), [
    (10, "garbage", NOT_A_CURSOR),  # strawberry: "Incorrect padding"
    (10, "UHJvamVjdDox", NOT_A_CURSOR),  # a node id (Project:1)
    (10, "YXJyYXljb25uZWN0aW9uOi0x", NOT_A_CURSOR),  # arrayconnection:-1
    (10, "YXJyYXljb25uZWN0aW9uOjk5OTk5OTk5OTk5OTk5OTk5OTk5OTk=", NOT_A_CURSOR),  # an offset past SQL's
    (-1, None, "Argument 'first' is -1; give zero or more."),
])
async def test_bad_pagination_arguments_are_a_visible_client_error(
    gql: Any, owner: Person, project: models.Project, first: int, after: str | None, message: str
) -> None:
    result = await gql(PAGE, {"slug": project.slug, "first": first, "after": after}, as_=owner)
    assert [(e["message"], e["extensions"]) for e in result["errors"]] == [(message, {"code": "BAD_PAGINATION"})]


async def test_first_and_last_together_are_refused(gql: Any, owner: Person, project: models.Project) -> None:
    query = "query($slug: String!) { project(slug: $slug) { accounts(first: 2, last: 2) { totalCount } } }"
    result = await gql(query, {"slug": project.slug}, as_=owner)
    [error] = result["errors"]
    assert error["extensions"] == {"code": "BAD_PAGINATION"}
    assert error["message"].startswith("Passing both `first` and `last` to paginate the `accounts` connection is "
                                       "not supported")


async def test_a_cursor_past_the_end_is_an_empty_page(gql: Any, owner: Person, project: models.Project) -> None:
    query = ("query($slug: String!, $after: String) { project(slug: $slug) { accounts(first: 2, after: $after) "
             "{ edges { cursor } pageInfo { endCursor hasNextPage } } } }")
    await models.Account.create(project=project, name="Only one")
    last = data_of(await gql(query, {"slug": project.slug}, as_=owner))["project"]["accounts"]["pageInfo"]
    result = await gql(query, {"slug": project.slug, "after": last["endCursor"]}, as_=owner)
    assert data_of(result)["project"]["accounts"]["edges"] == []


@pytest.mark.parametrize("gid", ["garbage!!", "", "Tm9wZToxMg==", "VXNlckVycm9yOjE=", "UHJvamVjdA=="],
                         ids=["not base64", "empty", "unknown type Nope", "a type that is no node", "no node id"])
async def test_node_answers_an_id_naming_nothing_like_a_missing_node(gql: Any, owner: Person,
                                                                     project: models.Project, gid: str) -> None:
    mine = global_id("Project", project.id)
    missing = global_id("Project", project.id + 1000)
    assert data_of(await gql("query($id: ID!) { node(id: $id) { id } }", {"id": missing}, as_=owner)) == {"node": None}
    assert data_of(await gql("query($id: ID!) { node(id: $id) { id } }", {"id": gid}, as_=owner)) == {"node": None}
    result = await gql("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": [gid, mine, missing]}, as_=owner)
    assert data_of(result) == {"nodes": [None, {"id": mine}, None]}


async def test_an_unexpected_error_is_masked(gql: Any, owner: Person, project: models.Project,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError('relation "product" does not exist: SELECT "id","secret" FROM "product"')

    monkeypatch.setattr(models.Product, "filter", broken)
    result = await gql("query P($slug: String!) { project(slug: $slug) { products { name } } }",
                       {"slug": project.slug}, as_=owner)
    assert _messages(result) == ["Unexpected error."]
    assert result["errors"][0]["extensions"] == {"code": "INTERNAL_SERVER_ERROR"}
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
