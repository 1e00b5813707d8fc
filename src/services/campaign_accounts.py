"""An account's place in a campaign: adding (through the goal's guardrails), review, override score,
contact, tags, notes and outreach progress. Every change moves the cached statistics in the same
transaction, with the campaign row locked so concurrent writers cannot lose an update; each use case
publishes ``accounts_changed`` on the campaign once its changes committed.

Error fields name the commands' own fields in snake case (``campaign_account_ids[3]``, ``score``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from outboundql import models
from outboundql.cadence.settings import Cadence
from outboundql.enums import Eligibility, ExecutionStatus, GoalOutcome, OutreachStatus, ReviewStatus, Role
from outboundql.errors import Collector, InvalidInput, Issue, NotFound
from outboundql.goals.guardrails import BlockedGroup
from outboundql.goals.registry import GoalRegistry
from outboundql.services import (
    audit,
    campaign_scores,
    campaign_stats,
    events,
    execution,
    fields,
    guardrails,
    saved_filters,
)
from outboundql.services.access import Access
from outboundql.services.commands import UNSET, Maybe, given
from outboundql.services.locks import locked_campaign
from outboundql.services.sql import chunks, int_list, placeholder

MAX_ADD = 10_000

OUTREACH_RANK = {
    OutreachStatus.NOT_STARTED: 0, OutreachStatus.DRAFT: 1, OutreachStatus.SCHEDULED: 2, OutreachStatus.SENT: 3,
    OutreachStatus.BOUNCED: 4, OutreachStatus.RESPONDED: 5,
}


async def visible_campaign(access: Access, campaign_id: int | None) -> models.Campaign | None:
    """The campaign when the viewer may read it; None when there is no such id, no such campaign, or it
    belongs to a project the viewer is not a member of."""
    if campaign_id is None:
        return None
    try:
        return await access.get(models.Campaign, campaign_id)
    except NotFound:
        return None


# --- adding accounts ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AddAccountsToCampaign:
    """Add accounts by id or by a saved filter (exactly one of the two). An id of ``account_ids`` may be
    None: a reference that names no account (answered in `AccountsAdded.not_found_at`)."""

    campaign_id: int
    account_ids: Sequence[int | None] | None = None
    saved_filter_id: int | None = None
    overrides: Sequence[str] = ()


@dataclass(frozen=True, slots=True)
class AccountsAdded:
    campaign: models.Campaign
    """The campaign, its counters as this change left them."""
    added: int = 0
    already_present: int = 0
    blocked: list[BlockedGroup] = field(default_factory=list)
    not_found: list[int] = field(default_factory=list)
    """Ids that are not accounts of the campaign's project."""
    not_found_at: list[int] = field(default_factory=list)
    """Positions in the command's ``account_ids`` that name no account of the project (None or not found)."""


