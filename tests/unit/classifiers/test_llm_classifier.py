"""The llm reply classifier: batched requests, validated answers, failures as OTHER/0, billed usage.

Every test talks HTTP to the fake OpenAI-compatible server (``tests/fakes/openai_server.py``), scripted
with canned JSON answers, one per request.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from outboundql.classifiers import Classification, Referral, Reply, ReplyClass
from outboundql.classifiers.llm import (
    BATCH_SIZE,
    MAX_REPLY_CHARS,
    LlmClassifier,
    llm_classifier_if_configured,
)
from outboundql.llm import LlmCall, LlmConfig
from tests.fakes.openai_server import FakeOpenAI, answer, status, text

RECEIVED = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)
#: gpt-4o-mini at the fake's default 1000 prompt / 200 completion tokens: 0.00015 + 0.00012.
CALL = LlmCall("openai-compatible", "gpt-4o-mini", 1000, 200, Decimal("0.000270"))
UNCLASSIFIED = Classification(ReplyClass.OTHER, 0.0)

REPLIES = [
    Reply("Sounds good, could we talk on Thursday?", subject="Re: fleets", language="en", channel="email",
          received_at=RECEIVED),
    Reply("Gracias, pero ya trabajamos con otro proveedor.", language="es", channel="email", received_at=RECEIVED),
    Reply("Je suis absente jusqu'au 14 décembre. Pour toute urgence, écrivez à paul@acme.fr.", language="fr",
          received_at=RECEIVED),
    Reply("Dafür ist Frau Weber zuständig: anna.weber@beispiel.de, +49 30 1234567.", language="de"),
    Reply("Si us plau, no em torneu a escriure.", language="ca", channel="sms"),
    Reply("Delivery to the following recipient failed permanently: ceo@gone.example", channel="email"),
]


def entry(number: int, label: str, confidence: float = 0.9, *, returns_on: str | None = None,
          referral: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"id": number, "label": label, "confidence": confidence, "returns_on": returns_on, "referral": referral}


def replies(count: int) -> list[Reply]:
    return [Reply(f"Reply number {n}.", language="en") for n in range(count)]


@pytest.fixture
def server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        yield fake


class Waits:
    """Stands in for asyncio.sleep between retries: records the waits instead of waiting."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)


def classifier(server: FakeOpenAI, *, batch_size: int = BATCH_SIZE, waits: Waits | None = None,
               **settings: Any) -> LlmClassifier:
    config = LlmConfig.from_settings(server.settings(**settings))
    assert config is not None
    return LlmClassifier(config, batch_size=batch_size, sleep=waits or Waits())


async def test_a_multilingual_batch_is_classified_in_one_request(server: FakeOpenAI) -> None:
    server.enqueue(answer({"classifications": [
        entry(1, "interested", 0.95),
        entry(2, "not_interested", 0.9),
        entry(3, "out_of_office", 0.99, returns_on="2026-12-14",
              referral={"name": None, "email": None, "phone": None}),
        entry(4, "referral", 0.8, referral={"name": "Anna Weber", "email": "anna.weber@beispiel.de",
                                            "phone": "+49 30 1234567"}),
        entry(5, "unsubscribe", 0.97),
        entry(6, "bounce", 1),
    ]}))

    batch = await classifier(server).classify_with_usage(REPLIES)

    assert batch.classifications == (
        Classification(ReplyClass.INTERESTED, 0.95),
        Classification(ReplyClass.NOT_INTERESTED, 0.9),
        Classification(ReplyClass.OUT_OF_OFFICE, 0.99, returns_on=date(2026, 12, 14)),  # an all-null referral: none
        Classification(ReplyClass.REFERRAL, 0.8, referral=Referral("Anna Weber", "anna.weber@beispiel.de",
                                                                   "+49 30 1234567")),
        Classification(ReplyClass.UNSUBSCRIBE, 0.97),
        Classification(ReplyClass.BOUNCE, 1.0),
    )
    assert batch.usage == (CALL,)
    (request,) = server.requests
    assert request.headers["authorization"] == "Bearer test-key"
    assert request.body["model"] == "gpt-4o-mini"
    assert request.body["response_format"]["json_schema"]["name"] == "reply_classes"
    schema = request.body["response_format"]["json_schema"]["schema"]
    assert schema["properties"]["classifications"]["items"]["properties"]["label"]["enum"] == [
        "interested", "not_interested", "out_of_office", "referral", "unsubscribe", "bounce", "other"]
    document = request.document
    assert document is not None
    sent = document["replies"]
    assert [r["id"] for r in sent] == [1, 2, 3, 4, 5, 6]
    assert [r["text"] for r in sent] == [r.text for r in REPLIES], "the replies are sent as written"
    assert sent[0] == {"id": 1, "channel": "email", "language": "English (en)", "received_on": "2026-12-02",
                       "subject": "Re: fleets", "text": REPLIES[0].text}
    assert sent[3] == {"id": 4, "language": "German (de)", "text": REPLIES[3].text}
    assert sent[4]["language"] == "Catalan (ca)" and sent[4]["channel"] == "sms"
    system = request.messages[0]["content"]
    assert "any language" in system and "returns_on" in system and "YYYY-MM-DD" in system
    assert all(label in system for label in ("out_of_office", "referral", "unsubscribe", "bounce"))


