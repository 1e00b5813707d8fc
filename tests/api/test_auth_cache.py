"""Authentication answered from the cache: no SQL on a warm cache, and never stale after a token is
revoked, a role changes, a member is removed or added (`services.auth_cache`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from outboundql import models
from outboundql.enums import Role
from outboundql.services.auth_cache import invalidate_user_access
from outboundql.services.clock import FakeClock
from outboundql.services.tokens import CreateApiToken, create_api_token
from tests.helpers import Person, data_of, global_id

VIEWER = "{ viewer { email } }"
TYPENAME = "{ __typename }"
ROLE = "query($slug: String!) { project(slug: $slug) { viewerRole } }"
REVOKE = "mutation($id: ID!) { revokeApiToken(input: {id: $id}) { errors { code } } }"
INVITE = """mutation($projectId: ID!, $email: String!) {
  inviteMember(input: {projectId: $projectId, email: $email, role: VIEWER}) { token errors { code } } }"""
ACCEPT = "mutation($token: String!) { acceptInvitation(input: {token: $token}) { errors { code } } }"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime.now(UTC))


def _codes(result: dict[str, Any]) -> list[str]:
    return [(e.get("extensions") or {}).get("code") for e in result.get("errors") or []]


async def test_a_warm_cache_authenticates_without_sql(gql, owner: Person, count_queries) -> None:
    with count_queries() as cold:
        assert data_of(await gql(VIEWER, as_=owner)) == {"viewer": {"email": "owner@example.com"}}
    assert len(cold) == 2  # the token with its user, the memberships
    for query, data in ((VIEWER, {"viewer": {"email": "owner@example.com"}}), (TYPENAME, {"__typename": "Query"})):
        with count_queries() as warm:
            assert data_of(await gql(query, as_=owner)) == data
        assert len(warm) == 0, warm.statements


async def test_a_revoked_token_is_refused_at_once(gql, owner: Person) -> None:
    second = Person(owner.user, (await create_api_token(owner.user, CreateApiToken(name="ci"))).secret)
    for person in (owner, second):
        data_of(await gql(VIEWER, as_=person))  # both cached
    row = await models.ApiToken.get(user_id=owner.user.id, name="ci")
    assert data_of(await gql(REVOKE, {"id": global_id("ApiToken", row.id)}, as_=owner))["revokeApiToken"][
        "errors"] == []
    assert _codes(await gql(VIEWER, as_=second)) == ["UNAUTHENTICATED"]
    assert data_of(await gql(VIEWER, as_=owner)) == {"viewer": {"email": "owner@example.com"}}


async def test_a_role_change_and_a_removal_take_effect_at_once(gql, owner: Person, project, make_user,
                                                                add_member) -> None:
    bea = await make_user("bea@example.com")
    await add_member(bea, project, Role.MEMBER)
    assert data_of(await gql(ROLE, {"slug": project.slug}, as_=bea)) == {"project": {"viewerRole": "MEMBER"}}

    await models.Membership.filter(user_id=bea.user.id, project_id=project.id).update(role=Role.VIEWER)
    await invalidate_user_access(bea.user.id)  # what the role-change service does after its commit
    assert data_of(await gql(ROLE, {"slug": project.slug}, as_=bea)) == {"project": {"viewerRole": "VIEWER"}}

    await models.Membership.filter(user_id=bea.user.id, project_id=project.id).delete()
    await invalidate_user_access(bea.user.id)  # what member removal does after its commit
    assert data_of(await gql(ROLE, {"slug": project.slug}, as_=bea)) == {"project": None}


async def test_a_new_member_sees_the_project_at_once(gql, owner: Person, project, make_user) -> None:
    cleo = await make_user("cleo@example.com")
    assert data_of(await gql(ROLE, {"slug": project.slug}, as_=cleo)) == {"project": None}  # cached: no projects
    invited = await gql(INVITE, {"projectId": global_id("Project", project.id), "email": "cleo@example.com"},
                        as_=owner)
    token = data_of(invited)["inviteMember"]["token"]
    assert data_of(await gql(ACCEPT, {"token": token}, as_=cleo))["acceptInvitation"]["errors"] == []
    assert data_of(await gql(ROLE, {"slug": project.slug}, as_=cleo)) == {"project": {"viewerRole": "VIEWER"}}


async def test_a_created_project_is_the_creators_at_once(gql, owner: Person) -> None:
    data_of(await gql(VIEWER, as_=owner))
    created = await gql('mutation { createProject(input: {name: "Fresh"}) { project { slug } errors { code } } }',
                        as_=owner)
    slug = data_of(created)["createProject"]["project"]["slug"]
    assert data_of(await gql(ROLE, {"slug": slug}, as_=owner)) == {"project": {"viewerRole": "OWNER"}}


async def test_a_cached_token_expires_on_time(gql, owner: Person, clock: FakeClock, count_queries) -> None:
    issued = await create_api_token(owner.user, CreateApiToken(name="short", expires_in_days=1))
    person = Person(owner.user, issued.secret)
    assert issued.token.expires_at is not None
    clock.set(issued.token.expires_at - timedelta(seconds=5))
    data_of(await gql(VIEWER, as_=person))
    clock.advance(seconds=5)
    with count_queries() as q:
        assert _codes(await gql(VIEWER, as_=person)) == ["UNAUTHENTICATED"]
    assert len(q) == 0  # refused from the cache: its expiry is remembered


async def test_an_entry_is_read_again_after_its_time(gql, owner: Person, clock: FakeClock, settings,
                                                     count_queries) -> None:
    data_of(await gql(VIEWER, as_=owner))
    clock.advance(seconds=settings.auth_cache_seconds - 1)
    with count_queries() as still:
        data_of(await gql(VIEWER, as_=owner))
    clock.advance(seconds=1)
    with count_queries() as again:
        data_of(await gql(VIEWER, as_=owner))
    assert (len(still), len(again)) == (0, 2)


async def test_with_the_cache_off_every_request_reads_the_database(owner: Person, count_queries) -> None:
    import httpx

    from outboundql.app import create_app
    from outboundql.goals.testing import registry_with
    from outboundql.settings import Settings

    app = create_app(Settings(database_url="sqlite://:memory:", redis_url=None, auth_cache_seconds=0),
                     manage_db=False, run_worker=False, goals=registry_with())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        for _ in range(2):
            with count_queries() as q:
                response = await client.post("/graphql", json={"query": VIEWER}, headers=owner.headers)
            assert response.json()["data"] == {"viewer": {"email": "owner@example.com"}}
            assert len(q) == 2
