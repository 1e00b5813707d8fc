"""The LLM drafter and translator, over the shared OpenAI-compatible client (``outboundql.llm``).

Both are used only when an LLM is configured (``OUTBOUNDQL_LLM_URL`` and ``_MODEL``). Every billed
call becomes a `Usage` (operation ``draft`` or ``translate``) that the caller stores as ApiUsage.
When the endpoint stays unavailable, the drafter falls back to the template drafter and says so
(the billed calls are still reported); the translator raises `TranslationFailed`, carrying them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Protocol

from pydantic import BaseModel, Field

from outboundql.drafting import Draft, DraftRequest, TemplateDrafter, Usage
from outboundql.llm import LlmCall, LlmClient, LlmConfig, LlmError

if TYPE_CHECKING:
    import httpx

    from outboundql.drafting import Drafter
    from outboundql.settings import Settings


@dataclass(frozen=True, slots=True)
class Translation:
    text: str
    usage: Sequence[Usage] = ()


class TranslationFailed(Exception):
    def __init__(self, message: str, usage: Sequence[Usage]) -> None:
        super().__init__(message)
        self.usage = usage


class Translator(Protocol):
    name: str

    async def translate(self, text: str, *, source: str | None, target: str) -> Translation: ...


class DraftAnswer(BaseModel):
    subject: str | None = Field(default=None, max_length=500)
    text: str = Field(min_length=1, max_length=20_000)


class TranslationAnswer(BaseModel):
    text: str = Field(min_length=1, max_length=20_000)


def _usage(calls: Sequence[LlmCall], operation: str) -> list[Usage]:
    return [Usage(provider=c.provider, model=c.model, operation=operation, input_units=c.input_tokens,
                  output_units=c.output_tokens, cost_usd=c.cost_usd) for c in calls]


DRAFT_SYSTEM = (
    "You write short, personal outreach messages for a sales and outreach team. Write in the language with "
    "the BCP 47 tag given as `language` (e.g. pt-BR: Brazilian Portuguese), whatever the language of the "
    "context. Pursue the goal's intent, ground "
    "the message in the product, the persona's pain points and the account; address the contact by first name "
    "when known; end with one clear ask; sign with the sender's name. No placeholders, no invented facts. "
    "For `mode: ai_continue`, write the next message of the thread: answer their last message if they wrote "
    "last, otherwise a brief follow-up. Give a subject only for e-mail. Answer in JSON: "
    '{"subject": string or null, "text": string}.'
)
TRANSLATE_SYSTEM = (
    "Translate the user's outreach message into the language with BCP 47 tag `target`, keeping its meaning, "
    "tone, names and line breaks. Answer in JSON: {\"text\": string}."
)


class LlmDrafter:
    name = "llm"

    def __init__(self, config: LlmConfig, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.config = config
        self._transport = transport

    async def draft(self, request: DraftRequest) -> Draft:
        context = asdict(request)
        context["thread"] = [asdict(m) for m in request.thread]
        messages = [
            {"role": "system", "content": DRAFT_SYSTEM},
            {"role": "user", "content": "```json\n" + json.dumps(context, ensure_ascii=False, default=str) + "\n```"},
        ]
        try:
            async with LlmClient(self.config, transport=self._transport) as llm:
                completion = await llm.complete_json(messages, answer_type=DraftAnswer, schema_name="draft")
        except LlmError as exc:
            fallback = await TemplateDrafter().draft(request)
            return replace(fallback, usage=_usage(exc.calls, "draft"),
                           notice=f"The LLM could not draft ({exc}); this draft comes from the built-in templates.")
        answer = completion.value
        return Draft(subject=answer.subject if request.channel == "email" else None, text=answer.text.strip(),
                     language=request.language, drafter=self.name, model=self.config.model,
                     usage=_usage(completion.calls, "draft"))


class LlmTranslator:
    name = "llm"

    def __init__(self, config: LlmConfig, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.config = config
        self._transport = transport

    async def translate(self, text: str, *, source: str | None, target: str) -> Translation:
        document = {"source": source, "target": target, "text": text}
        messages = [
            {"role": "system", "content": TRANSLATE_SYSTEM},
            {"role": "user", "content": "```json\n" + json.dumps(document, ensure_ascii=False) + "\n```"},
        ]
        try:
            async with LlmClient(self.config, transport=self._transport) as llm:
                completion = await llm.complete_json(messages, answer_type=TranslationAnswer,
                                                     schema_name="translation")
        except LlmError as exc:
            raise TranslationFailed(f"Translation failed: {exc}", _usage(exc.calls, "translate")) from exc
        return Translation(text=completion.value.text.strip(), usage=_usage(completion.calls, "translate"))


def drafter(settings: Settings) -> Drafter | None:
    """The LLM drafter when an LLM is configured, else None."""
    config = LlmConfig.from_settings(settings)
    return LlmDrafter(config) if config else None


def translator(settings: Settings) -> Translator | None:
    """The LLM translator when an LLM is configured, else None."""
    config = LlmConfig.from_settings(settings)
    return LlmTranslator(config) if config else None
