"""Saved filters' match counts remembered per accounts revision (`AccountsRevision`, set by triggers): a count read
again while no account of the project was written costs one indexed read and no COUNT, and every kind of account
write (services, bulk inserts, ORM updates, raw SQL, deletes) or a changed expression makes the next read count
again, exactly. Nothing is remembered from inside a transaction, whose writes may still be rolled back."""

from __future__ import annotations

from typing import Any

from tortoise import connections
from tortoise.transactions import in_transaction

from outboundql import models
from outboundql.services import accounts as accounts_service
from outboundql.services import saved_filters
from outboundql.services.access import Access
from outboundql.services.filter_expressions import match
from tests.helpers import data_of

FRENCH = {"field": "country", "op": "eq", "value": "FR"}
BIG = {"field": "employee_count", "op": "gte", "value": 100}
COLUMNS = ("name", "domain", "industry", "employee_count", "country", "city", "language", "time_zone", "status",
           "tags", "source", "created_at", "contract_end_date", "custom_fields")

LIST = "query($slug: String!) { project(slug: $slug) { savedFilters { name matchCount } } }"


async def _revision(project: models.Project) -> int | None:
    row = await models.AccountsRevision.get_or_none(project_id=project.id)
    return None if row is None else row.revision


async def _filters(project: models.Project) -> list[models.SavedFilter]:
    return list(await models.SavedFilter.filter(project_id=project.id).order_by("id"))


async def _exact(project: models.Project) -> dict[int, int]:
    rows = list(await models.Account.filter(project_id=project.id).order_by("id").values("id", *COLUMNS))
    return {f.id: len(match(f.expression, rows)) for f in await _filters(project)}


async def _counted(project: models.Project, count_queries: Any) -> tuple[dict[int, int], list[str]]:
    with count_queries() as q:
        counts = await saved_filters.match_counts(await _filters(project))
    return counts, q.statements


def _counts_accounts(statements: list[str]) -> bool:
    return any('FROM "account"' in s or "FROM account" in s for s in statements)


async def test_a_count_read_again_without_account_writes_costs_one_read_and_no_count(
        gql: Any, owner: Any, project: models.Project, count_queries: Any) -> None:
    await models.Account.bulk_create([models.Account(project=project, name=f"A{i}", name_key=f"a{i}",
                                                     country="FR" if i % 2 else "DE", employee_count=i * 30)
                                      for i in range(10)])
    await models.SavedFilter.bulk_create([models.SavedFilter(project=project, name="French", expression=FRENCH),
                                          models.SavedFilter(project=project, name="Big", expression=BIG)])
    first, statements = await _counted(project, count_queries)
    assert first == await _exact(project)
    assert _counts_accounts(statements)

    again, statements = await _counted(project, count_queries)
    assert again == first
    assert len(statements) == 2  # the filters, and the revision
    assert not _counts_accounts(statements)

    listed = data_of(await gql(LIST, {"slug": project.slug}, as_=owner))["project"]["savedFilters"]
    assert sorted((f["name"], f["matchCount"]) for f in listed) == [("Big", 6), ("French", 5)]


async def test_every_kind_of_account_write_is_counted_again(
        owner: Any, project: models.Project, make_project: Any, count_queries: Any) -> None:
    other = await make_project(owner, "Other")
    access = await Access.for_user(owner.user)
    await models.SavedFilter.bulk_create([models.SavedFilter(project=project, name="French", expression=FRENCH),
                                          models.SavedFilter(project=project, name="Big", expression=BIG)])
    conn = connections.get("default")

    async def create() -> None:
        await accounts_service.create_account(access, accounts_service.CreateAccount(
            project_id=project.id, name="Made", country="FR"))

    async def bulk() -> None:
        await models.Account.bulk_create([models.Account(project=project, name=f"Bulk {i}", name_key=f"bulk {i}",
                                                         country="FR", employee_count=500) for i in range(3)])

    async def orm_update() -> None:
        await models.Account.filter(project_id=project.id, name="Made").update(employee_count=1000)

    async def sql_update() -> None:
        await conn.execute_script(f"UPDATE account SET country = 'DE' WHERE project_id = {project.id} "
                                  "AND name = 'Bulk 0'")

    async def sql_delete() -> None:
        await conn.execute_script(f"DELETE FROM account WHERE project_id = {project.id} AND name = 'Bulk 1'")

    async def orm_delete() -> None:
        await models.Account.filter(project_id=project.id, name="Made").delete()

    for write in (create, bulk, orm_update, sql_update, sql_delete, orm_delete):
        before = await _revision(project)
        await _counted(project, count_queries)  # remembered at this revision
        await write()
        assert await _revision(project) != before, write.__name__
        counts, statements = await _counted(project, count_queries)
        assert counts == await _exact(project), write.__name__
        assert _counts_accounts(statements), write.__name__

    before = await _revision(project)
    await models.Account.create(project=other, name="Elsewhere", name_key="elsewhere", country="FR")
    assert await _revision(project) == before  # another project's write leaves this one's counts remembered
    _, statements = await _counted(project, count_queries)
    assert not _counts_accounts(statements)


async def test_a_changed_expression_is_counted_again(project: models.Project, count_queries: Any) -> None:
    await models.Account.bulk_create([models.Account(project=project, name=f"A{i}", name_key=f"a{i}",
                                                     country="FR", employee_count=i * 60) for i in range(4)])
    saved = await models.SavedFilter.create(project=project, name="Mine", expression=FRENCH)
    assert (await _counted(project, count_queries))[0] == {saved.id: 4}
    await models.SavedFilter.filter(id=saved.id).update(expression=BIG)
    counts, statements = await _counted(project, count_queries)
    assert counts == {saved.id: 2}
    assert _counts_accounts(statements)


async def test_nothing_is_remembered_from_inside_a_transaction(project: models.Project, count_queries: Any) -> None:
    await models.Account.create(project=project, name="Kept", name_key="kept", country="FR")
    saved = await models.SavedFilter.create(project=project, name="French", expression=FRENCH)
    assert (await _counted(project, count_queries))[0] == {saved.id: 1}

    class Undone(Exception):
        pass

    try:
        async with in_transaction():
            await models.Account.create(project=project, name="Undone", name_key="undone", country="FR")
            assert (await _counted(project, count_queries))[0] == {saved.id: 2}  # its own write counted
            raise Undone
    except Undone:
        pass
    counts, _ = await _counted(project, count_queries)
    assert counts == await _exact(project) == {saved.id: 1}


async def test_a_project_without_a_revision_is_counted_every_time(project: models.Project,
                                                                  count_queries: Any) -> None:
    await models.Account.create(project=project, name="One", name_key="one", country="FR")
    saved = await models.SavedFilter.create(project=project, name="French", expression=FRENCH)
    await models.AccountsRevision.filter(project_id=project.id).delete()  # as before the first write
    for _ in range(2):
        counts, statements = await _counted(project, count_queries)
        assert counts == {saved.id: 1}
        assert _counts_accounts(statements)
