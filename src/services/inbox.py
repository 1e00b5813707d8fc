"""A campaign's inbox: the threads that need a person, ordered by attention.

First the threads awaiting our reply (their inbound is the last message sent), the most recent
inbound first; then the threads with unsent drafts, the newest draft first; then the conversations
we already answered (they have an inbound, we wrote after it), the most recent inbound first.
Threads with no inbound and no draft are not in the inbox.

The order is computed from three grouped queries and sorted here; only the rows are loaded per
2,000 ids (the page is cut from the sorted list, not in SQL).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from tortoise.functions import Count, Max

from outboundql import models
from outboundql.models.enums import Direction, MessageStatus
from outboundql.services.campaign_accounts import chunks


@dataclass(frozen=True, slots=True)
class Attention:
    """What a thread holds that a person should look at."""

    last_inbound_at: datetime | None = None
    unsent_drafts: int = 0
    last_draft_at: datetime | None = None
    last_message_at: datetime | None = None
    awaiting_reply: bool = False
    """The most recent sent message is inbound: they wrote last."""


async def _facts(filters: dict[str, object]) -> dict[int, Attention]:
    base = models.Message.filter(**filters)
    inbound = {
        r["campaign_account_id"]: r["last"] for r in await base.filter(direction=Direction.INBOUND)
        .annotate(last=Max("sent_at")).group_by("campaign_account_id").values("campaign_account_id", "last")
    }
    outbound = {
        r["campaign_account_id"]: r["last"] for r in await base.filter(
            direction=Direction.OUTBOUND, status=MessageStatus.SENT)
        .annotate(last=Max("sent_at")).group_by("campaign_account_id").values("campaign_account_id", "last")
    }
    drafts = {
        r["campaign_account_id"]: (r["n"], r["last"]) for r in await base.filter(status=MessageStatus.DRAFT)
        .annotate(n=Count("id"), last=Max("created_at")).group_by("campaign_account_id")
        .values("campaign_account_id", "n", "last")
    }
    out: dict[int, Attention] = {}
    for ca_id in set(inbound) | set(outbound) | set(drafts):
        last_in, last_out = inbound.get(ca_id), outbound.get(ca_id)
        n, last_draft = drafts.get(ca_id, (0, None))
        stamps = [t for t in (last_in, last_out, last_draft) if t is not None]
        out[ca_id] = Attention(
            last_inbound_at=last_in, unsent_drafts=int(n or 0), last_draft_at=last_draft,
            last_message_at=max(stamps) if stamps else None,
            awaiting_reply=last_in is not None and (last_out is None or last_out <= last_in),
        )
    return out


async def attention_by_campaign_account(ids: Sequence[int]) -> dict[int, Attention]:
    """Inbox facts of many campaign accounts (three grouped queries per 2,000 ids)."""
    out: dict[int, Attention] = {}
    for part in chunks(list(ids)):
        out.update(await _facts({"campaign_account_id__in": list(part)}))
    return {i: out.get(i, Attention()) for i in ids}


async def inbox(campaign_id: int) -> list[models.CampaignAccount]:
    """The campaign's threads that need attention, in attention order (see the module docstring)."""
    facts = await _facts({"campaign_account__campaign_id": campaign_id})

    def key(item: tuple[int, Attention]) -> tuple[int, float, int]:
        ca_id, fact = item
        if fact.awaiting_reply and fact.last_inbound_at is not None:
            return 0, -fact.last_inbound_at.timestamp(), -ca_id
        if fact.unsent_drafts and fact.last_draft_at is not None:
            return 1, -fact.last_draft_at.timestamp(), -ca_id
        if fact.last_inbound_at is not None:
            return 2, -fact.last_inbound_at.timestamp(), -ca_id
        return 3, 0.0, 0

    ordered = [ca_id for ca_id, fact in sorted(facts.items(), key=key)
               if fact.last_inbound_at is not None or fact.unsent_drafts]
    rows: dict[int, models.CampaignAccount] = {}
    for part in chunks(ordered):
        rows.update({r.id: r for r in await models.CampaignAccount.filter(id__in=list(part), campaign_id=campaign_id)})
    return [rows[i] for i in ordered if i in rows]
