"""Erasure for a data-subject request: accounts (with everything about them) or one contact, deleted for good.

What goes, for an account: its contacts, status history, fit scores, scoring-run items, campaign rows with their
tags, messages and outreach attempts (attempts not sent yet are cancelled first), its shares of API usage and its
link from API usage records (the calls and their cost stay, unattributed). For a contact: the messages and outreach
attempts addressed to that person, the campaign rows' choice of them (and the snapshot of their details); a row whose
next attempt was for them is unplanned (a campaign that plans by itself plans it again with the contacts left).
Campaign counters are set from the rows left, in the same transaction, every campaign concerned locked.

The audit keeps that an erasure happened — action (``account.erase``, ``contact.erase``), object type and id, who,
when — and no personal data: the erasure's own event holds counts only, and every earlier event about an erased
object (the account, its contacts, rows, messages, attempts, and the records of accounts merged into it) loses its
``before``/``after``, which held the person's details; the project's import history (row errors, an e-mail import's
sender) loses the erased names, addresses and phones. ``suppress`` puts the erased e-mail addresses and phone numbers
on the project's suppression list (source ``erasure``) so they are never imported or contacted again;
``suppress_domain`` adds the accounts' domains too (a whole organisation: only when asked).

Erasing needs the member role, as deleting a campaign (which removes its messages for good) does.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from tortoise.transactions import in_transaction

from outboundql import models
from outboundql.enums import UNSENT_ATTEMPTS, AttemptStatus, Role, SuppressionKind
from outboundql.services import audit, campaign_stats, events, execution, runtime, sql, suppressions
from outboundql.services.access import Access
from outboundql.services.locks import locked_campaign

ERASURE_SOURCE = "erasure"


@dataclass(frozen=True, slots=True)
class DeleteAccounts:
    account_ids: Sequence[int]
    suppress: bool = False
    suppress_domain: bool = False


@dataclass(frozen=True, slots=True)
class DeleteContact:
    contact_id: int
    suppress: bool = False


@dataclass(frozen=True, slots=True)
class Erased:
    """What an erasure removed (ids no longer exist) and how many suppression entries it added."""

    account_ids: list[int]
    contact_ids: list[int]
    campaign_account_ids: list[int]
    message_ids: list[int]
    attempt_ids: list[int]
    suppressed: int
    campaign_ids: list[int]
    """The campaigns whose rows changed."""


async def delete_accounts(access: Access, cmd: DeleteAccounts) -> Erased:
    """Erase accounts and everything about them (all or nothing: an id that names no account of the viewer's
    projects refuses the request, NOT_FOUND at its position)."""
    accounts = await access.get_many(models.Account, list(cmd.account_ids), Role.MEMBER, field="account_ids",
                                     noun="accounts", limit=runtime.settings().max_bulk_items)
    ids = [a.id for a in accounts]
    async with in_transaction() as conn:
        rows = await _values(
            conn, "SELECT id, campaign_id, account_id FROM campaign_account WHERE account_id IN ({})", ids)
        campaign_ids = sorted({int(r["campaign_id"]) for r in rows})
        for campaign_id in campaign_ids:  # in id order, as every writer of campaign rows locks
            await locked_campaign(campaign_id)
        row_ids = [int(r["id"]) for r in rows]
        contacts = await _values(
            conn, "SELECT id, project_id, account_id, name, email, phone FROM contact WHERE account_id IN ({})", ids)
        contact_ids = [int(c["id"]) for c in contacts]
        message_ids = await _ids(conn, "SELECT id FROM message WHERE campaign_account_id IN ({})", row_ids)
        attempt_ids = await _ids(conn, "SELECT id FROM outreach_attempt WHERE campaign_account_id IN ({})", row_ids)
        merged = await _merged_into(conn, {a.project_id for a in accounts}, set(ids))
        now = runtime.now()
        await execution.cancel_pending(row_ids, "The account was erased.", now)
        for part in sql.chunks(row_ids):
            await models.OutreachAttempt.filter(campaign_account_id__in=list(part)).delete()
            await models.Message.filter(campaign_account_id__in=list(part)).delete()
            await models.CampaignAccountTag.filter(campaign_account_id__in=list(part)).delete()
            await models.CampaignAccount.filter(id__in=list(part)).delete()
        if contact_ids:  # another row aiming at one of them (after a merge) forgets it
            await models.CampaignAccount.filter(contact_id__in=contact_ids).update(contact_id=None,
                                                                                   contact_snapshot=None)
            await models.Message.filter(contact_id__in=contact_ids).delete()
            await models.OutreachAttempt.filter(contact_id__in=contact_ids).delete()
        await models.FitScore.filter(account_id__in=ids).delete()
        await models.ScoringRunItem.filter(account_id__in=ids).delete()
        await models.AccountStatusChange.filter(account_id__in=ids).delete()
        await models.ApiUsageShare.filter(account_id__in=ids).delete()
        await models.ApiUsage.filter(account_id__in=ids).update(account_id=None)
        await models.Contact.filter(account_id__in=ids).delete()
        await models.Account.filter(id__in=ids).delete()
        for campaign_id in campaign_ids:
            campaign = await models.Campaign.get(id=campaign_id)
            await models.Campaign.filter(id=campaign_id).update(**await campaign_stats.exact(campaign))
        personal: dict[int, set[str]] = defaultdict(set)
        for account in accounts:
            personal[account.project_id].update(v for v in (account.email, account.phone) if v)
        for contact in contacts:
            personal[int(contact["project_id"])].update(
                str(contact[k]) for k in ("name", "email", "phone") if contact[k])
        for project_id, values in personal.items():
            await _redact_imports(project_id, values)
        for kind, object_ids in (("Account", ids + merged), ("Contact", contact_ids),
                                 ("CampaignAccount", row_ids), ("Message", message_ids),
                                 ("OutreachAttempt", attempt_ids)):
            await _forget(kind, object_ids)
        suppressed = 0
        if cmd.suppress or cmd.suppress_domain:
            by_project: dict[int, list[suppressions.Entry]] = defaultdict(list)
            for account in accounts:
                if cmd.suppress:
                    by_project[account.project_id] += _entries(account.email, account.phone)
                if cmd.suppress_domain and account.domain:
                    by_project[account.project_id].append(suppressions.Entry(
                        SuppressionKind.DOMAIN, account.domain, "Erased on request."))
            for contact in contacts:
                if cmd.suppress:
                    by_project[int(contact["project_id"])] += _entries(contact["email"], contact["phone"])
            for project_id, entries in by_project.items():
                suppressed += await suppressions.add(project_id, entries, ERASURE_SOURCE, access.user)
        for account in accounts:
            await audit.record(project_id=account.project_id, actor=access.user, action="account.erase",
                               row=account, after={
                                   "contacts": sum(1 for c in contacts if c["account_id"] == account.id),
                                   "campaign_rows": sum(1 for r in rows if r["account_id"] == account.id),
                                   "suppress": cmd.suppress, "suppress_domain": cmd.suppress_domain})
    for account in accounts:
        await events.publish_account_change(account.project_id, account.id, "deleted")
    for campaign_id in campaign_ids:
        await events.publish_campaign_event(campaign_id, "accounts_changed")
    return Erased(account_ids=ids, contact_ids=contact_ids, campaign_account_ids=row_ids, message_ids=message_ids,
                  attempt_ids=attempt_ids, suppressed=suppressed, campaign_ids=campaign_ids)


async def delete_contact(access: Access, cmd: DeleteContact) -> Erased:
    """Erase one contact: the messages and attempts addressed to them go, rows aiming at them forget them."""
    contact = await access.get(models.Contact, cmd.contact_id, Role.MEMBER, field="contact_id")
    async with in_transaction() as conn:
        rows = await _values(conn, "SELECT id, campaign_id FROM campaign_account WHERE account_id IN ({})",
                             [contact.account_id])
        campaign_ids = sorted({int(r["campaign_id"]) for r in rows})
        for campaign_id in campaign_ids:
            await locked_campaign(campaign_id)
        attempts = await models.OutreachAttempt.filter(contact_id=contact.id).values(
            "id", "campaign_account_id", "status")
        attempt_ids = [int(a["id"]) for a in attempts]
        waiting = sorted({int(a["campaign_account_id"]) for a in attempts
                          if AttemptStatus(a["status"]) in UNSENT_ATTEMPTS})
        if waiting:  # their next attempt was for this person: planned again with the contacts left
            await execution.unplan(waiting, "The contact was erased.")
        message_ids = await sql.column(models.Message.filter(contact_id=contact.id).values_list("id", flat=True))
        aiming = await sql.column(models.CampaignAccount.filter(contact_id=contact.id).values_list("id", flat=True))
        await models.OutreachAttempt.filter(contact_id=contact.id).delete()
        await models.Message.filter(contact_id=contact.id).delete()
        await models.CampaignAccount.filter(contact_id=contact.id).update(contact_id=None, contact_snapshot=None)
        await models.Contact.filter(id=contact.id).delete()
        await _redact(contact.account_id, [int(r["id"]) for r in rows],
                      [v for v in (contact.name, contact.email, contact.phone) if v])
        await _redact_imports(contact.project_id, {v for v in (contact.name, contact.email, contact.phone) if v})
        await _forget("Contact", [contact.id])
        await _forget("Message", message_ids)
        await _forget("OutreachAttempt", attempt_ids)
        await _forget("CampaignAccount", await _naming_contact([int(r["id"]) for r in rows], contact.id, aiming))
        suppressed = 0
        if cmd.suppress:
            suppressed = await suppressions.add(contact.project_id, _entries(contact.email, contact.phone),
                                                ERASURE_SOURCE, access.user)
        await audit.record(project_id=contact.project_id, actor=access.user, action="contact.erase", row=contact,
                           after={"account_id": contact.account_id, "suppress": cmd.suppress})
    for campaign_id in campaign_ids:
        await events.publish_campaign_event(campaign_id, "accounts_changed")
        if waiting:
            await execution.plan_added(campaign_id)
    await events.publish_account_change(contact.project_id, contact.account_id, "updated")
    return Erased(account_ids=[], contact_ids=[contact.id], campaign_account_ids=[], message_ids=message_ids,
                  attempt_ids=attempt_ids, suppressed=suppressed, campaign_ids=campaign_ids)


def _entries(email: str | None, phone: str | None) -> list[suppressions.Entry]:
    entries = []
    if email:
        entries.append(suppressions.Entry(SuppressionKind.EMAIL, email, "Erased on request."))
    if phone:
        entries.append(suppressions.Entry(SuppressionKind.PHONE, phone, "Erased on request."))
    return entries


async def _values(conn: Any, query: str, ids: Sequence[int]) -> list[dict[str, Any]]:
    """``query`` (its ``{}`` an id list) over ``ids`` in chunks."""
    found: list[dict[str, Any]] = []
    for part in sql.chunks(list(ids)):
        found += await conn.execute_query_dict(query.format(sql.int_list(part)))
    return found


async def _ids(conn: Any, query: str, ids: Sequence[int]) -> list[int]:
    return [int(r["id"]) for r in await _values(conn, query, ids)]


REDACTED = "[erased]"

#: Free text at an account (and its campaign rows) that may name a contact, by model.
_FREE_TEXT: tuple[tuple[type[Any], str, tuple[str, ...]], ...] = (
    (models.CampaignAccount, "id", ("notes",)),
    (models.Message, "campaign_account_id", ("subject", "original_text", "translated_text")),
    (models.OutreachAttempt, "campaign_account_id", ("subject", "body", "address", "notes")),
    (models.Signal, "campaign_account_id", ("text",)),
)


async def _redact(account_id: int, row_ids: list[int], values: list[str]) -> None:
    """Replace a contact's name, e-mail and phone in the free text kept at their account (its status notes, its
    campaign rows' notes, the messages and attempts of those rows) by a mark: the text stays, the person goes."""
    if not values:
        return
    targets: list[tuple[Any, list[str]]] = [
        (models.AccountStatusChange.filter(account_id=account_id), ["note"])]
    if row_ids:
        targets += [(model.filter(**{f"{key}__in": row_ids}), list(names)) for model, key, names in _FREE_TEXT]
    for queryset, names in targets:
        for row in await queryset:
            changed = False
            for name in names:
                text = getattr(row, name)
                if not text:
                    continue
                for value in values:
                    text = text.replace(value, REDACTED)
                if text != getattr(row, name):
                    setattr(row, name, text)
                    changed = True
            if changed:
                await row.save(update_fields=names)


