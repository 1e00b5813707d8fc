"""Signals read by a language model from replies and call notes: the prompt and the checked answer.

One chat-completions request reads up to `BATCH_SIZE` conversations (each a reply or a call's notes) and
answers, for each, the signals it states, each of a kind given in the request (the campaign goal's kinds). The
answer is checked entry by entry: an unknown kind, an empty or over-long text, or an id not asked about is
dropped (and logged), never stored. Pure: no database here (`outboundql.services.signal_proposals` stores).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, model_validator

from outboundql.goals.api import SignalKind
from outboundql.i18n import english_name
from outboundql.llm.client import Message

logger = logging.getLogger(__name__)

#: Conversations per request.
BATCH_SIZE = 20
#: Longest text sent per conversation, in characters.
MAX_TEXT_CHARS = 4000
#: Signals kept per conversation (the service's limit per message).
MAX_PER_TEXT = 10
SCHEMA_NAME = "signals"


@dataclass(frozen=True, slots=True)
class Conversation:
    """One text to read: a reply, or the notes of a call."""

    text: str
    kind: str  # "reply" or "call notes"
    language: str | None = None


@dataclass(frozen=True, slots=True)
class Found:
    kind: str
    text: str


class Answer(BaseModel):
    """The envelope only: entries are checked one by one."""

    conversations: list[Any]

    @model_validator(mode="before")
    @classmethod
    def _bare_list(cls, value: Any) -> Any:
        return {"conversations": value} if isinstance(value, list) else value


def answer_schema(kinds: Sequence[SignalKind]) -> dict[str, Any]:
    signal = {"type": "object", "properties": {"kind": {"type": "string", "enum": [k.key for k in kinds]},
                                               "text": {"type": "string"}},
              "required": ["kind", "text"], "additionalProperties": False}
    entry = {"type": "object", "properties": {"id": {"type": "integer"},
                                              "signals": {"type": "array", "items": signal}},
             "required": ["id", "signals"], "additionalProperties": False}
    return {"type": "object", "properties": {"conversations": {"type": "array", "items": entry}},
            "required": ["conversations"], "additionalProperties": False}


SYSTEM = (
    "You read what prospects, candidates, journalists or partners said to an outreach team (their replies, or the "
    "notes a caller took) and pick out the intelligence worth keeping: facts that change how or when to follow up, "
    "or what the market looks like.\n"
    "For every conversation in `conversations`, list its `signals`: each one a `kind` from `kinds` (use the key) "
    "and a `text`: one short sentence (at most 200 characters) in the conversation's own language stating the fact, "
    "as said (\"Budget approved for Q3\", \"Usa Salesforce desde 2022\").\n"
    "Only what the conversation states: never guess, never repeat the outreach team's own pitch, never list "
    "pleasantries, greetings or signatures. An automatic reply (out of office, bounce) has no signals unless it "
    "states a fact such as someone leaving the company. Most conversations have zero to three signals; an empty "
    "list is a fine answer.\n"
    'Answer with JSON only: {"conversations": [{"id": <id>, "signals": [{"kind": ..., "text": ...}]}]}, one entry '
    "per conversation."
)


def build_messages(conversations: Sequence[Conversation], kinds: Sequence[SignalKind]) -> list[Message]:
    def one(number: int, c: Conversation) -> dict[str, Any]:
        language = english_name(c.language) if c.language else None
        text = c.text if len(c.text) <= MAX_TEXT_CHARS else c.text[:MAX_TEXT_CHARS] + "…"
        return {"id": number, "source": c.kind, **({"language": language} if language else {}), "text": text}

    document = {
        "kinds": [{"key": k.key, "label": k.label, "description": k.description} for k in kinds],
        "conversations": [one(n, c) for n, c in enumerate(conversations, start=1)],
    }
    return [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": f"Find the signals of these {len(conversations)} conversation(s).\n\n```json\n"
                                    f"{json.dumps(document, ensure_ascii=False)}\n```"},
    ]


def take(answer: Answer, count: int, kinds: Sequence[SignalKind], max_text: int) -> list[list[Found]]:
    """The signals of each of ``count`` conversations from ``answer`` (the first entry per id; what is not a valid
    signal of a known kind is dropped)."""
    keys = {k.key for k in kinds}
    found: dict[int, list[Found]] = {}
    dropped = 0
    for raw in answer.conversations:
        try:
            number = int(raw["id"])
            items = raw["signals"]
        except (KeyError, TypeError, ValueError):
            dropped += 1
            continue
        if not 1 <= number <= count or number in found or not isinstance(items, list):
            dropped += 1
            continue
        kept: list[Found] = []
        for item in items:
            kind = item.get("kind") if isinstance(item, dict) else None
            text = item.get("text") if isinstance(item, dict) else None
            if not isinstance(kind, str) or not isinstance(text, str):
                dropped += 1
                continue
            kind, text = kind.strip().lower(), " ".join(text.split())
            if kind not in keys or not text or len(text) > max_text or "\x00" in text:
                dropped += 1
                continue
            if all((f.kind, f.text) != (kind, text) for f in kept):
                kept.append(Found(kind, text))
        found[number] = kept[:MAX_PER_TEXT]
    if dropped:
        logger.info("LLM signals: %d entry(ies) of the answer dropped (unknown id or kind, or no text).", dropped)
    return [found.get(n, []) for n in range(1, count + 1)]
