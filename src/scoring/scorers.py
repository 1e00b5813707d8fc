"""What every scorer is: a batch of accounts in, scores (or per-account failures) and paid usage out.

Scorers are pure with respect to the database: the scoring job loads the snapshots, calls
`Scorer.score`, and writes the FitScores and ApiUsage rows in one transaction. `get_scorer`
picks one by name (`OUTBOUNDQL_SCORER` is the default; `scoreCampaign(scorer:)` overrides it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Protocol

from outboundql.goals.api import Goal, Persona, Product
from outboundql.scoring import rubric
from outboundql.scoring.rubric import Justification
from outboundql.scoring.snapshots import AccountSnapshot, ContactSnapshot
from outboundql.settings import Settings


@dataclass(frozen=True, kw_only=True, slots=True)
class ScoringContext:
    """Everything a run shares across its accounts."""

    goal: Goal
    persona: Persona
    product: Product
    language: str
    today: date
    #: Reviewed examples of this product: (account, approved?); resembling one moves an account's score.
    examples: Sequence[tuple[AccountSnapshot, bool]] = ()


@dataclass(frozen=True, slots=True)
class ScoringItem:
    account_id: int
    account: AccountSnapshot
    contacts: Sequence[ContactSnapshot] = ()


@dataclass(frozen=True, slots=True)
class Scored:
    account_id: int
    score: float  # 0.0–10.0, one decimal
    band: str
    justifications: tuple[Justification, ...]
    model: str | None = None


@dataclass(frozen=True, slots=True)
class ScoreFailed:
    """An account whose answer stayed unusable: marked failed, the run goes on."""

    account_id: int
    error: str


@dataclass(frozen=True, slots=True)
class Usage:
    """One call to a paid service, recorded as an ApiUsage row."""

    provider: str
    model: str
    input_units: int
    output_units: int
    cost_usd: Decimal


@dataclass(slots=True)
class BatchOutcome:
    scored: list[Scored] = field(default_factory=list)
    failed: list[ScoreFailed] = field(default_factory=list)
    usage: list[Usage] = field(default_factory=list)


class Scorer(Protocol):
    name: str
    #: How many accounts one job message carries.
    batch_size: int

    async def score(self, context: ScoringContext, items: Sequence[ScoringItem]) -> BatchOutcome: ...


class ScorerUnavailable(Exception):
    """The scorer asked for cannot run with these settings (the message says what is missing)."""


class UnknownScorer(ScorerUnavailable):
    """No scorer has that name."""


class RubricScorer:
    """The default: offline, deterministic, fast."""

    name = "rubric"

    def __init__(self, batch_size: int = 200) -> None:
        self.batch_size = batch_size

    async def score(self, context: ScoringContext, items: Sequence[ScoringItem]) -> BatchOutcome:
        outcome = BatchOutcome()
        for item in items:
            result = rubric.score(
                context.goal, context.persona, context.product, item.account, item.contacts,
                language=context.language, today=context.today, examples=context.examples,
            )
            outcome.scored.append(Scored(item.account_id, result.score, result.band, result.justifications))
        return outcome


SCORERS = ("rubric", "llm")


def get_scorer(name: str, settings: Settings) -> Scorer:
    """The scorer called ``name``; `ScorerUnavailable` when unknown or not configured."""
    if name == "rubric":
        return RubricScorer(settings.scoring_batch_size)
    if name == "llm":
        from outboundql.scoring.llm import LlmScorer

        return LlmScorer.from_settings(settings)
    raise UnknownScorer(f"unknown scorer {name!r}; choose one of: {', '.join(SCORERS)}")
