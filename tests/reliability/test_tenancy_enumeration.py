"""Tenancy, enumerated from the served schema: every field that takes an id answers a stranger who
sends the owner's ids exactly as it answers an id that does not exist, and changes nothing.

Nothing here names a query, mutation or subscription: `schema_calls` finds every argument of type
``ID`` (through input objects and lists) on every object type of the schema and builds a
valid-looking call around it, so a new mutation is covered the day it is added. A field the
generator cannot call fails with a message saying what to add.

One seeded world for the module: the owner and the stranger each have a project holding a row of
every node type. For every id argument and every one of the owner's rows, the stranger's answer
(ids normalised) must equal the answer for a missing id of the same type; the missing id must be
seen to be looked up (a NOT_FOUND on that argument, or the id answered back, or for a query a
different answer for the stranger's own id); and every row of the owner's must be unchanged, in
full (a new row pointing at one of them counts as the owner's). Subscriptions go through the
websocket route (graphql-transport-ws) of the served app; their first message is compared.
``slug`` arguments of fields answering a node type (``project(slug:)``) are tried the same way.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import pytest_asyncio
from graphql import GraphQLSchema, build_client_schema, build_schema, get_introspection_query
from tortoise.models import Model

from outboundql import models
from outboundql.app import create_app
from outboundql.enums import AttemptStatus, Channel
from outboundql.goals.testing import registry_with
from outboundql.gql.schema import schema as served_schema
from outboundql.services import audiences as audiences_service
from outboundql.services import campaign_accounts as campaign_accounts_service
from outboundql.services import campaigns as campaigns_service
from outboundql.services import imports as imports_service
from outboundql.services import messages as messages_service
from outboundql.services import personas as personas_service
from outboundql.services import products as products_service
from outboundql.services import runtime
from outboundql.services import scoring_runs as scoring_runs_service
from outboundql.services.access import Access
from outboundql.services.tokens import CreateApiToken, create_api_token
from outboundql.settings import Settings
from outboundql.workers import DramatiqJobs, current_broker
from tests.api._authz import FABRICATED_PK, build_world
from tests.conftest import TEST_DATABASE_URL, _require_service, global_database
from tests.helpers import Person, global_id
from tests.reliability.schema_calls import ANY, Call, Caller, CannotCall, IdSlot, id_slots, node_types, slug_slots

pytestmark = pytest.mark.asyncio(loop_scope="module")

SCHEMA: GraphQLSchema = build_schema(served_schema.as_str())
SLOTS = id_slots(SCHEMA) + slug_slots(SCHEMA)
OPERATION_SLOTS = [s for s in SLOTS if s.root != "Subscription"]
SUBSCRIPTION_SLOTS = [s for s in SLOTS if s.root == "Subscription"]
PLACEHOLDER = "<the id>"
MISSING_SLUG = "no-such-slug"
CRASH = "Unexpected error."  # what MaskErrors answers for an exception (gql/schema.py)
FIRST_MESSAGE_TIMEOUT = 20.0  # seconds; a refusal comes at once, only a leak waits this long (never asserted on)


# --- the world ------------------------------------------------------------------------------------


@dataclass
class Holdings:
    """What one person owns, by node type: global ids, and slugs of the types that have one."""

    project_id: int
    ids: dict[str, list[str]]
    slugs: dict[str, list[str]]

    def values(self, slot: IdSlot) -> dict[str, list[str]]:
        """What can go in ``slot``, by node type: ids of every type, or slugs of the type looked up."""
        if slot.kind == "slug":
            return {slot.takes: self.slugs.get(slot.takes, [])}
        return self.ids


@dataclass
class Scene:
    app: Any
    client: httpx.AsyncClient
    owner: Person
    stranger: Person
    owners: Holdings
    strangers: Holdings
    caller: Caller = field(init=False)

    def __post_init__(self) -> None:
        self.caller = Caller(SCHEMA, self.own)

    def own(self, type_name: str) -> str:
        """The stranger's own id of ``type_name`` (the first row)."""
        ids = self.strangers.ids.get(type_name)
        if not ids:
            raise CannotCall(f"the stranger has no {type_name}: seed one in seed()")
        return ids[0]


