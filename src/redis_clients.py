"""Redis clients of the API's request-time features (rate limits, persisted queries): one per event loop, since
asyncio connections belong to the loop that opened them, with short timeouts so a hung Redis cannot hold a
request for long."""

from __future__ import annotations

import asyncio
import weakref
from typing import Any

TIMEOUT_SECONDS = 2.0


class LoopClients:
    """``get()`` is the running loop's client of ``url``; ``aclose()`` closes it (app shutdown, tests)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any] = weakref.WeakKeyDictionary()

    def get(self) -> Any:
        import redis.asyncio as aioredis

        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            client = self._clients[loop] = aioredis.from_url(
                self.url, socket_timeout=TIMEOUT_SECONDS, socket_connect_timeout=TIMEOUT_SECONDS)
        return client

    async def aclose(self) -> None:
        client = self._clients.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.aclose()
