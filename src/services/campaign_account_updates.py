"""Bulk updates of campaign accounts that may partly fail: outreach status, review status, goal outcome and tags of
many rows at once.

The rules are the single-row ones (`campaign_accounts`): outreach status only moves forward, a review decision
moves the approved counter and unplans a row no longer eligible, an ACHIEVED or LOST goal outcome ends the row's
plan. A row that cannot take the change fails alone, with why (not found — another project's row reads the same —,
archived campaign, a backward outreach move) and is left untouched; the others change all the same. Each campaign's
rows change in one transaction with the campaign locked, in a bounded number of statements whatever the number of
rows; its counters move by the exact deltas; one audit event per campaign lists the rows changed.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from tortoise.transactions import in_transaction

from outboundql import models
from outboundql.enums import GoalOutcome, OutreachStatus, ReviewStatus, Role
from outboundql.errors import Collector, Issue
from outboundql.services import audit, campaign_stats, events, execution, fields, runtime, sql
from outboundql.services.access import Access
from outboundql.services.campaign_accounts import (
    outreach_deltas,
    outreach_move_refusal,
    review_unplans,
)
from outboundql.services.locks import locked_campaign

MAX_TAGS = 50


@dataclass(frozen=True, slots=True)
class UpdateCampaignAccounts:
    """The same change for every row of ``campaign_account_ids`` (None in a field: left as it is). An id may be
    None: a reference that names no campaign account (it fails NOT_FOUND at its position)."""

    campaign_account_ids: Sequence[int | None]
    outreach_status: OutreachStatus | None = None
    review_status: ReviewStatus | None = None
    goal_outcome: GoalOutcome | None = None
    add_tags: Sequence[str] = ()
    remove_tags: Sequence[str] = ()


@dataclass(frozen=True, slots=True)
class RowFailure:
    """One requested row that did not change: its position (first occurrence) and why."""

    index: int
    issue: Issue


@dataclass(frozen=True, slots=True)
class CampaignAccountsUpdated:
    updated: list[models.CampaignAccount] = field(default_factory=list)
    """The rows that changed, in request order, as they are now (with their campaign)."""
    unchanged: int = 0
    """Rows that already were as asked."""
    failed: list[RowFailure] = field(default_factory=list)


@dataclass(slots=True)
class _Change:
    """What one campaign's transaction changes."""

    outreach: list[int] = field(default_factory=list)
    review: list[int] = field(default_factory=list)
    goal: list[int] = field(default_factory=list)
    tags_added: list[tuple[int, str]] = field(default_factory=list)
    tags_removed: list[int] = field(default_factory=list)
    deltas: dict[str, int] = field(default_factory=lambda: dict.fromkeys(campaign_stats.COUNTERS, 0))

    @property
    def rows(self) -> set[int]:
        return {*self.outreach, *self.review, *self.goal, *(r for r, _ in self.tags_added), *self.tags_removed}


