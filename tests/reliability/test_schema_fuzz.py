"""A bounded schema fuzz: every query field and mutation of the served schema, called with arguments
generated from the introspected schema by schemathesis' GraphQL support (hypothesis-graphql), by the
owner of a seeded project, against a real server (``outboundql serve --demo``, uvicorn on a free port)
on this run's database — SQLite, or PostgreSQL when ``OUTBOUNDQL_TEST_DATABASE_URL`` is set.

It fails on any HTTP 5xx and any error a client should never see: a masked crash ("Unexpected error.",
``INTERNAL_SERVER_ERROR``), an error without ``extensions.code``, or a message that leaks internals (an
exception's name, a traceback, a library's own words); and on a traceback in the server's output.

Bounded and deterministic: at most `EXAMPLES` valid documents and `EXAMPLES` invalid ones (wrong types,
missing arguments) per operation, a fixed seed, no example database, no shrinking. So that
calls get past the lookups, ids are drawn mostly from the seeded world's real ids (a campaign with
accounts, a sent message and a draft, a market, an expense) and strings partly from its slugs and
known-good values.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import graphql
import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.graphql import nodes
from strawberry.relay import to_base64

from tests import isolation
from tests.integration.conftest import Server, child_env, run_cli, running_server

EXAMPLES = 6
"""Calls per operation and mode (valid / invalid documents): ~500 calls, a few tens of seconds."""
SEED = 20261130

# Words only an unhandled exception or a library writes: none may reach a client. (UserError is the
# schema's own type, which validation messages may name.)
LEAKS = [
    re.compile(r"\b(?!UserError\b)[A-Z][A-Za-z]*(Error|Exception)\b"),
    re.compile(r"Traceback|object has no attribute|Incorrect padding|codec can't|not JSON serializable|"
               r"unexpected keyword argument|NoneType|tortoise|asyncpg|sqlite|Unexpected error\.", re.IGNORECASE),
]


# --- the server and its world -----------------------------------------------------------------------


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """This run's database: a new schema of the PostgreSQL test database (``pg_url``) when the run names
    one, else a SQLite file."""
    if not os.environ.get("OUTBOUNDQL_TEST_DATABASE_URL"):
        yield f"sqlite://{tmp_path / 'fuzz.db'}"
        return
    url = asyncio.run(isolation.create_schema_url(request.getfixturevalue("pg_url")))
    try:
        yield url
    finally:
        asyncio.run(isolation.drop_schema_url(url))


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[Server]:
    # ~1500 calls by one token: no rate limit, or the later ones would all be RATE_LIMITED and test nothing
    env = child_env(OUTBOUNDQL_DATABASE_URL=database_url, OUTBOUNDQL_RATE_LIMIT_POINTS="0")
    if not database_url.startswith("sqlite"):
        migrated = run_cli("migrate", cwd=tmp_path, env=env)
        assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    with running_server("--demo", cwd=tmp_path, env=env) as srv:
        yield srv


@dataclass
class World:
    """What the seeded project holds, as a client sees it."""

    ids: dict[str, list[str]] = field(default_factory=dict)
    strings: list[str] = field(default_factory=list)

    def add(self, type_name: str, *gids: str) -> None:
        self.ids.setdefault(type_name, []).extend(gids)

    @property
    def all_ids(self) -> list[str]:
        return [gid for gids in self.ids.values() for gid in gids]


PROJECT = """
query { viewer { id } projects(first: 1) { edges { node { id slug products { id slug }
  accounts(first: 8) { edges { node { id contacts { id } } } } } } } }