async def _redact_imports(project_id: int, values: set[str]) -> None:
    """Replace the erased values in the project's import history by the mark: the row errors' reasons (they
    quote cells and addresses) and a sender that is an erased address. The files themselves are not kept once
    a job ends."""
    if not values:
        return
    ordered = sorted(values, key=len, reverse=True)  # a longer value first (a name holding another)
    for job in await models.ImportJob.filter(project_id=project_id).only("id", "row_errors", "sender"):
        errors = [{**e, "reason": _redacted(e["reason"], ordered)} if isinstance(e.get("reason"), str) else e
                  for e in job.row_errors]
        sender = REDACTED if job.sender in values else job.sender
        if errors != job.row_errors or sender != job.sender:
            await models.ImportJob.filter(id=job.id).update(row_errors=errors, sender=sender)


def _redacted(text: str, values: Sequence[str]) -> str:
    for value in values:
        text = text.replace(value, REDACTED)
    return text


async def _forget(object_type: str, object_ids: Iterable[int]) -> None:
    """Earlier audit events about these objects keep what happened, by whom and when, but lose the details."""
    for part in sql.chunks(sorted(set(object_ids))):
        await models.AuditEvent.filter(object_type=object_type, object_id__in=list(part)).update(
            before=None, after=None)


async def _merged_into(conn: Any, project_ids: set[int], account_ids: set[int]) -> list[int]:
    """Accounts merged into these ones earlier: their merge record holds what the erased account took from them."""
    found = await models.AuditEvent.filter(project_id__in=sorted(project_ids), action="account.merged_into",
                                           object_type="Account").values("object_id", "after")
    return [int(r["object_id"]) for r in found
            if isinstance(r["after"], dict) and r["after"].get("target_id") in account_ids]


async def _naming_contact(row_ids: list[int], contact_id: int, aiming: list[int]) -> list[int]:
    """Rows whose audit events held the contact's details (they chose the contact at some point)."""
    named = set(aiming)
    for event in await models.AuditEvent.filter(object_type="CampaignAccount", object_id__in=row_ids).values(
            "object_id", "before", "after"):
        for data in (event["before"], event["after"]):
            if isinstance(data, dict) and data.get("contact_id") == contact_id:
                named.add(int(event["object_id"]))
    return sorted(named)
