"""Saved filters: named filter expressions over a project's accounts (the language itself lives in
`outboundql.services.filter_expressions`). Matching reads the project's accounts in one query and
evaluates in Python, so semantics are the same on every database."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tortoise.transactions import in_transaction

from outboundql import models
from outboundql.enums import Role
from outboundql.errors import Collector, Conflict, NotFound
from outboundql.services import audit, fields, idempotency
from outboundql.services.access import Access
from outboundql.services.commands import UNSET, Maybe, given
from outboundql.services.filter_expressions import Row, columns, match, validate_expression


async def account_rows(project_id: int, needed: set[str]) -> list[Row]:
    """The project's accounts, only the ``needed`` columns (and id), ordered by id: one query."""
    names = ["id", *sorted(needed - {"id"})]
    return list(await models.Account.filter(project_id=project_id).order_by("id").values(*names))


async def matching_account_ids(
    access: Access, project_id: int, saved_filter_id: int | None, field: str = "saved_filter_id"
) -> list[int]:
    """Ids of the project's accounts the saved filter matches, ordered by id. A filter of another
    project (or none) is NOT_FOUND on ``field``."""
    access.require(project_id, what="Saved filter", field=field)
    row = None if saved_filter_id is None else await models.SavedFilter.filter(
        id=saved_filter_id, project_id=project_id).first()
    if row is None:
        raise NotFound("Saved filter", field=field)
    return match(row.expression, await account_rows(project_id, columns(row.expression)))


async def match_counts(filters: list[models.SavedFilter]) -> dict[int, int]:
    """Number of accounts each filter matches: one account query per project involved."""
    by_project: dict[int, list[models.SavedFilter]] = {}
    for f in filters:
        by_project.setdefault(f.project_id, []).append(f)
    counts: dict[int, int] = {}
    for project_id, group in by_project.items():
        rows = await account_rows(project_id, set().union(*(columns(f.expression) for f in group)))
        for f in group:
            counts[f.id] = len(match(f.expression, rows))
    return counts


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
