"""Markets: territories inside a project that group campaigns."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from outboundql import models
from outboundql.gql.base import RowType, scoped_nodes
from outboundql.gql.context import Info


@strawberry.type(description="A territory inside a project (e.g. \"M&A — New York\"); campaigns may belong to one.")
class Market(RowType, relay.Node):
    id: relay.NodeID[int]
    name: str
    slug: str
    description: str
    filters: JSON
    created_at: datetime
    row: strawberry.Private[models.Market]

    @classmethod
    async def resolve_nodes(cls, *, info: Info, node_ids: list[str], required: bool = False) -> list[Market | None]:
        return await scoped_nodes(cls, info, node_ids, models.Market)
