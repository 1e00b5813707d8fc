"""Who a bearer token is and what they may do, answered from memory for a short while.

Every API request needs its token's user and that user's roles: two SQL statements, more than a
small read itself costs. This cache keeps them per token (by the token's hash) for
``Settings.auth_cache_seconds``; a request it answers runs no SQL for authentication.

It is never stale for longer than a change takes to commit: whatever changes a token, a user or a
membership calls `invalidate_user_access` after its commit, and every entry read before that is
dropped on its next use. The check is an *epoch*: a counter bumped by each invalidation, read
before an entry is loaded and stored with it; an entry whose epoch is no longer current is loaded
again. With Redis configured the epoch is a Redis key (one GET per request, no SQL), so every API
process sees an invalidation made by any other; without Redis it lives in this process. When Redis
cannot be read, requests skip the cache (and read the database) rather than trust it.

Websockets do not use it: `Context.recheck` reads the database on every operation and event.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from outboundql import models
from outboundql.enums import Role
from outboundql.services import runtime, tokens
from outboundql.services.access import Access
from outboundql.settings import Settings

EPOCH_KEY = "outboundql:auth:epoch"
MAX_ENTRIES = 10_000
"""Tokens remembered at most per process; the oldest entry goes first."""
REDIS_TIMEOUT_SECONDS = 1.0
"""How long reading or bumping the epoch may wait on Redis; a request that could not read it skips the cache."""

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Entry:
    user: models.User
    token_id: int
    expires_at: datetime | None
    last_used_at: datetime | None
    roles: Mapping[int, Role]
    epoch: object
    loaded_at: datetime


_entries: dict[str, _Entry] = {}
_local_epoch = 0
_redis_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, Any]] = weakref.WeakKeyDictionary()


async def access_for(authorization: str | None, settings: Settings) -> Access:
    """The `Access` of an ``Authorization: Bearer …`` header, from the cache when it holds a current entry
    (no SQL), else from the database (then remembered). Raises `tokens.AuthError` as `tokens.authenticate` does;
    a refused token is never remembered. Each call gets its own `Access` (a request may add roles to it)."""
    key = tokens.token_hash_of(authorization)
    now = runtime.now()
    ttl = settings.auth_cache_seconds
    epoch = await _current_epoch(settings) if ttl > 0 else None
    entry = _entries.get(key) if epoch is not None else None
    if entry is not None and (entry.epoch != epoch or now - entry.loaded_at >= timedelta(seconds=ttl)):
        _entries.pop(key, None)
        entry = None
    if entry is None:
        entry = await _load(key, epoch, now)
        if epoch is not None:
            _remember(key, entry)
    tokens.check_token(entry.expires_at, None, now)
    touch_interval = timedelta(seconds=settings.token_touch_interval_seconds)
    stale_use = entry.last_used_at is None or now - entry.last_used_at >= touch_interval
    if stale_use and await tokens.schedule_touch(entry.token_id, now) and epoch is not None:
        _remember(key, replace(entry, last_used_at=now))  # touch once per interval, not per request
    return Access(user=entry.user, roles=dict(entry.roles), token_id=entry.token_id)


async def invalidate_user_access(user_id: int | None = None) -> None:
    """Forget what the cache holds about ``user_id`` (None: about everyone), in every API process.

    Call it **after the commit** of any change to an API token (revocation, expiry), a user, or a
    membership (added, role changed, removed; a project created or deleted): the next request of
    every process reads the database again. Member removal, role changes and invitations must call
    it, as `tokens.revoke_api_token` and `invitations.accept_invitation` do.

    With Redis configured, this bumps the shared epoch (so every process drops every entry it holds:
    these changes are rare). Should Redis refuse the bump, the error is logged and entries elsewhere
    live out their ``auth_cache_seconds``; requests that cannot read Redis skip the cache anyway."""
    global _local_epoch
    _local_epoch += 1
    if user_id is None:
        _entries.clear()
    else:
        for key in [k for k, e in _entries.items() if e.user.id == user_id]:
            _entries.pop(key, None)
    try:
        url = runtime.settings().redis_url
    except runtime.NotConfigured:  # a script that serves no requests
        url = None
    if url:
        for attempt in range(2):
            try:
                # A client of its own, closed at once: writers run on any loop (a request's, a job's, a script's,
                # a test's), and a client cached for a loop that ends would leave its socket open.
                async with _new_client(url) as client:
                    await client.incr(EPOCH_KEY)
                return
            except Exception:
                if attempt:
                    log.error("Could not bump the authentication cache epoch in Redis: other API processes may "
                              "answer user %s from their cache for up to auth_cache_seconds.", user_id,
                              exc_info=True)


def clear() -> None:
    """Forget every entry of this process (tests, scripts that switch databases)."""
    _entries.clear()


async def _load(key: str, epoch: object, now: datetime) -> _Entry:
    token = await models.ApiToken.filter(token_hash=key).select_related("user").first()
    if token is None:
        raise tokens.AuthError("Invalid API token.")
    tokens.check_token(token.expires_at, token.revoked_at, now)
    rows = await models.Membership.filter(user_id=token.user_id).values_list("project_id", "role")
    return _Entry(user=token.user, token_id=token.id, expires_at=token.expires_at, last_used_at=token.last_used_at,
                  roles={pid: Role(role) for pid, role in rows}, epoch=epoch, loaded_at=now)


def _remember(key: str, entry: _Entry) -> None:
    _entries.pop(key, None)
    _entries[key] = entry
    while len(_entries) > MAX_ENTRIES:
        _entries.pop(next(iter(_entries)))


async def _current_epoch(settings: Settings) -> object:
    """The epoch entries must carry to be used; None: unknown (Redis unreadable), so skip the cache."""
    if not settings.redis_url:
        return _local_epoch
    try:
        shared = await _redis(settings.redis_url).get(EPOCH_KEY)
    except Exception:
        log.warning("Could not read the authentication cache epoch from Redis; authenticating from the database.",
                    exc_info=True)
        return None
    return (_local_epoch, shared)


def _new_client(url: str) -> Any:
    import redis.asyncio as aioredis

    return aioredis.from_url(url, socket_timeout=REDIS_TIMEOUT_SECONDS, socket_connect_timeout=REDIS_TIMEOUT_SECONDS)


def _redis(url: str) -> Any:
    """A client of ``url`` for this event loop (connections belong to the loop that made them); the app closes
    its loop's at shutdown (`aclose`)."""
    clients = _redis_clients.setdefault(asyncio.get_running_loop(), {})
    client = clients.get(url)
    if client is None:
        client = clients[url] = _new_client(url)
    return client


async def aclose() -> None:
    """Close the Redis clients of the running loop (the app's shutdown)."""
    for client in _redis_clients.pop(asyncio.get_running_loop(), {}).values():
        await client.aclose()
