"""Authentication: every way a bearer token can be wrong gives a top-level UNAUTHENTICATED error
that says which, and no data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis.exceptions

from outboundql import models
from outboundql.services.auth_cache import invalidate_user_access
from outboundql.services.tokens import CreateApiToken, create_api_token
from tests.helpers import Person, data_of, global_id

VIEWER = "query { viewer { email } }"
PRIVATE = """
query($id: ID!, $slug: String!) {
  node(id: $id) { id ... on Project { name } }
  project(slug: $slug) { name }
}
"""

MISSING = "Authentication required: send 'Authorization: Bearer <api token>'."
MALFORMED = "Malformed Authorization header: expected 'Bearer <api token>'."
UNKNOWN = "Invalid API token."
REVOKED = "This API token has been revoked."
EXPIRED = "This API token has expired."


def assert_unauthenticated(result: dict[str, Any], message: str) -> None:
    errors = result.get("errors")
    assert errors, result
    assert {e["extensions"]["code"] for e in errors} == {"UNAUTHENTICATED"}
    assert {e["message"] for e in errors} == {message}


def assert_no_data(result: dict[str, Any]) -> None:
    """Nothing private in ``data``: null, or only null fields."""
    data = result.get("data")
    assert data is None or all(v is None for v in data.values()), data


async def test_valid_token_works(gql, owner: Person) -> None:
    assert data_of(await gql(VIEWER, as_=owner)) == {"viewer": {"email": "owner@example.com"}}


async def test_no_authorization_header(gql, owner) -> None:
    result = await gql(VIEWER)
    assert_unauthenticated(result, MISSING)
    assert result["data"] is None


@pytest.mark.parametrize("header", ["Token abc", "Basic b3duZXI6cHc=", "Bearer ", "Bearer", "   ", "oql_abc"])
async def test_malformed_header(gql, owner, header: str) -> None:
    result = await gql(VIEWER, headers={"Authorization": header})
    assert_unauthenticated(result, MALFORMED)
    assert result["data"] is None


async def test_malformed_header_with_a_valid_secret(gql, owner: Person) -> None:
    """The scheme matters, not just the secret."""
    result = await gql(VIEWER, headers={"Authorization": f"Token {owner.token}"})
    assert_unauthenticated(result, MALFORMED)


@pytest.mark.parametrize("secret", ["oql_not-a-real-token", "x", "oql_" + "A" * 43])
async def test_unknown_token(gql, owner, secret: str) -> None:
    result = await gql(VIEWER, headers={"Authorization": f"Bearer {secret}"})
    assert_unauthenticated(result, UNKNOWN)
    assert result["data"] is None


async def test_scheme_is_case_insensitive_and_whitespace_tolerated(gql, owner: Person) -> None:
    result = await gql(VIEWER, headers={"Authorization": f"  bearer   {owner.token}  "})
    assert data_of(result) == {"viewer": {"email": "owner@example.com"}}


REVOKE = """
mutation($id: ID!) { revokeApiToken(input: {id: $id}) { token { id revokedAt } errors { code field message } } }
"""
CREATE = """
mutation($input: CreateApiTokenInput!) {
  createApiToken(input: $input) { secret token { id name } errors { code field message } }
}
"""


async def test_revoked_token(gql, owner: Person) -> None:
    created = data_of(await gql(CREATE, {"input": {"name": "laptop"}}, as_=owner))["createApiToken"]
    laptop = Person(owner.user, created["secret"])
    assert data_of(await gql(VIEWER, as_=laptop)) == {"viewer": {"email": "owner@example.com"}}

    revoked = data_of(await gql(REVOKE, {"id": created["token"]["id"]}, as_=owner))["revokeApiToken"]
    assert revoked["errors"] == []
    assert revoked["token"]["revokedAt"] is not None

    result = await gql(VIEWER, as_=laptop)
    assert_unauthenticated(result, REVOKED)
    assert result["data"] is None
    # The other token is untouched, and a token can revoke itself.
    assert data_of(await gql(VIEWER, as_=owner)) == {"viewer": {"email": "owner@example.com"}}


async def test_a_token_can_revoke_itself(gql, owner: Person) -> None:
    row = await models.ApiToken.get(user_id=owner.user.id)
    assert data_of(await gql(REVOKE, {"id": global_id("ApiToken", row.id)}, as_=owner))["revokeApiToken"][
        "errors"] == []
    assert_unauthenticated(await gql(VIEWER, as_=owner), REVOKED)


async def test_expired_token(gql, owner: Person) -> None:
    issued = await create_api_token(owner.user, CreateApiToken(name="short-lived", expires_in_days=1))
    person = Person(owner.user, issued.secret)
    assert data_of(await gql(VIEWER, as_=person)) == {"viewer": {"email": "owner@example.com"}}

    await models.ApiToken.filter(id=issued.token.id).update(expires_at=datetime.now(UTC) - timedelta(seconds=1))
    await invalidate_user_access(owner.user.id)  # as every writer of tokens does
    result = await gql(VIEWER, as_=person)
    assert_unauthenticated(result, EXPIRED)
    assert result["data"] is None


async def test_revoked_wins_over_expired(gql, owner: Person) -> None:
    issued = await create_api_token(owner.user, CreateApiToken(name="both"))
    past = datetime.now(UTC) - timedelta(days=1)
    await models.ApiToken.filter(id=issued.token.id).update(expires_at=past, revoked_at=past)
    assert_unauthenticated(await gql(VIEWER, as_=Person(owner.user, issued.secret)), REVOKED)


async def test_bad_token_sees_no_private_data(gql, owner: Person, project) -> None:
    variables = {"id": global_id("Project", project.id), "slug": project.slug}
    assert data_of(await gql(PRIVATE, variables, as_=owner)) == {
        "node": {"id": variables["id"], "name": project.name}, "project": {"name": project.name}}

    for headers in ({}, {"Authorization": "Token x"}, {"Authorization": "Bearer oql_nope"}):
        result = await gql(PRIVATE, variables, headers=headers)
        assert_no_data(result)
        assert {e["extensions"]["code"] for e in result["errors"]} == {"UNAUTHENTICATED"}
        assert {tuple(e["path"]) for e in result["errors"]} == {("node",), ("project",)}
        assert project.name not in str(result)


MUTATIONS_WITHOUT_AUTH = [
    ("createProject", 'mutation { createProject(input: {name: "Sneaky"}) { project { id } errors { code } } }'),
    ("createApiToken", 'mutation { createApiToken(input: {name: "sneaky"}) { secret errors { code } } }'),
]


@pytest.mark.parametrize(("op", "document"), MUTATIONS_WITHOUT_AUTH, ids=[m[0] for m in MUTATIONS_WITHOUT_AUTH])
async def test_mutations_require_authentication(gql, owner: Person, op: str, document: str) -> None:
    projects, tokens = await models.Project.all().count(), await models.ApiToken.all().count()
    for headers in ({}, {"Authorization": "Bearer oql_nope"}):
        result = await gql(document, headers=headers)
        assert result["data"] is None
        assert [e["extensions"]["code"] for e in result["errors"]] == ["UNAUTHENTICATED"]
        assert result["errors"][0]["path"] == [op]
    assert await models.Project.all().count() == projects
    assert await models.ApiToken.all().count() == tokens


async def test_introspection_needs_no_token(gql) -> None:
    data = data_of(await gql('{ __type(name: "Project") { name } }'))
    assert data == {"__type": {"name": "Project"}}


async def test_revoking_a_token_does_not_log_out_other_users(gql, owner: Person, make_user: Any) -> None:
    other = await make_user("other@example.com")
    row = await models.ApiToken.get(user_id=owner.user.id)
    await gql(REVOKE, {"id": global_id("ApiToken", row.id)}, as_=owner)
    assert data_of(await gql(VIEWER, as_=other)) == {"viewer": {"email": "other@example.com"}}


@pytest.mark.parametrize("failure", [
    redis.exceptions.ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused."),
    redis.exceptions.TimeoutError("Timeout reading from 127.0.0.1:6379"),  # a hung Redis, past the socket timeout
], ids=["redis-down", "redis-hung"])
async def test_a_job_queue_that_fails_like_redis_costs_the_touch_never_the_request(
    gql, owner: Person, project, stub_broker: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
    failure: Exception,
) -> None:
    """Recording a token's use is best effort: with the job queue down, authenticated requests answer their
    data, and the lost touch is logged (the token's next request tries again)."""
    def enqueue(message: Any, *, delay: int | None = None) -> Any:
        raise failure

    monkeypatch.setattr(stub_broker, "enqueue", enqueue)
    variables = {"id": global_id("Project", project.id), "slug": project.slug}
    for _ in range(2):
        result = await gql(PRIVATE, variables, as_=owner)
        assert data_of(result) == {"node": {"id": variables["id"], "name": project.name},
                                   "project": {"name": project.name}}
    assert (await models.ApiToken.get(user_id=owner.user.id)).last_used_at is None
    lost = [r for r in caplog.records if r.name == "outboundql.services.tokens" and r.levelname == "WARNING"]
    assert len(lost) == 2 and "last-used time was not recorded" in lost[0].getMessage()
    assert lost[0].exc_info is not None and lost[0].exc_info[1].__cause__ is failure
