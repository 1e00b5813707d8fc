"""The ``llm`` scorer: an OpenAI-compatible model applies the goal's rubric.

One request scores a whole batch of accounts: the rubric, persona, product and reviewed examples
are the same for all of them, so sending them once per batch rather than per account divides the
prompt tokens paid for by the batch size. The answer is JSON, validated per account: one bad
entry does not throw away the others. Accounts missing from the answer, or with an invalid
entry, are asked for once more in a smaller follow-up request; after that they are reported as
`ScoreFailed` and the run goes on. Every billed call becomes a `Usage` (an ApiUsage row).

When the endpoint stays unavailable (or refuses the request), the client's `LlmError` is raised,
with ``calls`` holding every billed call of the batch; the job layer decides whether to retry.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field, ValidationError, ValidationInfo, field_validator, model_validator

from outboundql.goals.api import MEASURES
from outboundql.i18n import english_name
from outboundql.llm.client import (
    LlmAnswerInvalid,
    LlmCall,
    LlmClient,
    LlmConfig,
    LlmError,
    Message,
    Sleep,
    describe_validation_error,
)
from outboundql.scoring.descriptions import describe_criterion
from outboundql.scoring.rubric import FEEDBACK, MAX_EXAMPLES_PER_SIDE, Justification, band
from outboundql.scoring.scorers import (
    BatchOutcome,
    Scored,
    ScoreFailed,
    ScorerUnavailable,
    ScoringContext,
    ScoringItem,
    Usage,
)
from outboundql.scoring.snapshots import AccountSnapshot, ContactSnapshot

if TYPE_CHECKING:
    import httpx

    from outboundql.settings import Settings

KINDS = ("fit", "gap", "risk", "missing_data")
SCHEMA_NAME = "fit_scores"
#: Longest account description sent, in characters: enough to judge, bounded cost per account.
MAX_DESCRIPTION_CHARS = 2000


# --- the answer -----------------------------------------------------------------------------------


class _Answer(BaseModel):
    """The envelope only: entries are validated one by one, so one bad entry costs one account."""

    scores: list[Any]

    @model_validator(mode="before")
    @classmethod
    def _bare_list(cls, value: Any) -> Any:
        return {"scores": value} if isinstance(value, list) else value


class _JustificationIn(BaseModel):
    kind: Literal["fit", "gap", "risk", "missing_data"]
    criterion: str
    text: str = Field(min_length=1)

    @field_validator("criterion")
    @classmethod
    def _known_criterion(cls, value: str, info: ValidationInfo) -> str:
        allowed: frozenset[str] = (info.context or {})["criteria"]
        key = value.strip().lower()
        if key not in allowed:
            raise ValueError(f"must be one of {', '.join(sorted(allowed))}")
        return key

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value.strip()


class _EntryIn(BaseModel):
    account_id: int
    score: float = Field(ge=0, le=10, allow_inf_nan=False)
    justifications: list[_JustificationIn] = Field(min_length=1)


def answer_schema(criteria: Sequence[str]) -> dict[str, Any]:
    """The JSON schema sent as the response format; ``criteria`` are the allowed criterion keys."""
    justification = {
        "type": "object",
        "properties": {
            "kind": {"type": "string", "enum": list(KINDS)},
            "criterion": {"type": "string", "enum": list(criteria)},
            "text": {"type": "string"},
        },
        "required": ["kind", "criterion", "text"],
        "additionalProperties": False,
    }
    entry = {
        "type": "object",
        "properties": {
            "account_id": {"type": "integer"},
            "score": {"type": "number", "minimum": 0, "maximum": 10},
            "justifications": {"type": "array", "items": justification},
        },
        "required": ["account_id", "score", "justifications"],
        "additionalProperties": False,
    }
    return {
        "type": "object",
        "properties": {"scores": {"type": "array", "items": entry}},
        "required": ["scores"],
        "additionalProperties": False,
    }


# --- the prompt -----------------------------------------------------------------------------------


def language_name(code: str) -> str:
    """``"French (fr)"`` for ``"fr"``, ``"Portuguese (Brazil) (pt-BR)"``; the bare tag when CLDR does not
    name its language."""
    name = english_name(code)
    return f"{name} ({code})" if name else code


def _account(snapshot: AccountSnapshot, contacts: Sequence[ContactSnapshot] | None = None) -> dict[str, Any]:
    """An account as the model reads it; absent fields are left out (the model reports them as missing)."""
    description = snapshot.description or ""
    if len(description) > MAX_DESCRIPTION_CHARS:
        description = description[:MAX_DESCRIPTION_CHARS] + "…"
    data: dict[str, Any] = {
        "name": snapshot.name,
        "industry": snapshot.industry,
        "employee_count": snapshot.employee_count,
        "country": snapshot.country,
        "city": snapshot.city,
        "status": snapshot.status,
        "contract_end_date": snapshot.contract_end_date.isoformat() if snapshot.contract_end_date else None,
        "description": description,
        "custom_fields": dict(snapshot.custom_fields),
    }
    if contacts is not None:
        data["contacts"] = [{"title": c.title, "role_kind": c.role_kind} for c in contacts]
    return {k: v for k, v in data.items() if v not in (None, "", {})}


def prompt_document(context: ScoringContext, items: Sequence[ScoringItem]) -> dict[str, Any]:
    """Everything the model judges by, as one JSON document (also what the test fake reads)."""
    goal, persona = context.goal, context.persona
    approved = [a for a, ok in context.examples if ok][:MAX_EXAMPLES_PER_SIDE]
    rejected = [a for a, ok in context.examples if not ok][:MAX_EXAMPLES_PER_SIDE]
    return {
        "today": context.today.isoformat(),
        "language": context.language,
        "goal": {
            "key": goal.key, "label": goal.label, "description": goal.description,
            "target_audience": goal.target_description or None, "target_role_kind": goal.target_role_kind,
            "message_intent": goal.message_intent or None,
        },
        "rubric": [
            {"key": c.key, "weight": c.weight, "measures": MEASURES.get(c.measure, c.measure),
             "description": describe_criterion(c, context.language)}  # in the reasons' language: they name it so
            for c in goal.rubric
        ],
        "persona": {
            "name": persona.name, "summary": persona.summary, "industries": list(persona.industries),
            "job_titles": list(persona.job_titles), "pain_points": list(persona.pain_points),
            "company_size_min": persona.company_size_min, "company_size_max": persona.company_size_max,
            "countries": list(persona.countries), "keywords": list(persona.keywords),
            "exclusions": list(persona.exclusions),
        },
        "product": {"name": context.product.name, "description": context.product.description,
                    "website_url": context.product.website_url},
        "approved_examples": [_account(a) for a in approved],
        "rejected_examples": [_account(a) for a in rejected],
        "accounts": [{"account_id": i.account_id, **_account(i.account, i.contacts)} for i in items],
    }


def build_messages(
    context: ScoringContext, items: Sequence[ScoringItem], problems: Mapping[int, str] | None = None
) -> list[Message]:
    """The system instructions and the user message holding the JSON document in a ```json block."""
    keys = ", ".join(c.key for c in context.goal.rubric)
    language = language_name(context.language)
    system = (
        "You judge how well companies fit an outbound campaign, for a sales team deciding whom to contact.\n"
        "For every account in `accounts`, give a fit score from 0 to 10 with one decimal: apply the `rubric` "
        "(each criterion weighs `weight`) to the account, its contacts, the `persona` and the `product`. "
        "Below 5.0 is a mismatch, 5.0 to 7.9 moderate, 8.0 and above excellent.\n"
        f"Give one justification per rubric criterion ({keys}), with `criterion` set to the criterion's key "
        "(the key goes in `criterion` only: a `text` names the criterion by its `description`, if at all) "
        "and `kind` one of: fit (the account meets it), gap (it does not), risk (a reason not to contact it), "
        "missing_data (the account lacks the data to judge it).\n"
        "`approved_examples` are accounts a reviewer approved for this product before (good fits) and "
        "`rejected_examples` accounts a reviewer rejected (poor fits). When an account clearly resembles "
        f"them, let that move its score and add a justification with criterion \"{FEEDBACK}\".\n"
        f"Write every justification `text` in {language}, one short sentence citing the account's data.\n"
        "Judge only from the data given; never invent facts.\n"
        'Answer with JSON only: {"scores": [{"account_id": <id from accounts>, "score": <0-10>, '
        '"justifications": [{"kind": ..., "criterion": ..., "text": ...}]}]}, one entry per account.'
    )
    intro = f"Score these {len(items)} account(s)."
    if problems:
        listed = "; ".join(f"account {account_id}: {reason}" for account_id, reason in sorted(problems.items()))
        intro += f" A previous answer had no valid score for them ({listed})."
    document = json.dumps(prompt_document(context, items), ensure_ascii=False, default=str)
    return [
        {"role": "system", "content": system},
        {"role": "user", "content": f"{intro}\n\n```json\n{document}\n```"},
    ]


def name_criteria(text: str, names: Mapping[str, str]) -> str:
    """A model's reason with the criterion keys it wrote turned into the criteria's descriptions (``names``: key →
    description): ``"beat_match: covers logistics"`` → ``"Covers the topics…: covers logistics"``; a snake_case
    key anywhere else is replaced too, and a leading ``"feedback:"`` is dropped."""
    original = text
    for key, name in {**names, FEEDBACK: ""}.items():
        lead = re.match(rf"\s*{re.escape(key)}\b(?=\s*[:(])", text, re.IGNORECASE)
        if lead is not None:
            rest = text[lead.end():]
            if not name:
                rest = rest.lstrip(": ")
                text = rest[:1].upper() + rest[1:]
            else:
                text = name + rest
        if "_" in key and name:
            text = re.sub(rf"(?<!\w){re.escape(key)}(?!\w)", name.replace("\\", "\\\\"), text, flags=re.IGNORECASE)
    return text.strip() or original


# --- the scorer -----------------------------------------------------------------------------------


def _round(value: float) -> float:
    return float(Decimal(repr(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def _account_id(raw: Any) -> int | None:
    try:
        return int(raw["account_id"])
    except (KeyError, TypeError, ValueError):
        return None


def _usage(call: LlmCall, account_ids: tuple[int, ...]) -> Usage:
    return Usage(call.provider, call.model, call.input_tokens, call.output_tokens, call.cost_usd, account_ids)


class LlmScorer:
    """Scores batches of accounts with one chat-completions request each (plus one re-ask).

    Args:
        config: the endpoint (see `LlmConfig.from_settings`).
        batch_size: accounts per job message, and so per request.
        transport, sleep: passed to `LlmClient` (tests).
    """

    key = "llm"
    label = "LLM"
    description = ("Asks an OpenAI-compatible chat-completions endpoint (OUTBOUNDQL_LLM_URL, OUTBOUNDQL_LLM_MODEL) "
                   "to score each account against the goal's rubric; every call is recorded with its cost.")

    def __init__(
        self,
        config: LlmConfig | None,
        *,
        batch_size: int = 20,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.config = config
        self.batch_size = batch_size
        self._transport = transport
        self._sleep = sleep

    @classmethod
    def from_settings(cls, settings: Settings) -> LlmScorer:
        """The scorer for ``OUTBOUNDQL_LLM_*``; `ScorerUnavailable` saying what to set when unconfigured."""
        config = LlmConfig.from_settings(settings)
        if config is None:
            missing = [name for name, value in (("OUTBOUNDQL_LLM_URL", settings.llm_url),
                                                ("OUTBOUNDQL_LLM_MODEL", settings.llm_model)) if not value]
            raise ScorerUnavailable(
                f"The llm scorer is not configured: set {' and '.join(missing)} (an OpenAI-compatible "
                "chat-completions endpoint and a model), or score with the rubric scorer."
            )
        return cls(config, batch_size=settings.llm_batch_size)

    def configure(self, settings: Settings) -> LlmScorer:
        """This scorer for ``settings`` (the registered one is unconfigured); `ScorerUnavailable` saying what to set."""
        return LlmScorer.from_settings(settings)

    async def score(self, context: ScoringContext, items: Sequence[ScoringItem]) -> BatchOutcome:
        """Score ``items``; raises `LlmError` (with the batch's calls) when the endpoint stays unavailable."""
        config = self.config
        if config is None:  # the registered instance: the host scores with configure(settings)'s
            raise ScorerUnavailable("The llm scorer is not configured: score with LlmScorer.configure(settings).")
        outcome = BatchOutcome()
        pending = {item.account_id: item for item in items}
        order = {account_id: position for position, account_id in enumerate(pending)}
        criteria = frozenset(c.key for c in context.goal.rubric) | {FEEDBACK}
        names = {c.key: describe_criterion(c, context.language) for c in context.goal.rubric}
        calls: list[LlmCall] = []
        usage: list[Usage] = []  # each call with the accounts it asked about
        problems: dict[int, str] = {}
        async with LlmClient(config, transport=self._transport, sleep=self._sleep) as llm:
            for _request in (1, 2):
                if not pending:
                    break
                asked = tuple(pending)
                try:
                    completion = await llm.complete_json(
                        build_messages(context, list(pending.values()), problems),
                        answer_type=_Answer, schema_name=SCHEMA_NAME, json_schema=answer_schema(sorted(criteria)),
                    )
                except LlmAnswerInvalid as exc:  # the client already asked twice: give up on these accounts
                    calls.extend(exc.calls)
                    usage.extend(_usage(call, asked) for call in exc.calls)
                    problems = dict.fromkeys(pending, str(exc))
                    break
                except LlmError as exc:
                    exc.calls = (*calls, *exc.calls)
                    raise
                calls.extend(completion.calls)
                usage.extend(_usage(call, asked) for call in completion.calls)
                problems = self._take(completion.value, pending, criteria, names, outcome)
        outcome.failed.extend(
            ScoreFailed(account_id, f"no valid score from the model after two requests: {problems[account_id]}")
            for account_id in pending
        )
        outcome.scored.sort(key=lambda s: order[s.account_id])
        outcome.usage.extend(usage)
        return outcome

    def _take(
        self, answer: _Answer, pending: dict[int, ScoringItem], criteria: frozenset[str], names: Mapping[str, str],
        outcome: BatchOutcome,
    ) -> dict[int, str]:
        """Move the valid entries of ``answer`` from ``pending`` to ``outcome``; why each left one failed."""
        problems: dict[int, str] = {}
        for raw in answer.scores:
            account_id = _account_id(raw)
            if account_id not in pending:
                continue  # not asked for, or already scored by an earlier entry
            try:
                entry = _EntryIn.model_validate(raw, context={"criteria": criteria})
            except ValidationError as exc:
                problems.setdefault(account_id, describe_validation_error(exc))
                continue
            score = _round(entry.score)
            reasons = tuple(Justification(j.kind, j.criterion, name_criteria(j.text, names))
                            for j in entry.justifications)
            model = self.config.model if self.config else None
            outcome.scored.append(Scored(account_id, score, band(score), reasons, model=model))
            del pending[account_id]
            problems.pop(account_id, None)
        for account_id in pending:
            problems.setdefault(account_id, "missing from the answer")
        return problems