async def seed(person: Person, tag: str) -> None:
    """A project with a row of every node type, made by ``person`` through the services."""
    world = await build_world(person, tag)
    assert world.campaign is not None and world.market is not None and world.campaign_account is not None
    access = await Access.for_user(person.user)
    await campaigns_service.update_campaign(access, registry_with(), campaigns_service.UpdateCampaign(
        id=world.campaign.id, market_id=world.market.id))  # a market with a campaign: filters find something
    await scoring_runs_service.score_campaign(access, registry_with(), scoring_runs_service.ScoreCampaign(
        campaign_id=world.campaign_account.campaign_id))
    # Rows in other states, so that a check made before the access check shows (e.g. "already archived").
    retired = (await products_service.create_product(access, products_service.CreateProduct(
        project_id=world.project.id, name=f"Retired {tag}"))).product
    await products_service.set_archived(access, products_service.SetProductArchived(id=retired.id, archived=True))
    await personas_service.approve_persona(access, personas_service.ApprovePersona(id=world.persona.id))
    await messages_service.log_message(access, messages_service.LogMessage(
        campaign_account_id=world.campaign_account.id, text=f"Hello from {tag}"))
    # An outreach attempt in the first campaign (the one `Campaign` fields are reached through), on a row of its own,
    # made directly (build_world's are in another campaign).
    add = campaign_accounts_service.AddAccountsToCampaign(world.campaign.id, [world.account2.id])
    await campaign_accounts_service.add_accounts(access, registry_with(), add)
    row = await models.CampaignAccount.get(campaign_id=world.campaign.id, account_id=world.account2.id)
    await models.OutreachAttempt.create(
        project_id=world.project.id, campaign_id=row.campaign_id, campaign_account_id=row.id, channel=Channel.EMAIL,
        step=1, attempt_number=1, status=AttemptStatus.AWAITING_RESULT, due_at=runtime.now(), subject=f"Hello {tag}",
        body=f"Planned for {tag}")
    # An import job into the campaign (queued: no job of it is run).
    await imports_service.start_import(access, registry_with(), imports_service.StartImport(
        project_id=world.project.id, filename=f"{tag}.csv", content=f"Company\n{tag} Imported\n".encode(),
        campaign_id=world.campaign.id))
    # A filling of the campaign from its audience (its market's landscape).
    await audiences_service.sync_audience(access, registry_with(), audiences_service.SyncCampaignAudience(
        campaign_id=world.campaign.id))


ALL_MODELS: list[type[Model]] = [getattr(models, name) for name in models.__all__]


async def dump() -> dict[str, list[dict[str, Any]]]:
    """Every row of every table, ordered by primary key."""
    return {m.__name__: [dict(r) for r in await m.all().order_by(m._meta.pk_attr).values()] for m in ALL_MODELS}


def owned(rows: dict[str, list[dict[str, Any]]], project_id: int, user_id: int) -> dict[str, set[Any]]:
    """Primary keys of the rows that belong to a person: their user, their project, and every row that
    points (through foreign keys, transitively) at one of those."""
    mine: dict[str, set[Any]] = {name: set() for name in rows}
    mine["Project"].add(project_id)
    mine["User"].add(user_id)
    links = {m.__name__: [(f"{fk}_id", m._meta.fields_map[fk].related_model.__name__)  # type: ignore[attr-defined]
                          for fk in m._meta.fk_fields] for m in ALL_MODELS}
    changed = True
    while changed:
        changed = False
        for name, table in rows.items():
            pk = _pk_column(name)
            for row in table:
                if row[pk] not in mine[name] and any(row.get(col) in mine[to] for col, to in links[name]):
                    mine[name].add(row[pk])
                    changed = True
    return mine


def _pk_column(model_name: str) -> str:
    return str(getattr(models, model_name)._meta.pk_attr)


