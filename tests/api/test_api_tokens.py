"""API tokens: the secret is shown once and stored hashed; expiry validation; revocation is
per-user; ``lastUsedAt`` is recorded by a background job, at most once per touch interval."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import dramatiq
import pytest

from outboundql import models
from outboundql.services.auth_cache import invalidate_user_access
from outboundql.workers.middleware import HostLoopAsyncIO
from tests.helpers import Person, data_of, global_id

CREATE = """
mutation($input: CreateApiTokenInput!) {
  createApiToken(input: $input) {
    secret
    token { id name prefix createdAt expiresAt revokedAt lastUsedAt }
    errors { code field message }
  }
}
"""
REVOKE = """
mutation($id: ID!) {
  revokeApiToken(input: {id: $id}) { token { id name revokedAt } errors { code field message } }
}
"""
TOKENS = "query($all: Boolean!) { viewer { email apiTokens(includeRevoked: $all) { id name revokedAt } } }"
VIEWER = "query { viewer { email } }"


async def create(gql: Any, person: Person, **input: Any) -> dict[str, Any]:
    return data_of(await gql(CREATE, {"input": input}, as_=person))["createApiToken"]


# --- createApiToken -----------------------------------------------------------------------------


async def test_create_returns_the_secret_once_and_it_works(gql, owner: Person) -> None:
    payload = await create(gql, owner, name="  CI pipeline  ")
    assert payload["errors"] == []
    secret = payload["secret"]
    assert secret.startswith("oql_") and len(secret) > 40
    token = payload["token"]
    assert token["name"] == "CI pipeline"
    assert token["prefix"] == secret[:10]
    assert token["expiresAt"] is None and token["revokedAt"] is None and token["lastUsedAt"] is None

    # The secret is a working bearer token for the same user.
    assert data_of(await gql(VIEWER, headers={"Authorization": f"Bearer {secret}"})) == {
        "viewer": {"email": "owner@example.com"}}

    # Stored only hashed.
    row = await models.ApiToken.get(id=int(_pk(token["id"])))
    assert row.token_hash != secret
    assert secret not in row.token_hash
    assert row.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert row.prefix == secret[:10]
    stored = [str(v) for v in (await models.ApiToken.filter(id=row.id).values())[0].values()]
    assert secret not in stored


async def test_two_tokens_have_different_secrets(gql, owner: Person) -> None:
    first, second = await create(gql, owner, name="a"), await create(gql, owner, name="b")
    assert first["secret"] != second["secret"]


async def test_the_token_type_never_exposes_the_secret(gql, owner: Person) -> None:
    fields = data_of(await gql('{ __type(name: "ApiToken") { fields { name } } }'))["__type"]["fields"]
    names = {f["name"] for f in fields}
    assert names == {"id", "name", "prefix", "createdAt", "expiresAt", "revokedAt", "lastUsedAt"}

    result = await gql("{ viewer { apiTokens { secret } } }", as_=owner)
    assert result.get("data") is None
    assert "Cannot query field 'secret' on type 'ApiToken'" in result["errors"][0]["message"]

    # Listing the tokens afterwards shows neither the secret nor its hash.
    payload = await create(gql, owner, name="listed")
    listed = str(await gql(TOKENS, {"all": True}, as_=owner))
    row = await models.ApiToken.get(name="listed")
    assert payload["secret"] not in listed
    assert row.token_hash not in listed


async def test_expiry_in_days(gql, owner: Person) -> None:
    before = datetime.now(UTC)
    payload = await create(gql, owner, name="month", expiresInDays=30)
    assert payload["errors"] == []
    expires = datetime.fromisoformat(payload["token"]["expiresAt"])
    assert before + timedelta(days=30) <= expires <= datetime.now(UTC) + timedelta(days=30)
    assert (await create(gql, owner, expiresInDays=1))["errors"] == []
    assert (await create(gql, owner, expiresInDays=3650))["errors"] == []


@pytest.mark.parametrize("days", [0, -1, 3651, 100_000])
async def test_expiry_out_of_range_is_an_error_as_data(gql, owner: Person, days: int) -> None:
    count = await models.ApiToken.all().count()
    payload = await create(gql, owner, name="bad", expiresInDays=days)
    assert payload["secret"] is None and payload["token"] is None
    assert payload["errors"] == [
        {"code": "INVALID", "field": "input.expiresInDays", "message": "Expiry must be between 1 and 3650 days."}]
    assert await models.ApiToken.all().count() == count


async def test_name_too_long_is_an_error_as_data(gql, owner: Person) -> None:
    count = await models.ApiToken.all().count()
    payload = await create(gql, owner, name="x" * 201)
    assert payload["secret"] is None
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("INVALID", "input.name")]
    assert await models.ApiToken.all().count() == count


# --- revokeApiToken and listing -----------------------------------------------------------------


def _pk(gid: str) -> str:
    from strawberry.relay import from_base64

    type_name, pk = from_base64(gid)
    assert type_name == "ApiToken"
    return pk


async def test_revoke_is_idempotent(gql, owner: Person) -> None:
    token_id = (await create(gql, owner, name="spare"))["token"]["id"]
    first = data_of(await gql(REVOKE, {"id": token_id}, as_=owner))["revokeApiToken"]
    second = data_of(await gql(REVOKE, {"id": token_id}, as_=owner))["revokeApiToken"]
    assert first["errors"] == second["errors"] == []
    assert first["token"]["revokedAt"] is not None
    assert second["token"]["revokedAt"] == first["token"]["revokedAt"]


async def test_revoking_another_users_token_is_not_found(gql, owner: Person, make_user: Any) -> None:
    mallory = await make_user("mallory@example.com")
    victim = await create(gql, owner, name="victim")
    victim_id = victim["token"]["id"]

    foreign = data_of(await gql(REVOKE, {"id": victim_id}, as_=mallory))["revokeApiToken"]
    missing = data_of(await gql(REVOKE, {"id": global_id("ApiToken", 987_654)}, as_=mallory))["revokeApiToken"]
    wrong_type = data_of(await gql(REVOKE, {"id": global_id("User", owner.user.id)}, as_=mallory))[
        "revokeApiToken"]
    expected = [{"code": "NOT_FOUND", "field": "input.id", "message": "API token not found."}]
    assert foreign == {"token": None, "errors": expected}
    assert missing == foreign
    for impossible in (2**40, "abc"):
        assert data_of(await gql(REVOKE, {"id": global_id("ApiToken", impossible)}, as_=mallory))[  # type: ignore[arg-type]
            "revokeApiToken"] == foreign
    assert wrong_type == foreign

    row = await models.ApiToken.get(id=int(_pk(victim_id)))
    assert row.revoked_at is None
    assert data_of(await gql(VIEWER, headers={"Authorization": f"Bearer {victim['secret']}"})) == {
        "viewer": {"email": "owner@example.com"}}


async def test_viewer_lists_only_own_tokens(gql, owner: Person, make_user: Any, project, add_member) -> None:
    from outboundql.enums import Role

    other = await make_user("other@example.com")
    await add_member(other, project, Role.MEMBER)  # shares a project, still sees none of owner's tokens
    await create(gql, owner, name="owner-ci")
    await create(gql, other, name="other-ci")
    revoked = await create(gql, owner, name="owner-old")
    await gql(REVOKE, {"id": revoked["token"]["id"]}, as_=owner)

    mine = data_of(await gql(TOKENS, {"all": False}, as_=owner))["viewer"]["apiTokens"]
    assert [t["name"] for t in mine] == ["owner-ci", "test"]  # newest first; revoked hidden
    everything = data_of(await gql(TOKENS, {"all": True}, as_=owner))["viewer"]["apiTokens"]
    assert [t["name"] for t in everything] == ["owner-old", "owner-ci", "test"]
    assert everything[0]["revokedAt"] is not None
    theirs = data_of(await gql(TOKENS, {"all": True}, as_=other))["viewer"]["apiTokens"]
    assert [t["name"] for t in theirs] == ["other-ci", "test"]

    # Through another user's node: the tokens list is empty, and their token ids resolve to null.
    query = """
    query($user: ID!, $token: ID!) {
      node(id: $user) { ... on User { email apiTokens(includeRevoked: true) { id } } }
      token: node(id: $token) { id }
    }
    """
    other_token = await models.ApiToken.filter(user_id=other.user.id, name="other-ci").first()
    assert other_token is not None
    data = data_of(await gql(query, {"user": global_id("User", other.user.id),
                                     "token": global_id("ApiToken", other_token.id)}, as_=owner))
    assert data == {"node": {"email": "other@example.com", "apiTokens": []}, "token": None}


# --- lastUsedAt: the touch_api_token job --------------------------------------------------------


def queued(broker: dramatiq.Broker) -> list[dramatiq.Message[Any]]:
    """Messages waiting on the default queue, without consuming them."""
    queue = broker.queues.get("default")  # type: ignore[attr-defined]
    return [dramatiq.Message.decode(m) for m in list(queue.queue)] if queue is not None else []


@pytest.fixture
def worker(stub_broker: Any) -> Any:
    """``await worker()`` runs a real dramatiq worker on the test's own loop (HostLoopAsyncIO)
    until every queued job is done, then stops it, so queue sizes can be checked in between."""
    assert any(isinstance(m, HostLoopAsyncIO) for m in stub_broker.middleware)

    async def run_jobs() -> None:
        w = dramatiq.Worker(stub_broker, worker_threads=1, worker_timeout=100)
        w.start()  # on the running loop: async actors run here
        try:
            # Blocking joins go to a thread: the actors need this loop to run.
            await asyncio.to_thread(stub_broker.join, "default")
            await asyncio.to_thread(w.join)
        finally:
            await asyncio.to_thread(w.stop)

    return run_jobs


async def _row(person: Person) -> models.ApiToken:
    return await models.ApiToken.get(user_id=person.user.id, name="test")


async def test_a_request_enqueues_a_touch_and_the_job_sets_last_used_at(gql, owner: Person, stub_broker,
                                                                        worker) -> None:
    assert (await _row(owner)).last_used_at is None
    before = datetime.now(UTC)
    data_of(await gql(VIEWER, as_=owner))
    messages = queued(stub_broker)
    assert [(m.actor_name, m.args[0]) for m in messages] == [("touch_api_token", (await _row(owner)).id)]
    assert (await _row(owner)).last_used_at is None  # the request itself never writes

    await worker()

    used = (await _row(owner)).last_used_at
    assert used is not None
    assert before <= used <= datetime.now(UTC)
    assert used == datetime.fromisoformat(messages[0].args[1])
    listed = data_of(await gql("{ viewer { apiTokens { name lastUsedAt } } }", as_=owner))
    assert datetime.fromisoformat(listed["viewer"]["apiTokens"][0]["lastUsedAt"]) == used


async def test_touches_are_throttled_to_the_interval(gql, owner: Person, stub_broker, worker) -> None:
    await gql(VIEWER, as_=owner)
    await worker()
    first_use = (await _row(owner)).last_used_at
    assert first_use is not None

    # Within the interval (60 s): nothing is enqueued, lastUsedAt stays.
    for _ in range(3):
        data_of(await gql(VIEWER, as_=owner))
    assert stub_broker.queues["default"].qsize() == 0
    assert queued(stub_broker) == []
    assert (await _row(owner)).last_used_at == first_use

    # Once the recorded use is older than the interval, the next request touches again.
    stale = datetime.now(UTC) - timedelta(seconds=61)
    await models.ApiToken.filter(id=(await _row(owner)).id).update(last_used_at=stale)
    await invalidate_user_access(owner.user.id)  # the cache remembers the last use it scheduled
    data_of(await gql(VIEWER, as_=owner))
    assert stub_broker.queues["default"].qsize() == 1
    await worker()
    assert (await _row(owner)).last_used_at > stale


async def test_failed_authentication_enqueues_nothing(gql, owner: Person, stub_broker) -> None:
    issued = await models.ApiToken.get(user_id=owner.user.id)
    await models.ApiToken.filter(id=issued.id).update(revoked_at=datetime.now(UTC))
    await gql(VIEWER, as_=owner)
    await gql(VIEWER, headers={"Authorization": "Bearer oql_unknown"})
    await gql(VIEWER)
    assert queued(stub_broker) == []


async def test_touch_never_moves_last_used_at_backwards(owner: Person, stub_broker, worker) -> None:
    from outboundql.workers.tokens import touch_api_token

    row = await _row(owner)
    late, early = datetime.now(UTC), datetime.now(UTC) - timedelta(hours=1)
    touch_api_token.send(row.id, late.isoformat())
    touch_api_token.send(row.id, early.isoformat())
    await worker()
    assert (await _row(owner)).last_used_at == late
