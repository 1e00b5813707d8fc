"""The values goal plugins build: plain frozen dataclasses, no ORM objects.

A plugin describes a goal once, as a `Goal`, and hands it to the host through the
``outboundql_register_goals`` hook. The host validates it at registration.
"""

from __future__ import annotations

import dataclasses
import enum
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date

from outboundql.enums import AccountStatus, RoleKind

#: Statuses no goal can admit: always hard-blocked, never overridable.
ALWAYS_HARD = frozenset({"do_not_contact", "competitor", "personal_network"})

#: The override flag that admits each soft-blockable status (snake_case; camelCase in GraphQL).
OVERRIDE_FLAGS: Mapping[str, str] = {
    "customer": "include_customers",
    "supplier": "include_suppliers",
    "investor": "include_investors",
    "press": "include_press",
    "analyst": "include_analysts",
    "candidate": "include_candidates",
}

ACCOUNT_STATUSES: tuple[str, ...] = tuple(s.value for s in AccountStatus)
ROLE_KINDS: tuple[str, ...] = tuple(k.value for k in RoleKind)

#: What a rubric criterion can measure; the scorers know how to evaluate each one.
MEASURES: Mapping[str, str] = {
    "industry": "the account's industry is one of the persona's industries",
    "company_size": "the account's employee count is within the persona's size range",
    "country": "the account's country is one of the persona's countries",
    "keywords": "persona keywords appear in the account's description, industry or custom fields",
    "job_titles": "the account's contacts hold titles the persona names",
    "role_kind": "the account has contacts of the goal's target role kind",
    "status": "the account's status is this goal's target audience",
    "contract_window": "the account's contract ends within the renewal window",
    "exclusions": "none of the persona's exclusions appear in the account (a risk when they do)",
}

#: A goal's ``outcome_label`` when its plugin gives none.
DEFAULT_OUTCOME_LABEL = "goal achieved"
#: The longest ``outcome_label`` the host accepts (it is shown in lists and buttons).
MAX_OUTCOME_LABEL = 60

_KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}\Z")  # \Z: "$" would accept a trailing newline


class GoalRegistrationError(Exception):
    """A goal plugin supplied something the host refuses; the message names the plugin and the fix."""


class Block(enum.Enum):
    """How a goal treats accounts of one status when they are added to a campaign."""

    HARD = "hard"  #: never added, no override
    SOFT = "soft"  #: added only with the status's override flag
    TARGET = "target"  #: the audience this goal is for
    ALLOWED = "allowed"  #: added, nothing special


@dataclass(frozen=True, slots=True)
class Guardrail:
    """The rule for one account status. ``override_flag`` is filled in by the host for SOFT."""

    block: Block
    override_flag: str | None = None