async def fingerprint(person: Person, project_id: int) -> dict[str, list[dict[str, Any]]]:
    """Every row of ``person``'s, in full (``updated_at`` included); a new row pointing at one is theirs too."""
    rows = await dump()
    mine = owned(rows, project_id, person.user.id)
    return {name: [r for r in table if r[_pk_column(name)] in mine[name]] for name, table in rows.items()}


async def holdings(person: Person) -> Holdings:
    project = await models.Project.get(memberships__user_id=person.user.id)
    rows = await dump()
    mine = owned(rows, project.id, person.user.id)
    ids: dict[str, list[str]] = {}
    slugs: dict[str, list[str]] = {}
    for type_name in node_types(SCHEMA):
        pks = sorted(mine.get(type_name) or ())
        ids[type_name] = [global_id(type_name, pk) for pk in pks]
        slugs[type_name] = [r["slug"] for r in rows.get(type_name, []) if "slug" in r and r["id"] in pks]
    return Holdings(project.id, ids, slugs)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def scene() -> AsyncIterator[Scene]:
    if TEST_DATABASE_URL:
        _require_service(TEST_DATABASE_URL, "PostgreSQL")
    # thousands of calls by one token: no rate limit (its countdown would also tell every answer apart)
    settings = Settings(database_url="sqlite://:memory:", redis_url=None, rate_limit_points=0)
    async with global_database(TEST_DATABASE_URL):
        with runtime.using(runtime.Runtime(settings, registry_with(), DramatiqJobs())):
            people = []
            for email in ("owner@example.com", "stranger@example.com"):
                user = await models.User.create(email=email, name=email.split("@")[0])
                people.append(Person(user, (await create_api_token(user, CreateApiToken(name="probe"))).secret))
            owner, stranger = people
            await seed(owner, "alpha")
            await seed(stranger, "beta")
            current_broker().flush_all()  # the scoring runs stay RUNNING: no job of theirs is run
            app = create_app(settings, manage_db=False, run_worker=False, goals=registry_with())
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
                yield Scene(app, client, owner, stranger, await holdings(owner), await holdings(stranger))


# --- asking ---------------------------------------------------------------------------------------


async def ask(scene: Scene, person: Person, call: Call) -> dict[str, Any]:
    response = await scene.client.post("/graphql", **call.http(person.headers))
    assert response.status_code == 200, (response.status_code, response.text, call)
    return response.json()  # type: ignore[no-any-return]


