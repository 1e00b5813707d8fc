"""Explaining guardrails: would these accounts be admitted to a campaign of this goal, and why."""

from __future__ import annotations

import enum

import strawberry
from strawberry import relay

from outboundql.goals.guardrails import BlockedGroup, camel
from outboundql.gql.accounts import Account
from outboundql.gql.base import pk_or_none
from outboundql.gql.context import Info
from outboundql.services import guardrails


@strawberry.input(description="Flags that admit soft-blocked accounts (see each goal's guardrails).")
class GuardrailOverrides:
    include_customers: bool = False
    include_suppliers: bool = False
    include_investors: bool = False
    include_press: bool = False
    include_analysts: bool = False
    include_candidates: bool = False

    def flags(self) -> list[str]:
        return [name for name, value in vars(self).items() if value is True]


@strawberry.enum(description="What the guardrails decide for one account.")
class GuardrailVerdict(enum.Enum):
    ADMITTED = "admitted"
    TARGET = "target"
    HARD_BLOCKED = "hard_blocked"
    SOFT_BLOCKED = "soft_blocked"


@strawberry.type(description="The decision for one account, with a sentence phrased for the goal.")
class AccountGuardrail:
    verdict: GuardrailVerdict
    status: str = strawberry.field(description="The account's status, lower snake case.")
    message: str
    override_flag: str | None = strawberry.field(description="The flag that admits it (SOFT), e.g. `includePress`.")
    overridden: bool = strawberry.field(description="Admitted only because its override flag is set.")
    account_id: strawberry.Private[int]

    @strawberry.field
    async def account(self, info: Info) -> Account | None:
        row = await info.context.loaders.account_by_id.load(self.account_id)
        return Account.from_model(row) if row else None


@strawberry.type(description="Accounts refused for one reason.")
class BlockedAccounts:
    reason: str = strawberry.field(description="`hard_block` or `soft_block`.")
    status: str
    count: int
    account_ids: list[relay.GlobalID]
    message: str = strawberry.field(description="Why, phrased for this goal, and what would admit them.")
    override_flag: str | None

    @classmethod
    def from_group(cls, group: BlockedGroup) -> BlockedAccounts:
        return cls(reason=group.reason, status=group.status, count=group.count,
                   account_ids=[relay.GlobalID("Account", str(i)) for i in group.account_ids],
                   message=group.message, override_flag=camel(group.override_flag) if group.override_flag else None)


@strawberry.type(description="Per-account decisions in the order asked, and the refused ones grouped by reason.")
class GuardrailExplanation:
    accounts: list[AccountGuardrail]
    blocked: list[BlockedAccounts]
    admitted_count: int
    not_found: list[relay.GlobalID] = strawberry.field(description="Ids that are not accounts of this project.")


async def explain(
    info: Info, project_id: int, goal: str, account_ids: list[relay.GlobalID], overrides: GuardrailOverrides | None
) -> GuardrailExplanation:
    """The body of the explainGuardrails query fields (whose arguments are ``goal``, ``account_ids`` and
    ``overrides``; give them `ArgumentErrors`). Ids that are not accounts of the project are not found."""
    ids = [pk_or_none(gid, "Account") for gid in account_ids]
    result = await guardrails.explain(
        info.context.access, info.context.goals,
        guardrails.ExplainGuardrails(project_id=project_id, goal=goal, account_ids=[i for i in ids if i is not None],
                                     overrides=(overrides or GuardrailOverrides()).flags()),
        max_items=info.context.settings.max_bulk_items,
    )
    return GuardrailExplanation(
        accounts=[
            AccountGuardrail(verdict=GuardrailVerdict(e.decision.verdict.value), status=e.decision.status,
                             message=e.message, override_flag=camel(e.decision.override_flag)
                             if e.decision.override_flag else None,
                             overridden=e.decision.overridden, account_id=e.account_id)
            for e in result.explanations()
        ],
        blocked=[BlockedAccounts.from_group(g) for g in result.blocked],
        admitted_count=len(result.admitted_ids),
        not_found=[gid for gid, pk in zip(account_ids, ids, strict=True) if pk is None or pk in result.missing],
    )
