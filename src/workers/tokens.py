"""Actors about API tokens."""

from __future__ import annotations

from datetime import datetime

import dramatiq
from tortoise.expressions import Q

from outboundql import models
from outboundql.workers.broker import current_broker


@dramatiq.actor(broker=current_broker(), actor_name="touch_api_token", queue_name="default", max_retries=3)
async def touch_api_token(token_id: int, used_at: str) -> None:
    """Record that a token was used. Idempotent: only ever moves ``last_used_at`` forward."""
    when = datetime.fromisoformat(used_at)
    await models.ApiToken.filter(Q(last_used_at__isnull=True) | Q(last_used_at__lt=when), id=token_id).update(
        last_used_at=when
    )
