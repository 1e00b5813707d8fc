"""Saved filters: named filter expressions over a project's accounts (the language itself lives in
`outboundql.services.filter_expressions`).

Matching runs in the database: `outboundql.services.filter_sql` compiles an expression to SQL with the
same semantics as the Python evaluation; the few rows SQL cannot judge exactly (see that module) are read
in batches of `BATCH` and evaluated in Python. Public matching API, for every use case that selects
accounts by filter (``matchCount``, bulk add, campaign audiences, markets):

* `matching_account_ids` (a saved filter by id, access checked) and `account_ids_matching` (an
  expression): ids in ascending order, optionally at most ``limit`` of them;
* `iter_account_ids_matching`: the same ids streamed in ascending batches, for audiences of any size;
* `count_matching` (an expression) and `match_counts` (saved filters: remembered per accounts revision, else one
  statement per project);
* `matches_among` (many expressions, a few accounts: one statement for all of them);
* `MatchingAccounts`: the matches as an ORM queryset a keyset page reads (`outboundql.gql.keyset`), for lists of
  any size; `judged` and `confirmed` for a statement of its own that joins the matches to other tables.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from pypika_tortoise.context import SqlContext
from pypika_tortoise.terms import Term
from pypika_tortoise.utils import format_alias_sql
from tortoise import connections
from tortoise.backends.base.client import TransactionalDBClient
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from outboundql import models
from outboundql.enums import Role
from outboundql.errors import Collector, Conflict, NotFound
from outboundql.services import audit, fields, idempotency
from outboundql.services.access import Access
from outboundql.services.commands import UNSET, Maybe, given
from outboundql.services.filter_expressions import columns, compile_expression, validate_expression
from outboundql.services.filter_sql import TABLE, Binder, compile_filter
from outboundql.services.sql import chunks, int_list, is_postgres

BATCH = 5_000
"""Ids per query when streaming matches, and rows per batch evaluated in Python."""

_FENCE = {True: " OFFSET 0", False: " LIMIT -1 OFFSET 0"}  # the subquery stays one: its CASEs run once per row
_PARAMS_PER_STATEMENT = 10_000  # several filters' counts share a statement up to this many parameters


async def matching_account_ids(
    access: Access, project_id: int, saved_filter_id: int | None, field: str = "saved_filter_id", *,
    limit: int | None = None,
) -> list[int]:
    """Ids of the project's accounts the saved filter matches, ascending (the first ``limit`` of them when
    given). A filter of another project (or none) is NOT_FOUND on ``field``."""
    access.require(project_id, what="Saved filter", field=field)
    row = None if saved_filter_id is None else await models.SavedFilter.filter(
        id=saved_filter_id, project_id=project_id).first()
    if row is None:
        raise NotFound("Saved filter", field=field)
    return await account_ids_matching(project_id, row.expression, limit=limit)


async def account_ids_matching(project_id: int, expression: Any, *, limit: int | None = None,
                               among: Sequence[int] | None = None) -> list[int]:
    """Ids of the project's accounts a valid, canonical ``expression`` matches, ascending (the first
    ``limit`` when given; only ids of ``among`` when given). The caller has checked access to the project."""
    found: list[int] = []
    if among is not None:
        for part in chunks(sorted(set(among))):
            found.extend([i async for batch in iter_account_ids_matching(project_id, expression, among=part)
                          for i in batch])
        return found[:limit] if limit is not None else found
    async for batch in iter_account_ids_matching(project_id, expression):
        found.extend(batch)
        if limit is not None and len(found) >= limit:
            return found[:limit]
    return found


async def iter_account_ids_matching(project_id: int, expression: Any, *, batch_size: int = BATCH,
                                    among: Sequence[int] | None = None) -> AsyncIterator[list[int]]:
    """The ids of the project's accounts ``expression`` matches (of ``among`` only, when given: at most
    `outboundql.services.sql.CHUNK` ids), in ascending, non-empty batches of at most ``batch_size``: one
    keyset query per batch, plus one reading the batch's rows SQL cannot judge, which
    are evaluated in Python (see `outboundql.services.filter_sql`). The caller has checked access to the
    project."""
    conn = connections.get("default")
    binder = Binder(is_postgres(conn))
    project, after = binder(project_id), binder(_AFTER)
    compiled = compile_filter(expression, binder)
    unsure = compiled.uncertain or "FALSE"
    only = "" if among is None else f"AND {TABLE}.id IN ({int_list(among)}) "
    query = (f"SELECT {TABLE}.id AS id, {unsure} AS unsure FROM {TABLE} WHERE {TABLE}.project_id = {project} "
             f"AND {TABLE}.id > {after} {only}AND ({unsure} OR {compiled.where}) ORDER BY {TABLE}.id "
             f"LIMIT {int(batch_size)}")
    query, params = binder.finish(query)
    keyset = _start(params)
    predicate = None
    while True:
        rows = await conn.execute_query_dict(query, params)
        if not rows:
            return
        params[keyset] = int(rows[-1]["id"])
        doubtful = [int(r["id"]) for r in rows if r["unsure"]]
        confirmed: set[int] = set()
        if doubtful:
            predicate = predicate or compile_expression(expression)
            confirmed = {int(r["id"]) for r in await _rows(doubtful, expression) if predicate(r)}
        batch = [int(r["id"]) for r in rows if not r["unsure"] or int(r["id"]) in confirmed]
        if batch:
            yield batch
        if len(rows) < batch_size:
            return


_AFTER = object()  # the keyset parameter's place, until the first batch


def _start(params: list[Any]) -> int:
    """The index of the keyset parameter (ids after it), set to 0 for the first batch."""
    index = next(n for n, value in enumerate(params) if value is _AFTER)
    params[index] = 0
    return index


async def count_matching(project_id: int, expression: Any) -> int:
    """Number of the project's accounts a valid, canonical ``expression`` matches."""
    counts = await _counts(project_id, [expression])
    return counts[0]


