"""The shared LLM client: JSON answers, retries, usage and cost, against a real fake HTTP server."""

from __future__ import annotations

import email.utils
import logging
import socket
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from pydantic import BaseModel, Field

from outboundql.llm import DEFAULT_PRICES, ModelPrice, cost_of
from outboundql.llm.client import (
    LlmAnswerInvalid,
    LlmClient,
    LlmConfig,
    LlmRequestRefused,
    LlmUnavailable,
    parse_json_content,
    provider_name,
)
from outboundql.llm.pricing import find_price
from outboundql.settings import Settings
from tests.fakes.openai_server import FakeOpenAI, Reply, answer, slow, status, text

MESSAGES = [{"role": "system", "content": "Answer in JSON."}, {"role": "user", "content": "Rate Acme."}]
GOOD = {"verdict": "good", "stars": 4}


class Rating(BaseModel):
    verdict: str
    stars: int = Field(ge=1, le=5)


@pytest.fixture
def server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        yield fake


class SleepRecorder:
    """Stands in for asyncio.sleep: records the waits instead of waiting."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def waits() -> SleepRecorder:
    return SleepRecorder()


def config(server: FakeOpenAI, **overrides: Any) -> LlmConfig:
    values: dict[str, Any] = {"base_url": server.url, "model": "gpt-4o-mini", "api_key": "sk-test",
                              "backoff_seconds": 0.5, "max_attempts": 3, "timeout_seconds": 5.0}
    return LlmConfig(**{**values, **overrides})


async def ask_rating(server: FakeOpenAI, sleep: SleepRecorder, **overrides: Any):
    async with LlmClient(config(server, **overrides), sleep=sleep) as llm:
        return await llm.complete_json(MESSAGES, answer_type=Rating, schema_name="rating")


# --- JSON answers ---------------------------------------------------------------------------------


async def test_json_answer_is_validated_and_priced(server: FakeOpenAI, waits: SleepRecorder) -> None:
    server.enqueue(answer(GOOD, usage=(1000, 200)))
    completion = await ask_rating(server, waits)
    assert completion.value == Rating(verdict="good", stars=4)
    (call,) = completion.calls
    assert (call.provider, call.model, call.input_tokens, call.output_tokens) == (
        "openai-compatible", "gpt-4o-mini", 1000, 200)
    assert call.cost_usd == Decimal("0.000270") and call.priced  # 1000 × 0.15/M + 200 × 0.60/M

    (request,) = server.requests
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == "Bearer sk-test"
    assert request.body["model"] == "gpt-4o-mini"
    assert request.body["messages"] == MESSAGES
    response_format = request.body["response_format"]
    assert response_format["type"] == "json_schema"
    assert response_format["json_schema"]["name"] == "rating"
    assert response_format["json_schema"]["schema"]["properties"]["stars"]["maximum"] == 5
    assert waits.waits == []


@pytest.mark.parametrize("content", [
    '{"verdict": "good", "stars": 4}',
    '```json\n{"verdict": "good", "stars": 4}\n```',
    '```\n{"verdict": "good", "stars": 4}\n```',
    'Here you go:\n```json\n{"verdict": "good", "stars": 4}\n```\nAnything else?',
    'Sure! {"verdict": "good", "stars": 4}',
])
def test_json_is_found_in_fences_and_prose(content: str) -> None:
    assert parse_json_content(content) == GOOD


async def test_fenced_answer_is_accepted_without_asking_again(server: FakeOpenAI, waits: SleepRecorder) -> None:
    server.enqueue(text('```json\n{"verdict": "fine", "stars": 3}\n```'))
    completion = await ask_rating(server, waits)
    assert completion.value.stars == 3 and len(server.requests) == 1


async def test_an_invalid_answer_is_asked_again_once_with_the_error(server: FakeOpenAI, waits: SleepRecorder) -> None:
    server.enqueue(answer({"verdict": "good", "stars": 9}), answer(GOOD))
    completion = await ask_rating(server, waits)
    assert completion.value.stars == 4
    assert len(completion.calls) == 2, "the re-ask is billed too"
    retry = server.requests[1].messages
    assert retry[:2] == MESSAGES
    assert retry[2] == {"role": "assistant", "content": '{"verdict": "good", "stars": 9}'}
    assert retry[3]["role"] == "user" and "stars" in retry[3]["content"] and "less than or equal to 5" in retry[3][
        "content"]


async def test_an_answer_invalid_twice_is_given_up(server: FakeOpenAI, waits: SleepRecorder) -> None:
    server.enqueue(text("{not json"), answer({"verdict": "good"}), answer(GOOD))
    with pytest.raises(LlmAnswerInvalid, match="unusable twice: stars: Field required") as caught:
        await ask_rating(server, waits)
    assert len(server.requests) == 2, "asked again once, not more"
    assert len(caught.value.calls) == 2


async def test_a_response_without_choices_is_asked_again(server: FakeOpenAI, waits: SleepRecorder) -> None:
    server.enqueue(Reply(raw_body='{"id": "x", "choices": []}'), answer(GOOD))
    completion = await ask_rating(server, waits)
    assert completion.value.verdict == "good" and len(server.requests) == 2
    assert server.requests[1].messages == MESSAGES, "nothing to show the model: the same question again"
    assert completion.calls[0].input_tokens == 0, "a success without usage still counts as a (free) call"


async def test_plain_text_completion(server: FakeOpenAI, waits: SleepRecorder) -> None:
    server.enqueue(text("Hola, Ana.", usage=(50, 5)))
    async with LlmClient(config(server, api_key=None), sleep=waits) as llm:
        completion = await llm.complete_text(MESSAGES, temperature=0.2)
    assert completion.value == "Hola, Ana."
    assert (completion.input_tokens, completion.output_tokens) == (50, 5)
    (request,) = server.requests
    assert "response_format" not in request.body
    assert request.body["temperature"] == 0.2
    assert "authorization" not in request.headers, "no key configured: no Authorization header"


async def test_a_client_outside_a_with_block_opens_its_own_connection(server: FakeOpenAI, waits: SleepRecorder) -> None:
    completion = await LlmClient(config(server), sleep=waits).complete_text(MESSAGES)
    assert completion.value == "A fake reply."


# --- retries --------------------------------------------------------------------------------------


async def test_429_honours_retry_after(server: FakeOpenAI, waits: SleepRecorder) -> None:
    server.enqueue(status(429, retry_after=7), answer(GOOD))
    completion = await ask_rating(server, waits)
    assert completion.value.stars == 4
    assert waits.waits == [7.0], "Retry-After replaces the backoff"
    assert len(server.requests) == 2
    assert len(completion.calls) == 1, "the 429 reported no usage: not billed"


async def test_retry_after_as_a_date_and_capped(server: FakeOpenAI, waits: SleepRecorder) -> None:
    in_ten = email.utils.formatdate(time.time() + 10, usegmt=True)
    server.enqueue(status(429, retry_after=in_ten), status(429, retry_after=3600), answer(GOOD))
    await ask_rating(server, waits, max_backoff_seconds=60)
    assert 5 <= waits.waits[0] <= 10
    assert waits.waits[1] == 60, "a huge Retry-After is capped"


async def test_5xx_is_retried_with_exponential_backoff(server: FakeOpenAI, waits: SleepRecorder) -> None:
    server.enqueue(status(500), status(503), answer(GOOD))
    completion = await ask_rating(server, waits)
    assert completion.value.stars == 4
    assert waits.waits == [0.5, 1.0]
    assert len(server.requests) == 3


async def test_a_billed_error_response_is_recorded(server: FakeOpenAI, waits: SleepRecorder) -> None:
    server.enqueue(status(502, usage=(300, 0)), answer(GOOD, usage=(1000, 200)))
    completion = await ask_rating(server, waits)
    assert [(c.input_tokens, c.output_tokens) for c in completion.calls] == [(300, 0), (1000, 200)]


async def test_a_timeout_is_retried(server: FakeOpenAI, waits: SleepRecorder) -> None:
    server.enqueue(slow(3), answer(GOOD))
    completion = await ask_rating(server, waits, timeout_seconds=0.2)
    assert completion.value.stars == 4
    assert len(server.requests) == 2 and waits.waits == [0.5]


async def test_retries_exhausted_raise_llm_unavailable(server: FakeOpenAI, waits: SleepRecorder) -> None:
    server.enqueue(status(503), status(500), status(503), answer(GOOD))
    with pytest.raises(LlmUnavailable) as caught:
        await ask_rating(server, waits, max_attempts=3)
    error = caught.value
    assert (error.status_code, error.attempts) == (503, 3)
    assert "after 3 attempt(s)" in str(error) and "HTTP 503" in str(error)
    assert len(server.requests) == 3 and len(waits.waits) == 2, "no wait after the last attempt"


async def test_connection_refused_is_retried_then_unavailable(waits: SleepRecorder) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    cfg = LlmConfig(base_url=f"http://127.0.0.1:{port}/v1", model="m", max_attempts=2, backoff_seconds=0.1)
    with pytest.raises(LlmUnavailable, match="ConnectError") as caught:
        await LlmClient(cfg, sleep=waits).complete_text(MESSAGES)
    assert caught.value.status_code is None and caught.value.calls == ()
    assert waits.waits == [0.1]


@pytest.mark.parametrize("code", [400, 401, 404, 422])
async def test_other_4xx_fail_at_once(server: FakeOpenAI, waits: SleepRecorder, code: int) -> None:
    server.enqueue(status(code), answer(GOOD))
    with pytest.raises(LlmRequestRefused, match=f"HTTP {code}") as caught:
        await ask_rating(server, waits)
    assert caught.value.status_code == code
    assert len(server.requests) == 1 and waits.waits == []


# --- configuration and pricing --------------------------------------------------------------------


def test_config_from_settings() -> None:
    assert LlmConfig.from_settings(Settings(llm_url=None, llm_model="m")) is None
    assert LlmConfig.from_settings(Settings(llm_url="http://x/v1", llm_model=None)) is None
    prices = {"m": {"input_per_million": "1", "output_per_million": "2"}}
    cfg = LlmConfig.from_settings(Settings(llm_url="https://api.openai.com/v1/", llm_model="m", llm_api_key="k",
                                           llm_max_attempts=2, llm_prices=prices))
    assert cfg is not None
    assert (cfg.endpoint, cfg.api_key, cfg.max_attempts, cfg.provider) == (
        "https://api.openai.com/v1/chat/completions", "k", 2, "openai")
    assert cfg.prices == {"m": ModelPrice(input_per_million=Decimal(1), output_per_million=Decimal(2))}


def test_default_settings_carry_the_built_in_price_table() -> None:
    assert Settings().llm_prices == dict(DEFAULT_PRICES)


@pytest.mark.parametrize(("url", "provider"), [
    ("https://api.openai.com/v1", "openai"),
    ("https://openrouter.ai/api/v1", "openrouter"),
    ("http://127.0.0.1:8080/v1", "openai-compatible"),
])
def test_provider_is_named_from_the_url(url: str, provider: str) -> None:
    assert provider_name(url) == provider


def test_cost_from_the_price_table() -> None:
    assert cost_of("gpt-4o", 1_000_000, 100_000, DEFAULT_PRICES).usd == Decimal("3.500000")
    dated = cost_of("gpt-4o-mini-2024-07-18", 1000, 200, DEFAULT_PRICES)
    assert dated.usd == Decimal("0.000270") and dated.priced, "a dated variant costs what its model costs"
    assert find_price("gpt-4.1-mini", DEFAULT_PRICES) == DEFAULT_PRICES["gpt-4.1-mini"], "the longest entry wins"


def test_an_unknown_model_costs_zero_and_says_so(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="outboundql.llm.pricing"):
        cost = cost_of("my-local-llama-unknown", 5000, 500, DEFAULT_PRICES)
        cost_of("my-local-llama-unknown", 5000, 500, DEFAULT_PRICES)
    assert cost.usd == 0 and not cost.priced
    warnings = [r for r in caplog.records if "my-local-llama-unknown" in r.getMessage()]
    assert len(warnings) == 1 and "OUTBOUNDQL_LLM_PRICES" in warnings[0].getMessage(), "warned once per model"


async def test_unpriced_calls_are_flagged(server: FakeOpenAI, waits: SleepRecorder) -> None:
    server.enqueue(answer(GOOD))
    completion = await ask_rating(server, waits, model="self-hosted-7b")
    assert completion.calls[0].cost_usd == 0 and completion.calls[0].priced is False


async def test_a_url_that_is_not_http_is_refused_without_retrying(waits: SleepRecorder) -> None:
    cfg = LlmConfig(base_url="ftp://example.invalid/v1", model="m", max_attempts=3)
    with pytest.raises(LlmRequestRefused, match=r"bad LLM URL 'ftp://example\.invalid/v1'") as caught:
        await LlmClient(cfg, sleep=waits).complete_text(MESSAGES)
    assert caught.value.status_code is None and waits.waits == []
