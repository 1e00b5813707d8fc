"""Rate limits of the GraphQL endpoint: points per client per fixed window.

A client is its API token (the stored hash of the token of an authenticated request), or its IP address when
the request carries no valid token. Each operation spends points by its query cost (`outboundql.gql.query_cost`:
one point per started hundred objects it may return, at least one), counted in fixed windows of
``rate_limit_window_seconds`` aligned on the epoch (window ``n`` covers ``[n·w, (n+1)·w)``), read from the app's
clock. An operation that would go over the window's points is refused and spends nothing.

With Redis configured the counts live there, so every API process shares them: one Lua script checks and spends
atomically, under a key that expires with its window. Without Redis they live in this process. A Redis that does
not answer lets requests through (logged): the limit protects the service, it must not take it down.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import datetime

from outboundql.redis_clients import LoopClients

log = logging.getLogger(__name__)

KEY_PREFIX = "outboundql:rate:"

# KEYS[1]: the client's key of this window; ARGV: points to spend, the window's limit, seconds the key lives.
# Returns {1 if spent else 0, points used in the window after this call}.
_SPEND = """
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
local points = tonumber(ARGV[1])
if used + points > tonumber(ARGV[2]) then
  return {0, used}
end
used = redis.call('INCRBY', KEYS[1], points)
if used == points then
  redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
end
return {1, used}
"""


@dataclass(frozen=True, slots=True)
class Verdict:
    """What one operation did to its client's window."""

    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int
    """Whole seconds until the window ends (at least 1)."""
    reset_at: datetime
    points: int
    """Points this operation costs (spent when allowed)."""

    def headers(self) -> dict[str, str]:
        """The standard rate-limit headers; ``Retry-After`` too when refused."""
        headers = {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset_seconds),
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.reset_seconds)
        return headers


def points_for(cost: int) -> int:
    """Points an operation of query cost ``cost`` spends: one per started hundred objects, at least one."""
    return max(1, math.ceil(cost / 100))


class RateLimiter:
    """Points per client per fixed window; ``limit`` 0 switches the limiter off (`spend` answers None)."""

    def __init__(self, limit: int, window_seconds: int, redis_url: str | None = None) -> None:
        self.limit = limit
        self.window_seconds = window_seconds
        self.redis_url = redis_url
        self._local: dict[str, tuple[int, int]] = {}  # client → (window number, points used)
        self._redis = LoopClients(redis_url) if redis_url else None

    @property
    def enabled(self) -> bool:
        return self.limit > 0

    async def spend(self, client: str, points: int, now: datetime) -> Verdict | None:
        """Spend ``points`` of ``client``'s window at ``now`` unless that goes over the limit; None when off."""
        if not self.enabled:
            return None
        seconds = now.timestamp()
        window = int(seconds // self.window_seconds)
        ends = (window + 1) * self.window_seconds
        reset_seconds = max(1, math.ceil(ends - seconds))
        reset_at = datetime.fromtimestamp(ends, now.tzinfo)
        if self._redis is not None:
            outcome = await self._spend_in_redis(client, window, points)
            if outcome is None:  # Redis did not answer: let the request through
                return None
            allowed, used = outcome
        else:
            allowed, used = self._spend_here(client, window, points)
        return Verdict(allowed=allowed, limit=self.limit, remaining=max(0, self.limit - used),
                       reset_seconds=reset_seconds, reset_at=reset_at, points=points)

    def _spend_here(self, client: str, window: int, points: int) -> tuple[bool, int]:
        current, used = self._local.get(client, (window, 0))
        if current != window:
            used = 0
            if len(self._local) > 10_000:  # clients of past windows: forget them
                self._local = {k: v for k, v in self._local.items() if v[0] == window}
        if used + points > self.limit:
            self._local[client] = (window, used)
            return False, used
        self._local[client] = (window, used + points)
        return True, used + points

    async def _spend_in_redis(self, client: str, window: int, points: int) -> tuple[bool, int] | None:
        key = f"{KEY_PREFIX}{client}:{window}"
        assert self._redis is not None
        try:
            spent, used = await self._redis.get().eval(_SPEND, 1, key, points, self.limit, self.window_seconds + 60)
        except Exception:
            log.warning("Could not count a request against its rate limit in Redis; letting it through.",
                        exc_info=True)
            return None
        return bool(spent), int(used)

    async def aclose(self) -> None:
        """Close this loop's Redis connections (app shutdown)."""
        if self._redis is not None:
            await self._redis.aclose()
