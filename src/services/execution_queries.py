"""Reading execution: the status a campaign account shows, how many attempts its plan allows, the attempts
of a campaign (filtered, in due order) and per-campaign counts, each page in a bounded number of queries.

Two statuses are shown but never stored: ``disabled`` (the row's ``execution_disabled`` flag, over any
status that is not final) and ``campaign_paused`` (the campaign is PAUSED, over any active status of a row
that is not disabled). Everything here reads; nothing writes.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from tortoise.expressions import Q
from tortoise.functions import Count
from tortoise.queryset import QuerySet

from outboundql import models
from outboundql.cadence import rules
from outboundql.cadence.settings import Cadence
from outboundql.enums import (
    ACTIVE_EXECUTION,
    FINAL_EXECUTION,
    PENDING_ATTEMPTS,
    AttemptStatus,
    Channel,
    ExecutionState,
    ExecutionStatus,
    GoalOutcome,
)
from outboundql.errors import InvalidInput

#: The most campaign accounts an attempts filter names at once.
MAX_FILTER_IDS = 1000


def shown(stored: ExecutionStatus, disabled: bool, state: ExecutionState) -> ExecutionStatus:
    """The status a row with the ``stored`` status and ``disabled`` flag shows in a campaign in ``state``."""
    stored = ExecutionStatus(stored)
    if stored in FINAL_EXECUTION:
        return stored
    if disabled:
        return ExecutionStatus.DISABLED
    if ExecutionState(state) is ExecutionState.PAUSED and stored in ACTIVE_EXECUTION:
        return ExecutionStatus.CAMPAIGN_PAUSED
    return stored


def shown_status(row: models.CampaignAccount, campaign: models.Campaign) -> ExecutionStatus:
    """The execution status ``row`` (of ``campaign``) shows: DISABLED over any status that is not final,
    CAMPAIGN_PAUSED over an active one while the campaign is paused, else the stored status."""
    return shown(row.execution_status, row.execution_disabled, campaign.execution_state)


def max_attempts(cadence: Cadence) -> int:
    """Attempts a row's plan allows: one run of ``retry.max_attempts`` per step (a cadence with no step yet
    counts as one step), so never less than ``retry.max_attempts`` nor than 1."""
    return max(1, len(cadence.steps)) * max(1, cadence.retry.max_attempts)


def shown_status_condition(statuses: Iterable[ExecutionStatus], state: ExecutionState) -> Q:
    """A condition on campaign-account rows of a campaign in ``state``: the row shows one of ``statuses``
    (the rule of `shown`, in SQL)."""
    paused = ExecutionState(state) is ExecutionState.PAUSED
    final = [s.value for s in FINAL_EXECUTION]
    condition = Q(id__in=[])  # matches nothing; each status adds its rows
    for status in {ExecutionStatus(s) for s in statuses}:
        if status is ExecutionStatus.DISABLED:
            part = Q(execution_disabled=True) & ~Q(execution_status__in=final)
        elif status is ExecutionStatus.CAMPAIGN_PAUSED:
            if not paused:
                continue
            part = Q(execution_disabled=False, execution_status__in=[s.value for s in ACTIVE_EXECUTION])
        elif status in FINAL_EXECUTION:
            part = Q(execution_status=status.value)
        elif paused and status in ACTIVE_EXECUTION:
            continue  # shown as CAMPAIGN_PAUSED (or DISABLED) while the campaign is paused
        else:
            part = Q(execution_status=status.value, execution_disabled=False)
        condition |= part
    return condition


@dataclass(frozen=True, slots=True)
class AttemptsFilter:
    """All conditions must hold; a list matches any of its values (an empty list or None: no condition)."""

    statuses: Sequence[AttemptStatus] | None = None
    channels: Sequence[Channel] | None = None
    step: int | None = None
    campaign_account_ids: Sequence[int | None] | None = None
    """Rows of the campaign; None stands for an id that names no row (it matches nothing)."""
    due_before: datetime | None = None
    """Due strictly before this time."""
    due_after: datetime | None = None
    """Due at or after this time."""


def campaign_attempts(campaign_id: int, flt: AttemptsFilter | None = None) -> QuerySet[models.OutreachAttempt]:
    """The attempts of a campaign matching ``flt``, by due time then id, as a queryset a connection pages
    in SQL. The review queue is ``statuses=[AWAITING_APPROVAL]``."""
    flt = flt or AttemptsFilter()
    qs = models.OutreachAttempt.filter(campaign_id=campaign_id)
    if flt.statuses:
        qs = qs.filter(status__in=[AttemptStatus(s).value for s in flt.statuses])
    if flt.channels:
        qs = qs.filter(channel__in=[Channel(c).value for c in flt.channels])
    if flt.step is not None:
        qs = qs.filter(step=flt.step)
    if flt.campaign_account_ids is not None:
        if len(flt.campaign_account_ids) > MAX_FILTER_IDS:
            raise InvalidInput(f"Name at most {MAX_FILTER_IDS} campaign accounts at once "
                               f"(got {len(flt.campaign_account_ids)}).", field="filter.campaign_account_ids")
        if flt.campaign_account_ids:
            qs = qs.filter(campaign_account_id__in=[i for i in flt.campaign_account_ids if i is not None])
    # In UTC, as stored: SQLite compares times as text, so an offset other than +00:00 would sort wrongly.
    if flt.due_before is not None:
        qs = qs.filter(due_at__lt=rules.utc(flt.due_before))
    if flt.due_after is not None:
        qs = qs.filter(due_at__gte=rules.utc(flt.due_after))
    return qs.order_by("due_at", "id")


@dataclass(frozen=True, slots=True)
class ExecutionTally:
    """A campaign's rows counted by shown execution status and by goal outcome (only values with rows, in
    the value sets' order)."""

    statuses: list[tuple[ExecutionStatus, int]]
    goal_outcomes: list[tuple[GoalOutcome, int]]


