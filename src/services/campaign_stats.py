"""A campaign's cached statistics: moved by the transaction that changes the rows, never recounted
on read. `recount` recomputes them from the rows (the repair path) and reports any drift."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tortoise.expressions import F, Subquery
from tortoise.transactions import in_transaction

from outboundql import models
from outboundql.enums import OutreachStatus, ReviewStatus
from outboundql.services import audit

COUNTERS = ("total_accounts", "scored_accounts", "approved_accounts", "outreached_accounts", "responded_accounts")
OUTREACHED = (OutreachStatus.SENT, OutreachStatus.BOUNCED, OutreachStatus.RESPONDED)


async def bump(campaign_id: int, **deltas: int) -> None:
    """Add ``deltas`` to counters atomically (``UPDATE … SET n = n + d``). Call inside the writer's transaction."""
    changes = {name: F(name) + delta for name, delta in deltas.items() if delta}
    unknown = set(deltas) - set(COUNTERS)
    if unknown:
        raise ValueError(f"unknown counters: {sorted(unknown)}")
    if changes:
        await models.Campaign.filter(id=campaign_id).update(**changes)


def response_rate(campaign: models.Campaign) -> float:
    """responded / outreached, 0 when nothing was sent."""
    if not campaign.outreached_accounts:
        return 0.0
    return round(campaign.responded_accounts / campaign.outreached_accounts, 4)


def scored_account_ids(product_id: int, goal_key: str) -> Subquery:
    return Subquery(models.FitScore.filter(product_id=product_id, goal_key=goal_key).values("account_id"))


async def exact(campaign: models.Campaign) -> dict[str, int]:
    """The counters as the rows say they are."""
    rows = models.CampaignAccount.filter(campaign_id=campaign.id)
    return {
        "total_accounts": await rows.count(),
        "scored_accounts": await rows.filter(
            account_id__in=scored_account_ids(campaign.product_id, campaign.goal_key)
        ).count(),
        "approved_accounts": await rows.filter(review_status=ReviewStatus.APPROVED).count(),
        "outreached_accounts": await rows.filter(outreach_status__in=list(OUTREACHED)).count(),
        "responded_accounts": await rows.filter(outreach_status=OutreachStatus.RESPONDED).count(),
    }


@dataclass(frozen=True, slots=True)
class Drift:
    campaign_id: int
    slug: str
    cached: dict[str, int]
    actual: dict[str, int]

    @property
    def fields(self) -> list[str]:
        return [k for k in COUNTERS if self.cached[k] != self.actual[k]]


async def recount(campaign_ids: list[int] | None = None) -> list[Drift]:
    """Recompute the counters of the given campaigns (all when None); fix and report those that drifted."""
    qs = models.Campaign.all() if campaign_ids is None else models.Campaign.filter(id__in=campaign_ids)
    drifted = []
    for campaign_id in await qs.order_by("id").values_list("id", flat=True):
        async with in_transaction():
            campaign = await models.Campaign.filter(id=campaign_id).select_for_update().get()
            actual = await exact(campaign)
            cached: dict[str, Any] = {k: getattr(campaign, k) for k in COUNTERS}
            if cached != actual:
                await models.Campaign.filter(id=campaign.id).update(**actual)
                drifted.append(Drift(campaign.id, campaign.slug, cached, actual))
                await audit.record(project_id=campaign.project_id, actor=None, action="campaign.recount",
                                   row=campaign, before={k: cached[k] for k in drifted[-1].fields},
                                   after={k: actual[k] for k in drifted[-1].fields})
    return drifted
