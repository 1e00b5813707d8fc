"""Explaining guardrails: would these accounts be admitted to a campaign of this goal, and why."""

from __future__ import annotations

import enum

import strawberry
from strawberry import relay

from outboundql import models
from outboundql.goals.guardrails import BlockedGroup, camel
from outboundql.gql.accounts import Account
from outboundql.gql.base import pk_of
from outboundql.gql.context import Info
from outboundql.services import guardrails as guardrails_service


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
    row: strawberry.Private[models.Account | None]

    @strawberry.field
    def account(self) -> Account | None:
        return Account.from_model(self.row) if self.row else None


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
    ids = [_account_pk(gid) for gid in account_ids]
    result = await guardrails_service.explain(
        info.context.access, project_id, goal, [i for i in ids if i is not None],
        (overrides or GuardrailOverrides()).flags(), info.context.goals,
        max_items=info.context.settings.max_bulk_items,
    )
    explanations = result.explanations()
    rows = {a.id: a for a in await models.Account.filter(id__in=[e.account_id for e in explanations])}
    return GuardrailExplanation(
        accounts=[
            AccountGuardrail(verdict=GuardrailVerdict(e.decision.verdict.value), status=e.decision.status,
                             message=e.message, override_flag=camel(e.decision.override_flag)
                             if e.decision.override_flag else None,
                             overridden=e.decision.overridden, row=rows.get(e.account_id))
            for e in explanations
        ],
        blocked=[BlockedAccounts.from_group(g) for g in result.blocked],
        admitted_count=len(result.admitted_ids),
        not_found=[gid for gid, pk in zip(account_ids, ids, strict=True) if pk is None or pk in result.missing],
    )


def _account_pk(gid: relay.GlobalID) -> int | None:
    from outboundql.errors import NotFound

    try:
        return pk_of(gid, "Account", "accountIds")
    except NotFound:
        return None

