"""Listing a campaign's accounts: filters and orderings a review UI pages through, all in SQL.

The effective score (the override when set, else the account's fit score for the campaign's
product and goal) and whether the row is stale are kept on the row (`campaign_scores`), so the
filters and the default order read one table and page through the (campaign, effective score, id)
index, whatever the campaign's size.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tortoise.expressions import F, Q, Subquery
from tortoise.queryset import QuerySet

from outboundql import models
from outboundql.enums import Band, ExecutionStatus, GoalOutcome, OutreachStatus, ReviewStatus
from outboundql.services.execution_queries import shown_status_condition

BAND_BOUNDS = {Band.MISMATCH: (None, 5.0), Band.MODERATE: (5.0, 8.0), Band.EXCELLENT: (8.0, None)}


def band_of(score: float | None) -> Band | None:
    if score is None:
        return None
    return Band.MISMATCH if score < 5 else Band.MODERATE if score < 8 else Band.EXCELLENT


@dataclass(frozen=True, slots=True)
class CampaignAccountsFilter:
    """All conditions must hold; a list matches any of its values (an empty list or None: no condition)."""

    bands: Sequence[Band] | None = None
    """By effective score."""
    scored: bool | None = None
    """Has an effective score (or not)."""
    review_statuses: Sequence[ReviewStatus] | None = None
    outreach_statuses: Sequence[OutreachStatus] | None = None
    tags: Sequence[str] | None = None
    search: str | None = None
    """Part of the account's name or domain."""
    stale: bool | None = None
    """Only scored under another goal (or not)."""
    execution_statuses: Sequence[ExecutionStatus] | None = None
    """By execution status as shown (`execution_queries.shown_status`)."""
    goal_outcomes: Sequence[GoalOutcome] | None = None


def filter_rows(campaign: models.Campaign, flt: CampaignAccountsFilter) -> QuerySet[models.CampaignAccount]:
    qs = models.CampaignAccount.filter(campaign_id=campaign.id)
    if flt.bands:
        condition = Q()
        for band in flt.bands:
            low, high = BAND_BOUNDS[Band(band)]
            part = Q(effective_score__isnull=False)
            if low is not None:
                part &= Q(effective_score__gte=low)
            if high is not None:
                part &= Q(effective_score__lt=high)
            condition |= part
        qs = qs.filter(condition)
    if flt.scored is not None:
        qs = qs.filter(effective_score__isnull=not flt.scored)
    if flt.review_statuses:
        qs = qs.filter(review_status__in=[ReviewStatus(s) for s in flt.review_statuses])
    if flt.outreach_statuses:
        qs = qs.filter(outreach_status__in=[OutreachStatus(s) for s in flt.outreach_statuses])
    if flt.tags:
        tagged = models.CampaignAccountTag.filter(campaign_id=campaign.id, tag__in=list(flt.tags))
        qs = qs.filter(id__in=Subquery(tagged.values("campaign_account_id")))
    if flt.search:
        term = flt.search.strip()
        qs = qs.filter(Q(account__name__icontains=term) | Q(account__domain__icontains=term))
    if flt.stale is not None:
        qs = qs.filter(score_stale=flt.stale)
    if flt.execution_statuses:
        qs = qs.filter(shown_status_condition(flt.execution_statuses, campaign.execution_state))
    if flt.goal_outcomes:
        qs = qs.filter(goal_outcome__in=[GoalOutcome(o) for o in flt.goal_outcomes])
    return qs


ORDERINGS = {
    "effective_score": "effective_score",  # unscored (NULL) last in both directions: `outboundql.gql.keyset`
    "name": "account_name",
    "added_at": "created_at",
}


def ordered(qs: QuerySet[models.CampaignAccount], field: str, descending: bool) -> QuerySet[models.CampaignAccount]:
    key = ORDERINGS[field]
    if key == "account_name":
        qs = qs.annotate(account_name=F("account__name"))
    sign = "-" if descending else ""
    return qs.order_by(f"{sign}{key}", f"{sign}id")


def campaign_accounts(
    campaign: models.Campaign, flt: CampaignAccountsFilter | None = None, order_by: str = "effective_score",
    descending: bool = True,
) -> QuerySet[models.CampaignAccount]:
    """The campaign's accounts, filtered and ordered (``order_by`` one of `ORDERINGS`: by default the
    effective score, best first, unscored last), with their accounts (one joined query), as a queryset a
    connection pages by key."""
    return ordered(filter_rows(campaign, flt or CampaignAccountsFilter()), order_by, descending).select_related(
        "account")
