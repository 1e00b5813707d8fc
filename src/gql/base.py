"""Helpers shared by the GraphQL types: row wrapping, global ids, inputs as plain data, node lookup."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterable
from typing import Any, Self

import strawberry
from strawberry import relay
from tortoise.models import Model

from outboundql.errors import NotFound
from outboundql.gql.errors import ErrorsAsData
from outboundql.gql.permissions import IsAuthenticated
from outboundql.services.access import parse_id


class RowType:
    """Mixin for GraphQL types that wrap an ORM row (kept in the private ``row`` field)."""

    @classmethod
    def from_model(cls, row: Any) -> Self:
        kwargs = {
            f.name: getattr(row, f.name)
            for f in dataclasses.fields(cls)  # type: ignore[arg-type]
            if f.init and f.name != "row" and hasattr(row, f.name)
        }
        return cls(row=row, **kwargs)


def pk_of(gid: relay.GlobalID, type_name: str, field: str, what: str | None = None) -> int:
    """The database id inside a global id of ``type_name``; any other id is NOT_FOUND (worded like the
    service's own NOT_FOUND for a missing row: ``what``, by default the type name)."""
    pk = parse_id(gid.node_id) if gid.type_name == type_name else None
    if pk is None:
        raise NotFound(what or type_name, field=field)
    return pk


def input_data(obj: Any, exclude: Iterable[str] = ()) -> dict[str, Any]:
    """The fields of a strawberry input that were given (UNSET dropped), as plain Python data."""
    skip = set(exclude)
    return {
        f.name: _plain(getattr(obj, f.name))
        for f in dataclasses.fields(obj)
        if f.name not in skip and getattr(obj, f.name) is not strawberry.UNSET
    }


def _plain(value: Any) -> Any:
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return input_data(value)
    if isinstance(value, enum.Enum) and not isinstance(value, str):
        return value.value
    return value


async def scoped_nodes(
    cls: Any, info: Any, node_ids: Iterable[str], model: type[Model], project_field: str = "project_id"
) -> list[Any]:
    """Resolve Relay ids of ``model`` rows visible to the viewer; anything else resolves to None."""
    access = info.context.access
    ids = [parse_id(raw) or -1 for raw in node_ids]
    rows = {row.pk: row for row in await access.scope(model.filter(id__in=ids), project_field)}
    return [cls.from_model(rows[i]) if i in rows else None for i in ids]


def mutation(description: str) -> Any:
    """A mutation field for signed-in users whose domain errors come back in the payload's ``errors``."""
    return strawberry.mutation(permission_classes=[IsAuthenticated], extensions=[ErrorsAsData()],
                               description=description)
