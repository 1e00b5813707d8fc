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


async def test_a_transaction_lists_the_projects_it_revised_in_one_setting(pg_url: str) -> None:
    """The trigger remembers the projects a transaction revised in one transaction-local setting: a setting named
    per project would stay defined in the database session after the transaction, one more for every project the
    session ever wrote, and PostgreSQL takes longer to add each new name."""
    async with global_database(pg_url):
        user = await models.User.create(email="lister@example.com", name="Lister")
        access = await Access.for_user(user)
        projects = [(await create_project(access, CreateProject(name=f"P{n}"))).project for n in range(3)]
        for p in projects:
            await models.Account.create(project=p, name="First", name_key="first")
        before = {p.id: await _revision(p.id) for p in projects}
        async with in_transaction() as conn:
            for p in projects:
                await models.Account.create(project=p, name="A", name_key="a")
                await models.Account.filter(project=p).update(city="Berlin")  # the same project again
            await conn.execute_script('SET CONSTRAINTS "accounts_revised" IMMEDIATE')  # the triggers run now
            listed = (await conn.execute_query_dict(
                "SELECT current_setting('outboundql.accounts_revised', true) AS listed"))[0]["listed"]
            named = await conn.execute_query_dict(
                "SELECT current_setting('outboundql.accounts_revised_' || id, true) AS s FROM project")
        assert listed == "".join(f",{p.id}," for p in projects)
        assert [r["s"] for r in named] == [None] * len(named)
        after = {p.id: await _revision(p.id) for p in projects}
        assert all(after[p] != before[p] for p in before)
