"""A campaign's inbox: the threads that need a person, ordered by attention.

First the threads awaiting our reply (their inbound is the last message sent), the most recent
inbound first; then the threads with unsent drafts, the newest draft first; then the conversations
we already answered (they have an inbound, we wrote after it), the most recent inbound first.
Threads with no inbound and no draft are not in the inbox.

Where a thread stands is kept on its row by the database (`CampaignAccount.attention_level` and ``attention_at``,
set again by triggers whenever one of its messages is written: `outboundql.models.triggers`), so the inbox is one
queryset over the index (campaign, level, since, id): a page is a keyset range, and its count one query.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from tortoise.functions import Count, Max
from tortoise.queryset import QuerySet

from outboundql import models
from outboundql.classifiers import ReplyClass
from outboundql.enums import Direction, MessageStatus
from outboundql.services.sql import chunks


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


def inbox(campaign_id: int, classes: Sequence[ReplyClass] | None = None) -> QuerySet[models.CampaignAccount]:
    """The campaign's threads that need attention, in attention order (see the module docstring), as a queryset
    ordered by the attention the database keeps on each row: a page is one range of the inbox index, wherever it
    is in the list. ``classes``: only the threads whose latest classified reply is of one of them."""
    rows = models.CampaignAccount.filter(campaign_id=campaign_id, attention_level__gt=0)
    if classes is not None:
        rows = rows.filter(reply_class__in=list(classes))
    return rows.order_by("-attention_level", "-attention_at", "-id")


async def class_counts(campaign_ids: Sequence[int]) -> dict[int, list[tuple[ReplyClass, int]]]:
    """How many of each campaign's threads are of each class (their latest classified reply's), by class: one
    grouped query (per 2,000 campaigns) on the campaigns' ``reply_class`` index."""
    found: dict[int, list[tuple[ReplyClass, int]]] = {i: [] for i in campaign_ids}
    for part in chunks(list(campaign_ids)):
        for r in await models.CampaignAccount.filter(campaign_id__in=list(part), reply_class__isnull=False).annotate(
                n=Count("id")).group_by("campaign_id", "reply_class").values("campaign_id", "reply_class", "n"):
            found[r["campaign_id"]].append((ReplyClass(r["reply_class"]), int(r["n"])))
    return {i: sorted(counts, key=lambda pair: pair[0].value) for i, counts in found.items()}
