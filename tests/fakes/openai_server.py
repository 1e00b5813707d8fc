"""A scriptable fake of an OpenAI-compatible ``/chat/completions`` endpoint, on a real socket.

It runs uvicorn in a background thread on ``127.0.0.1`` and a free port, so the client under test
goes through httpx, TCP, timeouts and status codes exactly as in production, from sync or async
tests alike.

Script it with `FakeOpenAI.enqueue`: each request takes the next `Reply` from the queue; with the
queue empty it gets the default answer, which scores every account found in the prompt's
```` ```json ```` document (``accounts[].account_id``) with `default_score` and one ``fit``
justification per rubric criterion. Every request is kept in `FakeOpenAI.requests`.

Example::

    def test_retry(openai_server):
        openai_server.enqueue(status(429, retry_after=0), status(500))
        settings = openai_server.settings(llm_max_attempts=3)
        ...  # the third request gets the default answer
        assert len(openai_server.requests) == 3
"""

from __future__ import annotations

import asyncio
import json
import re
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
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from outboundql.settings import Settings

DEFAULT_MODEL = "gpt-4o-mini"
DEFAULT_KEY = "test-key"
#: Tokens every reply reports unless it says otherwise (prompt, completion).
DEFAULT_USAGE = (1000, 200)
_JSON_BLOCK = re.compile(r"```json\s*\n(.*?)\n```", re.DOTALL)


def default_score(account_id: int) -> float:
    """The score the default answer gives an account: deterministic, spread over 0.0–9.9."""
    return (account_id * 37 % 100) / 10


@dataclass(frozen=True)
class Reply:
    """What the fake answers to one request.

    ``content`` is the assistant message (None: the default answer, minus ``omit``, with
    ``entries`` replacing or adding the entry of some accounts). ``raw_body`` replaces the whole
    HTTP body. ``delay`` waits before answering (longer than the client's timeout: a timeout).
    """

    status: int = 200
    content: str | None = None
    raw_body: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    usage: tuple[int, int] | None = DEFAULT_USAGE
    delay: float = 0.0
    omit: frozenset[int] = frozenset()
    entries: Mapping[int, Any] = field(default_factory=dict)


def answer(value: Any, *, usage: tuple[int, int] | None = DEFAULT_USAGE) -> Reply:
    """Reply with ``value`` serialised as the assistant's JSON content."""
    return Reply(content=json.dumps(value), usage=usage)


def text(content: str, *, usage: tuple[int, int] | None = DEFAULT_USAGE) -> Reply:
    """Reply with this exact assistant content (fenced JSON, malformed JSON, prose…)."""
    return Reply(content=content, usage=usage)


def scores(*, omit: set[int] | frozenset[int] = frozenset(), entries: Mapping[int, Any] | None = None) -> Reply:
    """The default answer without the ``omit`` accounts and with ``entries`` swapped in by account id."""
    return Reply(omit=frozenset(omit), entries=dict(entries or {}))


def status(code: int, *, retry_after: float | str | None = None, usage: tuple[int, int] | None = None) -> Reply:
    """An error response with an OpenAI-style error body (and ``Retry-After`` when given)."""
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
    body = json.dumps({"error": {"message": f"fake error {code}", "type": "fake", "code": code}})
    return Reply(status=code, raw_body=body if usage is None else None, headers=headers, usage=usage)


def slow(seconds: float) -> Reply:
    """The default answer, after ``seconds``: set it above the client's timeout to make one time out."""
    return Reply(delay=seconds)


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the fake received it; ``headers`` have lowercase names."""

    path: str
    headers: Mapping[str, str]
    body: Any

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list(self.body.get("messages", [])) if isinstance(self.body, dict) else []

    @property
    def prompt(self) -> str:
        """Every message's content, joined: what a test greps for instructions."""
        return "\n\n".join(str(m.get("content", "")) for m in self.messages)

    @property
    def document(self) -> dict[str, Any] | None:
        """The JSON document of the last user message holding one (the scorer's accounts and context)."""
        for message in reversed(self.messages):
            if message.get("role") != "user":
                continue
            match = _JSON_BLOCK.search(str(message.get("content", "")))
            if match:
                value = json.loads(match.group(1))
                return value if isinstance(value, dict) else None
        return None

    @property
    def account_ids(self) -> list[int]:
        document = self.document or {}
        return [int(a["account_id"]) for a in document.get("accounts", [])]


