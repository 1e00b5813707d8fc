"""``node`` and ``nodes``: any object by its global id.

An id that names none of the viewer's objects reads as null, whatever the reason: a missing row,
another tenant's row, an unknown type name, a type that is not a node, or a string that is no
global id at all. That is what GitHub's API does (an id it cannot resolve is answered like a missing
object, "Could not resolve to a node with the global id of …"): ids are opaque, so a client cannot
tell a malformed id from a deleted object, and needs no other answer for it.
"""

from __future__ import annotations

import inspect
from collections import defaultdict
from typing import Annotated, Any

import strawberry
from strawberry import relay
from strawberry.relay.types import GlobalIDValueError
from strawberry.types.cast import cast as strawberry_cast

from outboundql.gql.context import Info
from outboundql.gql.pagination import CapIds
from outboundql.gql.permissions import IsAuthenticated


def _node_type(info: Info, raw: str) -> tuple[type[relay.Node], str] | None:
    """The node type and node id a global id names, or None when it names none."""
    try:
        gid = relay.GlobalID.from_id(raw)
        return gid.resolve_type(info), gid.node_id
    except GlobalIDValueError:
        return None


async def resolve_ids(info: Info, ids: list[str]) -> list[Any]:
    """The objects ``ids`` name, in their order, one query per node type; None where an id names none."""
    wanted: defaultdict[type[relay.Node], list[str]] = defaultdict(list)
    places: list[tuple[type[relay.Node], int] | None] = []
    for raw in ids:
        found = _node_type(info, raw)
        if found is None:
            places.append(None)
            continue
        node_type, node_id = found
        places.append((node_type, len(wanted[node_type])))
        wanted[node_type].append(node_id)
    resolved: dict[type[relay.Node], list[Any]] = {}
    for node_type, node_ids in wanted.items():
        rows = node_type.resolve_nodes(info=info, node_ids=node_ids, required=False)
        rows = await rows if inspect.isawaitable(rows) else rows
        resolved[node_type] = [None if row is None else strawberry_cast(node_type, row) for row in rows]
    return [None if place is None else resolved[place[0]][place[1]] for place in places]


@strawberry.type
class NodeQueries:
    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="Any object by its global id; null when it does not exist or is not yours to see.",
    )
    async def node(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The ID of the object.")]
    ) -> relay.Node | None:
        [found] = await resolve_ids(info, [id])
        return found  # type: ignore[no-any-return]

    @strawberry.field(
        permission_classes=[IsAuthenticated], extensions=[CapIds()],
        description="Several objects by global id, in the same order; at most a page (100) of ids.",
    )
    async def nodes(
        self, info: Info,
        ids: Annotated[list[strawberry.ID], strawberry.argument(description="The IDs of the objects.")],
    ) -> list[relay.Node | None]:
        return await resolve_ids(info, list(ids))