async def add_accounts(access: Access, goals: GoalRegistry, cmd: AddAccountsToCampaign) -> AccountsAdded:
    """Add accounts by id or by saved filter, through the guardrails of the campaign's goal. Idempotent:
    accounts already in the campaign are counted, not added twice."""
    campaign = await access.get(models.Campaign, cmd.campaign_id, Role.MEMBER, field="campaign_id")
    goal = goals.get(campaign.goal_key)
    if goal is None:
        raise InvalidInput(f"This campaign's goal {campaign.goal_key!r} is not installed; switch the goal first.",
                           field="campaign_id")
    if (cmd.account_ids is None) == (cmd.saved_filter_id is None):
        raise InvalidInput("Give either account ids or a saved filter.", field="account_ids")
    if cmd.saved_filter_id is not None:
        matched = await saved_filters.matching_account_ids(access, campaign.project_id, cmd.saved_filter_id)
    else:
        matched = [i for i in cmd.account_ids or () if i is not None]
    ids = list(dict.fromkeys(matched))
    if len(ids) > MAX_ADD:
        if cmd.saved_filter_id is not None:
            raise InvalidInput(f"The saved filter matches {len(ids)} accounts; add at most {MAX_ADD} per call "
                               "(narrow the filter or add by account ids).", field="saved_filter_id")
        raise InvalidInput(f"Add at most {MAX_ADD} accounts per call (got {len(ids)}).", field="account_ids")
    async with in_transaction() as conn:
        campaign = await locked_campaign(campaign.id)
        evaluation = await guardrails.evaluate(campaign.project_id, goal, ids, cmd.overrides, goals)
        admitted = evaluation.admitted_ids
        present: set[int] = set()
        for part in chunks(admitted):
            _, found = await conn.execute_query(
                f"SELECT account_id FROM campaign_account WHERE campaign_id = {int(campaign.id)} "
                f"AND account_id IN ({int_list(part)})")
            present.update(row["account_id"] for row in found)
        new_ids = [i for i in admitted if i not in present]
        await _insert_rows(conn, campaign.id, new_ids)
        await campaign_stats.bump(campaign.id, total_accounts=len(new_ids))
        # A new row of an account already scored (for this goal, or only under another) gets its scores at once.
        await campaign_scores.sync(account_ids=new_ids, campaign_ids=[campaign.id])
        await audit.record(project_id=campaign.project_id, actor=access.user, action="campaign.add_accounts",
                           row=campaign, after={
                               "added": len(new_ids), "already_present": len(present),
                               "blocked": {f"{g.reason}:{g.status}": g.count for g in evaluation.blocked},
                               "overrides": sorted(cmd.overrides), "saved_filter_id": cmd.saved_filter_id,
                           })
        campaign = await models.Campaign.get(id=campaign.id)  # the counters as this change left them
    missing = set(evaluation.missing)
    result = AccountsAdded(
        campaign=campaign, added=len(new_ids), already_present=len(present), blocked=evaluation.blocked,
        not_found=evaluation.missing,
        not_found_at=[n for n, i in enumerate(cmd.account_ids or ()) if i is None or i in missing],
    )
    if result.added:
        await events.publish_campaign_event(campaign.id, "accounts_changed")
        await execution.plan_added(campaign.id)  # a live ON_ADD campaign plans the new rows at once
    return result


# Bulk add writes and reads its (up to 10,000) rows with plain SQL on the transaction's connection:
# building 10,000 ORM objects and parameter terms costs several times the database's own work.
# Ids are inlined only after int() (they come from account rows), everything else is a parameter.
_INSERT_COLUMNS = ("campaign_id", "account_id", "review_status", "outreach_status", "notes", "created_at",
                   "updated_at", "execution_status", "execution_disabled", "goal_outcome", "attempts_made",
                   "plan_round", "score_stale", "attention_level", "attention_at")
_INSERT_ROWS_PER_STATEMENT = 1000  # 15,000 parameters: under SQLite's and PostgreSQL's limits


async def _insert_rows(conn: Any, campaign_id: int, account_ids: Sequence[int]) -> None:
    """INSERT the new join rows with the model's defaults (pending, not started, no notes, not planned)."""
    meta = models.CampaignAccount._meta
    now = datetime.now(UTC)
    constant = [
        meta.fields_map["review_status"].to_db_value(ReviewStatus.PENDING, models.CampaignAccount),
        meta.fields_map["outreach_status"].to_db_value(OutreachStatus.NOT_STARTED, models.CampaignAccount),
        "",
        meta.fields_map["created_at"].to_db_value(now, models.CampaignAccount),
        meta.fields_map["updated_at"].to_db_value(now, models.CampaignAccount),
        meta.fields_map["execution_status"].to_db_value(ExecutionStatus.NOT_PLANNED, models.CampaignAccount),
        False,
        meta.fields_map["goal_outcome"].to_db_value(GoalOutcome.OPEN, models.CampaignAccount),
        0,
        1,
        False,  # its scores are set by `campaign_scores.sync` right after
        0,  # no message yet: nothing to look at, since it was added
        meta.fields_map["attention_at"].to_db_value(now, models.CampaignAccount),
    ]
    width = len(_INSERT_COLUMNS)
    for part in chunks(account_ids, _INSERT_ROWS_PER_STATEMENT):
        groups = ", ".join(
            "(" + ", ".join(placeholder(conn, k * width + c + 1) for c in range(width)) + ")" for k in range(len(part))
        )
        values = [v for account_id in part for v in (campaign_id, int(account_id), *constant)]
        await conn.execute_query(f"INSERT INTO campaign_account ({', '.join(_INSERT_COLUMNS)}) VALUES {groups}",
                                 values)


