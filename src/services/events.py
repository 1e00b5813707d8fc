"""Live events for subscriptions: in-process fan-out, or Redis pub/sub when Redis is configured
(so a subscriber on one API process sees events published by a worker on another machine)."""

from __future__ import annotations

import asyncio
import json
import logging
import weakref
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any, Protocol

from outboundql.services import runtime, webhook_deliveries

QUEUE_SIZE = 1000

log = logging.getLogger(__name__)


class EventBus(Protocol):
    async def publish(self, channel: str, payload: dict[str, Any]) -> None: ...

    def subscribe(self, channel: str) -> AsyncIterator[dict[str, Any]]: ...


class InProcessBus:
    """Fan-out to asyncio queues of this process. A slow subscriber loses its oldest events."""

    def __init__(self) -> None:
        self._queues: dict[str, set[asyncio.Queue[dict[str, Any]]]] = defaultdict(set)

    async def publish(self, channel: str, payload: dict[str, Any]) -> None:
        for queue in list(self._queues.get(channel, ())):
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(payload)

    async def subscribe(self, channel: str) -> AsyncIterator[dict[str, Any]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(QUEUE_SIZE)
        self._queues[channel].add(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self._queues[channel].discard(queue)


PUBLISH_TIMEOUT_SECONDS = 2.0
"""How long a publish may wait on Redis: a hung Redis delays an answer this much at most (and the event,
not the answer, is lost)."""


class RedisBus:
    """Redis pub/sub: every API process and worker shares the channels. Publishing has its own client with
    short timeouts; subscriptions wait on theirs for as long as no event comes."""

    def __init__(self, url: str) -> None:
        import redis.asyncio as aioredis

        self._redis = aioredis.from_url(url)
        self._publisher = aioredis.from_url(url, socket_timeout=PUBLISH_TIMEOUT_SECONDS,
                                            socket_connect_timeout=PUBLISH_TIMEOUT_SECONDS)

    async def publish(self, channel: str, payload: dict[str, Any]) -> None:
        await self._publisher.publish(channel, json.dumps(payload))

    async def subscribe(self, channel: str) -> AsyncIterator[dict[str, Any]]:
        pubsub = self._redis.pubsub()
        await pubsub.subscribe(channel)
        try:
            async for message in pubsub.listen():
                if message["type"] == "message":
                    yield json.loads(message["data"])
        finally:
            await pubsub.unsubscribe(channel)
            await pubsub.aclose()


# One bus per event loop (connections and queues belong to the loop that made them) and Redis URL.
_buses: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str | None, EventBus]] = weakref.WeakKeyDictionary()


def get_bus() -> EventBus:
    """The bus of the runtime's settings: Redis pub/sub when ``redis_url`` is set, else in-process."""
    url = runtime.settings().redis_url
    buses = _buses.setdefault(asyncio.get_running_loop(), {})
    bus = buses.get(url)
    if bus is None:
        bus = buses[url] = RedisBus(url) if url else InProcessBus()
    return bus


def account_channel(project_id: int) -> str:
    return f"outboundql:project:{project_id}:accounts"


async def _publish(channel: str, payload: dict[str, Any]) -> None:
    """Publish after the change committed. A bus that fails (Redis down) costs the live update, logged,
    never the answer: the write happened, and a client told otherwise would retry and repeat it."""
    try:
        await get_bus().publish(channel, payload)
    except Exception:
        log.warning("Live event %s on %s was not published; the change itself is saved.", payload.get("kind"),
                    channel, exc_info=True)


async def publish_account_change(project_id: int, account_id: int, kind: str) -> None:
    await _publish(account_channel(project_id), {"account_id": account_id, "kind": kind})


def campaign_channel(campaign_id: int) -> str:
    return f"outboundql:campaign:{campaign_id}"


async def publish_campaign_event(campaign_id: int, kind: str, data: dict[str, Any] | None = None) -> None:
    """Something a campaign page shows changed (after the change committed): ``kind`` says what
    (`scoring_progress`, `accounts_changed`, `campaign_updated`), ``data`` carries the details."""
    await _publish(campaign_channel(campaign_id), {"kind": kind, "campaign_id": campaign_id, **(data or {})})
    await webhook_deliveries.record_campaign_event(campaign_id, kind, data or {})  # the same event, for webhooks


def import_job_channel(import_job_id: int) -> str:
    return f"outboundql:import_job:{import_job_id}"


async def publish_import_progress(import_job_id: int, status: str, done: int, total: int) -> None:
    """An import job moved (after the change committed): started, a batch of rows landed, or it ended."""
    await _publish(import_job_channel(import_job_id),
                   {"kind": "import_progress", "import_job_id": import_job_id, "status": status, "done": done,
                    "total": total})
    await webhook_deliveries.record_import_finished(import_job_id, status, done, total)
