"""The ``llm`` reply classifier: an OpenAI-compatible model reads replies in any language.

Available only when an LLM is configured (``OUTBOUNDQL_LLM_URL`` and ``_MODEL``, as for the ``llm``
scorer): see `llm_classifier_if_configured`. Replies are sent in batches of `BATCH_SIZE`, one
chat-completions request per batch, through the shared client (`outboundql.llm`), which retries
unavailable endpoints and asks once more when the answer is not the JSON envelope asked for.

The answer is validated reply by reply: a reply whose entry is missing or invalid is classified
``OTHER`` with confidence 0, and so is every reply of a batch whose request failed for good. The
classifier never raises for the endpoint's sake; it logs instead.

Every billed call is kept as an `LlmCall` (`classify_with_usage` returns them; `classify` leaves
them in `LlmClassifier.last_usage`): the caller records them as ApiUsage rows on its project, as
scoring and drafting do, because only the caller knows the project, campaign and account.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from outboundql.classifiers import Classification, Referral, Reply, ReplyClass
from outboundql.i18n import english_name
from outboundql.llm.client import LlmCall, LlmClient, LlmConfig, LlmError, Message, Sleep, describe_validation_error

if TYPE_CHECKING:
    import httpx

    from outboundql.settings import Settings

logger = logging.getLogger(__name__)

#: Replies per request: the instructions are paid once per batch, and an answer stays short enough to be reliable.
BATCH_SIZE = 20
#: Longest reply text sent, in characters: quoted history beyond it rarely changes the class, and it bounds cost.
MAX_REPLY_CHARS = 4000
MAX_SUBJECT_CHARS = 300
SCHEMA_NAME = "reply_classes"
#: What a reply gets when the model gave nothing usable for it.
UNCLASSIFIED = Classification(ReplyClass.OTHER, 0.0)
LABELS = tuple(c.value for c in ReplyClass)


# --- the answer -----------------------------------------------------------------------------------


class _Answer(BaseModel):
    """The envelope only: entries are validated one by one, so one bad entry costs one reply."""

    classifications: list[Any]

    @model_validator(mode="before")
    @classmethod
    def _bare_list(cls, value: Any) -> Any:
        return {"classifications": value} if isinstance(value, list) else value


class _ReferralIn(BaseModel):
    name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=50)

    @field_validator("name", "email", "phone")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return (value.strip() or None) if value is not None else None

    @field_validator("email")
    @classmethod
    def _looks_like_email(cls, value: str | None) -> str | None:
        if value is not None and ("@" not in value or any(c.isspace() for c in value)):
            raise ValueError("is not an e-mail address")
        return value


class _EntryIn(BaseModel):
    id: int
    label: ReplyClass
    confidence: float = Field(ge=0, le=1, allow_inf_nan=False)
    returns_on: date | None = None
    referral: _ReferralIn | None = None

    @field_validator("label", mode="before")
    @classmethod
    def _normalise_label(cls, value: Any) -> Any:
        """``"Out of office"``, ``"OUT-OF-OFFICE"`` → ``"out_of_office"``."""
        if isinstance(value, str):
            return "_".join(value.strip().lower().replace("-", " ").split())
        return value


def answer_schema() -> dict[str, Any]:
    """The JSON schema sent as the response format."""
    nullable_string = {"type": ["string", "null"]}
    referral = {
        "type": ["object", "null"],
        "properties": {"name": nullable_string, "email": nullable_string, "phone": nullable_string},
        "required": ["name", "email", "phone"],
        "additionalProperties": False,
    }
    entry = {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "label": {"type": "string", "enum": list(LABELS)},
            "confidence": {"type": "number", "minimum": 0, "maximum": 1},
            "returns_on": {"type": ["string", "null"], "format": "date"},
            "referral": referral,
        },
        "required": ["id", "label", "confidence", "returns_on", "referral"],
        "additionalProperties": False,
    }
    return {
        "type": "object",
        "properties": {"classifications": {"type": "array", "items": entry}},
        "required": ["classifications"],
        "additionalProperties": False,
    }


# --- the prompt -----------------------------------------------------------------------------------

SYSTEM = (
    "You sort the replies a sales and outreach team receives to its outbound messages, so that each one is "
    "handled right: a meeting booked, a contact paused until they are back, a new contact added, an address "
    "removed from the list.\n"
    "Replies come in any language; read each as written, without translating it. Classify every reply in "
    "`replies` with exactly one `label`:\n"
    "- interested: wants to talk, asks for a meeting, a call, more information or a price;\n"
    "- not_interested: declines, politely or not, already has a provider, or says not now;\n"
    "- out_of_office: an automatic absence or holiday reply;\n"
    "- referral: points to someone else to talk to (a colleague, the right department);\n"
    "- unsubscribe: asks to be removed from the list or never to be contacted again;\n"
    "- bounce: a delivery failure notice (unknown address, full mailbox, rejected message);\n"
    "- other: anything else, or when you cannot tell.\n"
    "Judge by the person's own words, not by the quoted message they answer. When a reply both declines and "
    "asks never to be contacted again, the label is unsubscribe.\n"
    "`confidence` is how sure you are of the label, from 0 to 1.\n"
    "`returns_on`: when the reply states the date the person is back (an absence reply, or \"contact me after "
    "the 15th\"), that date as YYYY-MM-DD; resolve a date without a year, or a weekday, as the first such date "
    "after `received_on` when it is given. Otherwise null.\n"
    "`referral`: when the reply names someone else to contact, that person's name, email and phone exactly as "
    "written (null for a part that is absent); otherwise null.\n"
    "Never invent a date, name, address or number that is not in the reply.\n"
    'Answer with JSON only: {"classifications": [{"id": <id from replies>, "label": ..., "confidence": ..., '
    '"returns_on": ..., "referral": ...}]}, one entry per reply.'
)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def _reply(reply: Reply) -> dict[str, Any]:
    """One reply as the model reads it; absent fields are left out."""
    language = None
    if reply.language:
        name = english_name(reply.language)
        language = f"{name} ({reply.language})" if name else reply.language
    data: dict[str, Any] = {
        "channel": reply.channel,
        "language": language,
        "received_on": reply.received_at.date().isoformat() if reply.received_at else None,
        "subject": _clip(reply.subject, MAX_SUBJECT_CHARS) if reply.subject else None,
        "text": _clip(reply.text, MAX_REPLY_CHARS),
    }
    return {k: v for k, v in data.items() if v is not None}


def prompt_document(replies: Sequence[Reply]) -> dict[str, Any]:
    """The replies of one batch, numbered from 1 (the ``id`` the answer refers to)."""
    return {"replies": [{"id": number, **_reply(reply)} for number, reply in enumerate(replies, start=1)]}


def build_messages(replies: Sequence[Reply]) -> list[Message]:
    """The system instructions and the user message holding the replies as a JSON document in a ```json block."""
    document = json.dumps(prompt_document(replies), ensure_ascii=False)
    return [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": f"Classify these {len(replies)} reply(ies).\n\n```json\n{document}\n```"},
    ]


# --- the classifier -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ClassifiedBatch:
    """Classifications in the order of the replies, and every billed call they took."""

    classifications: tuple[Classification, ...]
    usage: tuple[LlmCall, ...]


def _entry_id(raw: Any) -> int | None:
    try:
        return int(raw["id"])
    except (KeyError, TypeError, ValueError):
        return None


def _classification(entry: _EntryIn, reply: Reply) -> Classification:
    returns_on = entry.returns_on
    if returns_on is not None and reply.received_at is not None and returns_on < reply.received_at.date():
        logger.info("LLM classifier: ignoring return date %s, before the reply was received", returns_on)
        returns_on = None
    referral = None
    if entry.referral is not None and (entry.referral.name or entry.referral.email or entry.referral.phone):
        referral = Referral(entry.referral.name, entry.referral.email, entry.referral.phone)
    return Classification(entry.label, entry.confidence, returns_on, referral)


class LlmClassifier:
    """Classifies replies with one chat-completions request per batch of `batch_size`.

    Args:
        config: the endpoint (see `LlmConfig.from_settings`).
        batch_size: replies per request.
        transport, sleep: passed to `LlmClient` (tests).
    """

    key = "llm"
    label = "Language model"

    def __init__(
        self,
        config: LlmConfig,
        *,
        batch_size: int = BATCH_SIZE,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.config = config
        self.batch_size = batch_size
        self._transport = transport
        self._sleep = sleep
        #: The billed calls of the last `classify` (for callers going through the plain protocol).
        self.last_usage: tuple[LlmCall, ...] = ()

    async def classify(self, replies: Sequence[Reply]) -> Sequence[Classification]:
        """One `Classification` per reply, in order; the billed calls are left in `last_usage`."""
        batch = await self.classify_with_usage(replies)
        self.last_usage = batch.usage
        return batch.classifications

    async def classify_with_usage(self, replies: Sequence[Reply]) -> ClassifiedBatch:
        """Classify ``replies`` and return the billed calls with them; never raises for the endpoint's sake."""
        replies = list(replies)
        classifications: list[Classification] = []
        usage: list[LlmCall] = []
        if not replies:
            return ClassifiedBatch((), ())
        async with LlmClient(self.config, transport=self._transport, sleep=self._sleep) as llm:
            for start in range(0, len(replies), self.batch_size):
                batch = replies[start : start + self.batch_size]
                classifications.extend(await self._classify_batch(llm, batch, usage))
        return ClassifiedBatch(tuple(classifications), tuple(usage))

    async def _classify_batch(self, llm: LlmClient, batch: list[Reply], usage: list[LlmCall]) -> list[Classification]:
        try:
            completion = await llm.complete_json(
                build_messages(batch), answer_type=_Answer, schema_name=SCHEMA_NAME, json_schema=answer_schema(),
            )
        except LlmError as exc:
            usage.extend(exc.calls)
            logger.warning("LLM classifier: %d reply(ies) left unclassified: %s", len(batch), exc)
            return [UNCLASSIFIED] * len(batch)
        usage.extend(completion.calls)
        return self._take(completion.value, batch)

    @staticmethod
    def _take(answer: _Answer, batch: list[Reply]) -> list[Classification]:
        """The classification of each reply of ``batch`` from the answer's entries (the first valid one per id)."""
        found: dict[int, Classification] = {}
        problems: dict[int, str] = {}
        for raw in answer.classifications:
            number = _entry_id(raw)
            if number is None or not 1 <= number <= len(batch) or number in found:
                continue  # not asked for, or already classified by an earlier entry
            try:
                entry = _EntryIn.model_validate(raw)
            except ValidationError as exc:
                problems.setdefault(number, describe_validation_error(exc))
                continue
            found[number] = _classification(entry, batch[number - 1])
            problems.pop(number, None)
        for number in range(1, len(batch) + 1):
            if number not in found:
                logger.warning("LLM classifier: reply %d of the batch left unclassified: %s",
                               number, problems.get(number, "missing from the answer"))
        return [found.get(number, UNCLASSIFIED) for number in range(1, len(batch) + 1)]


def llm_classifier_if_configured(settings: Settings) -> LlmClassifier | None:
    """The ``llm`` classifier on the configured endpoint (``OUTBOUNDQL_LLM_URL`` and ``_MODEL``), else None."""
    config = LlmConfig.from_settings(settings)
    return LlmClassifier(config) if config is not None else None


__all__ = ["BATCH_SIZE", "ClassifiedBatch", "LlmClassifier", "llm_classifier_if_configured"]