async def match_counts(filters: Sequence[models.SavedFilter]) -> dict[int, int]:
    """Number of accounts each saved filter matches. A count is remembered with the project's accounts revision
    (`models.AccountsRevision`) it was read at and answers again while that revision stays current (one indexed
    read for all the projects); the others are counted in one statement per project involved (more only for very
    large filters, or for rows evaluated in Python), whatever the number of accounts. Inside a transaction nothing
    is remembered or answered from memory: the transaction's own writes are no revision yet."""
    by_project: dict[int, list[models.SavedFilter]] = {}
    for f in filters:
        by_project.setdefault(f.project_id, []).append(f)
    remembering = not isinstance(connections.get("default"), TransactionalDBClient)
    revisions = dict(await models.AccountsRevision.filter(project_id__in=list(by_project)).values_list(
        "project_id", "revision")) if remembering and by_project else {}
    counts: dict[int, int] = {}
    for project_id, group in by_project.items():
        revision = revisions.get(project_id)
        unknown = []
        for f in group:
            known = _remembered.get(f.id)
            if revision is not None and known is not None and known[:2] == (revision, _text(f.expression)):
                counts[f.id] = known[2]
            else:
                unknown.append(f)
        if not unknown:
            continue
        for f, n in zip(unknown, await _counts(project_id, [f.expression for f in unknown]), strict=True):
            counts[f.id] = n
            if revision is not None:
                _remember(f.id, (revision, _text(f.expression), n))
    return counts


REMEMBERED = 10_000
"""Saved filters' counts remembered at most per process; the oldest goes first."""
_remembered: dict[int, tuple[int, str, int]] = {}  # saved filter id: (accounts revision, expression, count)


def _text(expression: Any) -> str:
    return json.dumps(expression, sort_keys=True)


def _remember(saved_filter_id: int, entry: tuple[int, str, int]) -> None:
    _remembered.pop(saved_filter_id, None)
    _remembered[saved_filter_id] = entry
    while len(_remembered) > REMEMBERED:
        del _remembered[next(iter(_remembered))]


def _grouped(project_id: int, expressions: Sequence[Any], postgres: bool) -> Iterator[tuple[Binder, str, list[str]]]:
    """The expressions compiled in groups that share a statement, each within the parameter budget (an expression
    over it alone): per group its binder, the project's placeholder and each expression's `judged` column."""
    pending = list(expressions)
    while pending:
        binder = Binder(postgres)
        project = binder(project_id)
        states: list[str] = []
        while pending:
            size = len(binder.params)
            state = judged(pending[0], binder)
            if states and len(binder.params) > _PARAMS_PER_STATEMENT:
                binder.truncate(size)
                break
            pending.pop(0)
            states.append(state)
        yield binder, project, states


