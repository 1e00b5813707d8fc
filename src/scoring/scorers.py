"""What every scorer is: a batch of accounts in, scores (or per-account failures) and paid usage out.

Scorers are pure with respect to the database: the scoring job loads the snapshots, calls
`Scorer.score`, and writes the FitScores and ApiUsage rows in one transaction. Scorers are plugins
(``outboundql_register_scorers``); `outboundql.scoring.registry.get_scorer` picks one by key
(`OUTBOUNDQL_SCORER` is the default; `scoreCampaign(scorer:)` overrides it).
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
    account_ids: tuple[int, ...] = ()
    """The accounts of the batch the call was about (a re-ask for some of them); empty: the whole batch. Each
    gets an equal share of the call's cost."""


@dataclass(slots=True)
class BatchOutcome:
    scored: list[Scored] = field(default_factory=list)
    failed: list[ScoreFailed] = field(default_factory=list)
    usage: list[Usage] = field(default_factory=list)


class Scorer(Protocol):
    """A scorer plugin: a batch of accounts in, one `Scored` or `ScoreFailed` per account (and paid usage) out.

    A scorer that needs settings (an endpoint, a key) may also define ``configure(self, settings) -> Scorer``:
    the host calls it before every run and scores with what it returns; it raises `ScorerUnavailable` saying
    what to set when the settings lack something.

    Example:
        ```python
        class Constant:
            key = "constant"
            label = "Constant"
            description = "Gives every account 5.0."
            batch_size = 100

            async def score(self, context: ScoringContext, items: Sequence[ScoringItem]) -> BatchOutcome:
                return BatchOutcome(scored=[Scored(i.account_id, 5.0, band(5.0), ()) for i in items])
        ```
    """

    key: str
    """lower_snake_case (at most 32 characters), unique among the installed scorers, stable: stored with scores."""
    label: str
    """The human name a frontend shows."""
    description: str
    """One or two sentences: how it scores and what it needs."""
    batch_size: int
    """How many accounts one job message (one `score` call) carries."""

    async def score(self, context: ScoringContext, items: Sequence[ScoringItem]) -> BatchOutcome:
        """One `Scored` or `ScoreFailed` per item; never touches the database."""
        ...


class ScorerUnavailable(Exception):
    """The scorer asked for cannot run with these settings (the message says what is missing)."""


class UnknownScorer(ScorerUnavailable):
    """No scorer has that name."""


class RubricScorer:
    """The default: offline, deterministic, fast."""

    key = "rubric"
    label = "Rubric"
    description = ("Applies the goal's rubric to the persona and the account's fields (industry, size, country, "
                   "keywords, contacts' titles, status); offline, deterministic and fast.")

    def __init__(self, batch_size: int = 200) -> None:
        self.batch_size = batch_size

    def configure(self, settings: Settings) -> RubricScorer:
        return RubricScorer(settings.scoring_batch_size)

    async def score(self, context: ScoringContext, items: Sequence[ScoringItem]) -> BatchOutcome:
        outcome = BatchOutcome()
        for item in items:
            result = rubric.score(
                context.goal, context.persona, context.product, item.account, item.contacts,
                language=context.language, today=context.today, examples=context.examples,
            )
            outcome.scored.append(Scored(item.account_id, result.score, result.band, result.justifications))
        return outcome