async def test_classify_follows_the_protocol_and_keeps_the_usage(server: FakeOpenAI) -> None:
    server.enqueue(answer({"classifications": [entry(1, "interested"), entry(2, "not_interested")]}))
    made = classifier(server)
    assert (made.key, made.label) == ("llm", "Language model")

    result = await made.classify(REPLIES[:2])

    assert [c.label for c in result] == [ReplyClass.INTERESTED, ReplyClass.NOT_INTERESTED]
    assert made.last_usage == (CALL,)


async def test_replies_are_sent_in_batches_and_answers_kept_in_order(server: FakeOpenAI) -> None:
    labels = list(ReplyClass)
    def label(n: int) -> ReplyClass:
        return labels[n % len(labels)]
    server.enqueue(*(
        answer({"classifications": [entry(number, label(start + number - 1), (start + number - 1) / 100)
                                    for number in range(size, 0, -1)]})  # in reverse: matched by id, not position
        for start, size in ((0, 20), (20, 20), (40, 5))
    ))
    made = llm_classifier_if_configured(server.settings())
    assert made is not None and made.batch_size == BATCH_SIZE == 20

    batch = await made.classify_with_usage(replies(45))

    assert [len(r.document["replies"]) for r in server.requests if r.document] == [20, 20, 5]
    assert [r["text"] for r in server.requests[2].document["replies"]] == [f"Reply number {n}." for n in range(40, 45)]
    assert batch.classifications == tuple(Classification(label(n), n / 100) for n in range(45))
    assert batch.usage == (CALL,) * 3


async def test_no_replies_no_request(server: FakeOpenAI) -> None:
    batch = await classifier(server).classify_with_usage([])
    assert batch.classifications == () and batch.usage == ()
    assert server.requests == []


async def test_invalid_or_missing_entries_are_other_with_zero_confidence(
    server: FakeOpenAI, caplog: pytest.LogCaptureFixture,
) -> None:
    server.enqueue(answer({"classifications": [
        entry(1, "interested", 0.9),
        entry(2, "maybe", 0.9),  # not a label
        entry(3, "interested", 1.5),  # confidence out of range
        entry(4, "out_of_office", 0.9, returns_on="the 14th"),  # not a date
        # 5 is missing
        entry(6, "referral", 0.7, referral={"name": "Jo", "email": "not an address", "phone": None}),
        entry(7, "Not interested", 0.6),  # spelt loosely: accepted
        entry(7, "interested", 0.9),  # a second entry for the same reply: the first one counts
        entry(99, "interested", 0.9),  # not asked for
        "garbage",
    ]}))
    with caplog.at_level(logging.WARNING, logger="outboundql.classifiers.llm"):
        result = await classifier(server).classify(replies(7))

    assert result == (
        Classification(ReplyClass.INTERESTED, 0.9),
        UNCLASSIFIED, UNCLASSIFIED, UNCLASSIFIED, UNCLASSIFIED, UNCLASSIFIED,
        Classification(ReplyClass.NOT_INTERESTED, 0.6),
    )
    assert len(server.requests) == 1, "bad entries are not asked for again"
    logged = caplog.text
    assert "reply 2 of the batch" in logged and "label" in logged
    assert "reply 5 of the batch left unclassified: missing from the answer" in logged


async def test_a_bare_list_is_accepted(server: FakeOpenAI) -> None:
    server.enqueue(answer([entry(1, "bounce", 0.99)]))
    assert await classifier(server).classify(replies(1)) == (Classification(ReplyClass.BOUNCE, 0.99),)