async def _counts(project_id: int, expressions: list[Any]) -> list[int]:
    """The count of each expression: COUNTs of certain matches and of rows SQL cannot judge, side by side in
    as few statements as the parameter budget allows; the latter rows, if any, are evaluated in Python."""
    conn = connections.get("default")
    postgres = is_postgres(conn)
    counts: list[int] = []
    for binder, project, states in _grouped(project_id, expressions, postgres):
        n = len(states)
        judging = ", ".join(f"{state} AS s{k}" for k, state in enumerate(states, 1))  # once per row (fenced)
        selects = ", ".join(f"COUNT(CASE WHEN s{k} = 1 THEN 1 END) AS m{k}, "
                            f"COUNT(CASE WHEN s{k} = 2 THEN 1 END) AS u{k}" for k in range(1, n + 1))
        [row] = await conn.execute_query_dict(*binder.finish(
            f"SELECT {selects} FROM (SELECT {judging} FROM {TABLE} "
            f"WHERE {TABLE}.project_id = {project}{fence(postgres)}) AS judged"))
        first = len(counts)
        for k in range(1, n + 1):
            count = int(row[f"m{k}"])
            if int(row[f"u{k}"]):
                count += await _count_doubtful(project_id, expressions[first + k - 1])
            counts.append(count)
    return counts


def judged(expression: Any, binder: Binder) -> str:
    """A SQL column over ``account`` rows (values bound in ``binder``): 1 where ``expression`` matches, 0 where it
    does not, 2 where SQL cannot judge (`confirmed` answers for those)."""
    sql = compile_filter(expression, binder)
    return f"CASE WHEN {sql.uncertain or 'FALSE'} THEN 2 WHEN {sql.where} THEN 1 ELSE 0 END"


def fence(postgres: bool) -> str:
    """What ends a subquery of `judged` columns so that it stays one (each row judged once, however often the
    outer query reads the column)."""
    return _FENCE[postgres]


async def confirmed(expression: Any, ids: Sequence[int]) -> set[int]:
    """Of the accounts ``ids`` (rows SQL could not judge), those ``expression`` matches, evaluated in Python: one
    statement per `BATCH` ids."""
    predicate = compile_expression(expression)
    out: set[int] = set()
    for part in chunks(sorted(set(ids)), BATCH):
        out.update(int(r["id"]) for r in await _rows(list(part), expression) if predicate(r))
    return out


async def matches_among(project_id: int, expressions: Sequence[Any], among: Sequence[int]) -> list[list[int]]:
    """For each expression (valid, canonical), the ids of ``among`` (accounts of the project; others are left out)
    it matches, ascending: one statement for every expression per `outboundql.services.sql.CHUNK` accounts (more
    only past the parameter budget), plus, when SQL cannot judge some rows, one reading them (per `BATCH`) for all
    the expressions, evaluated in Python. The caller has checked access to the project."""
    ids = sorted({int(i) for i in among})
    found: list[list[int]] = [[] for _ in expressions]
    if not ids or not expressions:
        return found
    conn = connections.get("default")
    doubtful: list[list[int]] = [[] for _ in expressions]
    first = 0
    for binder, project, states in _grouped(project_id, expressions, is_postgres(conn)):
        judging = ", ".join(f"{state} AS s{k}" for k, state in enumerate(states))
        for part in chunks(ids):
            for row in await conn.execute_query_dict(*binder.finish(
                    f"SELECT {TABLE}.id AS id, {judging} FROM {TABLE} WHERE {TABLE}.project_id = {project} "
                    f"AND {TABLE}.id IN ({int_list(part)}) ORDER BY {TABLE}.id")):
                for k in range(len(states)):
                    state = int(row[f"s{k}"])
                    if state:
                        (found if state == 1 else doubtful)[first + k].append(int(row["id"]))
        first += len(states)
    if any(doubtful):  # their rows read once for every expression, and each expression judges its own
        needed = set().union(*(columns(e) for e, d in zip(expressions, doubtful, strict=True) if d))
        rows: dict[int, dict[str, Any]] = {}
        for part in chunks(sorted(set().union(*doubtful)), BATCH):
            rows.update((int(r["id"]), r) for r in await _account_rows(list(part), needed))
        for n, expression in enumerate(expressions):
            if doubtful[n]:
                predicate = compile_expression(expression)
                found[n] = sorted({*found[n], *(i for i in doubtful[n] if predicate(rows[i]))})
    return found


