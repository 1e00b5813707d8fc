"""A scriptable webhook receiver on a real socket: what a telephony or SMS provider's endpoint looks like to the
``webhook`` channel.

It runs uvicorn in a background thread on ``127.0.0.1`` and a free port, so the channel goes through httpx, TCP,
timeouts and status codes as in production. Every request is kept in `WebhookReceiver.requests` (raw body and
headers, for signature checks); each takes the next `Answer` queued with `WebhookReceiver.enqueue`, else the
default answer (202 with a provider id).

Example::

    with WebhookReceiver() as receiver:
        receiver.enqueue(Answer(503), Answer(200, {"id": "call-1"}))
        ...  # deliver: two requests, the second accepted
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

PATH = "/hooks/outbound"


@dataclass(frozen=True)
class Answer:
    """What the receiver answers one request: ``status``, a JSON ``body`` (or ``text``), ``headers``; ``delay``
    seconds first (longer than the client's timeout: a timeout)."""

    status: int = 202
    body: Any = None
    text: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass(frozen=True)
class Received:
    """One request as the receiver got it; ``headers`` with lowercase names."""

    path: str
    headers: Mapping[str, str]
    raw: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.raw)


class WebhookReceiver:
    """The receiver; a context manager, or the ``webhook_receiver`` fixture."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.served = 0
        self._queue: deque[Answer] = deque()
        self._lock = threading.Lock()
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))
        self.port: int = self._socket.getsockname()[1]
        app = Starlette(routes=[Route("/{path:path}", self._handle, methods=["POST"])])
        config = uvicorn.Config(app, log_config=None, log_level="warning", access_log=False, lifespan="off",
                                ws="none", http="h11", loop="asyncio", timeout_graceful_shutdown=1)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._socket]},
                                        name="webhook-receiver", daemon=True)

    @property
    def url(self) -> str:
        """The endpoint to configure on the channel."""
        return f"http://127.0.0.1:{self.port}{PATH}"

    def enqueue(self, *answers: Answer) -> None:
        """Answer the next requests with ``answers``, in order; then the default answer again."""
        with self._lock:
            self._queue.extend(answers)

    async def _handle(self, request: Request) -> Response:
        raw = await request.body()
        with self._lock:
            self.requests.append(Received(request.url.path, {k.lower(): v for k, v in request.headers.items()},
                                          raw))
            answer = self._queue.popleft() if self._queue else None
            self.served += 1
            number = self.served
        answer = answer or Answer(202, {"id": f"call-{number}", "status": "queued"})
        if answer.delay:
            await asyncio.sleep(answer.delay)
        text = answer.text if answer.text is not None else (json.dumps(answer.body) if answer.body is not None
                                                            else "")
        return Response(text, status_code=answer.status, headers=dict(answer.headers),
                        media_type="application/json" if answer.body is not None else "text/plain")

    # --- lifecycle --------------------------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the webhook receiver did not start")
            time.sleep(0.005)

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        self._socket.close()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as receiver:
        yield receiver