# --- review ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReviewCampaignAccounts:
    """Set the review status of many campaign accounts. An id may be None: a reference that names no
    campaign account (answered NOT_FOUND at its position)."""

    campaign_account_ids: Sequence[int | None]
    decision: ReviewStatus


@dataclass(frozen=True, slots=True)
class ReviewOutcome:
    """The outcome for one requested id: the row as reviewed, or why it failed."""

    campaign_account: models.CampaignAccount | None = None
    issues: list[Issue] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class CampaignAccountsReviewed:
    outcomes: list[ReviewOutcome]
    """One per requested id, in request order (a repeated id is answered each time)."""
    issues: list[Issue]
    """Each failed id once, at its first position (field ``campaign_account_ids[i]``)."""

    @property
    def changed_count(self) -> int:
        return sum(1 for o in self.outcomes if not o.issues)

    @property
    def failed_count(self) -> int:
        return len(self.outcomes) - self.changed_count


async def _visible_rows(access: Access, ids: Sequence[int], role: Role) -> dict[int, models.CampaignAccount]:
    rows = await access.scope(models.CampaignAccount.filter(id__in=list(ids)), "campaign__project_id").select_related(
        "campaign")
    for row in rows:
        access.require(row.campaign.project_id, role)
    return {row.id: row for row in rows}


async def review(access: Access, cmd: ReviewCampaignAccounts) -> CampaignAccountsReviewed:
    """Set the review status of many campaign accounts; ids that fail are answered with why, the others
    are reviewed all the same (one transaction per campaign). A viewer is refused for the whole request."""
    requested = list(cmd.campaign_account_ids)
    first_index: dict[int, int] = {}
    for index, pk in enumerate(requested):
        if pk is not None:
            first_index.setdefault(pk, index)
    distinct = len(first_index) + sum(1 for pk in requested if pk is None)
    if not distinct or distinct > MAX_ADD:
        raise InvalidInput(f"Review between 1 and {MAX_ADD} campaign accounts at once.",
                           field="campaign_account_ids")
    rows = await _visible_rows(access, list(first_index), Role.MEMBER)
    by_campaign: dict[int, list[int]] = {}
    for row in rows.values():
        by_campaign.setdefault(row.campaign_id, []).append(row.id)
    reviewed: dict[int, models.CampaignAccount] = {}
    for campaign_id, row_ids in by_campaign.items():
        async with in_transaction():
            campaign = await locked_campaign(campaign_id)
            fresh = await models.CampaignAccount.filter(id__in=row_ids)
            delta = 0
            for row in fresh:
                was = row.review_status
                if was is not cmd.decision:
                    delta += (cmd.decision is ReviewStatus.APPROVED) - (was is ReviewStatus.APPROVED)
                    row.review_status = cmd.decision
                    row.reviewed_at = datetime.now(UTC)
                    row.reviewed_by = access.user
                    await row.save(update_fields=["review_status", "reviewed_at", "reviewed_by_id", "updated_at"])
                reviewed[row.id] = row
            await campaign_stats.bump(campaign_id, approved_accounts=delta)
            if review_unplans(cmd.decision, campaign):  # a planned row no longer eligible is not reached out to
                await execution.unplan(row_ids, f"The row was reviewed {cmd.decision.value.upper()}.")
            await audit.record(project_id=campaign.project_id, actor=access.user, action="campaign.review",
                               row=campaign, after={"decision": cmd.decision.value, "campaign_account_ids": row_ids})
    outcomes: list[ReviewOutcome] = []
    issues: list[Issue] = []
    for index, pk in enumerate(requested):
        done = reviewed.get(pk) if pk is not None else None
        if done is not None:
            outcomes.append(ReviewOutcome(campaign_account=done))
            continue
        at = index if pk is None else first_index[pk]
        issue = Issue("NOT_FOUND", "CampaignAccount not found.", f"campaign_account_ids[{at}]")
        outcomes.append(ReviewOutcome(issues=[issue]))
        if at == index:
            issues.append(issue)
    for campaign_id in sorted(by_campaign):
        await events.publish_campaign_event(campaign_id, "accounts_changed")
        await execution.plan_added(campaign_id)  # approved rows of a campaign that plans by itself
    return CampaignAccountsReviewed(outcomes=outcomes, issues=issues)