class _Placed(Term):
    """A fragment compiled by `filter_sql` inside an ORM query: its values become that query's parameters."""

    def __init__(self, binder: Binder, sql: str) -> None:
        super().__init__()
        self.binder = binder
        self.sql = sql

    def get_sql(self, ctx: SqlContext) -> str:
        parameterizer = ctx.parameterizer
        if parameterizer is None:  # tortoise renders every query with parameters: a value is never spliced
            raise RuntimeError("A compiled filter is placed only in a statement with bound parameters.")
        sql = "(" + self.binder.placed(self.sql, lambda value: parameterizer.create_param(value).get_sql(ctx)) + ")"
        return format_alias_sql(sql, self.alias, ctx) if ctx.with_alias else sql


#: The annotations `MatchingAccounts.queryset` adds to the account rows.
CANDIDATE, UNSURE = "filter_candidate", "filter_unsure"


@dataclass(frozen=True, slots=True)
class MatchingAccounts:
    """The project's accounts a valid, canonical expression matches, as an ORM query a keyset page reads however
    many they are (no id list is ever bound): `queryset` holds the matches and the rows SQL cannot judge
    (annotated `UNSURE`), and `keep`, given each page's rows, drops those of the latter the Python evaluation
    rejects (one statement, only when a page holds any). The caller has checked access to the project."""

    project_id: int
    expression: Any

    def queryset(self) -> QuerySet[models.Account]:
        binder = Binder(is_postgres(connections.get("default")))
        sql = compile_filter(self.expression, binder)
        unsure = sql.uncertain or "FALSE"
        return (models.Account.filter(project_id=self.project_id)
                .annotate(**{UNSURE: _Placed(binder, unsure), CANDIDATE: _Placed(binder, f"{unsure} OR {sql.where}")})
                .filter(**{CANDIDATE: True}))

    async def keep(self, rows: list[models.Account]) -> list[models.Account]:
        doubtful = [row.id for row in rows if getattr(row, UNSURE)]
        if not doubtful:
            return rows
        matched = await confirmed(self.expression, doubtful)
        return [row for row in rows if not getattr(row, UNSURE) or row.id in matched]

    async def count(self) -> int:
        return await count_matching(self.project_id, self.expression)


async def _count_doubtful(project_id: int, expression: Any) -> int:
    """Rows SQL cannot judge that the expression matches, read and evaluated in Python in batches."""
    conn = connections.get("default")
    binder = Binder(is_postgres(conn))
    project, after = binder(project_id), binder(_AFTER)
    unsure = compile_filter(expression, binder).uncertain or "FALSE"
    query = (f"SELECT {TABLE}.id AS id FROM {TABLE} WHERE {TABLE}.project_id = {project} AND {TABLE}.id > {after} "
             f"AND {unsure} ORDER BY {TABLE}.id LIMIT {BATCH}")
    query, params = binder.finish(query)
    keyset = _start(params)
    predicate = compile_expression(expression)
    total = 0
    while True:
        ids = [int(r["id"]) for r in await conn.execute_query_dict(query, params)]
        if not ids:
            return total
        total += sum(1 for r in await _rows(ids, expression) if predicate(r))
        params[keyset] = ids[-1]
        if len(ids) < BATCH:
            return total


async def _rows(ids: list[int], expression: Any) -> list[dict[str, Any]]:
    """The accounts of ``ids`` as the Python evaluation reads them: the columns it needs, as the ORM converts
    them."""
    return await _account_rows(ids, columns(expression))


async def _account_rows(ids: list[int], needed: set[str]) -> list[dict[str, Any]]:
    names = ["id", *sorted(needed - {"id"})]
    return list(await models.Account.filter(id__in=ids).values(*names))


async def account_rows(project_id: int, needed: set[str]) -> list[dict[str, Any]]:
    """Every account of the project (``needed`` columns and id), ordered by id: the whole project in memory.
    Kept for callers not yet moved to `account_ids_matching`, which answers the same ids from SQL."""
    names = ["id", *sorted(needed - {"id"})]
    return list(await models.Account.filter(project_id=project_id).order_by("id").values(*names))


async def project_saved_filters(project_id: int) -> list[models.SavedFilter]:
    """The saved filters of a project, by name."""
    return list(await models.SavedFilter.filter(project_id=project_id).order_by("name", "id"))


# --- create, update, delete ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CreateSavedFilter:
    project_id: int
    name: str
    expression: Any
    """A filter expression (see `outboundql.services.filter_expressions`), validated by the service."""
    idempotency_key: str | None = None
    """A retry with the same key answers the first saved filter (see `outboundql.services.idempotency`)."""


