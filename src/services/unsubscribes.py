"""Unsubscribing through the link an e-mail carries (``/unsubscribe/<token>``, RFC 8058 one-click).

The signed token names the attempt whose mail carried it; unsubscribing puts that attempt's address on the
project's suppression list (source ``unsubscribe``), cancels every attempt to that address in the project that did
not go out yet, and moves the rows that planned them on as if the address had turned out suppressed at execution:
the account's next contact is tried, and with nobody left the row is disqualified. Nobody signs in (the token is
the credential), so the audit names no user. A second click (or a mail client's one-click POST after the person's
own) finds the address suppressed and nothing pending: it answers the same, changing nothing.

A reply asking to be removed does the same (`stop_address`, from `outboundql.services.reply_effects`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from tortoise.models import Model
from tortoise.transactions import in_transaction

from outboundql import models
from outboundql.cadence import policy
from outboundql.channels import links
from outboundql.enums import UNSENT_ATTEMPTS, AttemptStatus, SuppressionKind, SuppressionSource
from outboundql.services import attempts, audit, execution, planning, runtime, sql, suppressions
from outboundql.services.locks import locked_campaign

REASON = "Unsubscribed through the link in an e-mail."
CANCELLED = "The recipient unsubscribed: the address is suppressed."


class LinkNotFound(Exception):
    """The token is not a valid unsubscribe link, or its attempt no longer exists."""


@dataclass(frozen=True, slots=True)
class Link:
    """What the unsubscribe page shows: who sent the mail and (partly hidden) to which address."""

    attempt_id: int
    project_id: int
    sender: str
    """The project's name (who the recipient hears from)."""
    address: str
    """The address, its local part hidden but the first letter (``m•••@globex.example``)."""
    unsubscribed: bool
    """Whether the address is suppressed already."""


@dataclass(frozen=True, slots=True)
class Unsubscribed:
    link: Link
    added: bool
    """Whether this click put the address on the list (False: it was there already)."""
    cancelled: int
    """Attempts to the address cancelled now."""


async def _attempt(token: str) -> models.OutreachAttempt:
    attempt_id = links.attempt_of(links.UNSUBSCRIBE, token)
    attempt = await models.OutreachAttempt.get_or_none(id=attempt_id) if attempt_id is not None else None
    if attempt is None or not (attempt.address or "").strip():
        raise LinkNotFound
    return attempt


def _kind(address: str) -> SuppressionKind:
    return SuppressionKind.EMAIL if "@" in address else SuppressionKind.PHONE


async def _link(attempt: models.OutreachAttempt, unsubscribed: bool | None = None) -> Link:
    address = (attempt.address or "").strip()
    project = await models.Project.get(id=attempt.project_id)
    if unsubscribed is None:
        found = await suppressions.suppressed(
            attempt.project_id, **({"emails": [address]} if "@" in address else {"phones": [address]}))
        unsubscribed = found.address(address)
    return Link(attempt.id, attempt.project_id, project.name, masked(address), unsubscribed)


def masked(address: str) -> str:
    """``maria@globex.example`` → ``m•••@globex.example``: enough to recognise one's own, not to read someone's."""
    local, at, domain = address.lower().rpartition("@")
    if not at:
        return "•••" + address[-2:]
    return f"{local[:1]}•••@{domain}"


async def link(token: str) -> Link:
    """The page of a link; `LinkNotFound` for a bad token."""
    return await _link(await _attempt(token))


async def unsubscribe(token: str) -> Unsubscribed:
    """Suppress the link's address in its project and stop every plan to it (one transaction; events after
    commit). Idempotent."""
    attempt = await _attempt(token)
    async with in_transaction():
        stopped = await stop_address(attempt.project_id, (attempt.address or "").strip(), REASON, attempt)
    await stopped.announce()
    return Unsubscribed(await _link(attempt, unsubscribed=True), bool(stopped.added), stopped.cancelled)


@dataclass(slots=True)
class Stopped:
    """What `stop_address` did: whether it put the address on the list, and the attempts it cancelled (by
    campaign)."""

    added: int = 0
    touched: dict[int, list[models.OutreachAttempt]] = field(default_factory=lambda: defaultdict(list))

    @property
    def cancelled(self) -> int:
        return sum(len(v) for v in self.touched.values())

    async def announce(self) -> None:
        """Tell the campaigns' pages (after commit)."""
        for campaign_id, stopped in self.touched.items():
            await execution.changed(campaign_id, [a.campaign_account_id for a in stopped], [a.id for a in stopped])


async def stop_address(project_id: int, address: str, reason: str, audited: Model, *,
                       also_locked: Sequence[int] = ()) -> Stopped:
    """Suppress ``address`` in the project (source ``unsubscribe``) and stop every plan to it, inside the caller's
    transaction (`Stopped.announce` after commit), audited on ``audited`` (the attempt whose link was clicked, the
    reply that asked). ``also_locked``: campaigns the caller writes to afterwards, locked here in the same id order
    as the rest. Idempotent."""
    now = runtime.now()
    pending = models.OutreachAttempt.filter(project_id=project_id, address__iexact=address,
                                            status__in=list(UNSENT_ATTEMPTS))
    touched: dict[int, list[models.OutreachAttempt]] = defaultdict(list)
    campaign_ids = sorted({int(i) for i in await sql.column(pending.values_list("campaign_id", flat=True))}
                          | set(also_locked))
    # Every writer of a campaign's plans takes its lock first, in id order: the scheduler settling an attempt
    # to this address at the same moment waits, then finds it cancelled.
    campaigns = [await locked_campaign(campaign_id) for campaign_id in campaign_ids]
    added = await suppressions.add(project_id, [suppressions.Entry(_kind(address), address, reason)],
                                   SuppressionSource.UNSUBSCRIBE.value, None)
    for campaign in campaigns:
        stopped = await pending.filter(campaign_id=campaign.id).order_by("id")
        if not stopped:
            continue
        await models.OutreachAttempt.filter(id__in=[a.id for a in stopped]).update(
            status=AttemptStatus.CANCELLED, error=CANCELLED, claim_token=None, settled_at=now, updated_at=now)
        plan = await planning.CampaignPlan.of(campaign)
        rows = {row.id: row for row in await models.CampaignAccount.filter(
            id__in=[a.campaign_account_id for a in stopped])}
        people = await planning.people_of(row.account_id for row in rows.values())  # the address reads as none
        for gone in stopped:
            row = rows[gone.campaign_account_id]
            await attempts.advance(plan, row, people[row.account_id], gone, policy.Next.NEXT_CONTACT, now,
                                   skipped=True)
            touched[campaign.id].append(gone)
    cancelled = sum(len(v) for v in touched.values())
    if added or cancelled:
        await audit.record(project_id=project_id, actor=None, action="suppression.unsubscribe",
                           row=audited, after={"address": address, "added": bool(added), "cancelled": cancelled,
                                               "attempt_ids": [a.id for v in touched.values() for a in v][:100]})
    return Stopped(added, touched)
