"""Listing a campaign's accounts: filters and orderings a review UI pages through, all in SQL.

The effective score is the override when set, else the account's fit score for the campaign's
(product, goal): a correlated subquery, so a page costs one query whatever its size.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tortoise.expressions import F, Q, RawSQL, Subquery
from tortoise.functions import Coalesce
from tortoise.queryset import QuerySet

from outboundql import models
from outboundql.enums import Band, ExecutionStatus, GoalOutcome, OutreachStatus, ReviewStatus
from outboundql.services.execution_queries import shown_status_condition

BAND_BOUNDS = {Band.MISMATCH: (None, 5.0), Band.MODERATE: (5.0, 8.0), Band.EXCELLENT: (8.0, None)}


def band_of(score: float | None) -> Band | None:
    if score is None:
        return None
    return Band.MISMATCH if score < 5 else Band.MODERATE if score < 8 else Band.EXCELLENT


def _ai_score_sql(campaign: models.Campaign) -> str:
    # product_id is an int and goal keys are validated snake_case, so inlining them is safe.
    product_id, goal = int(campaign.product_id), campaign.goal_key
    assert goal.replace("_", "").isalnum()
    return (
        f"(SELECT f.score FROM fit_score f WHERE f.product_id = {product_id} AND f.goal_key = '{goal}' "
        'AND f.account_id = "campaign_account"."account_id")'
    )


def with_scores(campaign: models.Campaign) -> QuerySet[models.CampaignAccount]:
    """The campaign's rows annotated with ``ai`` (current-goal fit score), ``effective`` and ``unscored``."""
    ai = _ai_score_sql(campaign)
    return (
        models.CampaignAccount.filter(campaign_id=campaign.id)
        .annotate(ai=RawSQL(ai))
        .annotate(effective=Coalesce(F("override_score"), RawSQL(ai)))
        .annotate(unscored=RawSQL(f'(CASE WHEN COALESCE("campaign_account"."override_score", {ai}) IS NULL '
                                  "THEN 1 ELSE 0 END)"))
    )


def stale_ids(campaign: models.Campaign) -> tuple[Subquery, Subquery]:
    """(accounts with a score of this product under another goal, accounts with one under this goal)."""
    other = models.FitScore.filter(product_id=campaign.product_id).exclude(goal_key=campaign.goal_key)
    current = models.FitScore.filter(product_id=campaign.product_id, goal_key=campaign.goal_key)
    return Subquery(other.values("account_id")), Subquery(current.values("account_id"))


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
    qs = with_scores(campaign)
    if flt.bands:
        condition = Q()
        for band in flt.bands:
            low, high = BAND_BOUNDS[Band(band)]
            part = Q(unscored=0)
            if low is not None:
                part &= Q(effective__gte=low)
            if high is not None:
                part &= Q(effective__lt=high)
            condition |= part
        qs = qs.filter(condition)
    if flt.scored is not None:
        qs = qs.filter(unscored=0 if flt.scored else 1)
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
        other, current = stale_ids(campaign)
        stale = Q(account_id__in=other) & ~Q(account_id__in=current)
        qs = qs.filter(stale if flt.stale else ~stale)
    if flt.execution_statuses:
        qs = qs.filter(shown_status_condition(flt.execution_statuses, campaign.execution_state))
    if flt.goal_outcomes:
        qs = qs.filter(goal_outcome__in=[GoalOutcome(o) for o in flt.goal_outcomes])
    return qs


ORDERINGS = {
    "effective_score": ("unscored", "-effective"),  # best first, unscored last, on both databases
    "name": ("account__name",),
    "added_at": ("created_at",),
}


def ordered(qs: QuerySet[models.CampaignAccount], field: str, descending: bool) -> QuerySet[models.CampaignAccount]:
    keys = list(ORDERINGS[field])
    if field == "effective_score":
        keys = ["unscored", "effective" if descending is False else "-effective"]
    elif descending:
        keys = [f"-{k}" for k in keys]
    return qs.order_by(*keys, "-id" if descending else "id")


def campaign_accounts(
    campaign: models.Campaign, flt: CampaignAccountsFilter | None = None, order_by: str = "effective_score",
    descending: bool = True,
) -> QuerySet[models.CampaignAccount]:
    """The campaign's accounts, filtered and ordered (``order_by`` one of `ORDERINGS`: by default the
    effective score, best first, unscored last), as a queryset a connection pages in SQL."""
    return ordered(filter_rows(campaign, flt or CampaignAccountsFilter()), order_by, descending)
