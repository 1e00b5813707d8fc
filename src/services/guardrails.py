"""Guardrails against stored accounts: facts for many accounts in two queries, then the goal's rules.

Bulk add (campaigns) and ``explainGuardrails`` both go through `evaluate`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from tortoise import connections

from outboundql import models
from outboundql.enums import Role
from outboundql.errors import InvalidInput
from outboundql.goals.api import OVERRIDE_FLAGS, AccountFacts, Goal
from outboundql.goals.guardrails import BlockedGroup, Decision, decide_all, group_blocked, message
from outboundql.goals.registry import GoalRegistry
from outboundql.services.access import Access

_CHUNK = 2_000


async def account_facts(project_id: int, account_ids: Sequence[int]) -> dict[int, AccountFacts]:
    """What the guardrails look at, for the accounts of ``project_id`` among ``account_ids``."""
    # Plain SQL with the (int) ids inlined, in chunks: bulk add asks about 10,000 accounts at once, and
    # building that many ORM parameter terms costs more than the queries themselves.
    conn = connections.get("default")
    end_field = models.Account._meta.fields_map["contract_end_date"]
    rows: list[tuple[int, str, date | None]] = []
    kinds: dict[int, set[str]] = defaultdict(set)
    ids = [int(i) for i in account_ids]
    for start in range(0, len(ids), _CHUNK):
        part = ", ".join(str(i) for i in ids[start:start + _CHUNK])
        _, found = await conn.execute_query(
            f"SELECT id, status, contract_end_date FROM account WHERE project_id = {int(project_id)} "
            f"AND id IN ({part})")
        rows += [(r["id"], r["status"], end_field.to_python_value(r["contract_end_date"])) for r in found]
        if found:
            _, contacts = await conn.execute_query(
                "SELECT account_id, role_kind FROM contact WHERE account_id IN "
                f"({', '.join(str(int(r['id'])) for r in found)})")
            for c in contacts:
                kinds[c["account_id"]].add(str(c["role_kind"]))
    return {
        account_id: AccountFacts(status=str(getattr(status, "value", status)), contract_end_date=end,
                                 contact_role_kinds=frozenset(kinds[account_id]))
        for account_id, status, end in rows
    }


@dataclass(frozen=True, slots=True)
class Explanation:
    account_id: int
    decision: Decision
    message: str


@dataclass(frozen=True, slots=True)
class Evaluation:
    """Per-account decisions (in request order), refused accounts grouped, and ids not found."""

    goal: Goal
    registry: GoalRegistry
    decisions: dict[int, Decision]  # in request order
    blocked: list[BlockedGroup]
    missing: list[int]

    @property
    def admitted_ids(self) -> list[int]:
        return [i for i, d in self.decisions.items() if d.verdict.admitted]

    def explanations(self) -> list[Explanation]:
        """One sentence per account (built on demand: bulk add needs only the grouped messages)."""
        return [Explanation(i, d, message(self.goal, d, self.registry)) for i, d in self.decisions.items()]


def check_overrides(overrides: Iterable[str]) -> frozenset[str]:
    flags = frozenset(overrides)
    unknown = flags - set(OVERRIDE_FLAGS.values())
    if unknown:
        raise InvalidInput(f"Unknown override flags: {', '.join(sorted(unknown))}.", field="overrides")
    return flags


async def evaluate(
    project_id: int, goal: Goal, account_ids: Sequence[int], overrides: Iterable[str], registry: GoalRegistry,
    today: date | None = None,
) -> Evaluation:
    ordered = list(dict.fromkeys(account_ids))
    facts = await account_facts(project_id, ordered)
    decisions = decide_all(goal, facts, check_overrides(overrides), today)
    return Evaluation(
        goal=goal, registry=registry, decisions={i: decisions[i] for i in ordered if i in decisions},
        blocked=group_blocked(goal, decisions, registry), missing=[i for i in ordered if i not in decisions],
    )


@dataclass(frozen=True, slots=True)
class ExplainGuardrails:
    """Would ``account_ids`` be admitted to a campaign of ``goal`` in ``project_id`` with these override
    flags (`OVERRIDE_FLAGS` values, e.g. ``include_press``), and why."""

    project_id: int
    goal: str
    account_ids: Sequence[int]
    overrides: Sequence[str] = ()


async def explain(access: Access, goals: GoalRegistry, cmd: ExplainGuardrails, *, max_items: int) -> Evaluation:
    """The guardrails' decisions for ``cmd.account_ids`` (at most ``max_items``). Reads only."""
    access.require(cmd.project_id, Role.VIEWER)
    goal = goals.get(cmd.goal)
    if goal is None:
        raise InvalidInput(f"Unknown goal {cmd.goal!r}; registered goals: {', '.join(goals.keys())}.",
                           field="goal")
    if len(cmd.account_ids) > max_items:
        raise InvalidInput(f"Explain at most {max_items} accounts at once (got {len(cmd.account_ids)}).",
                           field="account_ids")
    return await evaluate(cmd.project_id, goal, cmd.account_ids, cmd.overrides, goals)