async def tallies(campaigns: Sequence[models.Campaign]) -> dict[int, ExecutionTally]:
    """`ExecutionTally` of each campaign: one grouped query for all of them."""
    ids = [c.id for c in campaigns]
    states = {c.id: c.execution_state for c in campaigns}
    statuses: dict[int, Counter[ExecutionStatus]] = defaultdict(Counter)
    outcomes: dict[int, Counter[GoalOutcome]] = defaultdict(Counter)
    rows = (
        await models.CampaignAccount.filter(campaign_id__in=ids)
        .annotate(n=Count("id"))
        .group_by("campaign_id", "execution_status", "execution_disabled", "goal_outcome")
        .values("campaign_id", "execution_status", "execution_disabled", "goal_outcome", "n")
    ) if ids else []
    for row in rows:
        campaign_id, n = int(row["campaign_id"]), int(row["n"])
        status = shown(ExecutionStatus(row["execution_status"]), bool(row["execution_disabled"]), states[campaign_id])
        statuses[campaign_id][status] += n
        outcomes[campaign_id][GoalOutcome(row["goal_outcome"])] += n
    return {
        c: ExecutionTally(
            statuses=[(s, statuses[c][s]) for s in ExecutionStatus if statuses[c][s]],
            goal_outcomes=[(o, outcomes[c][o]) for o in GoalOutcome if outcomes[c][o]],
        )
        for c in ids
    }


async def next_attempts(campaign_account_ids: Sequence[int]) -> dict[int, models.OutreachAttempt]:
    """The earliest pending attempt (by due time, then id) of each of these rows that has one: one query."""
    found: dict[int, models.OutreachAttempt] = {}
    pending = models.OutreachAttempt.filter(campaign_account_id__in=list(campaign_account_ids),
                                            status__in=[s.value for s in PENDING_ATTEMPTS])
    for attempt in await pending.order_by("due_at", "id"):
        found.setdefault(attempt.campaign_account_id, attempt)
    return found