async def update_campaign_accounts(access: Access, cmd: UpdateCampaignAccounts) -> CampaignAccountsUpdated:
    """Apply one change to many campaign accounts; rows that cannot take it are answered with why and left as they
    were, the others change (one transaction per campaign). Input problems (nothing to change, no ids or too
    many, a tag both added and removed) refuse the whole request; so does a viewer's role."""
    check = Collector()
    tags = fields.clean({"add_tags": list(cmd.add_tags), "remove_tags": list(cmd.remove_tags)}, {
        "add_tags": fields.string_list(max_items=MAX_TAGS, max_length=100, label="Tags to add"),
        "remove_tags": fields.string_list(max_items=MAX_TAGS, max_length=100, label="Tags to remove"),
    }, check)
    add_tags: list[str] = tags.get("add_tags", [])
    remove_tags: list[str] = tags.get("remove_tags", [])
    if both := sorted(set(add_tags) & set(remove_tags)):
        check.add("remove_tags", f"A tag cannot be added and removed at once: {', '.join(both)}.")
    if not (cmd.outreach_status or cmd.review_status or cmd.goal_outcome or add_tags or remove_tags):
        check.add(None, "Nothing to change: give an outreach status, a review status, a goal outcome, or tags to "
                  "add or remove.")
    requested = list(cmd.campaign_account_ids)
    limit = runtime.settings().max_bulk_items
    if not requested or len(requested) > limit:
        check.add("campaign_account_ids", f"Update between 1 and {limit} campaign accounts at once "
                  f"(got {len(requested)}).")
    check.raise_if_any()
    first_index: dict[int, int] = {}
    for index, pk in enumerate(requested):
        if pk is not None:
            first_index.setdefault(pk, index)
    rows: dict[int, models.CampaignAccount] = {}
    for part in sql.chunks(list(first_index)):
        for row in await access.scope(models.CampaignAccount.filter(id__in=list(part)),
                                      "campaign__project_id").select_related("campaign"):
            access.require(row.campaign.project_id, Role.MEMBER)
            rows[row.id] = row
    failures: dict[int, Issue] = {}  # row id (or -index for an id that names nothing) → why
    by_campaign: dict[int, list[int]] = defaultdict(list)
    for pk, index in first_index.items():
        found = rows.get(pk)
        if found is None:
            failures[pk] = Issue("NOT_FOUND", "CampaignAccount not found.", f"campaign_account_ids[{index}]")
        elif found.campaign.archived_at is not None:
            failures[pk] = Issue("INVALID", "This row's campaign is archived: its rows no longer change "
                                 "(unarchive it first).", f"campaign_account_ids[{index}]")
        else:
            by_campaign[found.campaign_id].append(pk)
    changed: set[int] = set()
    unchanged = 0
    touched: dict[int, _Change] = {}
    for campaign_id in sorted(by_campaign):
        change, refused, same = await _update_campaign(access, campaign_id, by_campaign[campaign_id], cmd,
                                                       add_tags, remove_tags)
        for pk, why in refused.items():
            failures[pk] = Issue(why.code, why.message, f"campaign_account_ids[{first_index[pk]}]")
        changed |= change.rows
        unchanged += same
        if change.rows:
            touched[campaign_id] = change
    for campaign_id, change in touched.items():  # after commit: live pages, and plans that follow
        await events.publish_campaign_event(campaign_id, "accounts_changed")
        if change.goal or change.review:
            await execution.changed(campaign_id, sorted({*change.goal, *change.review}))
        if change.review and cmd.review_status is not ReviewStatus.REJECTED:
            await execution.plan_added(campaign_id)  # approved rows of a campaign that plans by itself
    fresh: dict[int, models.CampaignAccount] = {}
    for part in sql.chunks(sorted(changed)):
        fresh.update({r.id: r for r in await models.CampaignAccount.filter(id__in=list(part)).select_related(
            "campaign")})
    failed = [RowFailure(index, failures[pk]) for pk, index in first_index.items() if pk in failures]
    failed += [RowFailure(index, Issue("NOT_FOUND", "CampaignAccount not found.", f"campaign_account_ids[{index}]"))
               for index, pk in enumerate(requested) if pk is None]
    failed.sort(key=lambda f: f.index)
    return CampaignAccountsUpdated(updated=[fresh[pk] for pk in first_index if pk in fresh], unchanged=unchanged,
                                   failed=failed)