@dataclass(frozen=True, slots=True)
class UpdateSavedFilter:
    """Only the fields given change."""

    id: int
    name: Maybe[str | None] = UNSET
    expression: Maybe[Any] = UNSET


@dataclass(frozen=True, slots=True)
class DeleteSavedFilter:
    id: int


@dataclass(frozen=True, slots=True)
class SavedFilterChanged:
    saved_filter: models.SavedFilter
    replayed: bool = False
    """A create's answer to an earlier request with the same idempotency key (nothing was written)."""


@dataclass(frozen=True, slots=True)
class SavedFilterDeleted:
    saved_filter_id: int


_name = fields.text(200, required=True, label="Name")


def _clean(data: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    check = Collector()
    out: dict[str, Any] = {}
    if creating or "name" in data:
        try:
            out["name"] = _name(data.get("name"))
        except ValueError as exc:
            check.add("name", str(exc))
    if creating or "expression" in data:
        if data.get("expression") is None:
            check.add("expression", 'Give an expression, e.g. {"all": [{"field": "country", "op": "eq", '
                                          '"value": "FR"}]}.')
        else:
            out["expression"] = validate_expression(data["expression"], check)
    check.raise_if_any()
    return out


async def _check_name_free(project_id: int, name: str, exclude_id: int | None = None) -> None:
    qs = models.SavedFilter.filter(project_id=project_id, name__iexact=name)
    if exclude_id is not None:
        qs = qs.exclude(id=exclude_id)
    if await qs.exists():
        raise Conflict(f"A saved filter named {name!r} already exists in this project; choose another name.",
                       field="name")


async def create_saved_filter(access: Access, cmd: CreateSavedFilter) -> SavedFilterChanged:
    access.require(cmd.project_id, Role.MEMBER, field="project_id")
    once = idempotency.Once.of(cmd, "saved_filter.create", project_id=cmd.project_id)
    cleaned = _clean(given(cmd, exclude=("project_id", "idempotency_key")), creating=True)

    async def write() -> tuple[SavedFilterChanged, idempotency.Answer]:
        await _check_name_free(cmd.project_id, cleaned["name"])
        row = await models.SavedFilter.create(project_id=cmd.project_id, created_by=access.user, **cleaned)
        await audit.record(project_id=cmd.project_id, actor=access.user, action="saved_filter.create", row=row,
                           after=audit.snapshot(row))
        return SavedFilterChanged(row), {"saved_filter_id": row.id}

    async def replay(answer: idempotency.Answer) -> SavedFilterChanged | None:
        row = await models.SavedFilter.get_or_none(id=answer["saved_filter_id"], project_id=cmd.project_id)
        return None if row is None else SavedFilterChanged(row, replayed=True)

    return await idempotency.create_once(once, write, replay)


async def update_saved_filter(access: Access, cmd: UpdateSavedFilter) -> SavedFilterChanged:
    """Rename and/or replace the expression."""
    row = await access.get(models.SavedFilter, cmd.id, Role.MEMBER, field="id")
    cleaned = _clean(given(cmd, exclude=("id",)), creating=False)
    async with in_transaction():
        if "name" in cleaned:
            await _check_name_free(row.project_id, cleaned["name"], exclude_id=row.id)
        async with audit.tracked(row, project_id=row.project_id, actor=access.user, action="saved_filter.update"):
            for key, value in cleaned.items():
                setattr(row, key, value)
            await row.save()
    return SavedFilterChanged(saved_filter=row)


async def delete_saved_filter(access: Access, cmd: DeleteSavedFilter) -> SavedFilterDeleted:
    """Delete a filter no campaign uses as its audience (accounts are never touched)."""
    row = await access.get(models.SavedFilter, cmd.id, Role.MEMBER, field="id")
    users = [
        name for name, config in await models.Campaign.filter(project_id=row.project_id).order_by("id")
        .values_list("name", "audience_config")
        if isinstance(config, dict) and config.get("kind") == "saved_filter" and config.get("filter_id") == row.id
    ]
    if users:
        raise Conflict(
            f"This saved filter is the audience of {', '.join(repr(n) for n in users)}; give "
            f"{'that campaign' if len(users) == 1 else 'those campaigns'} another audience first.",
            field="id",
        )
    async with in_transaction():
        await audit.record(project_id=row.project_id, actor=access.user, action="saved_filter.delete", row=row,
                           before=audit.snapshot(row))
        await row.delete()
    return SavedFilterDeleted(saved_filter_id=cmd.id)