# --- one campaign account -------------------------------------------------------------------------


async def get_row(access: Access, ca_id: int | None, role: Role = Role.VIEWER, field_name: str = "id"
                  ) -> models.CampaignAccount:
    """The campaign account with its campaign; NOT_FOUND on ``field_name`` when missing or not visible."""
    row = None if ca_id is None else await access.scope(
        models.CampaignAccount.filter(id=ca_id), "campaign__project_id").select_related("campaign").first()
    if row is None:
        raise NotFound("CampaignAccount", field=field_name)  # worded like a wrong-type or malformed id
    access.require(row.campaign.project_id, role, what="CampaignAccount")
    return row


@dataclass(frozen=True, slots=True)
class CampaignAccountChanged:
    campaign_account: models.CampaignAccount
    """The row as changed, with its campaign."""


@dataclass(frozen=True, slots=True)
class SetOverrideScore:
    """Set (0–10, one decimal kept) or clear (None) the score that supersedes the AI score."""

    campaign_account_id: int
    score: float | None


async def set_override_score(access: Access, cmd: SetOverrideScore) -> CampaignAccountChanged:
    """Set or clear the score that supersedes the AI score in this campaign only."""
    row = await get_row(access, cmd.campaign_account_id, Role.MEMBER, "campaign_account_id")
    if cmd.score is not None and not 0 <= cmd.score <= 10:
        raise InvalidInput("The override score must be between 0 and 10.", field="score")
    value = None if cmd.score is None else round(float(cmd.score), 1)
    if row.override_score != value:
        async with in_transaction():
            before = {"override_score": row.override_score}
            # One statement: the effective score follows from the row's kept AI score as it is when the row is
            # written (a scoring batch moving it at the same time waits for the row, then rewrites both).
            await models.CampaignAccount.filter(id=row.id).update(
                override_score=value, effective_score=F("ai_score") if value is None else value,
                updated_at=datetime.now(UTC))
            await row.refresh_from_db(fields=["override_score", "effective_score", "updated_at"])
            await audit.record(project_id=row.campaign.project_id, actor=access.user,
                               action="campaign_account.override_score", row=row, before=before,
                               after={"override_score": value})
    await events.publish_campaign_event(row.campaign_id, "accounts_changed")
    return CampaignAccountChanged(campaign_account=row)


@dataclass(frozen=True, slots=True)
class UpdateCampaignAccount:
    """Only the fields given change. ``contact_id`` None clears the contact; ``outreach_status`` None
    leaves it as it is."""

    id: int
    tags: Maybe[Sequence[str] | None] = UNSET
    notes: Maybe[str | None] = UNSET
    contact_id: Maybe[int | None] = UNSET
    outreach_status: Maybe[OutreachStatus | None] = UNSET
    goal_outcome: Maybe[GoalOutcome | None] = UNSET
    """ACHIEVED or LOST ends the row's outreach plan (pending attempts cancelled); OPEN reopens the outcome only."""


