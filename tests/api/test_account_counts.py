"""The account count the database keeps per project (`ProjectCounts`, moved by triggers): exact after every kind of
write (services, bulk and multi-row inserts, merges, erasure, removal by upsert, raw SQL, a rolled-back
transaction), never mixed between projects, and what an unfiltered ``totalCount`` reads instead of counting."""

from __future__ import annotations

from typing import Any

from tortoise import connections
from tortoise.transactions import in_transaction

from outboundql import models
from outboundql.services import account_merge, account_upserts, database_kept, erasure
from outboundql.services import accounts as accounts_service
from outboundql.services.access import Access
from tests.helpers import data_of, warm_up

TOTAL = """
query($slug: String!, $filter: AccountFilter) {
  project(slug: $slug) { accounts(first: 1, filter: $filter) { totalCount } }
}
"""


async def _kept(project: models.Project) -> int:
    return await database_kept.account_count(project.id)


async def _actual(project: models.Project) -> int:
    return await models.Account.filter(project_id=project.id).count()


async def test_every_way_of_writing_accounts_is_counted(owner: Any, project: models.Project,
                                                        make_project: Any) -> None:
    other = await make_project(owner, "Other")
    access = await Access.for_user(owner.user)
    assert await _kept(project) == 0

    created = [(await accounts_service.create_account(
        access, accounts_service.CreateAccount(project_id=project.id, name=f"Made {i}"))).account for i in range(3)]
    await models.Account.bulk_create([models.Account(project=project, name=f"Bulk {i}", name_key=f"bulk {i}")
                                      for i in range(4)])
    upserted = await account_upserts.upsert_accounts(access, account_upserts.UpsertAccounts(
        project_id=project.id, source="crm", mode=account_upserts.UpsertMode.UPSERT,
        items=tuple(account_upserts.AccountItem(external_id=f"x{i}", name=f"Synced {i}") for i in range(5))),
        max_items=100)
    assert upserted.count(account_upserts.UpsertOutcome.CREATED) == 5
    await models.Account.create(project=other, name="Elsewhere", name_key="elsewhere")
    assert (await _kept(project), await _kept(other)) == (12, 1)

    await account_merge.merge_accounts(access, account_merge.MergeAccounts(created[0].id, (created[1].id,)))
    await erasure.delete_accounts(access, erasure.DeleteAccounts([created[2].id]))
    await account_upserts.upsert_accounts(access, account_upserts.UpsertAccounts(
        project_id=project.id, source="crm", mode=account_upserts.UpsertMode.REMOVE,
        items=(account_upserts.AccountItem(external_id="x0"),)), max_items=100)
    await connections.get("default").execute_script(f"DELETE FROM account WHERE name = 'Bulk 0' "
                                                    f"AND project_id = {project.id}")
    assert await _kept(project) == await _actual(project) == 8
    assert await _kept(other) == 1


async def test_a_rolled_back_write_leaves_the_count_alone(owner: Any, project: models.Project) -> None:
    await models.Account.create(project=project, name="Kept", name_key="kept")

    class Undone(Exception):
        pass

    try:
        async with in_transaction():
            await models.Account.bulk_create([models.Account(project=project, name=f"Gone {i}", name_key=f"g{i}")
                                              for i in range(3)])
            await models.Account.filter(project_id=project.id, name="Kept").delete()
            assert await _kept(project) == 3  # seen inside the transaction
            raise Undone
    except Undone:
        pass
    assert await _kept(project) == await _actual(project) == 1


async def test_an_account_moved_between_projects_is_counted_in_its_new_one(owner: Any, project: models.Project,
                                                                           make_project: Any) -> None:
    other = await make_project(owner, "Other")
    row = await models.Account.create(project=project, name="Mover", name_key="mover")
    await models.Account.filter(id=row.id).update(project_id=other.id)
    assert (await _kept(project), await _kept(other)) == (0, 1)


async def test_an_unfiltered_total_reads_the_kept_count(gql: Any, owner: Any, project: models.Project,
                                                        count_queries: Any) -> None:
    await models.Account.bulk_create([models.Account(project=project, name=f"A {i}", name_key=f"a {i}",
                                                     country="DE" if i % 3 == 0 else "FR") for i in range(9)])
    await warm_up(gql, owner)
    with count_queries() as unfiltered:
        data = data_of(await gql(TOTAL, {"slug": project.slug}, as_=owner))
    assert data["project"]["accounts"]["totalCount"] == 9
    counted = [s for s in unfiltered.statements if "COUNT(" in s.upper()]
    assert counted == [], counted
    assert any("project_counts" in s for s in unfiltered.statements)

    with count_queries() as filtered:  # a filter is counted over the matching rows
        data = data_of(await gql(TOTAL, {"slug": project.slug, "filter": {"countries": ["DE"]}}, as_=owner))
    assert data["project"]["accounts"]["totalCount"] == 3
    assert any("COUNT(" in s.upper() for s in filtered.statements)
    data = data_of(await gql(TOTAL, {"slug": project.slug, "filter": {"countries": []}}, as_=owner))
    assert data["project"]["accounts"]["totalCount"] == 9  # an empty condition narrows nothing


async def test_recount_repairs_a_drifted_count_by_the_difference(owner: Any, project: models.Project) -> None:
    await models.Account.bulk_create([models.Account(project=project, name=f"A {i}", name_key=f"a {i}")
                                      for i in range(5)])
    await models.ProjectCounts.filter(project_id=project.id).update(accounts=2)
    done = await database_kept.recount([project.id])
    assert [(d.kept, d.actual) for d in done.drifted] == [(2, 5)]
    assert await _kept(project) == 5
    assert (await database_kept.recount()).drifted == []
    event = await models.AuditEvent.filter(project_id=project.id, action="project.recount").get()
    assert (event.before, event.after) == ({"accounts": 2}, {"accounts": 5})
