"""Relay connections over tortoise querysets, with ``totalCount`` and a page size capped by the
app's settings (``max_page_size``)."""

from __future__ import annotations

import inspect
from typing import Any, Generic, Self, cast

import strawberry
from strawberry import relay
from strawberry.extensions import FieldExtension
from strawberry.relay.types import PREFIX, NodeType
from strawberry.relay.utils import from_base64

from outboundql.gql.errors import ClientError


def max_page_size(info: Any) -> int:
    """The largest page of the app serving this request."""
    return int(info.context.settings.max_page_size)


@strawberry.type(description="A page of a list, with Relay cursors.")
class CountedConnection(relay.ListConnection[NodeType], Generic[NodeType]):
    queryset: strawberry.Private[Any] = None

    @strawberry.field(description="Number of items in the whole list, ignoring pagination.")
    async def total_count(self) -> int:
        if isinstance(self.queryset, list):
            return len(self.queryset)
        return int(await self.queryset.count())

    @classmethod
    async def page(cls, nodes: Any, info: Any, *, first: int | None = None, after: str | None = None,
                   last: int | None = None, before: str | None = None) -> Self:
        """One page of ``nodes`` (a queryset, or a list) as this connection."""
        result = cls.resolve_connection(nodes, info=info, first=first, after=after, last=last, before=before)
        connection: Self = await result if inspect.isawaitable(result) else result
        return connection

    @classmethod
    def resolve_connection(cls, nodes: Any, *, info: Any, **kwargs: Any) -> Any:
        limit = max_page_size(info)
        check_slice(info, kwargs, limit)
        if kwargs.get("first") is None and kwargs.get("last") is None:
            kwargs["first"] = limit
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


def check_slice(info: Any, kwargs: dict[str, Any], limit: int) -> None:
    """Refuse pagination arguments that select no page, each with its own sentence: ``first`` and
    ``last`` together (as GitHub does: one direction per request), a negative or too large size, a
    cursor that is not one of this connection's (garbage, another list's, an id)."""
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
        if value and not _is_cursor(value):  # an empty cursor is none, as strawberry reads it
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
