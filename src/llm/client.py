"""An async client for any OpenAI-compatible ``POST {base_url}/chat/completions`` endpoint.

Why our own small client rather than a vendor SDK: the endpoint may be OpenAI, a gateway, or a
self-hosted server, so only the common subset of the API is used, and the behaviour the product
depends on is explicit here:

* **Retries.** 429, 5xx, timeouts and connection errors are retried with exponential backoff
  (a 429's ``Retry-After`` is honoured, capped), up to ``max_attempts`` requests; then
  `LlmUnavailable`. Any other 4xx is a mistake a retry cannot fix: `LlmRequestRefused` at once.
* **JSON answers.** `LlmClient.complete_json` sends a ``json_schema`` response format, reads the
  answer tolerantly (```` ```json ```` fences, prose around the object) and validates it with
  pydantic. An answer that does not validate is asked for once more, with the error, and then
  given up on (`LlmAnswerInvalid`).
* **Usage.** Every response that reports token usage, and every successful one, becomes an
  `LlmCall` with its cost, also when the operation fails in the end (the exception carries the
  calls), because the provider bills them either way.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import json
import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Generic, Self, TypeVar
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel, ValidationError

from outboundql.llm.pricing import DEFAULT_PRICES, ModelPrice, cost_of

if TYPE_CHECKING:
    from types import TracebackType

    from outboundql.settings import Settings

logger = logging.getLogger(__name__)

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

#: One chat message: ``{"role": "system" | "user" | "assistant", "content": "..."}``.
Message = Mapping[str, str]
Sleep = Callable[[float], Awaitable[None]]

#: Providers recognised by host name, for the ApiUsage ``provider`` column.
_KNOWN_HOSTS = {
    "api.openai.com": "openai",
    "openrouter.ai": "openrouter",
    "api.groq.com": "groq",
    "api.mistral.ai": "mistral",
    "api.together.xyz": "together",
    "api.deepseek.com": "deepseek",
    "generativelanguage.googleapis.com": "google",
}
_ERROR_EXCERPT = 300


def provider_name(base_url: str) -> str:
    """``openai`` for api.openai.com and a few other known hosts, else ``openai-compatible``."""
    host = (urlsplit(base_url).hostname or "").lower()
    return _KNOWN_HOSTS.get(host) or next(
        (name for known, name in _KNOWN_HOSTS.items() if host.endswith("." + known)), "openai-compatible"
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class LlmConfig:
    """Where and how to call the endpoint; build it with `LlmConfig.from_settings` in the app."""

    base_url: str
    model: str
    api_key: str | None = None
    timeout_seconds: float = 30.0
    #: Requests per operation, the first one included (1 = no retry).
    max_attempts: int = 4
    #: Wait before the first retry; doubles each time, up to ``max_backoff_seconds``.
    backoff_seconds: float = 1.0
    #: Longest single wait, also for a server's ``Retry-After``.
    max_backoff_seconds: float = 60.0
    prices: Mapping[str, ModelPrice] = field(default_factory=lambda: dict(DEFAULT_PRICES))

    @classmethod
    def from_settings(cls, settings: Settings) -> LlmConfig | None:
        """The configured endpoint, or None when ``OUTBOUNDQL_LLM_URL`` or ``_MODEL`` is unset."""
        if not settings.llm_url or not settings.llm_model:
            return None
        key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
        return cls(
            base_url=settings.llm_url, model=settings.llm_model, api_key=key or None,
            timeout_seconds=settings.llm_timeout_seconds, max_attempts=settings.llm_max_attempts,
            backoff_seconds=settings.llm_backoff_seconds, prices=dict(settings.llm_prices),
        )

    @property
    def endpoint(self) -> str:
        return self.base_url.rstrip("/") + "/chat/completions"

    @property
    def provider(self) -> str:
        return provider_name(self.base_url)


@dataclass(frozen=True, slots=True)
class LlmCall:
    """One billed request: tokens as the provider reported them and their cost."""

    provider: str
    model: str
    input_tokens: int
    output_tokens: int
    cost_usd: Decimal
    #: False when the model is missing from the price table (``cost_usd`` is then 0).
    priced: bool = True


@dataclass(frozen=True, slots=True)
class Completion(Generic[T]):
    """An answer and every call it took (retries that were billed, and a re-ask)."""

    value: T
    calls: tuple[LlmCall, ...]

    @property
    def input_tokens(self) -> int:
        return sum(c.input_tokens for c in self.calls)

    @property
    def output_tokens(self) -> int:
        return sum(c.output_tokens for c in self.calls)


class LlmError(Exception):
    """Base of the client's errors; ``calls`` are the billed requests made before giving up."""

    def __init__(self, message: str, *, calls: Sequence[LlmCall] = ()) -> None:
        super().__init__(message)
        self.calls: tuple[LlmCall, ...] = tuple(calls)


