"""The guardrail engine: may an account join a campaign of this goal, and if not, why.

Used by bulk add (campaigns) and ``explainGuardrails``; one pass over any number of accounts.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from outboundql.goals.api import ALWAYS_HARD, OVERRIDE_FLAGS, AccountFacts, Block, Goal, status_is_target
from outboundql.goals.registry import GoalRegistry


class Verdict(enum.Enum):
    ADMITTED = "admitted"
    TARGET = "target"
    HARD_BLOCKED = "hard_blocked"
    SOFT_BLOCKED = "soft_blocked"

    @property
    def admitted(self) -> bool:
        return self in (Verdict.ADMITTED, Verdict.TARGET)


@dataclass(frozen=True, slots=True)
class Decision:
    verdict: Verdict
    status: str
    #: For SOFT rules: the flag that admits (or admitted) the account.
    override_flag: str | None = None
    #: True when a SOFT block was lifted by its override flag.
    overridden: bool = False


@dataclass(frozen=True, slots=True)
class BlockedGroup:
    """Accounts refused for one reason, with a message phrased for the goal."""

    reason: str  # "hard_block" | "soft_block"
    status: str
    account_ids: tuple[int, ...]
    message: str
    override_flag: str | None

    @property
    def count(self) -> int:
        return len(self.account_ids)


def camel(flag: str) -> str:
    head, *rest = flag.split("_")
    return head + "".join(p.title() for p in rest)


def decide(goal: Goal, facts: AccountFacts, overrides: Iterable[str] = (), today: date | None = None) -> Decision:
    """The verdict for one account. ``overrides`` are snake_case flags like ``include_press``."""
    rule = goal.guardrails[facts.status]
    if facts.status in ALWAYS_HARD or rule.block is Block.HARD:
        return Decision(Verdict.HARD_BLOCKED, facts.status)
    if rule.block is Block.SOFT and rule.override_flag not in set(overrides):
        return Decision(Verdict.SOFT_BLOCKED, facts.status, rule.override_flag)
    overridden = rule.block is Block.SOFT
    target = goal.is_target(goal, facts, today or date.today())
    verdict = Verdict.TARGET if target else Verdict.ADMITTED
    return Decision(verdict, facts.status, rule.override_flag, overridden=overridden)


def decide_all(
    goal: Goal, accounts: Mapping[int, AccountFacts], overrides: Iterable[str] = (), today: date | None = None
) -> dict[int, Decision]:
    flags = frozenset(overrides)
    day = today or date.today()
    return {account_id: decide(goal, facts, flags, day) for account_id, facts in accounts.items()}


def message(goal: Goal, decision: Decision, registry: GoalRegistry | None = None) -> str:
    """Why an account was refused, in terms of this goal, and what would admit it."""
    label = goal.label
    status = decision.status.replace("_", " ")
    if decision.verdict is Verdict.HARD_BLOCKED:
        if decision.status == "do_not_contact":
            return (f"Do-not-contact accounts are blocked in every campaign, including this {label} campaign; "
                    "to re-engage one, change its status first.")
        if decision.status in ALWAYS_HARD:
            return f"{status.capitalize()} accounts are never contacted, in this {label} campaign or any other."
        return f"This {label} campaign hard-blocks {status} accounts; no override admits them."
    if decision.verdict is Verdict.SOFT_BLOCKED and decision.override_flag:
        text = (f"This {label} campaign soft-blocks {status} accounts; set {camel(decision.override_flag)} to add "
                "them")
        targeting = _goals_targeting(decision.status, registry) if registry else []
        if targeting:
            names = " or ".join(repr(g.label) for g in targeting)
            return f"{text}, or switch the goal to {names} so {status} is the target audience."
        return text + "."
    if decision.verdict is Verdict.TARGET:
        if goal.is_target is status_is_target:  # the status rule (Block.TARGET) made it a target
            return f"{status.capitalize()} accounts are the target audience of this {label} campaign."
        # the goal's own is_target test matched: that is no status rule, so the status is not named as the reason
        audience = f": {goal.target_description}" if goal.target_description else ""
        return f"This {status} account is in the target audience of this {label} campaign{audience}."
    if decision.overridden and decision.override_flag:
        return f"Admitted because {camel(decision.override_flag)} is set."
    return f"{status.capitalize()} accounts are admitted in this {label} campaign."


def _goals_targeting(status: str, registry: GoalRegistry) -> list[Goal]:
    return [g for g in registry if g.guardrails[status].block is Block.TARGET]


def group_blocked(
    goal: Goal, decisions: Mapping[int, Decision], registry: GoalRegistry | None = None
) -> list[BlockedGroup]:
    """Refused accounts grouped by (reason, status), hard blocks first, then by status."""
    groups: dict[tuple[str, str], list[int]] = {}
    for account_id, decision in decisions.items():
        if decision.verdict.admitted:
            continue
        reason = "hard_block" if decision.verdict is Verdict.HARD_BLOCKED else "soft_block"
        groups.setdefault((reason, decision.status), []).append(account_id)
    result = []
    for (reason, status), ids in sorted(groups.items()):
        sample = decisions[ids[0]]
        result.append(BlockedGroup(
            reason=reason, status=status, account_ids=tuple(sorted(ids)),
            message=message(goal, sample, registry),
            override_flag=sample.override_flag if reason == "soft_block" else None,
        ))
    return result


__all__ = ["OVERRIDE_FLAGS", "BlockedGroup", "Decision", "Verdict", "decide", "decide_all", "group_blocked", "message"]