async def update_campaign_account(access: Access, cmd: UpdateCampaignAccount) -> CampaignAccountChanged:
    """Tags, notes, the contact aimed at (its details are snapshotted), outreach status (forward only) and the goal
    outcome (ACHIEVED or LOST ends the row's plan)."""
    row = await get_row(access, cmd.id, Role.MEMBER, "id")
    data = given(cmd, exclude=("id",))
    check = Collector()
    cleaned = fields.clean(
        {k: v for k, v in data.items() if k in ("tags", "notes")},
        {"tags": fields.string_list(max_items=50, max_length=100, label="Tags"),
         "notes": fields.long_text(label="Notes")},
        check,
    )
    contact: models.Contact | None = None
    if data.get("contact_id") is not None:
        contact = await models.Contact.filter(id=data["contact_id"], account_id=row.account_id).first()
        if contact is None:
            check.add("contact_id", "Contact not found at this account.", code="NOT_FOUND")
    new_status = OutreachStatus(data["outreach_status"]) if data.get("outreach_status") else None
    if new_status is not None and (refused := outreach_move_refusal(row.outreach_status, new_status)):
        check.add("outreach_status", refused)
    check.raise_if_any()
    async with in_transaction():
        await locked_campaign(row.campaign_id)
        row = await models.CampaignAccount.filter(id=row.id).select_related("campaign").get()
        before = audit.snapshot(row)
        if "notes" in cleaned:
            row.notes = cleaned["notes"]
        if "contact_id" in data:
            row.contact = contact
            row.contact_snapshot = None if contact is None else {
                "name": contact.name, "title": contact.title, "email": contact.email,
                "linkedin_url": contact.linkedin_url,
            }
        if new_status is not None and outreach_move_refusal(row.outreach_status, new_status):
            raise InvalidInput("Outreach status only moves forward.", field="outreach_status")
        if new_status is not None and new_status is not row.outreach_status:
            await campaign_stats.bump(row.campaign_id, **outreach_deltas(row.outreach_status, new_status))
            row.outreach_status = new_status
        outcome = GoalOutcome(data["goal_outcome"]) if data.get("goal_outcome") else None
        if outcome is not None and outcome is not row.goal_outcome:
            row.goal_outcome = outcome
            if outcome is not GoalOutcome.OPEN:
                await execution.end_plan(row, f"The goal outcome was set to {outcome.value}.")
        await row.save()
        if "tags" in cleaned:
            await set_tags(row, cleaned["tags"])
        old, new = audit.changed(before, audit.snapshot(row))
        if "tags" in cleaned:
            new["tags"] = cleaned["tags"]
        if new:
            await audit.record(project_id=row.campaign.project_id, actor=access.user,
                               action="campaign_account.update", row=row, before=old, after=new)
    await events.publish_campaign_event(row.campaign_id, "accounts_changed")
    return CampaignAccountChanged(campaign_account=row)


def outreach_move_refusal(was: OutreachStatus, new: OutreachStatus) -> str | None:
    """Why the outreach status cannot move from ``was`` to ``new`` (it only moves forward); None when it can."""
    if OUTREACH_RANK[new] < OUTREACH_RANK[was]:
        return f"Outreach status only moves forward: it is {was.value}, so {new.value} would go back."
    return None


def review_unplans(decision: ReviewStatus, campaign: models.Campaign) -> bool:
    """Whether rows reviewed ``decision`` stop being eligible for outreach (a planned one is unplanned): REJECTED,
    or back to PENDING when the cadence admits only APPROVED rows."""
    return decision is ReviewStatus.REJECTED or (
        decision is ReviewStatus.PENDING
        and Cadence.from_stored(campaign.cadence).eligibility is Eligibility.APPROVED_ONLY)


def outreach_deltas(was: OutreachStatus, now: OutreachStatus) -> dict[str, int]:
    """Counter changes for a forward move: outreached once when it first reaches sent, responded once."""
    outreached = (now in campaign_stats.OUTREACHED) - (was in campaign_stats.OUTREACHED)
    responded = (now is OutreachStatus.RESPONDED) - (was is OutreachStatus.RESPONDED)
    return {"outreached_accounts": outreached, "responded_accounts": responded}


async def set_tags(row: models.CampaignAccount, tags: list[str]) -> None:
    await models.CampaignAccountTag.filter(campaign_account_id=row.id).delete()
    await models.CampaignAccountTag.bulk_create(
        [models.CampaignAccountTag(campaign_account_id=row.id, campaign_id=row.campaign_id, tag=t) for t in tags]
    )
