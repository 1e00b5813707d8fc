"""A campaign's cached statistics: moved by the transaction that changes the rows, never recounted
on read. `recount` recomputes them from the rows (the repair path) and reports any drift, the scores
kept on the rows included (`outboundql.services.campaign_scores`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tortoise import connections
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from outboundql import models
from outboundql.enums import OutreachStatus, ReviewStatus
from outboundql.services import audit

COUNTERS = ("total_accounts", "scored_accounts", "approved_accounts", "outreached_accounts", "responded_accounts",
            "stale_score_count", *(f"score_bucket_{i}" for i in range(10)))
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


def score_distribution(campaign: models.Campaign) -> list[int]:
    """Rows by current-goal fit score in the bars [0, 1) … [9, 10] (kept counters)."""
    return [int(getattr(campaign, f"score_bucket_{i}")) for i in range(10)]


async def exact(campaign: models.Campaign) -> dict[str, int]:
    """The counters as the rows (and their fit scores) say they are."""
    from outboundql.services import campaign_scores  # it bumps through this module

    rows = models.CampaignAccount.filter(campaign_id=campaign.id)
    scores = await campaign_scores.exact(connections.get("default"), campaign.id)
    counts = {
        "total_accounts": await rows.count(),
        "approved_accounts": await rows.filter(review_status=ReviewStatus.APPROVED).count(),
        "outreached_accounts": await rows.filter(outreach_status__in=list(OUTREACHED)).count(),
        "responded_accounts": await rows.filter(outreach_status=OutreachStatus.RESPONDED).count(),
        **scores,
    }
    return {k: counts[k] for k in COUNTERS}


@dataclass(frozen=True, slots=True)
class Drift:
    campaign_id: int
    slug: str
    cached: dict[str, int]
    actual: dict[str, int]
    rows_repaired: int = 0
    """Rows whose kept scores (ai, stale, effective) were wrong and were set from the fit scores."""

    @property
    def fields(self) -> list[str]:
        return [k for k in COUNTERS if self.cached[k] != self.actual[k]]


async def recount(campaign_ids: list[int] | None = None) -> list[Drift]:
    """Recompute the counters of the given campaigns (all when None), and the scores kept on their rows; fix and
    report those that drifted."""
    from outboundql.services import campaign_scores  # it bumps through this module

    qs = models.Campaign.all() if campaign_ids is None else models.Campaign.filter(id__in=campaign_ids)
    drifted = []
    for campaign_id in await qs.order_by("id").values_list("id", flat=True):
        async with in_transaction():
            campaign = await models.Campaign.filter(id=campaign_id).select_for_update().get()
            repaired = await campaign_scores.sync(campaign_ids=[campaign.id], move_counters=False)
            actual = await exact(campaign)
            cached: dict[str, Any] = {k: getattr(campaign, k) for k in COUNTERS}
            if cached != actual or repaired:
                await models.Campaign.filter(id=campaign.id).update(**actual)
                drift = Drift(campaign.id, campaign.slug, cached, actual, rows_repaired=repaired.get(campaign.id, 0))
                drifted.append(drift)
                await audit.record(project_id=campaign.project_id, actor=None, action="campaign.recount",
                                   row=campaign, before={k: cached[k] for k in drift.fields},
                                   after={**{k: actual[k] for k in drift.fields},
                                          **({"rows_repaired": drift.rows_repaired} if drift.rows_repaired else {})})
    return drifted
