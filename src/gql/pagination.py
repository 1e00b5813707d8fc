"""Relay connections over tortoise querysets, with ``totalCount`` and a page size capped by the
app's settings (``max_page_size``)."""

from __future__ import annotations

import inspect
from typing import Any, Generic, Self, cast

import strawberry
from strawberry import relay
from strawberry.extensions import FieldExtension
from strawberry.relay.types import NodeType

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
        for name in ("first", "last"):
            value = kwargs.get(name)
            if isinstance(value, int) and value > limit:
                raise ClientError(f"Argument '{name}' is {value}; pages hold at most {limit} items.",
                                  "PAGE_TOO_LARGE")
        if kwargs.get("first") is None and kwargs.get("last") is None:
            kwargs["first"] = limit
        kwargs["max_results"] = limit
        try:
            result = super().resolve_connection(nodes, info=info, **kwargs)
        except (ValueError, TypeError) as exc:
            # strawberry's slice arguments: a malformed or foreign cursor, a negative first/last.
            # The client's mistake, so say it instead of masking it as an unexpected error.
            raise ClientError(f"Invalid pagination arguments ({exc}). Use cursors from this list's pageInfo/edges "
                              "and non-negative first/last.", "BAD_PAGINATION") from None
        if inspect.isawaitable(result):

            async def attach() -> Self:
                connection = cast(Self, await result)
                connection.queryset = nodes
                return connection

            return attach()
        result.queryset = nodes
        return result


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
