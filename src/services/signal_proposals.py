"""Signals a language model proposes from replies and call notes, for a person to confirm or dismiss.

When an LLM is configured (``OUTBOUNDQL_LLM_URL`` and ``_MODEL``), every sent message a person could not have
summed up better by hand is read once, after the transaction that logged it commits, by a ``propose_signals``
job: received replies and the notes of calls (outbound phone calls with text). The model is given the kinds of
the campaign's goal and answers signals of those kinds (`outboundql.llm.signal_extraction`); they are stored as
``proposed`` (`outboundql.services.signals`), and the message is marked read (``signals_read_at``) whether it had
any or not, so it is read once. What the model was billed is recorded as API usage of the campaign (operation
``signals``). Without an LLM nothing is read and nothing is proposed; people's own signals work the same.

A message whose job was lost (the queue down) is sent again by `sweep`, as unclassified replies are.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from outboundql import models
from outboundql.enums import Channel, Direction, MessageStatus, SignalStatus, UsageOperation
from outboundql.llm.client import LlmCall, LlmClient, LlmConfig, LlmError
from outboundql.llm.signal_extraction import (
    BATCH_SIZE,
    Answer,
    Conversation,
    Found,
    answer_schema,
    build_messages,
    take,
)
from outboundql.services import api_usage, events, runtime, signals, sql
from outboundql.services.jobs import JobsUnavailable

log = logging.getLogger(__name__)

#: A message still unread this long after it was logged lost its job: `sweep` sends it again.
LATE = timedelta(minutes=2)
#: How far back `sweep` looks.
SWEEP_DAYS = 7
#: Messages one `sweep` sends at most.
SWEEP_BATCH = 100
#: The source of the signals the model proposes.
SOURCE = "llm"


def _config() -> LlmConfig | None:
    return LlmConfig.from_settings(runtime.settings())


def _readable() -> Q:
    """Sent messages worth reading: replies, and calls' notes."""
    return Q(status=MessageStatus.SENT) & Q(signals_read_at__isnull=True) & ~Q(original_text="") & (
        Q(direction=Direction.INBOUND) | Q(direction=Direction.OUTBOUND, channel=Channel.PHONE_CALL))


def _worth_reading(message: models.Message) -> bool:
    return message.status is MessageStatus.SENT and bool(message.original_text.strip()) and (
        message.direction is Direction.INBOUND
        or (message.direction is Direction.OUTBOUND and message.channel is Channel.PHONE_CALL))


async def queue(messages: Sequence[models.Message]) -> None:
    """After the commit that logged ``messages``: send those worth reading to the model, when one is configured.
    A job queue that is down leaves them for `sweep` (said in the log); logging them stands."""
    if _config() is None:
        return
    ids = [m.id for m in messages if _worth_reading(m)]
    if not ids:
        return
    try:
        await runtime.jobs().propose_signals(ids)
    except JobsUnavailable as exc:
        log.warning("Messages %s could not be sent to be read for signals (%s).", ids[:10], exc)


async def sweep(now: datetime | None = None) -> list[int]:
    """Send again the messages still unread `LATE` after they were logged (oldest first); their ids."""
    if _config() is None:
        return []
    now = now or runtime.now()
    late: list[int] = await sql.column(models.Message.filter(
        _readable(), created_at__lt=now - LATE, created_at__gte=now - timedelta(days=SWEEP_DAYS),
    ).order_by("created_at", "id").limit(SWEEP_BATCH).values_list("id", flat=True))
    if late:
        try:
            await runtime.jobs().propose_signals(late)
        except JobsUnavailable as exc:
            log.warning("Unread messages %s could not be sent to be read for signals (%s).", late[:10], exc)
            return []
    return late


async def propose(message_ids: Sequence[int]) -> list[int]:
    """Read the unread messages of ``message_ids`` and store what the model proposes; the ids read."""
    config = _config()
    if config is None:
        return []
    pending = await models.Message.filter(_readable(), id__in=list(message_ids)).select_related(
        "campaign_account__campaign").order_by("id")
    if not pending:
        return []  # read already (a duplicate job, a sweep's resend): no connection to the model
    by_campaign: dict[int, list[models.Message]] = defaultdict(list)
    for message in pending:
        by_campaign[message.campaign_account.campaign_id].append(message)
    done: list[int] = []
    async with LlmClient(config) as llm:
        for group in by_campaign.values():
            campaign = group[0].campaign_account.campaign
            kinds = signals.kinds_of(campaign.goal_key)
            for start in range(0, len(group), BATCH_SIZE):
                part = group[start:start + BATCH_SIZE]
                conversations = [Conversation(m.original_text, "reply" if m.direction is Direction.INBOUND
                                              else "call notes", m.original_language) for m in part]
                try:
                    completion = await llm.complete_json(
                        build_messages(conversations, kinds), answer_type=Answer, schema_name="signals",
                        json_schema=answer_schema(kinds))
                except LlmError as exc:
                    await _record_usage(campaign, exc.calls, part)
                    log.warning("LLM signals: %d message(s) of campaign %s left unread: %s", len(part), campaign.id,
                                exc)
                    continue  # unread: the sweep tries again later
                await _record_usage(campaign, completion.calls, part)
                found = take(completion.value, len(part), kinds, signals.MAX_TEXT)
                done += await _store(campaign, part, found)
    return done


async def _store(campaign: models.Campaign, messages: list[models.Message], found: list[list[Found]]) -> list[int]:
    now = runtime.now()
    done: list[int] = []
    async with in_transaction():
        for message, items in zip(messages, found, strict=True):
            if not await models.Message.filter(id=message.id, signals_read_at__isnull=True).update(
                    signals_read_at=now):
                continue  # read by another job meanwhile
            await signals.add(message, campaign.id, [signals.SignalIn(i.kind, i.text) for i in items],
                              status=SignalStatus.PROPOSED, source=SOURCE, created_by=None)
            done.append(message.id)
    if done:
        await events.publish_campaign_event(campaign.id, "accounts_changed")
    return done


async def _record_usage(campaign: models.Campaign, calls: Sequence[LlmCall], messages: Sequence[models.Message]
                        ) -> None:
    """Each call read all of ``messages`` at once: the accounts they came from share its cost."""
    accounts = [m.campaign_account.account_id for m in messages]
    await api_usage.record(campaign.project_id, campaign.id, [
        api_usage.PaidCall(call.provider, call.model, UsageOperation.SIGNALS, call.input_tokens, call.output_tokens,
                           call.cost_usd, account_ids=accounts)
        for call in calls
    ])
