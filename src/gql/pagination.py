"""Relay connections over tortoise querysets, with ``totalCount`` and a page size capped by the
app's settings (``max_page_size``). A queryset ordered by its own columns and ending with the id is
paged by key (`outboundql.gql.keyset`): its cursors hold the sort key, so a page costs one indexed
query wherever it is in the list; anything else (a list in memory) is sliced by position."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any, Generic, Self, cast

import strawberry
from strawberry import relay
from strawberry.extensions import FieldExtension
from strawberry.relay.types import PREFIX, NodeType
from strawberry.relay.utils import from_base64
from tortoise.exceptions import OperationalError

from outboundql.gql import keyset
from outboundql.gql.errors import ClientError


def max_page_size(info: Any) -> int:
    """The largest page of the app serving this request."""
    return int(info.context.settings.max_page_size)


@strawberry.type(description="A page of a list, with Relay cursors.")
class CountedConnection(relay.ListConnection[NodeType], Generic[NodeType]):
    queryset: strawberry.Private[Any] = None
    known_total: strawberry.Private[int | None] = None
    count_with: strawberry.Private[Callable[[], Awaitable[int]] | None] = None

    @strawberry.field(description="Number of items in the whole list, ignoring pagination.")
    async def total_count(self) -> int:
        if self.known_total is not None:
            return self.known_total
        if self.count_with is not None:
            return await self.count_with()
        if isinstance(self.queryset, list):
            return len(self.queryset)
        return int(await self.queryset.count())

    @classmethod
    async def page(cls, nodes: Any, info: Any, *, first: int | None = None, after: str | None = None,
                   last: int | None = None, before: str | None = None, total: int | None = None,
                   keep: keyset.Keep | None = None, count: Callable[[], Awaitable[int]] | None = None) -> Self:
        """One page of ``nodes`` (a queryset, or a list) as this connection. ``total``: the list's length when a
        kept counter knows it (then ``totalCount`` costs no query); ``count``: how to count the list when
        ``totalCount`` is asked, where counting ``nodes`` would not (with ``keep``: the rows of a queryset paged
        by key that belong to the list, see `outboundql.gql.keyset.page`)."""
        result = cls.resolve_connection(nodes, info=info, first=first, after=after, last=last, before=before,
                                        keep=keep)
        connection: Self = await result if inspect.isawaitable(result) else result
        connection.known_total = total
        connection.count_with = count
        return connection

    @classmethod
    def resolve_connection(cls, nodes: Any, *, info: Any, **kwargs: Any) -> Any:
        limit = max_page_size(info)
        keys = keyset.keys_of(nodes)
        keep = kwargs.pop("keep", None)
        if keep is not None and keys is None:
            raise TypeError("keep thins the pages of a queryset paged by key only")
        check_slice(info, kwargs, limit, by_position=keys is None)
        if kwargs.get("first") is None and kwargs.get("last") is None:
            kwargs["first"] = limit
        if keys is not None:
            return cls._keyset_page(nodes, keys, info, kwargs, keep)
        kwargs["max_results"] = limit
        try:
            result = super().resolve_connection(nodes, info=info, **kwargs)
        except (ValueError, TypeError):
            # Whatever else strawberry's slicing refuses: still the client's arguments, said in our words.
            raise ClientError("Invalid pagination arguments: use cursors from this list's pageInfo or edges "
                              "and a non-negative first or last.", "BAD_PAGINATION") from None
        if inspect.isawaitable(result):

            async def attach() -> Self:
                connection = cast(Self, await result)
                connection.queryset = nodes
                return connection

            return attach()
        result.queryset = nodes
        return result

    @classmethod
    async def load_ahead(cls, rows: list[Any], info: Any) -> None:
        """Before a page's nodes are built: load (into the request's loaders) what the request reads of every row,
        in one query each, so the rows' resolvers answer synchronously. Nothing by default."""

    @classmethod
    async def _keyset_page(cls, nodes: Any, keys: list[keyset.Key], info: Any, kwargs: dict[str, Any],
                           keep: keyset.Keep | None = None) -> Self:
        cursors: dict[str, keyset.Cursor | None] = {}
        for name in ("after", "before"):
            value = kwargs.get(name)
            try:
                cursors[name] = keyset.decode(keys, value) if value else None
            except ValueError:
                raise ClientError(_not_a_cursor(info, name, str(value)), "BAD_PAGINATION") from None
        try:
            rows, has_previous, has_next = await keyset.page(
                nodes, keys, first=kwargs.get("first"), last=kwargs.get("last"), after=cursors["after"],
                before=cursors["before"], keep=keep)
        except OperationalError:
            # A computed sort key's value the database cannot compare (a forged cursor); a column's is typed.
            if not any(cursors.values()):
                raise
            raise ClientError(_not_a_cursor(info, "after" if cursors["after"] else "before", ""),
                              "BAD_PAGINATION") from None
        await cls.load_ahead(rows, info)
        edges = []
        for row in rows:
            node = cls.resolve_node(row, info=info)
            edges.append(relay.Edge(cursor=keyset.encode(keys, row), node=await node if inspect.isawaitable(node)
                                    else node))
        connection = cls(edges=edges, page_info=relay.PageInfo(
            has_next_page=has_next, has_previous_page=has_previous,
            start_cursor=edges[0].cursor if edges else None, end_cursor=edges[-1].cursor if edges else None))
        connection.queryset = nodes
        return connection