class LlmUnavailable(LlmError):
    """The endpoint kept failing (429, 5xx, timeouts, connection errors) for every attempt."""

    def __init__(self, message: str, *, status_code: int | None, attempts: int, calls: Sequence[LlmCall] = ()) -> None:
        super().__init__(message, calls=calls)
        #: Status of the last response, None when the last attempt got no response at all.
        self.status_code = status_code
        self.attempts = attempts


class LlmRequestRefused(LlmError):
    """A 4xx other than 429 (bad key, unknown model, unsupported parameter): retrying cannot help."""

    def __init__(self, message: str, *, status_code: int | None, calls: Sequence[LlmCall] = ()) -> None:
        super().__init__(message, calls=calls)
        #: None when the request could not even be sent (a URL that is not http(s)).
        self.status_code = status_code


class LlmAnswerInvalid(LlmError):
    """The model answered twice with something unusable (not JSON, or not matching the schema)."""


class _BadAnswer(Exception):
    """The content could not be used; the message is shown to the model when asking again."""


_FENCE = re.compile(r"```(?:json|JSON)?\s*\n?(.*?)```", re.DOTALL)


def parse_json_content(content: str) -> Any:
    """The JSON value in a model's answer: bare, inside ```` ```json ```` fences, or amid prose."""
    text = content.strip()
    candidates = [text, *(m.group(1).strip() for m in _FENCE.finditer(text))]
    start, end = text.find("{"), text.rfind("}")
    if 0 <= start < end:
        candidates.append(text[start : end + 1])
    for candidate in candidates:
        try:
            return json.loads(candidate)
        except ValueError:
            continue
    raise _BadAnswer("the answer is not valid JSON")


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date), None if absent or unreadable."""
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _excerpt(response: httpx.Response) -> str:
    text = " ".join(response.text.split())
    return text[:_ERROR_EXCERPT] + ("…" if len(text) > _ERROR_EXCERPT else "")


class LlmClient:
    """Chat completions against one configured endpoint.

    Use it as ``async with LlmClient(config) as llm:`` to share one connection pool across
    calls; outside a ``with`` block each call opens and closes its own.

    Args:
        config: the endpoint, model, key, retry policy and price table.
        transport: an httpx transport (tests).
        sleep: how to wait between retries (tests pass a recorder instead of real sleeping).
    """

    def __init__(
        self, config: LlmConfig, *, transport: httpx.AsyncBaseTransport | None = None, sleep: Sleep = asyncio.sleep
    ) -> None:
        self.config = config
        self._transport = transport
        self._sleep = sleep
        self._http: httpx.AsyncClient | None = None

    async def __aenter__(self) -> Self:
        self._http = self._new_http()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._http is not None:
            http, self._http = self._http, None
            await http.aclose()

    def _new_http(self) -> httpx.AsyncClient:
        headers = {"Accept": "application/json"}
        if self.config.api_key:
            headers["Authorization"] = f"Bearer {self.config.api_key}"
        return httpx.AsyncClient(
            headers=headers, timeout=httpx.Timeout(self.config.timeout_seconds), transport=self._transport
        )

    @contextlib.asynccontextmanager
    async def _session(self) -> AsyncIterator[httpx.AsyncClient]:
        if self._http is not None:
            yield self._http
            return
        async with self._new_http() as http:
            yield http

    # --- public API -------------------------------------------------------------------------------

    async def complete_text(self, messages: Sequence[Message], **options: Any) -> Completion[str]:
        """The assistant's text for ``messages``.

        ``options`` are sent as extra request fields (``temperature``, ``max_tokens``, …).
        An empty or malformed answer is asked for once more.
        """
        def accept(content: str) -> str:
            if not content.strip():
                raise _BadAnswer("the answer is empty")
            return content

        return await self._ask(list(messages), accept, options)

    async def complete_json(
        self,
        messages: Sequence[Message],
        *,
        answer_type: type[M],
        schema_name: str,
        json_schema: Mapping[str, Any] | None = None,
        strict: bool = False,
        **options: Any,
    ) -> Completion[M]:
        """A JSON answer for ``messages``, validated as ``answer_type``.

        Args:
            answer_type: the pydantic model the answer must validate as.
            schema_name: the response format's name (letters, digits, ``_`` and ``-``).
            json_schema: the schema sent to the model; ``answer_type``'s by default. Pass a
                stricter one to guide the model while validating leniently (e.g. per item).
            strict: ask the provider to enforce the schema exactly (OpenAI's ``strict``; the
                schema must then follow the provider's strict-mode rules).

        Raises:
            LlmAnswerInvalid: the answer and the one re-ask were both unusable.
            LlmUnavailable: retries exhausted.
            LlmRequestRefused: a 4xx other than 429.
        """
        schema = dict(json_schema) if json_schema is not None else answer_type.model_json_schema()
        response_format = {
            "type": "json_schema",
            "json_schema": {"name": schema_name, "schema": schema, "strict": strict},
        }

        def accept(content: str) -> M:
            value = parse_json_content(content)
            try:
                return answer_type.model_validate(value)
            except ValidationError as exc:
                raise _BadAnswer(describe_validation_error(exc)) from exc

        return await self._ask(list(messages), accept, {"response_format": response_format, **options})

    # --- internals --------------------------------------------------------------------------------

    async def _ask(
        self, messages: list[Message], accept: Callable[[str], T], options: Mapping[str, Any]
    ) -> Completion[T]:
        """Ask, and on an unusable answer ask once more, telling the model what was wrong."""
        calls: list[LlmCall] = []
        problem = ""
        async with self._session() as http:
            for round_ in (1, 2):
                body = await self._post(http, {"model": self.config.model, "messages": messages, **options}, calls)
                content: str | None = None
                try:
                    content = _content(body)
                    return Completion(accept(content), tuple(calls))
                except _BadAnswer as exc:
                    problem = str(exc)
                    logger.info("LLM answer unusable (request %d of 2): %s", round_, problem)
                if content is not None:  # show the model its answer and what was wrong with it
                    messages = [*messages, {"role": "assistant", "content": content}, {
                        "role": "user",
                        "content": f"Your answer could not be used: {problem}. Answer again, following the "
                        "requested format exactly.",
                    }]
        raise LlmAnswerInvalid(f"the model's answer was unusable twice: {problem}", calls=calls)

    async def _post(self, http: httpx.AsyncClient, payload: Mapping[str, Any], calls: list[LlmCall]) -> Any:
        """POST with retries; appends every billed call to ``calls``; returns the 2xx body parsed (None: not JSON)."""
        attempts = self.config.max_attempts
        failure, status = "", None
        for attempt in range(1, attempts + 1):
            wait = self._backoff(attempt)
            try:
                response = await http.post(self.config.endpoint, json=payload)
            except httpx.UnsupportedProtocol as exc:
                raise LlmRequestRefused(f"bad LLM URL {self.config.base_url!r}: {exc}", status_code=None) from exc
            except httpx.TimeoutException:
                failure, status = f"no answer within {self.config.timeout_seconds:g}s", None
            except httpx.TransportError as exc:
                failure, status = f"{type(exc).__name__}: {exc}", None
            else:
                body = self._record(response, calls)
                if response.is_success:
                    return body  # None when not JSON: the caller treats it as an unusable answer
                status = response.status_code
                failure = f"HTTP {status}: {_excerpt(response)}"
                if status != 429 and status < 500:
                    raise LlmRequestRefused(
                        f"the LLM endpoint refused the request ({failure}); check the URL, model and key",
                        status_code=status, calls=calls,
                    )
                hinted = _retry_after(response) if status == 429 else None
                if hinted is not None:
                    wait = min(hinted, self.config.max_backoff_seconds)
            logger.warning("LLM request %d of %d failed: %s", attempt, attempts, failure)
            if attempt < attempts:
                await self._sleep(wait)
        raise LlmUnavailable(
            f"the LLM endpoint {self.config.endpoint} is unavailable after {attempts} attempt(s); "
            f"last error: {failure}",
            status_code=status, attempts=attempts, calls=calls,
        )

    def _backoff(self, attempt: int) -> float:
        return min(self.config.backoff_seconds * 2.0 ** (attempt - 1), self.config.max_backoff_seconds)

    def _record(self, response: httpx.Response, calls: list[LlmCall]) -> Any:
        """The JSON body (None if not JSON); a call is recorded when billed: usage reported, or success."""
        try:
            body = response.json()
        except ValueError:
            body = None
        usage = body.get("usage") if isinstance(body, dict) else None
        if not isinstance(usage, dict) and not response.is_success:
            return body
        usage = usage if isinstance(usage, dict) else {}
        input_tokens, output_tokens = _count(usage.get("prompt_tokens")), _count(usage.get("completion_tokens"))
        cost = cost_of(self.config.model, input_tokens, output_tokens, self.config.prices)
        calls.append(
            LlmCall(self.config.provider, self.config.model, input_tokens, output_tokens, cost.usd, cost.priced)
        )
        return body


def _count(value: object) -> int:
    return value if isinstance(value, int) and value >= 0 else 0


def _content(body: Any) -> str:
    try:
        content = body["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        raise _BadAnswer("the response has no choices[0].message.content") from None
    if not isinstance(content, str):
        raise _BadAnswer("the answer has no text content")
    return content


def describe_validation_error(exc: ValidationError, limit: int = 5) -> str:
    """A short, model-readable list of validation errors: ``scores.0.score: Input should be …``."""
    parts = [f"{'.'.join(map(str, e['loc'])) or '(root)'}: {e['msg']}" for e in exc.errors()[:limit]]
    more = exc.error_count() - limit
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")