class AsgiWebSocket:
    """A graphql-transport-ws client speaking ASGI to the app on this event loop (no server, no thread)."""

    def __init__(self, app: Any, path: str = "/graphql") -> None:
        self.app, self.path = app, path
        self._to_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._from_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> AsgiWebSocket:
        protocol = "graphql-transport-ws"
        scope = {
            "type": "websocket", "asgi": {"version": "3.0"}, "http_version": "1.1", "scheme": "ws",
            "path": self.path, "raw_path": self.path.encode(), "root_path": "", "query_string": b"",
            "headers": [(b"host", b"test"), (b"sec-websocket-protocol", protocol.encode())],
            "client": ("127.0.0.1", 50000), "server": ("test", 80), "subprotocols": [protocol], "state": {},
        }
        self._task = asyncio.create_task(self.app(scope, self._to_app.get, self._from_app.put))
        await self._to_app.put({"type": "websocket.connect"})
        accepted = await self._next()
        assert accepted["type"] == "websocket.accept", accepted
        return self

    async def send(self, message: dict[str, Any]) -> None:
        await self._to_app.put({"type": "websocket.receive", "text": json.dumps(message)})

    async def receive(self, timeout: float = FIRST_MESSAGE_TIMEOUT) -> dict[str, Any]:
        """The next message; ``{"closed": code}`` when the app closes, ``{"timeout": ...}`` when nothing comes."""
        try:
            message = await self._next(timeout)
        except TimeoutError:
            return {"timeout": f"no message within {timeout} s"}
        if message["type"] == "websocket.close":
            return {"closed": message.get("code")}
        return json.loads(message.get("text") or message["bytes"])  # type: ignore[no-any-return]

    async def _next(self, timeout: float = FIRST_MESSAGE_TIMEOUT) -> dict[str, Any]:
        assert self._task is not None
        getter = asyncio.ensure_future(self._from_app.get())
        done, _ = await asyncio.wait({getter, self._task}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        if getter in done:
            return getter.result()
        getter.cancel()
        if self._task in done:
            self._task.result()  # the app crashed: raise its error
            return {"type": "websocket.close", "code": "app returned"}
        raise TimeoutError

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        await self._to_app.put({"type": "websocket.disconnect", "code": 1000})
        try:
            await asyncio.wait_for(self._task, timeout=FIRST_MESSAGE_TIMEOUT)
        except TimeoutError:
            self._task.cancel()


async def first_message(scene: Scene, person: Person, call: Call) -> dict[str, Any]:
    """The first message a subscription answers (its event or its error)."""
    async with AsgiWebSocket(scene.app) as ws:
        await ws.send({"type": "connection_init", "payload": {"Authorization": f"Bearer {person.token}"}})
        ack = await ws.receive()
        assert ack.get("type") == "connection_ack", ack
        await ws.send({"id": "1", "type": "subscribe",
                       "payload": {"query": call.document, "variables": call.variables}})
        return await ws.receive()


# --- comparing ------------------------------------------------------------------------------------


def normalised(answer: Any, gid: str) -> Any:
    """``answer`` with ``gid`` replaced by a placeholder wherever it appears in a string."""
    if isinstance(answer, dict):
        return {k: normalised(v, gid) for k, v in answer.items()}
    if isinstance(answer, list):
        return [normalised(v, gid) for v in answer]
    if isinstance(answer, str):
        return answer.replace(gid, PLACEHOLDER)
    return answer


def _walk(value: Any) -> Iterator[Any]:
    yield value
    if isinstance(value, dict):
        for v in value.values():
            yield from _walk(v)
    elif isinstance(value, list):
        for v in value:
            yield from _walk(v)


def reports_the_id(answer: Any, slot: IdSlot) -> bool:
    """The answer shows the id was looked up: a NOT_FOUND on its argument (as data, or a top-level
    error's code), or the id answered back (e.g. in a ``notFound`` list)."""
    for value in _walk(answer):
        if value == PLACEHOLDER:
            return True
        if isinstance(value, dict):
            code = value.get("code") or (value.get("extensions") or {}).get("code")
            where, path = value.get("field"), slot.argument_path
            if code == "NOT_FOUND" and (where is None or where == path or str(where).startswith((f"{path}[",
                                                                                                 f"{path}."))):
                return True
    return False


def differences(before: dict[str, list[dict[str, Any]]], after: dict[str, list[dict[str, Any]]]) -> list[str]:
    out = []
    for name in before:
        if before[name] != after[name]:
            pk = _pk_column(name)
            old = {r[pk]: r for r in before[name]}
            new = {r[pk]: r for r in after[name]}
            for key in sorted(old.keys() | new.keys(), key=str):
                if old.get(key) != new.get(key):
                    out.append(f"{name} {key}: {old.get(key)} → {new.get(key)}")
    return out


def build(scene: Scene, slot: IdSlot, gid: str) -> Call:
    try:
        return scene.caller.call(slot, gid)
    except CannotCall as exc:
        pytest.fail(str(exc))


def missing(slot: IdSlot, type_name: str) -> str:
    return MISSING_SLUG if slot.kind == "slug" else global_id(type_name, FABRICATED_PK)


def typed(slot: IdSlot) -> list[str]:
    """The node types whose own id the slot should accept (every type for ``node``/``nodes``)."""
    return node_types(SCHEMA) if slot.takes == ANY else [slot.takes]


# --- the tests ------------------------------------------------------------------------------------


async def test_the_enumeration_is_the_served_schema(scene: Scene) -> None:
    """The id arguments enumerated at collection are those the running app serves (introspected)."""
    response = await scene.client.post("/graphql", json={"query": get_introspection_query()},
                                       headers=scene.stranger.headers)
    served = build_client_schema(response.json()["data"])
    assert {s.label for s in id_slots(served) + slug_slots(served)} == {s.label for s in SLOTS}
    assert {s.root for s in SLOTS} == {"Query", "Mutation", "Subscription"}


async def test_the_owner_has_a_row_of_every_node_type(scene: Scene) -> None:
    lacking = [t for t in node_types(SCHEMA) if not scene.owners.ids.get(t) or not scene.strangers.ids.get(t)]
    assert not lacking, f"seed() makes no {lacking}: add them, so their ids are tried everywhere"
    pks = {m.__name__: set(await m.all().values_list(m._meta.pk_attr, flat=True)) for m in ALL_MODELS}
    assert not any(FABRICATED_PK in v for v in pks.values()), "the 'missing' id exists"


Answer = Callable[[IdSlot, str], Awaitable[Any]]


async def assert_like_missing(scene: Scene, slot: IdSlot, answer_to: Answer) -> None:
    """Each of the owner's values in ``slot`` answers as a missing one of its type, and no row of the
    owner's changes. ``answer_to(slot, value)`` is the stranger's (normalised) answer."""
    before = await fingerprint(scene.owner, scene.owners.project_id)
    leaks: list[str] = []
    for type_name, owners in scene.owners.values(slot).items():
        absent = missing(slot, type_name)
        expected = await answer_to(slot, absent)
        assert CRASH not in json.dumps(expected), f"{slot.label} crashes on a missing id: {expected}"
        if type_name in typed(slot):
            await assert_looked_up(scene, slot, type_name, expected, answer_to)
        for value in owners:
            answer = await answer_to(slot, value)
            if answer != expected and answer != (expected := await answer_to(slot, absent)):
                # (asked again: an answer showing state that moves on, e.g. a timestamp, is not a leak)
                leaks.append(f"owner's {type_name} {value}:\n  answer:  {answer}\n  missing: {expected}")
    assert not leaks, f"{slot.label} tells the owner's rows from missing ones:\n" + "\n".join(leaks)
    changed = differences(before, await fingerprint(scene.owner, scene.owners.project_id))
    assert not changed, f"{slot.label} changed the owner's rows:\n" + "\n".join(changed)


async def assert_looked_up(scene: Scene, slot: IdSlot, type_name: str, expected: Any, answer_to: Answer) -> None:
    """The call reaches the lookup of the slot's value, so an equal answer means something: a write or a
    subscription reports the missing value; a query answers the stranger's own value differently."""
    if slot.root != "Query":
        assert reports_the_id(expected, slot), (
            f"{slot.label}: the generated call is refused before the id is looked up, so it proves nothing; "
            f"give the refused argument a value in schema_calls.STRING_VALUES (or seed what it needs): {expected}")
        return
    # One of the stranger's own values must answer otherwise (e.g. a filter by rows of the campaign reached).
    owns = [await answer_to(slot, value) for value in scene.strangers.values(slot)[type_name]]
    assert any(own != expected for own in owns), (
        f"{slot.label}: the stranger's own {type_name}s answer like a missing one, so the call proves nothing; "
        f"seed rows it finds in seed(), or fill its arguments in schema_calls: {expected}")


@pytest.mark.parametrize("slot", OPERATION_SLOTS, ids=lambda s: s.label)
async def test_a_strangers_call_with_the_owners_ids_answers_like_a_missing_id(scene: Scene, slot: IdSlot) -> None:
    async def answer_to(slot: IdSlot, value: str) -> Any:
        return normalised(await ask(scene, scene.stranger, build(scene, slot, value)), value)

    await assert_like_missing(scene, slot, answer_to)


@pytest.mark.parametrize("slot", SUBSCRIPTION_SLOTS, ids=lambda s: s.label)
async def test_a_strangers_subscription_to_the_owners_ids_answers_like_a_missing_id(
    scene: Scene, slot: IdSlot
) -> None:
    async def answer_to(slot: IdSlot, value: str) -> Any:
        return normalised(await first_message(scene, scene.stranger, build(scene, slot, value)), value)

    await assert_like_missing(scene, slot, answer_to)