"""
SEEDING = {
    "campaign": """mutation($input: CreateCampaignInput!) { createCampaign(input: $input) {
        campaign { id slug } errors { message } } }""",
    "market": """mutation($input: CreateMarketInput!) { createMarket(input: $input) {
        market { id slug } errors { message } } }""",
    "add": """mutation($input: AddAccountsToCampaignInput!) { addAccountsToCampaign(input: $input) {
        errors { message } } }""",
    "rows": """query($slug: String!, $campaign: String!) { project(slug: $slug) { campaign(slug: $campaign) {
        accounts(first: 10) { edges { node { id } } } } } }""",
    "log": """mutation($input: LogMessageInput!) { logMessage(input: $input) { message { id } errors { message } } }""",
    "draft": """mutation($input: DraftMessageInput!) { draftMessage(input: $input) {
        message { id } errors { message } } }""",
    "expense": """mutation($input: AddExpenseInput!) { addExpense(input: $input) {
        expense { id } errors { message } } }""",
    "filter": """mutation($input: CreateSavedFilterInput!) { createSavedFilter(input: $input) {
        savedFilter { id } errors { message } } }""",
}


def build_world(server: Server) -> World:
    """The demo project (a product, accounts with contacts) plus a campaign with accounts, a sent message,
    a draft, a market, a saved filter and an expense, made through the API."""
    with httpx.Client(headers={"Authorization": f"Bearer {server.token}"}, timeout=30) as client:

        def data(query: str, **variables: Any) -> dict[str, Any]:
            body = client.post(server.url, json={"query": query, "variables": variables}).json()
            assert not body.get("errors"), body
            payload: dict[str, Any] = body["data"]
            for value in payload.values():
                assert not (isinstance(value, dict) and value.get("errors")), payload
            return payload

        world = World()
        got = data(PROJECT)
        project = got["projects"]["edges"][0]["node"]
        accounts = [e["node"] for e in project["accounts"]["edges"]]
        world.add("User", got["viewer"]["id"])
        world.add("Project", project["id"])
        world.add("Product", *(p["id"] for p in project["products"]))
        world.add("Account", *(a["id"] for a in accounts))
        world.add("Contact", *(c["id"] for a in accounts for c in a["contacts"]))
        campaign = data(SEEDING["campaign"], input={"projectId": project["id"], "name": "Fuzz campaign",
                                                    "productId": project["products"][0]["id"]})
        campaign = campaign["createCampaign"]["campaign"]
        world.add("Campaign", campaign["id"])
        market = data(SEEDING["market"], input={"projectId": project["id"], "name": "Iberia"})["createMarket"]
        world.add("Market", market["market"]["id"])
        data(SEEDING["add"], input={"campaignId": campaign["id"], "accountIds": [a["id"] for a in accounts[:5]]})
        rows = data(SEEDING["rows"], slug=project["slug"], campaign=campaign["slug"])
        row_ids = [e["node"]["id"] for e in rows["project"]["campaign"]["accounts"]["edges"]]
        world.add("CampaignAccount", *row_ids)
        sent = data(SEEDING["log"], input={"campaignAccountId": row_ids[0], "text": "Hello"})["logMessage"]
        drafted = data(SEEDING["draft"], input={"campaignAccountId": row_ids[1]})["draftMessage"]
        world.add("Message", sent["message"]["id"], drafted["message"]["id"])
        expense = data(SEEDING["expense"], input={"campaignId": campaign["id"], "kind": "SOFTWARE",
                                                  "amount": "120.00", "currency": "EUR"})["addExpense"]
        world.add("Expense", expense["expense"]["id"])
        saved = data(SEEDING["filter"], input={"projectId": project["id"], "name": "Spain",
                                               "expression": {"field": "country", "op": "eq", "value": "ES"}})
        world.add("SavedFilter", saved["createSavedFilter"]["savedFilter"]["id"])
        world.strings = [project["slug"], campaign["slug"], market["market"]["slug"],
                         *(p["slug"] for p in project["products"]), "sales", "press", "EUR", "es-ES", "ES",
                         "acme.com", "someone@example.com", "+34 612 345 678", "2026-01-01", *HOSTILE_STRINGS]
        return world


# --- what the generator draws -----------------------------------------------------------------------

# (A lone surrogate cannot be written in a GraphQL literal: the hostile-input suite sends it in variables.)
HOSTILE_STRINGS = ["nul\x00byte", "=HYPERLINK(\"http://x\")", "x" * 5000, "🙂" * 50, " ", "\u202e"]
MALFORMED_IDS = ["", "garbage", to_base64("Nope", 1), to_base64("Account", "x"), to_base64("Account", 2**70),
                 to_base64("Campaign", 987_654)]
JSON_KEYS = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(JSON_KEYS, inner, max_size=3),
    max_leaves=10,
)


def json_node(value: Any) -> graphql.ValueNode:
    """A JSON value as a GraphQL literal."""
    if value is None:
        return graphql.NullValueNode()
    if isinstance(value, bool):
        return nodes.Boolean(value)
    if isinstance(value, int):
        return nodes.Int(value)
    if isinstance(value, str):
        return nodes.String(value)
    if isinstance(value, list):
        return nodes.List([json_node(v) for v in value])
    return nodes.Object([graphql.ObjectFieldNode(name=graphql.NameNode(value=k), value=json_node(v))
                         for k, v in value.items()])


def register_scalars(world: World) -> None:
    """Strategies for the custom scalars, and for ID and String drawn partly from the world."""
    schemathesis.graphql.scalar("JSON", JSON_VALUES.map(json_node))
    schemathesis.graphql.scalar("Decimal", st.one_of(
        st.decimals(min_value=-(10**6), max_value=10**9, places=2, allow_nan=False).map(str),
        st.sampled_from(["0", "1e400", "NaN", "-0.001", "1,5", ""])).map(nodes.String))
    schemathesis.graphql.scalar("ID", st.one_of(
        st.sampled_from(world.all_ids), st.sampled_from(world.all_ids), st.sampled_from(MALFORMED_IDS),
        st.text(max_size=30)).map(nodes.String))
    schemathesis.graphql.scalar("String", st.one_of(st.sampled_from(world.strings), st.text(max_size=40))
                                .map(nodes.String))
    # A file only comes in a multipart request: an inline value is a string where the file should be.
    schemathesis.graphql.scalar("Upload", st.sampled_from(["", "accounts.csv", "Company\nAcme\n"]).map(nodes.String))


# --- the checks ---------------------------------------------------------------------------------------


def problems_of(response: httpx.Response | Any) -> list[str]:
    """What is wrong with one answer (empty when it is fine)."""
    if response.status_code >= 500:
        return [f"HTTP {response.status_code}: {response.text[:300]}"]
    try:
        body = response.json()
    except ValueError:
        return [f"HTTP {response.status_code}, not JSON: {response.text[:300]}"]
    if not isinstance(body, dict) or not ("data" in body or "errors" in body):
        return [f"HTTP {response.status_code}, not a GraphQL answer: {response.text[:300]}"]
    problems = []
    for error in body.get("errors") or []:
        code = (error.get("extensions") or {}).get("code")
        message = str(error.get("message"))
        if not code or code == "INTERNAL_SERVER_ERROR" or any(leak.search(message) for leak in LEAKS):
            problems.append(f"{code or 'no code'}: {message[:300]}")
    return problems


@dataclass
class Finding:
    operation: str
    mode: str
    problem: str
    query: str


def fuzz(schema: Any, session: requests.Session) -> tuple[int, list[Finding]]:
    """Call every operation up to `EXAMPLES` times per mode; the number of calls and what was wrong."""
    findings: list[Finding] = []
    calls = 0
    for result in schema.get_all_operations():
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            made, found = fuzz_operation(result.ok(), mode, session)
            calls += made
            findings += found
    return calls, findings


def fuzz_operation(operation: Any, mode: GenerationMode, session: requests.Session) -> tuple[int, list[Finding]]:
    findings: list[Finding] = []
    calls = 0

    @seed(SEED)
    @settings(max_examples=EXAMPLES, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def call(case: Any) -> None:
        nonlocal calls
        calls += 1
        response = case.call(session=session, timeout=30)
        findings.extend(Finding(operation.label, mode.value, problem, str(case.body))
                        for problem in problems_of(response))

    call()
    return calls, findings


def report(findings: list[Finding], limit: int = 30) -> str:
    """One entry per kind of problem (values blurred): how often, in how many operations, and the first
    call that got it."""
    kinds: dict[str, list[Finding]] = {}
    for finding in findings:
        kind = re.sub(r"\d+", "N", re.sub(r'"(?:[^"\\]|\\.)*"|found: .*', "…", finding.problem))[:150]
        kinds.setdefault(kind, []).append(finding)
    ordered = sorted(kinds.items(), key=lambda item: (-len(item[1]), item[0]))
    return "\n".join(f"{len(found)}× in {len({f.operation for f in found})} operations: {kind}\n"
                     f"    e.g. {found[0].operation} ({found[0].mode}): {found[0].problem[:300]}\n"
                     f"    {found[0].query[:600]}" for kind, found in ordered[:limit])


@pytest.mark.integration
def test_no_generated_call_crashes_the_server_or_leaks_an_error(server: Server) -> None:
    world = build_world(server)
    register_scalars(world)
    schema = schemathesis.graphql.from_url(server.url, headers={"Authorization": f"Bearer {server.token}"})
    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {server.token}"
        calls, findings = fuzz(schema, session)
    tracebacks = [line for line in server.child.lines if "Traceback" in line]

    operations = len(list(schema.get_all_operations()))
    assert operations >= 40, "the fuzz no longer sees the schema's queries and mutations"
    assert calls >= operations * EXAMPLES, (calls, operations)  # every operation was called, in both modes
    assert not findings, f"{len(findings)} of {calls} fuzzed calls answered wrongly:\n{report(findings)}"
    assert not tracebacks, "the server logged a traceback:\n" + server.child.output[-5000:]


def test_the_checks_catch_what_they_are_for() -> None:
    """The checks are not vacuous: each kind of bad answer is reported, a coded user error is not."""

    def answer(status: int, body: Any) -> httpx.Response:
        return httpx.Response(status, json=body) if not isinstance(body, str) else httpx.Response(status, text=body)

    assert problems_of(answer(500, "boom"))
    assert problems_of(answer(200, "<html>"))
    assert problems_of(answer(200, {"errors": [{"message": "Unexpected error.",
                                                "extensions": {"code": "INTERNAL_SERVER_ERROR"}}]}))
    assert problems_of(answer(200, {"errors": [{"message": "Some library words"}]}))
    assert problems_of(answer(200, {"errors": [{"message": "Incorrect padding",
                                                "extensions": {"code": "BAD_REQUEST"}}]}))
    assert problems_of(answer(200, {"errors": [{"message": "'dict' object has no attribute 'type_name'",
                                                "extensions": {"code": "BAD_REQUEST"}}]}))
    assert problems_of(answer(200, {"errors": [{"message": "ValueError: bad", "extensions": {"code": "BAD_REQUEST"}}]}))
    assert problems_of(answer(200, {"data": {"viewer": None}, "errors": [
        {"message": "Cannot query field 'x' on type 'UserError'.",
         "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"}}]})) == []
    assert problems_of(answer(200, {"data": {"createAccount": {"errors": [{"code": "INVALID"}]}}})) == []


def test_the_generator_is_deterministic(tmp_path: Path) -> None:
    """The same seed draws the same documents (CI runs the same calls every time)."""
    sdl = (Path(__file__).resolve().parents[2] / "schema.graphql").read_text()
    schema = schemathesis.graphql.from_file(sdl)
    register_scalars(World(ids={"Account": [to_base64("Account", 1)]}, strings=["demo"]))
    operation = schema["Mutation"]["createAccount"]

    def draws() -> list[str]:
        drawn: list[str] = []

        @seed(SEED)
        @settings(max_examples=EXAMPLES, database=None, deadline=None, phases=[Phase.generate],
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(generation_mode=GenerationMode.POSITIVE))
        def draw(case: Any) -> None:
            drawn.append(str(case.body))

        draw()
        return drawn

    first = draws()
    assert len(first) == EXAMPLES and first == draws()
