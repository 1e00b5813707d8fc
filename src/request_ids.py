"""ASGI middleware: each HTTP request and websocket has a request id, bound to every log line it causes (the jobs it
enqueues too, see `outboundql.workers.observability`) and returned in ``X-Request-ID``.

A valid inbound ``X-Request-ID`` (a proxy's or a client's) is kept, so one id follows a request through the load
balancer, the API and the workers; otherwise a new one is made. Each HTTP request ends with one ``request`` log
line: method, path, status and duration (DEBUG for the probes and
``/metrics``).
"""

from __future__ import annotations

import logging
import time

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from outboundql import logs

log = logging.getLogger("outboundql.requests")
HEADER = "X-Request-ID"
PROBES = frozenset({"/healthz", "/readyz", "/metrics"})  # polled every few seconds: their lines are DEBUG


class RequestIds:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request_id = logs.request_id_from(Headers(scope=scope).get(HEADER))
        status = 0

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] in ("http.response.start", "websocket.accept"):
                status = message.get("status", 101)
                message.setdefault("headers", [])
                headers = MutableHeaders(scope=message)
                headers[HEADER] = request_id
            await send(message)

        started = time.perf_counter()
        with logs.bound(request_id=request_id):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                if scope["type"] == "http":
                    level = logging.DEBUG if scope["path"] in PROBES else logging.INFO
                    log.log(level, "request", extra={"method": scope["method"], "path": scope["path"], "status": status,
                                               "duration_ms": round((time.perf_counter() - started) * 1000, 1)})
