"""Two API processes sharing PostgreSQL and Redis: a role change, a removal and a revocation made through one
are in force on the other's very next request, though the other answers authentication from its cache."""

from __future__ import annotations

import sys
import warnings
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from tortoise.context import TortoiseContext
from tortoise.warnings import TortoiseLoopSwitchWarning

from outboundql import models
from outboundql.app import create_app
from outboundql.enums import Role
from outboundql.goals.testing import registry_with
from outboundql.models import triggers
from outboundql.models.config import tortoise_config
from outboundql.services.access import Access
from outboundql.services.auth_cache import invalidate_user_access
from outboundql.services.projects import CreateProject, create_project
from outboundql.services.tokens import CreateApiToken, create_api_token
from outboundql.settings import Settings
from tests import isolation
from tests.helpers import global_id
from tests.integration.conftest import ROOT, Child, child_env, free_port, wait_until_healthy

pytestmark = pytest.mark.integration

ROLE = "query($slug: String!) { project(slug: $slug) { viewerRole } }"
REVOKE = "mutation($id: ID!) { revokeApiToken(input: {id: $id}) { errors { code } } }"
SERVE = ("import sys, uvicorn; from outboundql.app import create_app; from outboundql.settings import Settings; "
         "uvicorn.run(create_app(Settings(database_url=sys.argv[1], redis_url=sys.argv[2])), host='127.0.0.1', "
         "port=int(sys.argv[3]), log_level='warning')")


@pytest.fixture
async def schema_url(pg_url: str) -> AsyncIterator[str]:
    """A fresh schema (generate_schemas) both processes work in; this process's ORM uses it."""
    import tortoise.context as tc
    from tortoise.context import set_global_context

    url = await isolation.create_schema_url(pg_url)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=TortoiseLoopSwitchWarning)
            async with TortoiseContext() as ctx:
                await ctx.init(config=tortoise_config(url))
                await triggers.generate_schemas(ctx)
                set_global_context(ctx)
                try:
                    yield url
                finally:
                    tc._global_context = None
    finally:
        await isolation.drop_schema_url(url)


@pytest.fixture
def other_process(schema_url: str, private_redis_url: str) -> Iterator[str]:
    """The second API process (uvicorn in a child process) on the same schema and Redis DB; its /graphql URL."""
    port = free_port()
    child = Child.start([sys.executable, "-c", SERVE, schema_url, private_redis_url, str(port)], cwd=ROOT,
                        env=child_env())
    try:
        wait_until_healthy(child, port)
        yield f"http://127.0.0.1:{port}/graphql"
    finally:
        child.stop()


async def test_changes_through_one_process_are_in_force_on_the_other_at_once(
    schema_url: str, private_redis_url: str, other_process: str
) -> None:
    settings = Settings(database_url=schema_url, redis_url=private_redis_url)
    app = create_app(settings, manage_db=False, run_worker=False, goals=registry_with())  # this process's API
    alice = await models.User.create(email="alice@example.com", name="Alice")
    project = (await create_project(await Access.for_user(alice), CreateProject(name="Shared"))).project
    bea = await models.User.create(email="bea@example.com", name="Bea")
    secret = (await create_api_token(bea, CreateApiToken(name="bea"))).secret
    await models.Membership.create(user=bea, project=project, role=Role.MEMBER)
    await invalidate_user_access(bea.id)
    headers = {"Authorization": f"Bearer {secret}"}

    # The app's lifespan closes its Redis clients when the test ends (httpx's transport does not run it).
    async with app.router.lifespan_context(app), httpx.AsyncClient(timeout=30) as other, \
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as this:

        async def role() -> Any:
            answer = (await other.post(other_process, json={"query": ROLE, "variables": {"slug": project.slug}},
                                       headers=headers)).json()
            if answer.get("errors"):
                return [e["extensions"]["code"] for e in answer["errors"]]
            return answer["data"]["project"] and answer["data"]["project"]["viewerRole"]

        assert await role() == "MEMBER"
        # The other process answers from its cache: a write that skips the invalidation is not seen yet...
        await models.Membership.filter(user_id=bea.id, project_id=project.id).update(role=Role.VIEWER)
        assert await role() == "MEMBER"
        # ...and is seen on the very next request once this process invalidates (after its commit).
        await invalidate_user_access(bea.id)
        assert await role() == "VIEWER"

        await models.Membership.filter(user_id=bea.id, project_id=project.id).delete()
        await invalidate_user_access(bea.id)
        assert await role() is None

        token = await models.ApiToken.get(user_id=bea.id)
        revoked = (await this.post("/graphql", json={"query": REVOKE, "variables": {
            "id": global_id("ApiToken", token.id)}}, headers=headers)).json()
        assert revoked["data"]["revokeApiToken"]["errors"] == []
        assert await role() == ["UNAUTHENTICATED"]