@dataclass(frozen=True, slots=True)
class Criterion:
    """One line of a scoring rubric: what it measures and how much it weighs (weights sum to 1).

    Score reasons name the criterion by its ``description`` (in English), or by its translation into the
    campaign's language when ``translations`` has one: language tag (``"es"``, ``"pt-BR"``) → description.

    Example:
        Criterion("topic_fit", 0.6, "keywords", "Covers the topics our buyers care about.",
                  translations={"es": "Trata los temas que interesan a nuestros compradores."})
    """

    key: str
    weight: float
    measure: str
    description: str = ""
    translations: Mapping[str, str] = field(default_factory=dict, hash=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class SignalKind:
    """A kind of intelligence a conversation of the goal can give (a budget, a competitor, a move): its key
    (snake_case), a short label and what counts as one, so people and language models file signals alike."""

    key: str
    label: str
    description: str = ""


#: The kinds a goal has when its plugin names none.
DEFAULT_SIGNAL_KINDS: tuple[SignalKind, ...] = (
    SignalKind("timing", "Timing", "When they could act: a project start, a budget cycle, a contract end."),
    SignalKind("budget", "Budget", "Money they have, lack or are setting aside for this."),
    SignalKind("competitor", "Competitor", "A provider or product they use or are weighing instead."),
    SignalKind("decision_maker", "Decision maker", "Who decides or signs, and who else has a say."),
    SignalKind("hiring", "Hiring", "Roles they are hiring for, or a team growing or shrinking."),
    SignalKind("movement", "Movement", "People changing jobs, a reorganisation, a merger or a new owner."),
)
#: The kind every goal has besides its own: whatever fits none of them.
OTHER_SIGNAL_KIND = SignalKind("other", "Other", "Anything worth keeping that fits none of the other kinds.")
#: The most kinds one goal may declare (they are listed in forms and prompts).
MAX_SIGNAL_KINDS = 20


@dataclass(frozen=True, kw_only=True, slots=True)
class Persona:
    """A snapshot of a target persona (ICP), as plugins see and return it."""

    name: str = ""
    summary: str = ""
    industries: tuple[str, ...] = ()
    job_titles: tuple[str, ...] = ()
    pain_points: tuple[str, ...] = ()
    company_size_min: int | None = None
    company_size_max: int | None = None
    countries: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    exclusions: tuple[str, ...] = ()

    def replace(self, **changes: object) -> Persona:
        """A copy with ``changes`` applied (lists become tuples)."""
        fixed = {k: tuple(v) if isinstance(v, list) else v for k, v in changes.items()}
        return dataclasses.replace(self, **fixed)  # type: ignore[arg-type]


@dataclass(frozen=True, kw_only=True, slots=True)
class Product:
    """What the campaign promotes, as plugins see it.

    ``language`` is the language tag (``"en"``, ``"es"``, ``"pt-BR"``) text derived for it should be written in:
    the campaign's communication language, else the product's, else ``"en"``. An ICP tweak writes the prose of
    the persona (name, summary, pain points) in it; the terms matched against account data stay as they are.
    """

    name: str
    description: str = ""
    website_url: str | None = None
    language: str = "en"


@dataclass(frozen=True, kw_only=True, slots=True)
class AccountFacts:
    """What guardrails may look at for one account."""

    status: str
    contract_end_date: date | None = None
    contact_role_kinds: frozenset[str] = frozenset()


def keep_persona(persona: Persona, product: Product) -> Persona:
    """The identity ICP tweak: the goal uses the base persona as it is."""
    return persona


def status_is_target(goal: Goal, facts: AccountFacts, today: date) -> bool:
    """Default target test: the account's status is marked TARGET in the goal's guardrails."""
    rule = goal.guardrails.get(facts.status)
    return rule is not None and rule.block is Block.TARGET


@dataclass(frozen=True, kw_only=True, slots=True)
class Goal:
    """One outreach goal, as a plugin registers it.

    Example:
        PODCAST = Goal(
            key="podcast",
            label="Podcast guest",
            description="Get invited as a guest on podcasts your buyers listen to.",
            target_role_kind="influencer",
            guardrails={"press": Guardrail(Block.TARGET)},
            rubric=(
                Criterion("topic_fit", 0.6, "keywords"),
                Criterion("host_reachable", 0.4, "role_kind"),
            ),
            message_intent="Pitch a guest episode and the story the host's audience would get.",
        )
    """

    key: str
    label: str
    description: str
    target_role_kind: str | None = None
    #: Account status → rule. Omitted statuses: the three protected ones are HARD, pipeline
    #: statuses and ``partner`` are ALLOWED, the other relationship statuses are SOFT.
    guardrails: Mapping[str, Guardrail] = field(default_factory=dict)
    rubric: tuple[Criterion, ...] = ()
    message_intent: str = ""
    #: Turns a base persona (the product's sales persona) into this goal's draft persona.
    tweak_icp: Callable[[Persona, Product], Persona] = keep_persona
    #: Whether one account is this goal's target audience (beyond its status, e.g. renewal dates).
    is_target: Callable[[Goal, AccountFacts, date], bool] = status_is_target
    #: How the target audience is described to people, e.g. "churned or lost customers".
    target_description: str = ""
    #: What achieving the goal means for one account, in a few words: "meeting booked", "placed", "hired".
    outcome_label: str = DEFAULT_OUTCOME_LABEL
    #: The kinds of signal its conversations are filed under; the host adds ``other`` to them.
    signal_kinds: tuple[SignalKind, ...] = DEFAULT_SIGNAL_KINDS


#: What ``outboundql_register_goals`` receives: call it once per goal.
RegisterGoal = Callable[[Goal], None]