async def test_a_return_date_before_the_reply_is_dropped(server: FakeOpenAI) -> None:
    server.enqueue(answer({"classifications": [
        entry(1, "out_of_office", 0.9, returns_on="2026-11-30"),
        entry(2, "out_of_office", 0.9, returns_on="2027-01-04"),
    ]}))
    out = Reply("Out of office.", received_at=RECEIVED)
    assert await classifier(server).classify([out, out]) == (
        Classification(ReplyClass.OUT_OF_OFFICE, 0.9),
        Classification(ReplyClass.OUT_OF_OFFICE, 0.9, returns_on=date(2027, 1, 4)),
    )


async def test_malformed_json_is_asked_again_once_then_the_batch_is_other(server: FakeOpenAI) -> None:
    server.enqueue(
        text("I think the first one is interested."),  # batch 1: not JSON...
        answer({"classifications": [entry(1, "interested"), entry(2, "interested")]}),  # ...the re-ask is fine
        text("{not json"), text('{"labels": []}'),  # batch 2: unusable twice
        answer({"classifications": [entry(1, "unsubscribe")]}),  # batch 3
    )
    batch = await classifier(server, batch_size=2).classify_with_usage(replies(5))

    assert batch.classifications == (
        Classification(ReplyClass.INTERESTED, 0.9), Classification(ReplyClass.INTERESTED, 0.9),
        UNCLASSIFIED, UNCLASSIFIED,
        Classification(ReplyClass.UNSUBSCRIBE, 0.9),
    )
    assert len(server.requests) == 5
    assert batch.usage == (CALL,) * 5, "every billed call is reported, the unusable ones too"


async def test_an_unavailable_endpoint_leaves_its_batch_other_and_the_rest_intact(
    server: FakeOpenAI, caplog: pytest.LogCaptureFixture,
) -> None:
    server.enqueue(
        answer({"classifications": [entry(1, "interested"), entry(2, "referral")]}),
        status(500), status(500),  # batch 2: both attempts fail
        answer({"classifications": [entry(1, "bounce")]}),
    )
    waits = Waits()
    with caplog.at_level(logging.WARNING, logger="outboundql.classifiers.llm"):
        batch = await classifier(server, batch_size=2, waits=waits, llm_max_attempts=2).classify_with_usage(
            replies(5))

    assert batch.classifications == (
        Classification(ReplyClass.INTERESTED, 0.9), Classification(ReplyClass.REFERRAL, 0.9),
        UNCLASSIFIED, UNCLASSIFIED,
        Classification(ReplyClass.BOUNCE, 0.9),
    )
    assert len(server.requests) == 4 and len(waits.seconds) == 1, "the client retried once"
    assert batch.usage == (CALL, CALL), "the failed requests reported no usage, so they were not billed"
    assert "2 reply(ies) left unclassified" in caplog.text and "HTTP 500" in caplog.text


async def test_a_refused_request_leaves_every_batch_other(server: FakeOpenAI) -> None:
    server.enqueue(status(401), status(401))
    batch = await classifier(server, batch_size=2).classify_with_usage(replies(3))
    assert batch.classifications == (UNCLASSIFIED,) * 3
    assert len(server.requests) == 2, "a refusal is not retried"


async def test_billed_failures_are_reported_as_usage(server: FakeOpenAI) -> None:
    server.enqueue(status(500, usage=(300, 0)), status(500, usage=(300, 0)))
    batch = await classifier(server, llm_max_attempts=2).classify_with_usage(replies(1))
    assert batch.classifications == (UNCLASSIFIED,)
    assert [(c.input_tokens, c.output_tokens) for c in batch.usage] == [(300, 0), (300, 0)]


async def test_long_replies_are_clipped(server: FakeOpenAI) -> None:
    server.enqueue(answer({"classifications": [entry(1, "other", 0.5)]}))
    await classifier(server).classify([Reply("x" * (MAX_REPLY_CHARS + 500))])
    sent = server.requests[0].document["replies"][0]["text"]
    assert sent == "x" * MAX_REPLY_CHARS + "…"


def test_available_only_when_an_llm_is_configured(server: FakeOpenAI) -> None:
    assert llm_classifier_if_configured(server.settings(llm_url=None)) is None
    assert llm_classifier_if_configured(server.settings(llm_model=None)) is None
    made = llm_classifier_if_configured(server.settings())
    assert isinstance(made, LlmClassifier)
    assert made.config.base_url == server.url and made.config.model == "gpt-4o-mini"


def test_batch_size_must_be_positive(server: FakeOpenAI) -> None:
    config = LlmConfig.from_settings(server.settings())
    assert config is not None
    with pytest.raises(ValueError, match="batch_size"):
        LlmClassifier(config, batch_size=0)
