"""ASGI middleware: a request's body must arrive within a time limit (``body_timeout_seconds``).

uvicorn times out idle keep-alive connections, not slow senders: a client that sends its headers
and then trickles (or never sends) the body holds a connection and a task for as long as it likes
(50 such clients held their connections for 45 s and more). The clock starts when the request
reaches the app, once its headers are in; the whole body must be in before the deadline, or the
client is answered ``408 Request Timeout`` and the connection is closed. Requests without a body
(GET) are unaffected, and so is the time the app then takes to answer.
"""

from __future__ import annotations

import asyncio

from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class _BodyTimedOut(Exception):
    pass


class BodyTimeout:
    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        deadline = asyncio.get_running_loop().time() + self.seconds
        body_complete = False
        response_started = False

        async def receive_in_time() -> Message:
            nonlocal body_complete
            if body_complete:
                return await receive()  # past the body: waiting for a disconnect is not limited
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                raise _BodyTimedOut from None
            if message["type"] != "http.request" or not message.get("more_body", False):
                body_complete = True
            return message

        async def send_tracked(message: Message) -> None:
            nonlocal response_started
            response_started = response_started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive_in_time, send_tracked)
        except _BodyTimedOut:
            if response_started:
                raise
            response = PlainTextResponse(
                f"The request body did not arrive within {self.seconds:g} seconds.", status_code=408,
                headers={"Connection": "close"})
            await response(scope, receive, send)
