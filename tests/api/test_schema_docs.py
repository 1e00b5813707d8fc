"""Frontends read the schema: every enum value and every argument the server serves has a description
(`outboundql.gql.schema_docs`), read back through introspection over HTTP as GraphiQL and code generators do."""

from __future__ import annotations

from typing import Any

import httpx
from graphql import get_introspection_query

from outboundql.gql.schema import schema
from outboundql.gql.schema_docs import document


async def test_every_enum_value_and_argument_is_described(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"query": get_introspection_query(descriptions=True)})
    types: list[dict[str, Any]] = response.json()["data"]["__schema"]["types"]
    served = [t for t in types if not t["name"].startswith("__")]
    values = [(t["name"], v) for t in served if t["kind"] == "ENUM" for v in t["enumValues"]]
    arguments = [(f"{t['name']}.{f['name']}", a) for t in served if t["kind"] in ("OBJECT", "INTERFACE")
                 for f in t["fields"] for a in f["args"]]
    assert len(values) > 200 and len(arguments) > 150  # the walk saw the schema
    undescribed = [f"{owner}.{item['name']}" for owner, item in values + arguments
                   if not (item["description"] or "").strip()]
    assert undescribed == [], ("describe these enum values (strawberry.enum_value(description=…) or "
                               "schema_docs.ENUM_VALUES) and arguments (strawberry.argument(description=…))")


def test_the_descriptions_table_names_only_what_the_schema_has() -> None:
    assert document(schema._schema) == []


async def test_standard_arguments_read_the_same_everywhere(client: httpx.AsyncClient) -> None:
    query = ('{ __type(name: "Project") { fields { name args { name description } } } '
             'mutation: __type(name: "Mutation") { fields(includeDeprecated: true) { name args { name description '
             'type { ofType { name } } } } } }')
    data = (await client.post("/graphql", json={"query": query})).json()["data"]
    accounts = next(f for f in data["__type"]["fields"] if f["name"] == "accounts")
    first = next(a for a in accounts["args"] if a["name"] == "first")
    assert first["description"].startswith("Returns the first _n_ items of the list")
    create = next(f for f in data["mutation"]["fields"] if f["name"] == "createCampaign")
    assert create["args"][0]["description"] == ("What `createCampaign` needs; each field is described on "
                                                "`CreateCampaignInput`.")
