"""The accounts revision on PostgreSQL under concurrent writers: it is written at commit (a deferred trigger), so a
writer of one account never queues behind a transaction that holds the project's account count and may wait for
that writer next (which would deadlock), and each committed transaction leaves a new revision."""

from __future__ import annotations

import asyncio

import pytest
from tortoise.transactions import in_transaction

from outboundql import models
from outboundql.services.access import Access
from outboundql.services.projects import CreateProject, create_project
from outboundql.services.saved_filters import match_counts
from tests.conftest import global_database

pytestmark = pytest.mark.integration

HANG_GUARD_SECONDS = 60  # a deadlock would hang forever; this turns it into a failure


async def _revision(project_id: int) -> int:
    return (await models.AccountsRevision.get(project_id=project_id)).revision


async def test_an_account_write_does_not_queue_behind_a_transaction_holding_the_count(pg_url: str) -> None:
    async with global_database(pg_url):
        user = await models.User.create(email="writer@example.com", name="Writer")
        project = (await create_project(await Access.for_user(user), CreateProject(name="Writers"))).project
        shared = await models.Account.create(project=project, name="Shared", name_key="shared", country="FR")
        saved = await models.SavedFilter.create(project=project, name="French",
                                                expression={"field": "country", "op": "eq", "value": "FR"})
        assert await match_counts([saved]) == {saved.id: 1}
        first = await _revision(project.id)
        counted, other_done = asyncio.Event(), asyncio.Event()
        seen = [first]

        async def importer() -> None:  # inserts (locking the project's count row), then updates the shared account
            async with in_transaction():
                await models.Account.create(project=project, name="Imported", name_key="imported", country="FR")
                counted.set()
                await other_done.wait()
                await models.Account.filter(id=shared.id).update(city="Paris")

        async def editor() -> None:  # one account updated (its row locked) and committed meanwhile
            await counted.wait()
            await models.Account.filter(id=shared.id).update(country="DE")
            seen.append(await _revision(project.id))
            assert await match_counts([saved]) == {saved.id: 0}  # the import is not committed yet
            other_done.set()

        await asyncio.wait_for(asyncio.gather(importer(), editor()), HANG_GUARD_SECONDS)
        seen.append(await _revision(project.id))
        assert len(set(seen)) == 3  # a new revision with each commit
        assert await match_counts([saved]) == {saved.id: 1}  # the imported account
        assert (await models.Account.get(id=shared.id)).city == "Paris"
