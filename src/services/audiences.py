"""Campaign audiences: a campaign whose audience is a saved filter, or its market's landscape, is filled from it.

`sync_audience` (``syncCampaignAudience``) puts every account the audience matches into the campaign through the
goal's guardrails, exactly as a bulk add does (`campaign_accounts.add_accounts`, so the rows' bookkeeping is the
same), and answers what it added and what the guardrails refused, grouped by reason. Up to `INLINE_LIMIT` matched
accounts are synced within the request; a larger audience is synced by a job (``sync_audience``) in slices of
`SLICE`, its progress on the `AudienceSync` row and announced on the campaign (``audience_sync_progress``).

Rows the audience added are marked (``CampaignAccount.via_audience``). When such an account no longer matches (the
account changed, the filter changed, the audience was switched to manual), its row is released — removed — only
when nobody worked on it (`has_work`); a row with work stays, counted as ``kept``. Rows added by hand are never
released.

A campaign that opts in (``audience_config["auto_add"]``) also fills itself as accounts are created, imported or
change: `accounts_changed` runs after those writes commit, for the accounts they touched.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from tortoise import connections
from tortoise.transactions import in_transaction

from outboundql import models
from outboundql.enums import (
    AudienceSyncStatus,
    ExecutionStatus,
    GoalOutcome,
    OutreachStatus,
    ReviewStatus,
    Role,
)
from outboundql.errors import InvalidInput, NotFound
from outboundql.goals.guardrails import BlockedGroup
from outboundql.goals.registry import GoalRegistry
from outboundql.services import audit, campaign_accounts, campaign_removal, events, markets, runtime, saved_filters
from outboundql.services.access import Access
from outboundql.services.jobs import JobsUnavailable
from outboundql.services.locks import locked_campaign
from outboundql.services.sql import chunks, int_list

#: Matched accounts synced within the request; a larger audience is synced by a job.
INLINE_LIMIT = 2_000
#: Accounts a job adds per transaction (and between two progress events).
SLICE = 1_000
#: Refused account ids kept per group on a sync (the count is always exact).
MAX_BLOCKED_IDS = 1_000
#: A queued or running sync whose heartbeat is older than this is taken over by the next sync.
STALLED_AFTER = timedelta(minutes=10)

KINDS = ("manual", "saved_filter", "market")

log = logging.getLogger(__name__)


# --- what the audience is ---------------------------------------------------------------------------------


def kind_of(campaign: models.Campaign) -> str:
    return str((campaign.audience_config or {}).get("kind") or "manual")


def fills_itself(campaign: models.Campaign) -> bool:
    """Whether the campaign opted in to be filled as matching accounts are created, imported or change."""
    return kind_of(campaign) != "manual" and bool((campaign.audience_config or {}).get("auto_add"))


async def expression_of(campaign: models.Campaign) -> Any | None:
    """The filter expression of the campaign's audience; None for a manual audience (or a market without a
    landscape, or a saved filter since deleted)."""
    return (await expressions_of([campaign]))[campaign.id]


async def expressions_of(campaigns: Sequence[models.Campaign]) -> dict[int, Any | None]:
    """`expression_of` each campaign, by campaign id: one query for their saved filters, one for their markets."""
    def filter_id(campaign: models.Campaign) -> Any:
        return (campaign.audience_config or {}).get("filter_id")

    filter_ids = {filter_id(c) for c in campaigns if kind_of(c) == "saved_filter"}
    market_ids = {c.market_id for c in campaigns if kind_of(c) == "market" and c.market_id is not None}
    expressions: dict[tuple[str, int, int], Any] = {}  # (kind, project, id)
    ints = sorted(i for i in filter_ids if isinstance(i, int) and not isinstance(i, bool))
    for row in await models.SavedFilter.filter(id__in=ints) if ints else ():
        expressions["saved_filter", row.project_id, row.id] = row.expression
    for market in await models.Market.filter(id__in=sorted(market_ids)) if market_ids else ():
        expressions["market", market.project_id, market.id] = markets.landscape(market.filters)
    out: dict[int, Any | None] = {}
    for campaign in campaigns:
        kind = kind_of(campaign)
        key = filter_id(campaign) if kind == "saved_filter" else campaign.market_id if kind == "market" else None
        out[campaign.id] = expressions.get((kind, campaign.project_id, key)) if isinstance(key, int) else None
    return out


async def matching_ids(access: Access, campaign: models.Campaign) -> list[int] | None:
    """Ids of the project's accounts the campaign's audience matches, ordered by id; None when it has none."""
    config = campaign.audience_config or {}
    if kind_of(campaign) == "saved_filter":
        try:
            return await saved_filters.matching_account_ids(access, campaign.project_id, config.get("filter_id"))
        except NotFound:
            return None
    expression = await expression_of(campaign)
    if expression is None:
        return None
    return await saved_filters.account_ids_matching(campaign.project_id, expression)


# --- syncing ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SyncCampaignAudience:
    campaign_id: int


@dataclass(frozen=True, slots=True)
class AudienceSynced:
    campaign: models.Campaign
    """The campaign, its counters as the sync left them (a job's: as it started)."""
    sync: models.AudienceSync
    """Done (a small audience), queued or running (a job), or the sync already running (``started`` false)."""
    started: bool = True


def blocked_groups(sync: models.AudienceSync) -> list[BlockedGroup]:
    """The sync's refused accounts, grouped like a bulk add's (ids kept up to `MAX_BLOCKED_IDS` per group; use
    `blocked_count` for the exact count)."""
    return [BlockedGroup(reason=g["reason"], status=g["status"], account_ids=tuple(g["account_ids"]),
                         message=g["message"], override_flag=g.get("override_flag")) for g in sync.blocked or ()]


def blocked_count(group: dict[str, Any]) -> int:
    return int(group.get("count", len(group.get("account_ids", ()))))


async def sync_audience(access: Access, goals: GoalRegistry, cmd: SyncCampaignAudience) -> AudienceSynced:
    """Fill the campaign from its audience now (a job for more than `INLINE_LIMIT` accounts). One sync per
    campaign at a time: while one runs, it is answered (``started`` false)."""
    campaign = await access.get(models.Campaign, cmd.campaign_id, Role.MEMBER, field="campaign_id")
    if campaign.archived_at is not None:
        raise InvalidInput("This campaign is archived; unarchive it to fill it from its audience.",
                           field="campaign_id")
    if goals.get(campaign.goal_key) is None:
        raise InvalidInput(f"This campaign's goal {campaign.goal_key!r} is not installed; switch the goal first.",
                           field="campaign_id")
    if kind_of(campaign) == "manual":
        raise InvalidInput("This campaign's audience is manual: set its audience to a saved filter (or its market) "
                           "with updateCampaign, or add accounts with addAccountsToCampaign.", field="campaign_id")
    target = await matching_ids(access, campaign)
    if target is None:
        raise InvalidInput("This campaign's audience matches nothing: its market has no filters, or it has no "
                           "market; set the market's filters or choose a saved filter.", field="campaign_id")
    inline = len(target) <= INLINE_LIMIT
    now = runtime.now()
    async with in_transaction():
        campaign = await locked_campaign(campaign.id)
        active = await models.AudienceSync.filter(active_campaign_id=campaign.id).first()
        if active is not None and (active.heartbeat_at or active.created_at) > now - STALLED_AFTER:
            return AudienceSynced(campaign=campaign, sync=active, started=False)
        if active is not None:
            await models.AudienceSync.filter(id=active.id).update(
                status=AudienceSyncStatus.FAILED, active_campaign_id=None, finished_at=now,
                error="The sync stopped answering and was taken over by a new one.")
        sync = await models.AudienceSync.create(
            project_id=campaign.project_id, campaign_id=campaign.id, active_campaign_id=campaign.id,
            status=AudienceSyncStatus.RUNNING if inline else AudienceSyncStatus.QUEUED, total=len(target),
            heartbeat_at=now, created_by=access.user)
        await audit.record(project_id=campaign.project_id, actor=access.user, action="campaign.sync_audience",
                           row=campaign, after={"sync_id": sync.id, "matched": len(target), "job": not inline})
    if inline:
        sync = await _fill(sync, access, goals, target)
        campaign = await models.Campaign.get(id=campaign.id)
        return AudienceSynced(campaign=campaign, sync=sync)
    try:
        await runtime.jobs().sync_audience(sync.id)
    except JobsUnavailable:
        log.warning("Audience sync %s was not enqueued; the next syncCampaignAudience takes it over once stale.",
                    sync.id, exc_info=True)
    await _publish(sync)
    return AudienceSynced(campaign=campaign, sync=sync)


async def run_sync(sync_id: int) -> None:
    """The job: fill the campaign of sync ``sync_id`` from its audience as it is now. A sync that is not queued
    (done, failed, or taken by another run) is left alone, so a duplicate message does nothing."""
    claimed = await models.AudienceSync.filter(id=sync_id, status=AudienceSyncStatus.QUEUED).update(
        status=AudienceSyncStatus.RUNNING, heartbeat_at=runtime.now())
    if not claimed:
        return
    sync = await models.AudienceSync.get(id=sync_id)
    campaign = await models.Campaign.get_or_none(id=sync.campaign_id)
    if campaign is None:
        return
    access = await _job_access(sync)
    target = await matching_ids(access, campaign)
    await _fill(sync, access, runtime.goals(), target or [])


async def _job_access(sync: models.AudienceSync) -> Access:
    """Whom a job acts as: the member who asked (still a member), else the engine of the project."""
    if sync.created_by_id is not None:
        user = await models.User.get_or_none(id=sync.created_by_id)
        if user is not None:
            access = await Access.for_user(user)
            if access.roles.get(sync.project_id) is not None and access.roles[sync.project_id].rank >= Role.MEMBER.rank:
                return access
    return Access.engine(sync.project_id)


async def _fill(sync: models.AudienceSync, access: Access, goals: GoalRegistry, target: list[int]
                ) -> models.AudienceSync:
    """Add ``target`` slice by slice (progress after each), then release the audience's rows that no longer match
    and nobody worked on. A failure ends the sync FAILED with the reason (and is raised again)."""
    sync.status, sync.total = AudienceSyncStatus.RUNNING, len(target)
    try:
        blocked: dict[tuple[str, str], dict[str, Any]] = {}
        for part in chunks(target, SLICE):
            result = await _add(sync.campaign_id, access, goals, list(part))
            sync.done += len(part)
            sync.added += result.added
            sync.already_present += result.already_present
            _merge_blocked(blocked, result.blocked)
            sync.blocked = list(blocked.values())
            sync.heartbeat_at = runtime.now()
            await sync.save(update_fields=["status", "total", "done", "added", "already_present", "blocked",
                                           "heartbeat_at", "updated_at"])
            await _publish(sync)
        sync.removed, sync.kept = await _release(sync.campaign_id, set(target))
        sync.status, sync.finished_at, sync.active_campaign_id = AudienceSyncStatus.COMPLETED, runtime.now(), None
        await sync.save()
    except Exception as exc:
        sync.status, sync.finished_at, sync.active_campaign_id = AudienceSyncStatus.FAILED, runtime.now(), None
        sync.error = f"{type(exc).__name__}: {exc}"
        await sync.save()
        await _publish(sync)
        raise
    await _publish(sync)
    return sync


async def _add(campaign_id: int, access: Access, goals: GoalRegistry, account_ids: list[int]
               ) -> campaign_accounts.AccountsAdded:
    """Add through the bulk add (guardrails, counters, planning), then mark the rows it added as the audience's."""
    present = set(cast("list[int]", await models.CampaignAccount.filter(
        campaign_id=campaign_id, account_id__in=account_ids).values_list("account_id", flat=True)))
    result = await campaign_accounts.add_accounts(access, goals, campaign_accounts.AddAccountsToCampaign(
        campaign_id=campaign_id, account_ids=account_ids))
    new = [i for i in account_ids if i not in present]
    if result.added and new:
        await models.CampaignAccount.filter(campaign_id=campaign_id, account_id__in=new).update(via_audience=True)
    return result


def _merge_blocked(into: dict[tuple[str, str], dict[str, Any]], groups: Sequence[BlockedGroup]) -> None:
    for g in groups:
        mine = into.setdefault((g.reason, g.status), {
            "reason": g.reason, "status": g.status, "count": 0, "account_ids": [], "message": g.message,
            "override_flag": g.override_flag})
        mine["count"] += g.count
        room = MAX_BLOCKED_IDS - len(mine["account_ids"])
        if room > 0:
            mine["account_ids"].extend(int(i) for i in g.account_ids[:room])


# --- releasing what no longer matches ---------------------------------------------------------------------

_UNTOUCHED = {
    "review_status": ReviewStatus.PENDING, "outreach_status": OutreachStatus.NOT_STARTED,
    "execution_status": ExecutionStatus.NOT_PLANNED, "goal_outcome": GoalOutcome.OPEN,
}


async def has_work(rows: Sequence[dict[str, Any]]) -> set[int]:
    """Ids of the campaign-account ``rows`` someone worked on: reviewed, overridden, noted, tagged, a contact
    picked, outreach planned or started, an outcome set, a reply classified, or any message or attempt."""
    worked = {
        int(r["id"]) for r in rows
        if any(r[name] != value for name, value in _UNTOUCHED.items()) or r["override_score"] is not None
        or r["notes"] or r["contact_id"] is not None or r["reply_class"] is not None or r["attempts_made"]
    }
    rest = [int(r["id"]) for r in rows if int(r["id"]) not in worked]
    for part in chunks(rest):
        ids = list(part)
        for model in (models.CampaignAccountTag, models.Message, models.OutreachAttempt):
            worked.update(cast("list[int]", await model.filter(campaign_account_id__in=ids).values_list(
                "campaign_account_id", flat=True)))
    return worked


async def _release(campaign_id: int, matching: set[int], among: set[int] | None = None) -> tuple[int, int]:
    """Remove the audience's rows of the campaign whose account is not in ``matching`` (only those of accounts in
    ``among`` when given) and that nobody worked on; answer (removed, kept because of work)."""
    names = ("id", "account_id", *_UNTOUCHED, "override_score", "notes", "contact_id", "reply_class",
             "attempts_made")
    async with in_transaction():
        campaign = await locked_campaign(campaign_id)
        query = models.CampaignAccount.filter(campaign_id=campaign_id, via_audience=True)
        found: list[dict[str, Any]] = []
        if among is None:
            found = list(await query.values(*names))
        for part in chunks(sorted(among or ())):
            found.extend(await query.filter(account_id__in=list(part)).values(*names))
        rows = [r for r in found if int(r["account_id"]) not in matching]
        if not rows:
            return 0, 0
        worked = await has_work(rows)
        remove = sorted(int(r["id"]) for r in rows if int(r["id"]) not in worked)
        if remove:
            accounts = [int(r["account_id"]) for r in rows if int(r["id"]) in set(remove)]
            scored = 0
            for part in chunks(accounts):
                scored += await models.FitScore.filter(product_id=campaign.product_id, goal_key=campaign.goal_key,
                                                       account_id__in=list(part)).count()
            await campaign_removal.remove_rows(campaign, remove, {"total_accounts": -len(remove),
                                                                  "scored_accounts": -scored})
            await audit.record(project_id=campaign.project_id, actor=None, action="campaign.release_audience",
                               row=campaign, after={"removed": len(remove), "campaign_account_ids": remove[:100],
                                                    "kept": len(worked)})
    if remove:
        await events.publish_campaign_event(campaign_id, "accounts_changed")
    return len(remove), len(worked)


async def release_all(campaign: models.Campaign) -> tuple[int, int]:
    """After the audience was switched to manual: release every untouched row it added (those with work stay)."""
    return await _release(campaign.id, set())


# --- filling as accounts change ---------------------------------------------------------------------------


async def accounts_changed(project_id: int, account_ids: Sequence[int]) -> None:
    """After accounts of the project were created, imported or changed (committed): each campaign that fills
    itself adds those its audience now matches (through its goal's guardrails) and releases the untouched rows
    of those that stopped matching. The accounts are judged against every such campaign's audience at once, in
    SQL (`saved_filters.matches_among`). Never raises: the write that called it is done; a failure is logged."""
    if not account_ids:
        return
    try:
        goals = runtime.goals()
        campaigns = [c for c in await models.Campaign.filter(project_id=project_id, archived_at__isnull=True)
                     .order_by("id") if fills_itself(c) and goals.get(c.goal_key) is not None]
        if not campaigns:
            return
        expressions = await expressions_of(campaigns)
        followed = [c for c in campaigns if expressions[c.id] is not None]
        touched = list(dict.fromkeys(int(i) for i in account_ids))
        matched = await saved_filters.matches_among(project_id, [expressions[c.id] for c in followed], touched)
        for campaign, ids in zip(followed, matched, strict=True):
            await _follow(campaign, goals, ids, set(touched) - set(ids))
    except Exception:
        log.exception("Campaign audiences of project %s were not updated for %d changed accounts; "
                      "syncCampaignAudience catches up.", project_id, len(account_ids))


async def _follow(campaign: models.Campaign, goals: GoalRegistry, matched: list[int], unmatched: set[int]) -> None:
    """Add the touched accounts the audience matches; release the untouched rows it had added of those it no
    longer matches."""
    access = Access.engine(campaign.project_id)
    for part in chunks(matched, SLICE):
        await _add(campaign.id, access, goals, list(part))
    if unmatched:
        await _release(campaign.id, set(matched), among=unmatched)


# --- reading ------------------------------------------------------------------------------------------------


async def recent_syncs(campaign_ids: Sequence[int], limit: int) -> dict[int, list[models.AudienceSync]]:
    """The ``limit`` most recent syncs of each campaign, newest first: one statement for all the campaigns."""
    if not campaign_ids or limit <= 0:
        return {}
    conn = connections.get("default")
    names = ", ".join(models.AudienceSync._meta.db_fields)
    rows = await conn.execute_query_dict(
        f"SELECT {names} FROM (SELECT {names}, ROW_NUMBER() OVER (PARTITION BY campaign_id "
        f"ORDER BY created_at DESC, id DESC) AS recency FROM audience_sync WHERE campaign_id IN "
        f"({int_list(sorted(set(campaign_ids)))})) AS ranked WHERE recency <= {int(limit)} "
        f"ORDER BY campaign_id, recency")
    found: dict[int, list[models.AudienceSync]] = {}
    for row in rows:
        sync = models.AudienceSync._init_from_db(**row)
        found.setdefault(sync.campaign_id, []).append(sync)
    return found


async def _publish(sync: models.AudienceSync) -> None:
    await events.publish_campaign_event(sync.campaign_id, "audience_sync_progress", {
        "audience_sync_id": sync.id, "status": sync.status.value, "done": sync.done, "total": sync.total})
