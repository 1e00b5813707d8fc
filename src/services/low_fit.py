"""Remove low-fit accounts from a campaign, in two steps.

The dry run computes the set: rows whose effective score (the override when set, else the fit score
of the campaign's product and goal) is in the ``mismatch`` band, minus the protected rows (approved,
outreach started — each protection can be switched off). It answers the counts and a token bound to
exactly that set. The confirm step recomputes the set with the campaign row locked and removes it only
when its token is the same; any change in between (a new low-fit row, an approval, an override…)
refuses the token. Unscored rows (including rows scored only under another goal) are never targeted;
accounts and fit scores are never deleted, only this campaign's rows (with their tags and messages).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tortoise.transactions import in_transaction

from outboundql import models
from outboundql.enums import Band, OutreachStatus, ReviewStatus, Role
from outboundql.errors import Conflict, InvalidInput
from outboundql.services import audit, campaign_scores, campaign_stats, events, fields
from outboundql.services.access import Access
from outboundql.services.campaign_account_queries import BAND_BOUNDS
from outboundql.services.locks import locked_campaign
from outboundql.services.sql import chunks

MISMATCH_BELOW = BAND_BOUNDS[Band.MISMATCH][1]
assert MISMATCH_BELOW is not None


@dataclass(frozen=True, slots=True)
class Options:
    keep_approved: bool = True
    keep_outreach_started: bool = True


@dataclass(frozen=True, slots=True)
class RemoveLowFitAccounts:
    """A dry run (the default) counts and answers a token; ``dry_run=False`` with that token removes."""

    campaign_id: int
    dry_run: bool = True
    keep_approved: bool = True
    keep_outreach_started: bool = True
    confirm_token: str | None = None

    @property
    def options(self) -> Options:
        return Options(keep_approved=self.keep_approved, keep_outreach_started=self.keep_outreach_started)


@dataclass(slots=True)
class Plan:
    """The rows a confirm would remove, and what the protections kept."""

    campaign_id: int
    options: Options
    remove_ids: list[int] = field(default_factory=list)
    kept_approved: int = 0
    kept_outreach_started: int = 0
    deltas: dict[str, int] = field(default_factory=dict)

    @property
    def token(self) -> str:
        return confirm_token(self.campaign_id, self.options, self.remove_ids)


@dataclass(frozen=True, slots=True)
class LowFitRemoval:
    """What a dry run counted (with its token), or what a confirm removed; and the campaign after it."""

    campaign: models.Campaign
    would_remove: int = 0
    removed: int = 0
    kept_approved: int = 0
    kept_outreach_started: int = 0
    confirm_token: str | None = None


def confirm_token(campaign_id: int, options: Options, ids: Sequence[int]) -> str:
    """sha256 (hex) of the campaign, the options and the sorted ids of the set to remove."""
    body = json.dumps({
        "campaign": int(campaign_id), "keep_approved": options.keep_approved,
        "keep_outreach_started": options.keep_outreach_started, "ids": sorted(int(i) for i in ids),
    }, separators=(",", ":"), sort_keys=True)
    return hashlib.sha256(body.encode()).hexdigest()


async def plan(campaign: models.Campaign, options: Options) -> Plan:
    """The mismatch rows of ``campaign`` split into removed and kept (one query)."""
    rows = await (
        models.CampaignAccount.filter(campaign_id=campaign.id, effective_score__lt=MISMATCH_BELOW)
        .order_by("id").values("id", "review_status", "outreach_status")
    )
    return sort_out(campaign.id, options, rows)


def sort_out(campaign_id: int, options: Options, rows: Iterable[dict[str, Any]]) -> Plan:
    """Split campaign rows (``id``, ``review_status``, ``outreach_status``) into removed and kept by the
    protections, with the counter deltas removing them makes (but the score counters': `campaign_scores`)."""
    result = Plan(campaign_id, options)
    deltas = dict.fromkeys(campaign_stats.COUNTERS, 0)
    for row in rows:
        review = ReviewStatus(row["review_status"])
        outreach = OutreachStatus(row["outreach_status"])
        if options.keep_approved and review is ReviewStatus.APPROVED:
            result.kept_approved += 1
            continue
        if options.keep_outreach_started and outreach is not OutreachStatus.NOT_STARTED:
            result.kept_outreach_started += 1
            continue
        result.remove_ids.append(int(row["id"]))
        deltas["total_accounts"] -= 1
        deltas["approved_accounts"] -= review is ReviewStatus.APPROVED
        deltas["outreached_accounts"] -= outreach in campaign_stats.OUTREACHED
        deltas["responded_accounts"] -= outreach is OutreachStatus.RESPONDED
    result.deltas = deltas
    return result


async def remove_low_fit(access: Access, cmd: RemoveLowFitAccounts) -> LowFitRemoval:
    """Dry run (the default): counts and a confirm token. Confirm (``dry_run=False`` with the token):
    remove exactly the set the token was made for, or refuse with CONFLICT when it changed."""
    options = cmd.options
    token = fields.cleaned("confirm_token", fields.text(200, label="The confirm token"), cmd.confirm_token) or ""
    campaign = await access.get(models.Campaign, cmd.campaign_id, Role.MEMBER, field="campaign_id")
    if cmd.dry_run:
        found = await plan(campaign, options)
        return LowFitRemoval(campaign=campaign, would_remove=len(found.remove_ids),
                             kept_approved=found.kept_approved, kept_outreach_started=found.kept_outreach_started,
                             confirm_token=found.token)
    if not token:
        raise InvalidInput("Removing needs the confirm token of a dry run (run a dry run first).",
                           field="confirm_token")
    async with in_transaction():
        campaign = await locked_campaign(campaign.id)
        found = await plan(campaign, options)
        if found.token != token.lower():
            raise Conflict("The campaign changed since the dry run (or the token is for other options or another "
                           "campaign); run the dry run again and confirm with its new token.",
                           field="confirm_token")
        scores = await campaign_scores.removal_deltas(campaign.id, found.remove_ids)
        for part in chunks(found.remove_ids):
            await models.CampaignAccount.filter(campaign_id=campaign.id, id__in=list(part)).delete()
        await campaign_stats.bump(campaign.id, **{**found.deltas, **scores})
        await audit.record(project_id=campaign.project_id, actor=access.user, action="campaign.remove_low_fit",
                           row=campaign, after={
                               "removed": len(found.remove_ids), "campaign_account_ids": found.remove_ids,
                               "keep_approved": options.keep_approved,
                               "keep_outreach_started": options.keep_outreach_started,
                               "kept_approved": found.kept_approved,
                               "kept_outreach_started": found.kept_outreach_started,
                           })
    campaign = await models.Campaign.get(id=campaign.id)
    if found.remove_ids:
        await events.publish_campaign_event(campaign.id, "accounts_changed")
    return LowFitRemoval(campaign=campaign, would_remove=len(found.remove_ids), removed=len(found.remove_ids),
                         kept_approved=found.kept_approved, kept_outreach_started=found.kept_outreach_started)