class FakeOpenAI:
    """The fake server; use as a context manager, or through the ``openai_server`` fixture."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self._queue: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))
        self.port: int = self._socket.getsockname()[1]
        app = Starlette(routes=[Route("/v1/chat/completions", self._handle, methods=["POST"])])
        config = uvicorn.Config(
            app, log_config=None, log_level="warning", access_log=False, lifespan="off", ws="none",
            http="h11", loop="asyncio", timeout_graceful_shutdown=2,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, name="fake-openai", daemon=True
        )

    @property
    def url(self) -> str:
        """The base URL to configure (``OUTBOUNDQL_LLM_URL``)."""
        return f"http://127.0.0.1:{self.port}/v1"

    def enqueue(self, *replies: Reply) -> None:
        """Answer the next requests with ``replies``, in order; then the default answer again."""
        with self._lock:
            self._queue.extend(replies)

    def settings(self, **overrides: Any) -> Settings:
        """Settings pointing the llm scorer here, with a key, short backoff and timeout."""
        values: dict[str, Any] = {
            "database_url": "sqlite://:memory:", "redis_url": None, "scorer": "llm", "llm_url": self.url,
            "llm_model": DEFAULT_MODEL, "llm_api_key": DEFAULT_KEY, "llm_backoff_seconds": 0.01,
            "llm_timeout_seconds": 5.0,
        }
        return Settings(**{**values, **overrides})

    # --- lifecycle --------------------------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the fake OpenAI server did not start")
            time.sleep(0.005)

    def stop(self) -> None:
        self._stopping.set()
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        self._socket.close()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # --- serving ----------------------------------------------------------------------------------

    async def _handle(self, request: Request) -> Response:
        raw = await request.body()
        try:
            body: Any = json.loads(raw)
        except ValueError:
            body = None
        recorded = RecordedRequest(request.url.path, {k.lower(): v for k, v in request.headers.items()}, body)
        with self._lock:
            self.requests.append(recorded)
            reply = self._queue.popleft() if self._queue else Reply()
        if reply.delay:
            await self._wait(reply.delay)
        if reply.raw_body is not None:
            return Response(reply.raw_body, status_code=reply.status, headers=dict(reply.headers),
                            media_type="application/json")
        content = reply.content if reply.content is not None else self._default_content(recorded, reply)
        payload: dict[str, Any] = {
            "id": f"chatcmpl-fake-{len(self.requests)}",
            "object": "chat.completion",
            "model": (body or {}).get("model", DEFAULT_MODEL) if isinstance(body, dict) else DEFAULT_MODEL,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        }
        if reply.usage is not None:
            prompt_tokens, completion_tokens = reply.usage
            payload["usage"] = {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                                "total_tokens": prompt_tokens + completion_tokens}
        return JSONResponse(payload, status_code=reply.status, headers=dict(reply.headers))

    async def _wait(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not self._stopping.is_set():
            await asyncio.sleep(0.01)

    @staticmethod
    def _default_content(recorded: RecordedRequest, reply: Reply) -> str:
        document = recorded.document
        if document is None:
            return "A fake reply."
        language = document.get("language", "en")
        keys = [c["key"] for c in document.get("rubric", [])] or ["fit"]
        entries: dict[int, Any] = {
            account_id: {
                "account_id": account_id,
                "score": default_score(account_id),
                "justifications": [{"kind": "fit", "criterion": key, "text": f"[{language}] {key} looks right."}
                                   for key in keys],
            }
            for account_id in recorded.account_ids if account_id not in reply.omit
        }
        entries.update(reply.entries)
        return json.dumps({"scores": list(entries.values())})


@pytest.fixture
def openai_server() -> Iterator[FakeOpenAI]:
    """A running `FakeOpenAI`; ``openai_server.settings()`` points the llm scorer at it."""
    with FakeOpenAI() as server:
        yield server
