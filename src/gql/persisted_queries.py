"""Automatic persisted queries, Apollo's protocol: a client sends only the SHA-256 of a document it sent before.

A request whose ``extensions`` hold ``persistedQuery: {version: 1, sha256Hash}``:

* without ``query``: runs the document of that hash when this server knows it, else answers the error
  ``PersistedQueryNotFound`` (code ``PERSISTED_QUERY_NOT_FOUND``), and the client sends it again with the query;
* with ``query``: the query's hash is checked (a mismatch is refused with ``PERSISTED_QUERY_HASH_MISMATCH``,
  nothing stored or run), then the document is remembered under it and runs.

POST and GET alike (a GET's ``extensions`` parameter is JSON). Documents live in Redis when it is configured
(shared by every API process, each kept `TTL_SECONDS` after it was last stored), otherwise in a bounded
least-recently-used map of this process. A Redis that does not answer behaves as an empty store (logged).
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from collections import OrderedDict

from graphql import GraphQLError
from strawberry.http import GraphQLRequestData
from strawberry.types import ExecutionResult

from outboundql.redis_clients import LoopClients

log = logging.getLogger(__name__)

NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
HASH_MISMATCH = "PERSISTED_QUERY_HASH_MISMATCH"
BAD_REQUEST = "BAD_PERSISTED_QUERY"
KEY_PREFIX = "outboundql:apq:"
TTL_SECONDS = 7 * 24 * 3600
LOCAL_SIZE = 1000


class PersistedQueries:
    """Documents by the hex SHA-256 of their text: in Redis when ``redis_url`` is given, else in this process."""

    def __init__(self, redis_url: str | None, size: int = LOCAL_SIZE) -> None:
        self._redis = LoopClients(redis_url) if redis_url else None
        self._local: OrderedDict[str, str] = OrderedDict()
        self._size = size

    async def get(self, sha256: str) -> str | None:
        if self._redis is None:
            query = self._local.get(sha256)
            if query is not None:
                self._local.move_to_end(sha256)
            return query
        try:
            stored = await self._redis.get().get(KEY_PREFIX + sha256)
        except Exception:
            log.warning("Could not read a persisted query from Redis; asking the client for it.", exc_info=True)
            return None
        return stored.decode() if isinstance(stored, bytes) else stored

    async def put(self, sha256: str, query: str) -> None:
        if self._redis is None:
            self._local[sha256] = query
            self._local.move_to_end(sha256)
            while len(self._local) > self._size:
                self._local.popitem(last=False)
            return
        try:
            await self._redis.get().set(KEY_PREFIX + sha256, query, ex=TTL_SECONDS)
        except Exception:
            log.warning("Could not store a persisted query in Redis; it runs all the same.", exc_info=True)

    async def aclose(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()


async def resolve(request: GraphQLRequestData, store: PersistedQueries) -> GraphQLRequestData | ExecutionResult:
    """``request`` with its document filled in from ``store`` (or remembered there), or the error result to
    answer instead. A request without ``persistedQuery`` is returned as is."""
    persisted = (request.extensions or {}).get("persistedQuery")
    if persisted is None:
        return request
    if not isinstance(persisted, dict) or persisted.get("version") != 1:
        return _error("Unsupported persisted query: send `extensions.persistedQuery` as {version: 1, sha256Hash}.",
                      BAD_REQUEST)
    sha256 = persisted.get("sha256Hash")
    if not isinstance(sha256, str) or len(sha256) != 64:
        return _error("`extensions.persistedQuery.sha256Hash` must be the hex SHA-256 of the query.", BAD_REQUEST)
    sha256 = sha256.lower()
    if request.query is None:
        query = await store.get(sha256)
        if query is None:
            # The message is the protocol's: clients look for it (or the code) to send the query again.
            return _error("PersistedQueryNotFound", NOT_FOUND)
        return dataclasses.replace(request, query=query)
    if hashlib.sha256(request.query.encode()).hexdigest() != sha256:
        return _error("`extensions.persistedQuery.sha256Hash` is not the SHA-256 of `query`: hash the exact text "
                      "sent (UTF-8).", HASH_MISMATCH)
    await store.put(sha256, request.query)
    return request


def _error(message: str, code: str) -> ExecutionResult:
    return ExecutionResult(data=None, errors=[GraphQLError(message, extensions={"code": code})])