def _not_a_cursor(info: Any, name: str, value: str) -> str:
    connection = info.field_name
    if _is_cursor(value):
        return (f"Argument '{name}' is a cursor of an earlier version of the `{connection}` connection (by position); "
                "its pages are now cut by sort key: start again from the first page and use the new cursors.")
    return (f"Argument '{name}' is not a cursor of the `{connection}` connection: use a cursor from its pageInfo or "
            "edges.")


def check_slice(info: Any, kwargs: dict[str, Any], limit: int, *, by_position: bool = True) -> None:
    """Refuse pagination arguments that select no page, each with its own sentence: ``first`` and
    ``last`` together (as GitHub does: one direction per request), a negative or too large size, a
    cursor that is not one of this connection's (garbage, another list's, an id; a list paged by key
    checks its own cursors)."""
    connection = info.field_name
    if kwargs.get("first") is not None and kwargs.get("last") is not None:
        raise ClientError(f"Passing both `first` and `last` to paginate the `{connection}` connection is not "
                          "supported: page forwards with first/after or backwards with last/before.",
                          "BAD_PAGINATION")
    for name in ("first", "last"):
        value = kwargs.get(name)
        if isinstance(value, int) and value > limit:
            raise ClientError(f"Argument '{name}' is {value}; pages hold at most {limit} items.", "PAGE_TOO_LARGE")
        if isinstance(value, int) and value < 0:
            raise ClientError(f"Argument '{name}' is {value}; give zero or more.", "BAD_PAGINATION")
    for name in ("after", "before"):
        value = kwargs.get(name)
        if by_position and value and not _is_cursor(value):  # an empty cursor is none, as strawberry reads it
            raise ClientError(f"Argument '{name}' is not a cursor of the `{connection}` connection: use a cursor "
                              "from its pageInfo or edges.", "BAD_PAGINATION")


def _is_cursor(value: str) -> bool:
    """A cursor of strawberry's list connections: base64 of ``arrayconnection:<offset>``."""
    try:
        prefix, offset = from_base64(value)
    except ValueError:
        return False
    # A position past any list is still a cursor (an empty page), up to what SQL's OFFSET takes.
    return prefix == PREFIX and offset.isascii() and offset.isdigit() and int(offset) < 2**62


class CapIds(FieldExtension):
    """Refuse an ``ids`` argument longer than a page (``nodes(ids:)``): one request, one bounded query."""

    def _check(self, info: Any, kwargs: dict[str, Any]) -> None:
        limit = max_page_size(info)
        if len(kwargs.get("ids") or ()) > limit:
            raise ClientError(f"Ask for at most {limit} ids at once (got {len(kwargs['ids'])}).", "TOO_MANY_IDS")

    def resolve(self, next_: Any, source: Any, info: Any, **kwargs: Any) -> Any:
        self._check(info, kwargs)
        return next_(source, info, **kwargs)

    async def resolve_async(self, next_: Any, source: Any, info: Any, **kwargs: Any) -> Any:
        self._check(info, kwargs)
        result = next_(source, info, **kwargs)
        return await result if inspect.isawaitable(result) else result
