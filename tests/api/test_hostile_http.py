"""Hostile request bodies refused at the door: JSON nested past ``max_json_depth`` (a 2 KB body of a
thousand ``[`` was an HTTP 500 before authentication), bytes that are no text, and variables holding
more list items and objects than ``max_input_items``."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from outboundql import models
from outboundql.app import create_app
from outboundql.goals.testing import registry_with
from outboundql.settings import Settings, get_settings
from tests.helpers import Person, data_of, global_id

LIMIT = Settings.model_fields["max_json_depth"].default
TOO_DEEP = f"JSON nests arrays and objects more than {LIMIT} levels deep; at most {LIMIT} are allowed."


def nested(levels: int) -> str:
    """``levels`` levels of arrays and objects in all: the body and its ``variables`` are two of them."""
    inner = "[" * (levels - 2) + "]" * (levels - 2)
    return '{"query": "{ __typename }", "variables": {"a": ' + inner + "}}"


def test_nested_counts_its_levels() -> None:
    from outboundql.gql.json_nesting import nesting_depth

    assert nesting_depth(nested(5)) == 5


async def test_a_body_nested_past_the_limit_is_a_400_before_authentication(client: httpx.AsyncClient) -> None:
    body = '{"query": "{ __typename }", "variables": {"a": ' + "[" * 1000 + "]" * 1000 + "}}"
    assert len(body) < 2100
    response = await client.post("/graphql", content=body, headers={"content-type": "application/json"})
    assert (response.status_code, response.text) == (400, TOO_DEEP)


async def test_a_body_nested_to_the_limit_is_served(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", content=nested(LIMIT), headers={"content-type": "application/json"})
    assert response.status_code == 200, response.text
    assert data_of(response.json()) == {"__typename": "Query"}
    refused = await client.post("/graphql", content=nested(LIMIT + 1), headers={"content-type": "application/json"})
    assert (refused.status_code, refused.text) == (400, TOO_DEEP)


async def test_brackets_inside_strings_are_text(client: httpx.AsyncClient) -> None:
    body = json.dumps({"query": "{ __typename }", "variables": {"a": "[{" * 5000 + '\\"' + "]" * 10}})
    response = await client.post("/graphql", content=body, headers={"content-type": "application/json"})
    assert data_of(response.json()) == {"__typename": "Query"}


async def test_get_variables_nested_past_the_limit_are_a_400(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", params={"query": "{ __typename }", "variables": "[" * 1000 + "]" * 1000},
                                headers={"accept": "application/json"})
    assert (response.status_code, response.text) == (400, TOO_DEEP)


async def test_a_body_that_is_no_text_is_a_400(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", content=b'{"query": "\x80\xff"}',
                                 headers={"content-type": "application/json"})
    assert (response.status_code, response.text) == (400, "Unable to parse request body as JSON")


def test_a_websocket_message_nested_past_the_limit_closes_the_socket(db: Any) -> None:
    app = create_app(Settings(database_url="sqlite://:memory:", redis_url=None), manage_db=False, run_worker=False,
                     goals=registry_with())
    with TestClient(app).websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as ws:
        ws.send_text('{"type": "connection_init", "payload": ' + "[" * 1000 + "]" * 1000 + "}")
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()
    assert closed.value.code == 4400


async def test_too_many_input_items_are_refused_before_they_are_read(client: httpx.AsyncClient, owner: Person,
                                                                     project: models.Project) -> None:
    limit = Settings.model_fields["max_input_items"].default
    mutation = ("mutation($input: BulkCreateAccountsInput!) { bulkCreateAccounts(input: $input) "
                "{ createdCount errors { code } } }")
    accounts = [{"name": f"A{i}"} for i in range(limit // 2)]  # a dict and a list item each: just over
    payload = {"query": mutation, "variables": {"input": {"projectId": global_id("Project", project.id),
                                                          "accounts": accounts}}}
    response = await client.post("/graphql", json=payload, headers=owner.headers)
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "TOO_MANY_INPUT_ITEMS"}
    assert error["message"].startswith(f"The variables hold more than {limit} list items and objects")
    assert await models.Account.filter(project=project).count() == 0


async def test_too_many_tokens_are_refused_with_a_code(gql: Any, owner: Person) -> None:
    limit = get_settings().max_tokens
    query = "{ " + " ".join("viewer { email }" for _ in range(limit // 4 + 1)) + " }"
    result = await gql(query, as_=owner)
    assert result["data"] is None
    [error] = result["errors"]
    assert error["extensions"] == {"code": "TOO_MANY_TOKENS"}
    assert error["message"].startswith(f"The document has more than {limit} tokens; at most {limit} are allowed.")


async def test_an_error_does_not_echo_a_huge_value_back(gql: Any, owner: Person, project: models.Project) -> None:
    mutation = ("mutation($input: CreateAccountInput!) { createAccount(input: $input) "
                "{ errors { code field message } } }")
    huge = "x" * 200_000
    result = await gql(mutation, {"input": {"projectId": global_id("Project", project.id), "name": "Acme",
                                            "domain": huge}}, as_=owner)
    [error] = result["data"]["createAccount"]["errors"]
    assert error["field"] == "input.domain"
    assert error["message"] == f"'{'x' * 60}…' is not a valid domain."