async def _update_campaign(access: Access, campaign_id: int, ids: list[int], cmd: UpdateCampaignAccounts,
                           add_tags: list[str], remove_tags: list[str]) -> tuple[_Change, dict[int, Issue], int]:
    """One campaign's rows, under its lock: what changed, the rows refused (why, without a field), and how many
    were already so."""
    change = _Change()
    refused: dict[int, Issue] = {}
    now = runtime.now()
    async with in_transaction() as conn:
        campaign = await locked_campaign(campaign_id)
        if campaign.archived_at is not None:  # archived since the first read
            return change, dict.fromkeys(ids, Issue("INVALID", "This row's campaign is archived: its rows no longer "
                                                    "change (unarchive it first).")), 0
        current = await conn.execute_query_dict(
            "SELECT id, review_status, outreach_status, goal_outcome FROM campaign_account "
            f"WHERE campaign_id = {int(campaign_id)} AND id IN ({sql.int_list(ids)})")
        still_there = {int(values["id"]) for values in current}
        refused.update({pk: Issue("NOT_FOUND", "CampaignAccount not found.")  # deleted since the first read
                        for pk in ids if pk not in still_there})
        have_tags: dict[int, set[str]] = defaultdict(set)
        if add_tags or remove_tags:
            for values in await conn.execute_query_dict(
                    f"SELECT campaign_account_id, tag FROM campaign_account_tag WHERE campaign_account_id IN "
                    f"({sql.int_list(ids)})"):
                have_tags[values["campaign_account_id"]].add(values["tag"])
        same = 0
        for values in current:
            pk = int(values["id"])
            was_outreach = OutreachStatus(values["outreach_status"])
            was_review = ReviewStatus(values["review_status"])
            if cmd.outreach_status and (why := outreach_move_refusal(was_outreach, cmd.outreach_status)):
                refused[pk] = Issue("INVALID", why)
                continue
            if len(have_tags[pk] | set(add_tags) - set(remove_tags)) > MAX_TAGS:
                refused[pk] = Issue("INVALID", f"A campaign account holds at most {MAX_TAGS} tags; these would make "
                                    "more.")
                continue
            moved = False
            if cmd.outreach_status and cmd.outreach_status is not was_outreach:
                change.outreach.append(pk)
                for name, delta in outreach_deltas(was_outreach, cmd.outreach_status).items():
                    change.deltas[name] += delta
                moved = True
            if cmd.review_status and cmd.review_status is not was_review:
                change.review.append(pk)
                change.deltas["approved_accounts"] += (
                    (cmd.review_status is ReviewStatus.APPROVED) - (was_review is ReviewStatus.APPROVED))
                moved = True
            if cmd.goal_outcome and cmd.goal_outcome is not GoalOutcome(values["goal_outcome"]):
                change.goal.append(pk)
                moved = True
            new_tags = [(pk, t) for t in add_tags if t not in have_tags[pk]]
            change.tags_added += new_tags
            if have_tags[pk] & set(remove_tags):
                change.tags_removed.append(pk)
            moved = moved or bool(new_tags) or bool(have_tags[pk] & set(remove_tags))
            same += not moved
        await _write(conn, campaign, change, cmd, access, remove_tags, now)
    return change, refused, same


async def _write(conn: Any, campaign: models.Campaign, change: _Change, cmd: UpdateCampaignAccounts,
                 access: Access, remove_tags: list[str], now: Any) -> None:
    """The statements of one campaign's change (inside its transaction): a few per kind of change, not per row."""
    if not change.rows:
        return
    if change.outreach and cmd.outreach_status:
        await models.CampaignAccount.filter(id__in=change.outreach).update(outreach_status=cmd.outreach_status)
    if change.review and cmd.review_status:
        await models.CampaignAccount.filter(id__in=change.review).update(
            review_status=cmd.review_status, reviewed_at=now, reviewed_by_id=access.user.id)
        if review_unplans(cmd.review_status, campaign):  # a planned row no longer eligible is not reached out to
            await execution.unplan(change.review, f"The row was reviewed {cmd.review_status.value.upper()}.")
    if change.goal and cmd.goal_outcome:
        await models.CampaignAccount.filter(id__in=change.goal).update(goal_outcome=cmd.goal_outcome)
        if cmd.goal_outcome is not GoalOutcome.OPEN:
            await execution.end_plans(change.goal, f"The goal outcome was set to {cmd.goal_outcome.value}.")
    if change.tags_removed:
        await models.CampaignAccountTag.filter(campaign_account_id__in=change.tags_removed,
                                               tag__in=remove_tags).delete()
    await sql.insert_rows(conn, models.CampaignAccountTag, [
        {"campaign_account_id": pk, "campaign_id": campaign.id, "tag": tag} for pk, tag in change.tags_added])
    await models.CampaignAccount.filter(id__in=sorted(change.rows)).update(updated_at=now)
    await campaign_stats.bump(campaign.id, **change.deltas)
    asked = {"outreach_status": cmd.outreach_status, "review_status": cmd.review_status,
             "goal_outcome": cmd.goal_outcome, "add_tags": list(cmd.add_tags) or None,
             "remove_tags": list(cmd.remove_tags) or None}
    await audit.record(project_id=campaign.project_id, actor=access.user, action="campaign.update_accounts",
                       row=campaign, after={
                           **{k: v.value if isinstance(v, enum.Enum) else v for k, v in asked.items() if v},
                           "campaign_account_ids": sorted(change.rows)})
