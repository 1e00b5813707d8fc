"""Outreach goals, as registered by plugins."""

from __future__ import annotations

import enum

import strawberry

from outboundql.goals.api import DEFAULT_OUTCOME_LABEL, DEFAULT_SIGNAL_KINDS, OTHER_SIGNAL_KIND, Block, Goal
from outboundql.goals.guardrails import camel
from outboundql.gql.context import Info
from outboundql.gql.signals import SignalKind


@strawberry.enum(description="How a goal treats accounts of one status when they are added to a campaign.")
class GuardrailKind(enum.Enum):
    HARD = "hard"
    SOFT = "soft"
    TARGET = "target"
    ALLOWED = "allowed"


@strawberry.type(description="The rule of a goal for one account status.")
class GoalGuardrail:
    status: str = strawberry.field(description="Account status in lower snake case, e.g. `do_not_contact`.")
    kind: GuardrailKind
    override_flag: str | None = strawberry.field(
        description="For SOFT: the `addAccountsToCampaign` override that admits these accounts, e.g. `includePress`."
    )


@strawberry.type(description="One criterion of a goal's scoring rubric; weights sum to 1.")
class RubricCriterion:
    criterion: str
    weight: float
    measure: str = strawberry.field(description="What the scorer evaluates, e.g. `industry`, `keywords`.")
    description: str


@strawberry.type(name="Goal", description="Why a campaign reaches out. Goals are plugins; keys are stable.")
class GoalType:
    key: str
    label: str
    description: str
    target_role_kind: str | None = strawberry.field(
        description="Kind of contact this goal addresses, e.g. `journalist`."
    )
    target_description: str = strawberry.field(description="Who the target audience is, in words (may be empty).")
    message_intent: str = strawberry.field(description="What a first message of this goal tries to achieve.")
    outcome_label: str = strawberry.field(
        description="What achieving this goal means for one account, in a few words, e.g. `meeting booked` "
        "(sales) or `hired` (recruiting); `goal achieved` when the plugin names none.")
    source: str = strawberry.field(description="`built-in`, or the distribution name and version of the plugin.")
    guardrails: list[GoalGuardrail] = strawberry.field(description="One rule per account status.")
    rubric: list[RubricCriterion]
    signal_kinds: list[SignalKind] = strawberry.field(
        description="The kinds of signal this goal's conversations are filed under, `other` last.")

    @classmethod
    def from_goal(cls, goal: Goal, source: str) -> GoalType:
        return cls(
            key=goal.key, label=goal.label, description=goal.description, target_role_kind=goal.target_role_kind,
            target_description=goal.target_description, message_intent=goal.message_intent,
            outcome_label=goal.outcome_label, source=source,
            guardrails=[
                GoalGuardrail(status=status, kind=GuardrailKind(rule.block.value),
                              override_flag=camel(rule.override_flag) if rule.block is Block.SOFT and rule.override_flag
                              else None)
                for status, rule in goal.guardrails.items()
            ],
            rubric=[RubricCriterion(criterion=c.key, weight=c.weight, measure=c.measure, description=c.description)
                    for c in goal.rubric],
            signal_kinds=[SignalKind(key=k.key, label=k.label, description=k.description) for k in goal.signal_kinds],
        )


def goal_type(info: Info, key: str) -> GoalType:
    """The goal for a stored key; a key whose plugin is no longer installed renders as an unknown goal."""
    registry = info.context.goals
    goal = registry.get(key)
    if goal is None:
        return GoalType(key=key, label=f"Unknown goal ({key})",
                        description="The plugin for this goal is not installed.",
                        target_role_kind=None, target_description="", message_intent="",
                        outcome_label=DEFAULT_OUTCOME_LABEL, source="missing",
                        guardrails=[], rubric=[],
                        signal_kinds=[SignalKind(key=k.key, label=k.label, description=k.description)
                                      for k in (*DEFAULT_SIGNAL_KINDS, OTHER_SIGNAL_KIND)])
    return GoalType.from_goal(goal, registry.source(key))


@strawberry.type
class GoalQueries:
    @strawberry.field(description="Every registered outreach goal, sorted by key. Needs no authentication.")
    def goals(self, info: Info) -> list[GoalType]:
        registry = info.context.goals
        return [GoalType.from_goal(goal, registry.source(goal.key)) for goal in registry]

    @strawberry.field(description="One goal by key, or null.")
    def goal(self, info: Info, key: str) -> GoalType | None:
        return goal_type(info, key) if info.context.goals.get(key) else None
