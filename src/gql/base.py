"""Helpers shared by the GraphQL types: row wrapping, global ids, input fields as command fields, lazy
types, node lookup."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterable, Iterator
from typing import Any, ClassVar, Self, cast, get_args

import strawberry
from strawberry import relay
from strawberry.extensions import FieldExtension
from strawberry.types.nodes import SelectedField
from tortoise.models import Model

from outboundql.errors import NotFound
from outboundql.gql.errors import ErrorsAsData
from outboundql.gql.permissions import IsAuthenticated
from outboundql.models.audit import AuditSource
from outboundql.services import audit
from outboundql.services.access import parse_id
from outboundql.services.commands import UNSET


class RowType:
    """Mixin for GraphQL types that wrap an ORM row (kept in the private ``row`` field)."""

    @classmethod
    def from_model(cls, row: Any) -> Self:
        kwargs = {name: getattr(row, name) for name in _copied(cast(Any, cls)) if hasattr(row, name)}
        return cast(Self, cast(Any, cls)(row=row, **kwargs))  # the subclass declares `row`


@functools.cache
def _copied(cls: Any) -> tuple[str, ...]:
    """The fields of GraphQL type ``cls`` that `RowType.from_model` copies from a row: those it takes at
    construction, ``row`` aside (worked out once per type, not per row)."""
    return tuple(f.name for f in dataclasses.fields(cls) if f.init and f.name != "row")


def _fields(selections: Iterable[Any]) -> Iterator[SelectedField]:
    for selection in selections:
        if isinstance(selection, SelectedField):
            yield selection
        else:  # a fragment spread or an inline fragment
            yield from _fields(selection.selections)


def asks(info: Any, *path: str) -> bool:
    """Whether the request selects ``path`` (GraphQL field names; fragments looked through, directives not) below
    the field being resolved: lets a resolver load ahead only what the request reads."""
    level = list(_fields(info.selected_fields))
    for name in path:
        level = [f for parent in level for f in _fields(parent.selections) if f.name == name]
        if not level:
            return False
    return True


def pk_or_none(gid: relay.GlobalID | None, type_name: str) -> int | None:
    """The database id inside a global id of ``type_name``; None for no id, an id of another type or
    one no row can have. A service given None for a required reference answers NOT_FOUND on it, so a
    malformed id and a missing row read the same."""
    if gid is None or gid.type_name != type_name:
        return None
    return parse_id(gid.node_id)


def pk_of(gid: relay.GlobalID, type_name: str, field: str, what: str | None = None) -> int:
    """`pk_or_none`, for an id the mutation cannot do without: no such row is NOT_FOUND on the
    snake-case input ``field`` (worded like the service's own NOT_FOUND: ``what``, by default the
    type name)."""
    pk = pk_or_none(gid, type_name)
    if pk is None:
        raise NotFound(what or type_name, field=field)
    return pk


def maybe(value: Any, convert: Callable[[Any], Any] | None = None) -> Any:
    """An input field as a command field: left out of the request (strawberry's UNSET) is the command's
    `UNSET`, null stays null, any other value goes through ``convert`` when given."""
    if value is strawberry.UNSET:
        return UNSET
    return value if value is None or convert is None else convert(value)


def lazy_class(ref: Any) -> Any:
    """The GraphQL type a lazy annotation (``Annotated["X", strawberry.lazy("outboundql.gql.module")]``)
    names, imported when a resolver first needs it, as strawberry itself does when it builds the schema:
    for a type whose module imports this one (a module-level import would be a cycle)."""
    name, lazy = get_args(ref)
    return _resolve_lazy(name, lazy)


@functools.cache
def _resolve_lazy(name: str, lazy: Any) -> Any:
    return lazy.resolve_forward_ref(name).resolve_type()


class ProjectNode(RowType, relay.Node):
    """A Relay node whose rows belong to one project: `node`/`nodes` resolve only the rows of projects
    the viewer is a member of, and anything else (another project's, missing, malformed) to null.

    Subclasses name their table in ``node_model`` (and, when the project is reached through a
    relation, ``node_project_field``), as plain class attributes."""

    node_model: ClassVar[type[Model]]
    node_project_field: ClassVar[str] = "project_id"

    @classmethod
    async def resolve_nodes(cls, *, info: Any, node_ids: Iterable[str], required: bool = False) -> list[Any]:
        pks = [parse_id(raw) for raw in node_ids]
        wanted = [pk for pk in pks if pk is not None]
        query = info.context.access.scope(cls.node_model.filter(id__in=wanted), cls.node_project_field)
        rows = {row.pk: row for row in await query} if wanted else {}
        return [cls.from_model(rows[pk]) if pk in rows else None for pk in pks]


class ChangeScope(FieldExtension):
    """Around a mutation: the viewer's archived projects read afresh (they refuse changes), and what it writes
    audited as coming through the request's API token."""

    async def resolve_async(self, next_: Any, source: Any, info: Any, **kwargs: Any) -> Any:
        access = info.context.access_or_none
        if access is None:
            return await next_(source, info, **kwargs)
        await access.load_archived()
        with audit.origin(AuditSource.API, access.token_id):
            return await next_(source, info, **kwargs)


def mutation(description: str, *, deprecation_reason: str | None = None) -> Any:
    """A mutation field for signed-in users whose domain errors come back in the payload's ``errors``."""
    return strawberry.mutation(permission_classes=[IsAuthenticated], extensions=[ErrorsAsData(), ChangeScope()],
                               description=description, deprecation_reason=deprecation_reason)
