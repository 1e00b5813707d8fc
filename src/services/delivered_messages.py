"""Logging the messages of a batch of attempts the channels delivered, in a bounded number of statements for the
whole batch instead of `messages.log_message` once per message.

Each message is what `attempts.log_for_channel` logs for one delivered attempt: on the attempt's row's thread, sent
outbound, mode ``LOG_SENT``, by nobody in particular (the engine), keyed by the attempt's delivery key so it is
logged once, not refused by a do-not-contact flag or a suppression set since the execution checked them. What it
moves is the same too: the row's outreach status to ``sent`` (the campaign's counters with it), the account
``new`` → ``initiated`` (kept in its status history, source ``conversation``), an audit event per message; then the
campaign's page hears ``accounts_changed`` (once for the batch), the project's account stream each promoted
account, and the signal reader the messages.

Inside the caller's transaction, under the locks every writer of a thread takes in the same order (the campaign,
then the accounts, then the contacts): the rows, accounts, contacts and messages already logged under the keys are
read once for the batch, the messages inserted with one multi-row INSERT (their ids kept), the moves made with one
statement each. A message that cannot be logged (its row or contact gone, a field the log refuses) is left out,
said in the log, and its attempt is settled without it, as before. The caller leaves out the attempts whose
message an earlier execution logged; should the INSERT still meet a key written meanwhile (an execution of a
stalled claim racing this one, a person's message under the same key), the batch is logged one message at a time
instead, each answering the earlier message or refused as `messages.log_message` answers it.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise import timezone
from tortoise.connection import connections
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from outboundql import models
from outboundql.enums import (
    AccountStatus,
    AttemptOutcome,
    CallOutcome,
    Channel,
    Direction,
    MessageMode,
    MessageStatus,
    OutreachStatus,
    StatusSource,
)
from outboundql.errors import Collector, OutboundqlError
from outboundql.services import audit, events, messages, runtime, signal_proposals, sql
from outboundql.services.campaign_accounts import OUTREACH_RANK, outreach_deltas

log = logging.getLogger(__name__)

#: Message channels whose logged message is the call's notes and outcome (as `attempts.CALL_CHANNELS`).
CALL_CHANNELS = frozenset({Channel.PHONE_CALL})
#: The message columns written, in the INSERT's order.
COLUMNS = ("project_id", "campaign_account_id", "direction", "channel", "status", "mode", "subject", "original_text",
           "original_language", "translated_text", "translated_language", "outcome", "sent_at", "contact_id",
           "idempotency_key", "created_by_id", "reply_class_corrected", "created_at", "updated_at")
AUDITED = ["campaign_account_id", "direction", "channel", "status", "mode", "outcome"]


@dataclass(frozen=True, slots=True)
class Sent:
    """One delivered attempt whose message is to be logged."""

    attempt_id: int
    campaign_account_id: int
    contact_id: int | None
    channel: Channel
    subject: str | None
    body: str
    delivery_key: str
    outcome: AttemptOutcome
    notes: str = ""


async def log_delivered(campaign_id: int, sent: Sequence[Sent]) -> dict[int, models.Message]:
    """Log the messages of ``sent`` (inside the caller's transaction): each logged attempt's message, by attempt
    id (an attempt left out could not be logged)."""
    if not sent:
        return {}
    try:
        async with in_transaction():  # a savepoint: a key written meanwhile rolls back only this
            return await _log_all(campaign_id, sent)
    except IntegrityError:
        log.warning("A message key of attempts %s was written meanwhile; logging them one at a time.",
                    [s.attempt_id for s in sent[:10]])
        return await _one_by_one(sent)


async def _log_all(campaign_id: int, sent: Sequence[Sent]) -> dict[int, models.Message]:
    from outboundql.services.locks import locked_campaign

    now = runtime.now()
    campaign = await locked_campaign(campaign_id)
    project_id = campaign.project_id
    rows = {r.id: r for r in await models.CampaignAccount.filter(
        id__in=sorted({s.campaign_account_id for s in sent}), campaign_id=campaign_id)}
    contact_of = {s.attempt_id: s.contact_id if s.contact_id is not None else rows[s.campaign_account_id].contact_id
                  for s in sent if s.campaign_account_id in rows}
    accounts = {a.id: a for a in await models.Account.filter(
        id__in=sorted({r.account_id for r in rows.values()})).order_by("id").select_for_update()}
    contact_ids = sorted({c for c in contact_of.values() if c is not None})
    contacts = {c.id: c for c in await models.Contact.filter(id__in=contact_ids).order_by("id").select_for_update()
                } if contact_ids else {}
    found: dict[int, models.Message] = {}
    new: list[tuple[Sent, models.Message]] = []
    for item in sent:
        row = rows.get(item.campaign_account_id)
        why = None
        if row is None:
            why = "its campaign account is gone"
        elif (contact_id := contact_of[item.attempt_id]) is not None and (
                contact_id not in contacts or contacts[contact_id].account_id != row.account_id):
            why = "its contact is gone"
        else:
            try:
                new.append((item, _message(project_id, row, contact_id, item, now)))
                continue
            except (OutboundqlError, ValueError) as exc:
                why = str(exc)
        log.warning("Attempt %s was delivered but its message could not be logged: %s", item.attempt_id, why)
    if not new:
        return found
    conn = connections.get("default")
    stamp = timezone.now()
    ids = await sql.insert_tuples(conn, models.Message, COLUMNS, [
        tuple(stamp if name in ("created_at", "updated_at") else getattr(message, name) for name in COLUMNS)
        for _, message in new], returning_ids=True)
    for (item, message), message_id in zip(new, ids, strict=True):
        message.id = message.pk = message_id
        message.created_at = message.updated_at = stamp
        message._saved_in_db = True
        found[item.attempt_id] = message
    moved_rows = await _move_rows(conn, campaign_id, [rows[item.campaign_account_id] for item, _ in new], now)
    promoted = await _promote(conn, campaign.name, [
        (accounts[rows[item.campaign_account_id].account_id], item.channel) for item, _ in new], now)
    await sql.insert_rows(conn, models.AuditEvent, [
        {"project_id": project_id, "actor_id": None, "action": "message.log", "object_type": "Message",
         "object_id": message.id, **audit.origin_columns(),
         "after": {**audit.snapshot(message, AUDITED),
                   **({"outreach_status": moved_rows[message.campaign_account_id]}
                      if message.campaign_account_id in moved_rows else {}),
                   **({"account_status": [AccountStatus.NEW.value, AccountStatus.INITIATED.value]}
                      if rows[message.campaign_account_id].account_id in promoted else {})},
         "created_at": now}
        for _, message in new])
    await events.publish_campaign_event(campaign_id, "accounts_changed")
    for account_id in sorted(promoted):
        await events.publish_account_change(project_id, account_id, "updated")
    await signal_proposals.queue([message for _, message in new])
    return found


def _message(project_id: int, row: models.CampaignAccount, contact_id: int | None, item: Sent, now: datetime
             ) -> models.Message:
    """The message of ``item``, checked as `messages.log_message` checks one (InvalidInput when refused)."""
    calls = item.channel in CALL_CHANNELS
    check = Collector()
    cleaned = messages.clean_message(messages.LogMessage(
        campaign_account_id=row.id, direction=Direction.OUTBOUND, channel=item.channel, status=MessageStatus.SENT,
        mode=MessageMode.LOG_SENT, subject=item.subject if item.channel is Channel.EMAIL else None,
        text=item.notes if calls else item.body, outcome=CallOutcome(item.outcome.value) if calls else None,
        contact_id=contact_id, idempotency_key=item.delivery_key), check, now)
    check.raise_if_any()
    return models.Message(project_id=project_id, campaign_account_id=row.id, contact_id=contact_id,
                          idempotency_key=messages.clean_key(item.delivery_key), created_by_id=None, **cleaned)


async def _move_rows(conn: Any, campaign_id: int, rows: list[models.CampaignAccount], now: datetime
                     ) -> dict[int, list[str]]:
    """Rows not yet ``sent`` (or further) move there, the campaign's counters with them: each moved row's
    ``[from, to]``."""
    target = messages.OUTREACH_TARGET[Direction.OUTBOUND]
    moving = {r.id: r for r in rows if OUTREACH_RANK[r.outreach_status] < OUTREACH_RANK[target]}
    if not moving:
        return {}
    totals: Counter[str] = Counter()
    for row in moving.values():
        totals.update(outreach_deltas(row.outreach_status, target))
    from outboundql.services import campaign_stats

    await campaign_stats.bump(campaign_id, **totals)
    await models.CampaignAccount.filter(id__in=sorted(moving)).update(outreach_status=target, updated_at=now)
    moved = {row_id: [OutreachStatus(row.outreach_status).value, target.value] for row_id, row in moving.items()}
    for row in moving.values():
        row.outreach_status = target
    return moved


async def _promote(conn: Any, campaign_name: str, moves: list[tuple[models.Account, Channel]], now: datetime
                   ) -> set[int]:
    """Accounts still ``new`` move to ``initiated`` (one conditional update: a status set meanwhile is kept), each
    move in the status history, noted with the channel of its message; the ids moved."""
    sources, target = messages.PROMOTION[Direction.OUTBOUND]
    by_id = {account.id: (account, channel) for account, channel in moves if account.status in sources}
    if not by_id:
        return set()
    marks = ", ".join(sql.placeholder(conn, n) for n in range(3, 3 + len(sources)))
    moved = {int(r["id"]) for r in await conn.execute_query_dict(
        f"UPDATE account SET status = {sql.placeholder(conn, 1)}, updated_at = {sql.placeholder(conn, 2)} "
        f"WHERE id IN ({sql.int_list(sorted(by_id))}) AND status IN ({marks}) RETURNING id",
        [target.value, now, *sorted(s.value for s in sources)])}
    stamp = timezone.now()
    await sql.insert_rows(conn, models.AccountStatusChange, [
        {"account_id": account_id, "from_status": by_id[account_id][0].status, "to_status": target,
         "source": StatusSource.CONVERSATION, "changed_by_id": None,
         "note": f"{Direction.OUTBOUND.value} {by_id[account_id][1].value} message in {campaign_name}",
         "created_at": stamp}
        for account_id in sorted(moved)])
    for account_id in moved:
        by_id[account_id][0].status = target
    return moved


async def _one_by_one(sent: Sequence[Sent]) -> dict[int, models.Message]:
    from outboundql.services import attempts

    found: dict[int, models.Message] = {}
    for item in sent:
        attempt = await models.OutreachAttempt.get(id=item.attempt_id)
        try:
            found[item.attempt_id] = await attempts.log_for_channel(attempt, item.outcome, item.notes)
        except OutboundqlError as exc:
            log.warning("Attempt %s was delivered but its message could not be logged: %s", item.attempt_id, exc)
    return found
