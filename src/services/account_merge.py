"""Merging duplicate accounts by hand: the sources fold into the target, then disappear.

Fields fill the target's blanks; contacts (deduplicated), status history, campaign rows (folded
where both were in one campaign), fit scores and API usage move to the target. Every campaign
touched is locked and its cached counters set from its rows in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tortoise.transactions import in_transaction

from outboundql import models
from outboundql.enums import ReviewStatus, Role
from outboundql.errors import InvalidInput
from outboundql.services import (
    accounts,
    api_usage,
    audiences,
    audit,
    campaign_scores,
    campaign_stats,
    contacts,
    events,
)
from outboundql.services.access import Access
from outboundql.services.accounts import AccountChanged
from outboundql.services.campaign_accounts import OUTREACH_RANK

MAX_SOURCES = 50


@dataclass(frozen=True, slots=True)
class MergeAccounts:
    """Fold the ``source_ids`` accounts into ``target_id``, which stays."""

    target_id: int
    source_ids: tuple[int, ...]


async def merge_accounts(access: Access, cmd: MergeAccounts) -> AccountChanged:
    """Fold the sources into the target: fields fill the target's blanks; contacts, status history,
    campaign rows and scores move to the target; the sources are then deleted. All or nothing.
    Publishes ``merged`` for the target once committed."""
    target = await access.get(models.Account, cmd.target_id, Role.MEMBER, field="target_id")
    source_list = list(dict.fromkeys(cmd.source_ids))
    if not source_list:
        raise InvalidInput("Give at least one account to merge into the target.", field="source_ids")
    if len(source_list) > MAX_SOURCES:
        raise InvalidInput(f"Merge at most {MAX_SOURCES} accounts at once.", field="source_ids")
    sources = []
    for i, sid in enumerate(source_list):
        source = await access.get(models.Account, sid, Role.MEMBER, field=f"source_ids[{i}]")
        if source.id == target.id:
            raise InvalidInput("An account cannot be merged into itself.", field=f"source_ids[{i}]")
        if source.project_id != target.project_id:
            raise InvalidInput("Accounts of different projects cannot be merged.", field=f"source_ids[{i}]")
        sources.append(source)
    async with in_transaction():
        # Lock every campaign the merge touches (in id order, like other writers lock one) so its cached
        # counters can be set exactly once the rows and scores have moved.
        campaign_ids = sorted(set(await models.CampaignAccount.filter(
            account_id__in=[target.id, *(s.id for s in sources)]).values_list("campaign_id", flat=True)))
        for campaign_id in campaign_ids:
            await models.Campaign.filter(id=campaign_id).select_for_update().get()
        before = audit.snapshot(target)
        for source in sources:
            accounts.fill_empty(target, {**audit.snapshot(source), "contract_end_date": source.contract_end_date})
            await _move_children(source, target)
            await audit.record(project_id=target.project_id, actor=access.user, action="account.merged_into",
                               row=source, before=audit.snapshot(source), after={"target_id": target.id})
            await source.delete()
        await target.save()
        # Rows were folded (an override carried over) and scores moved (a row can become scored, or stale no
        # more): the scores kept on the target's rows follow, then the counters are set from the rows.
        await campaign_scores.sync(account_ids=[target.id], move_counters=False)
        for campaign_id in campaign_ids:
            campaign = await models.Campaign.get(id=campaign_id)
            await models.Campaign.filter(id=campaign_id).update(**await campaign_stats.exact(campaign))
        old, new = audit.changed(before, audit.snapshot(target))
        await audit.record(project_id=target.project_id, actor=access.user, action="account.merge", row=target,
                           before=old, after={**new, "source_ids": [s.id for s in sources]})
    await events.publish_account_change(target.project_id, target.id, "merged")
    await audiences.accounts_changed(target.project_id, [target.id])
    return AccountChanged(target)


_REVIEW_RANK = {ReviewStatus.PENDING: 0, ReviewStatus.REJECTED: 1, ReviewStatus.APPROVED: 2}


async def _fold_campaign_row(row: models.CampaignAccount, kept: models.CampaignAccount) -> None:
    """Carry the work done on a duplicate campaign row into the kept one: the further review decision and
    outreach status, the override and contact when the kept row has none, tags and notes."""
    if _REVIEW_RANK[row.review_status] > _REVIEW_RANK[kept.review_status]:
        kept.review_status, kept.reviewed_at, kept.reviewed_by_id = (
            row.review_status, row.reviewed_at, row.reviewed_by_id)
    if OUTREACH_RANK[row.outreach_status] > OUTREACH_RANK[kept.outreach_status]:
        kept.outreach_status = row.outreach_status
    if kept.override_score is None:
        kept.override_score = row.override_score
    if kept.contact_id is None and row.contact_id is not None:
        kept.contact_id, kept.contact_snapshot = row.contact_id, row.contact_snapshot
    if row.notes and row.notes not in kept.notes:
        kept.notes = f"{kept.notes}\n\n{row.notes}" if kept.notes else row.notes
    await kept.save()
    have = set(await models.CampaignAccountTag.filter(campaign_account_id=kept.id).values_list("tag", flat=True))
    moving = models.CampaignAccountTag.filter(campaign_account_id=row.id)
    if have:
        moving = moving.exclude(tag__in=list(have))
    await moving.update(campaign_account_id=kept.id)


async def _move_children(source: models.Account, target: models.Account) -> None:
    await models.AccountStatusChange.filter(account_id=source.id).update(account_id=target.id)
    await models.ApiUsage.filter(account_id=source.id).update(account_id=target.id)  # keep its cost attributed
    await api_usage.move_shares(source.id, target.id)
    for contact in await models.Contact.filter(account_id=source.id).order_by("id"):
        await contacts.move_contact(contact, target)
    target_campaigns: set[Any] = set(
        await models.CampaignAccount.filter(account_id=target.id).values_list("campaign_id", flat=True)
    )
    for row in await models.CampaignAccount.filter(account_id=source.id):
        if row.campaign_id in target_campaigns:
            kept = await models.CampaignAccount.get(campaign_id=row.campaign_id, account_id=target.id)
            await models.Message.filter(campaign_account_id=row.id).update(campaign_account_id=kept.id)
            await _fold_campaign_row(row, kept)
            await row.delete()
        else:
            row.account_id = target.id
            await row.save(update_fields=["account_id", "updated_at"])
    target_scores = set(
        await models.FitScore.filter(account_id=target.id).values_list("product_id", "goal_key")
    )
    for score in await models.FitScore.filter(account_id=source.id):
        if (score.product_id, score.goal_key) not in target_scores:
            score.account_id = target.id
            await score.save(update_fields=["account_id", "updated_at"])
