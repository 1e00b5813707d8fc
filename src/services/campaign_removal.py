"""Remove named accounts from a campaign (an account added by mistake, a lead that turned out wrong).

The rows are named by campaign-account id or by account id (or both). The protections are the low-fit prune's:
approved rows and rows whose outreach started are kept unless switched off, and the counts say what was kept. A dry
run writes nothing and answers what would go, with the same confirm token as the prune; removing may carry that
token (then a campaign that changed since refuses it) or go without one, since the ids already name the set.
Removing a row cancels its attempts not sent yet and deletes the row with its tags, messages and attempts — never the
account or its scores — moves the counters by exact deltas, and is audited; the campaign's page hears of it after
the commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from tortoise.transactions import in_transaction

from outboundql import models
from outboundql.enums import Role
from outboundql.errors import Collector, Conflict, Issue
from outboundql.services import (
    audit,
    campaign_scores,
    campaign_stats,
    events,
    execution,
    fields,
    low_fit,
    runtime,
    sql,
)
from outboundql.services.access import Access
from outboundql.services.campaign_accounts import MAX_ADD
from outboundql.services.locks import locked_campaign


@dataclass(frozen=True, slots=True)
class RemoveAccountsFromCampaign:
    """Rows of ``campaign_id`` named by ``campaign_account_ids`` and/or ``account_ids`` (an id None names nothing:
    it is answered in `AccountsRemoved.not_found_at`)."""

    campaign_id: int
    campaign_account_ids: Sequence[int | None] = ()
    account_ids: Sequence[int | None] = ()
    dry_run: bool = False
    keep_approved: bool = True
    keep_outreach_started: bool = True
    confirm_token: str | None = None


@dataclass(frozen=True, slots=True)
class AccountsRemoved:
    campaign: models.Campaign
    """The campaign, its counters as this change left them."""
    would_remove: int = 0
    removed: int = 0
    kept_approved: int = 0
    kept_outreach_started: int = 0
    confirm_token: str | None = None
    not_found_at: tuple[list[int], list[int]] = field(default_factory=lambda: ([], []))
    """Positions in ``campaign_account_ids`` and in ``account_ids`` that name no row of the campaign."""

    @property
    def not_found_issues(self) -> list[Issue]:
        """A NOT_FOUND issue at each position of ``not_found_at``, on its path in the command."""
        rows_at, accounts_at = self.not_found_at
        return ([Issue("NOT_FOUND", "CampaignAccount not found.", f"campaign_account_ids[{i}]") for i in rows_at]
                + [Issue("NOT_FOUND", "This account is not in the campaign.", f"account_ids[{i}]")
                   for i in accounts_at])


async def remove_accounts(access: Access, cmd: RemoveAccountsFromCampaign) -> AccountsRemoved:
    """Remove the named rows of a campaign but the protected ones (or count them: ``dry_run``)."""
    campaign = await access.get(models.Campaign, cmd.campaign_id, Role.MEMBER, field="campaign_id")
    token = fields.cleaned("confirm_token", fields.text(200, label="The confirm token"), cmd.confirm_token) or ""
    check = Collector()
    asked = len(cmd.campaign_account_ids) + len(cmd.account_ids)
    if not asked:
        check.add("campaign_account_ids", "Name the rows to remove: give campaign account ids or account ids.")
    elif asked > MAX_ADD:
        check.add("campaign_account_ids", f"Remove at most {MAX_ADD} accounts per call (got {asked}).")
    check.raise_if_any()
    options = low_fit.Options(keep_approved=cmd.keep_approved, keep_outreach_started=cmd.keep_outreach_started)
    async with in_transaction() as conn:
        if not cmd.dry_run:
            campaign = await locked_campaign(campaign.id)
        rows = await _rows(conn, campaign, cmd)
        found = low_fit.sort_out(campaign.id, options, sorted(rows.values(), key=lambda r: int(r["id"])))
        named_rows = {int(r["id"]) for r in rows.values()}
        named_accounts = {int(r["account_id"]) for r in rows.values()}
        not_found = ([n for n, i in enumerate(cmd.campaign_account_ids) if i not in named_rows],
                     [n for n, i in enumerate(cmd.account_ids) if i not in named_accounts])
        if cmd.dry_run:
            return AccountsRemoved(campaign=campaign, would_remove=len(found.remove_ids),
                                   kept_approved=found.kept_approved,
                                   kept_outreach_started=found.kept_outreach_started, confirm_token=found.token,
                                   not_found_at=not_found)
        if token and found.token != token.lower():
            raise Conflict("The campaign changed since the dry run (or the token is for other rows or options); run "
                           "the dry run again, or remove without a token.", field="confirm_token")
        await remove_rows(campaign, found.remove_ids, found.deltas)
        await audit.record(project_id=campaign.project_id, actor=access.user, action="campaign.remove_accounts",
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
        await execution.changed(campaign.id, found.remove_ids)
    return AccountsRemoved(campaign=campaign, would_remove=len(found.remove_ids), removed=len(found.remove_ids),
                           kept_approved=found.kept_approved, kept_outreach_started=found.kept_outreach_started,
                           not_found_at=not_found)


async def _rows(conn: Any, campaign: models.Campaign, cmd: RemoveAccountsFromCampaign) -> dict[int, dict[str, Any]]:
    """The named rows of the campaign (``id``, ``account_id``, ``review_status``, ``outreach_status``), by id."""
    rows: dict[int, dict[str, Any]] = {}
    columns = "id, account_id, review_status, outreach_status"
    for column, ids in (("id", cmd.campaign_account_ids), ("account_id", cmd.account_ids)):
        for part in sql.chunks([int(i) for i in dict.fromkeys(ids) if i is not None]):
            for values in await conn.execute_query_dict(
                    f"SELECT {columns} FROM campaign_account WHERE campaign_id = {int(campaign.id)} "
                    f"AND {column} IN ({sql.int_list(part)})"):
                rows[int(values["id"])] = values
    return rows


async def remove_rows(campaign: models.Campaign, row_ids: Sequence[int], deltas: dict[str, int]) -> None:
    """Delete these rows of the campaign (inside the caller's transaction, the campaign locked): their attempts not
    sent yet are cancelled first, then the rows go with their tags, messages and attempts; the counters move by
    ``deltas``, and the score counters by the rows' kept scores (any score counter in ``deltas`` is ignored)."""
    await execution.cancel_pending(row_ids, "The account was removed from the campaign.", runtime.now())
    scores = await campaign_scores.removal_deltas(campaign.id, row_ids)
    for part in sql.chunks(list(row_ids)):
        await models.CampaignAccount.filter(campaign_id=campaign.id, id__in=list(part)).delete()
    await campaign_stats.bump(campaign.id, **{k: v for k, v in deltas.items()
                                              if k not in campaign_scores.SCORE_COUNTERS}, **scores)
