"""A real HTTP receiver of event webhooks on 127.0.0.1 (a thread of the test process) that records what arrives
and answers the status a test sets, and helpers to make endpoints and check signatures with the Standard
Webhooks reference implementation."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from unittest import mock

import pytest
from standardwebhooks import webhooks as reference
from standardwebhooks.webhooks import Webhook

from outboundql import models
from outboundql.services import runtime
from outboundql.services import webhook_endpoints as endpoints
from tests.helpers import Person, access_for


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def event_id(self) -> str:
        return self.headers["webhook-id"]


@dataclass
class Receiver:
    """``url(path)`` to give an endpoint; ``status[path]`` (default 200) answers that path; ``received`` in
    arrival order."""

    base: str
    received: list[Received] = field(default_factory=list)
    status: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str = "/hook") -> str:
        return self.base + path

    def at(self, path: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.path == path]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    holder: dict[str, Receiver] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            recv = holder["r"]
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            with recv.lock:
                recv.received.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                code = recv.status.get(self.path, 200)
            answer = b"ok" if code < 300 else b"receiver broke"
            self.send_response(code)
            self.send_header("content-length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    holder["r"] = Receiver(f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield holder["r"]
    finally:
        server.shutdown()
        server.server_close()


async def make_endpoint(owner: Person, project: models.Project, url: str, events: list[str]
                        ) -> tuple[models.WebhookEndpoint, str]:
    """An endpoint made through the service: the row and its secret."""
    made = await endpoints.create_webhook_endpoint(await access_for(owner), endpoints.CreateWebhookEndpoint(
        project_id=project.id, url=url, events=tuple(events)))
    assert made.secret is not None
    return made.endpoint, made.secret


def verified(secret: str, request: Received, at: datetime | None = None) -> Any:
    """The request's JSON after the reference implementation verified its signature. The reference checks the
    timestamp against its clock: it reads the runtime's (the test's) clock here, which signed the request."""
    frozen = at or runtime.now()

    class At(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> Any:
            return frozen

    with mock.patch.object(reference, "datetime", At):
        return Webhook(secret).verify(request.body, request.headers)
