"""What replies say: inbound messages classified (`outboundql.classifiers.ReplyClass`) by their campaign's classifier.

A sent inbound message is classified after the transaction that logged it commits, by a ``classify_replies``
job (`classify`): the campaign's classifier (``Campaign.reply_classifier``, else the ``llm`` one when an LLM is
configured, else the built-in ``rules``) reads the replies of a batch at once; what a classifier fails on is
``other`` with confidence 0 (`outboundql.classifiers.registry.classify_with`), never an error. The class is kept on
the message with the classifier's key and confidence, the return date an out-of-office reply states and the person
a referral names; the thread's latest class is kept on its campaign row (``CampaignAccount.reply_class``), which
the inbox filters and counts by. What an LLM classifier was billed is recorded as API usage of the campaign.

A person may correct a class (`correct_reply_class`): the correction is kept (``corrected``, confidence 1), audited
with the class before it, and never overwritten by a later classification.

Once stored (or corrected), a class acts on its campaign account (`outboundql.services.reply_effects`): a refusal
loses it, an unsubscribe or a bounce suppresses the address, an absence pauses it, a referral proposes a contact;
only the thread's latest reply acts, and a correction does not undo what the class before it did.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tortoise.transactions import in_transaction

from outboundql import models
from outboundql.classifiers import Classification, Reply, ReplyClass, ReplyClassifier
from outboundql.classifiers.llm import LlmClassifier, llm_classifier_if_configured
from outboundql.classifiers.registry import classify_with
from outboundql.enums import Direction, MessageStatus, Role, UsageOperation
from outboundql.errors import Collector, NotFound
from outboundql.services import api_usage, audit, events, runtime, sql
from outboundql.services.access import Access
from outboundql.services.jobs import JobsUnavailable

log = logging.getLogger(__name__)

#: The classifier of a campaign that names none, when no LLM is configured.
DEFAULT = "rules"
#: Messages one classifier call reads at most.
BATCH = 100
#: A sent inbound message still unclassified this long after it was logged lost its job (the queue was down, or
#: lost it): `sweep` sends it again.
LATE = timedelta(minutes=2)
#: How far back `sweep` looks (older unclassified messages predate classification).
SWEEP_DAYS = 7


@dataclass(frozen=True, slots=True)
class Available:
    """A classifier a campaign may name: its key and label."""

    key: str
    label: str


def available() -> list[Available]:
    """The classifiers a campaign may name, by key: the installed plugins, and ``llm`` when an LLM is configured."""
    found = {c.key: Available(c.key, c.label) for c in runtime.classifiers()}
    if (llm := _llm()) is not None:
        found.setdefault(llm.key, Available(llm.key, llm.label))
    return [found[key] for key in sorted(found)]


def default_key() -> str:
    """The classifier of a campaign that names none."""
    return LlmClassifier.key if _llm() is not None else DEFAULT


def is_available(key: str) -> bool:
    return any(c.key == key for c in available())


def _llm() -> LlmClassifier | None:
    return llm_classifier_if_configured(runtime.settings())


def classifier_for(key: str | None) -> ReplyClassifier:
    """The classifier named ``key`` (None: `default_key`); one no longer installed falls back to the default."""
    key = key or default_key()
    if key == LlmClassifier.key and (llm := _llm()) is not None:
        return llm
    found = runtime.classifiers().get(key)
    if found is None and key != default_key():
        log.warning("Reply classifier %r is not installed; classifying with %r.", key, default_key())
        return classifier_for(None)
    if found is None:  # the built-in plugin disabled, and no LLM: nothing can classify
        raise LookupError(f"No reply classifier {key!r} is installed.")
    return found


async def queue(messages: Sequence[models.Message]) -> None:
    """After the commit that logged ``messages``: send their sent inbound ones to be classified. A job queue that is
    down leaves them unclassified (said in the log); logging them stands."""
    ids = [m.id for m in messages if m.direction is Direction.INBOUND and m.status is MessageStatus.SENT]
    if not ids:
        return
    try:
        await runtime.jobs().classify_replies(ids)
    except JobsUnavailable as exc:
        log.warning("Inbound messages %s could not be sent to be classified (%s).", ids[:10], exc)


async def sweep(now: datetime | None = None) -> list[int]:
    """Send again to be classified the sent inbound messages that are still unclassified `LATE` after they were
    logged (up to `BATCH` of them, oldest first); their ids. Every process that ticks the scheduler sweeps: a
    message sent twice is classified once."""
    now = now or runtime.now()
    late: list[int] = await sql.column(models.Message.filter(
        direction=Direction.INBOUND, reply_class__isnull=True, status=MessageStatus.SENT,
        created_at__lt=now - LATE, created_at__gte=now - timedelta(days=SWEEP_DAYS),
    ).order_by("created_at", "id").limit(BATCH).values_list("id", flat=True))
    if late:
        try:
            await runtime.jobs().classify_replies(late)
        except JobsUnavailable as exc:
            log.warning("Unclassified inbound messages %s could not be sent to be classified (%s).", late[:10], exc)
            return []
    return late


async def classify(message_ids: Sequence[int]) -> list[int]:
    """Classify the sent inbound messages of ``message_ids`` that have no class yet; the ids classified."""
    pending = await models.Message.filter(
        id__in=list(message_ids), direction=Direction.INBOUND, status=MessageStatus.SENT, reply_class__isnull=True,
    ).select_related("campaign_account__campaign").order_by("id")
    by_campaign: dict[int, list[models.Message]] = defaultdict(list)
    for message in pending:
        by_campaign[message.campaign_account.campaign_id].append(message)
    done: list[int] = []
    for group in by_campaign.values():
        campaign = group[0].campaign_account.campaign
        classifier = classifier_for(campaign.reply_classifier)
        for start in range(0, len(group), BATCH):
            part = group[start:start + BATCH]
            answers, usage = await _classified(classifier, [_reply(m) for m in part])
            await _record_usage(campaign, usage, part)
            done += await _store(campaign, classifier.key, part, answers)
    return done


def _reply(message: models.Message) -> Reply:
    return Reply(text=message.original_text, subject=message.subject,
                 language=(message.original_language or "").split("-")[0].lower() or None,
                 channel=message.channel.value, received_at=message.sent_at)


async def _classified(classifier: ReplyClassifier, replies: list[Reply]) -> tuple[list[Classification], Any]:
    """The classifier's answers and what it was billed for them (an LLM's calls; nothing for others)."""
    if isinstance(classifier, LlmClassifier):
        batch = await classifier.classify_with_usage(replies)
        if len(batch.classifications) == len(replies):
            return list(batch.classifications), batch.usage
        return await classify_with(classifier, replies), batch.usage
    return await classify_with(classifier, replies), ()


async def _record_usage(campaign: models.Campaign, usage: Any, messages: Sequence[models.Message]) -> None:
    """Each call read all of ``messages`` at once: the accounts they came from share its cost."""
    accounts = [m.campaign_account.account_id for m in messages]
    await api_usage.record(campaign.project_id, campaign.id, [
        api_usage.PaidCall(call.provider, call.model, UsageOperation.CLASSIFY, call.input_tokens,
                           call.output_tokens, call.cost_usd, account_ids=accounts)
        for call in usage
    ])


async def _store(campaign: models.Campaign, key: str, messages: list[models.Message],
                 answers: list[Classification]) -> list[int]:
    now = runtime.now()
    done: list[int] = []
    async with in_transaction():
        for message, answer in zip(messages, answers, strict=True):
            referral = answer.referral
            if await models.Message.filter(id=message.id, reply_class__isnull=True).update(
                    reply_class=answer.label, reply_class_confidence=round(float(answer.confidence), 3),
                    classifier=key, classified_at=now, returns_on=answer.returns_on,
                    referral=None if referral is None else {
                        "name": referral.name, "email": referral.email, "phone": referral.phone}):
                done.append(message.id)
        await _follow_threads({m.campaign_account_id for m in messages if m.id in done})
    if done:
        await events.publish_campaign_event(campaign.id, "accounts_changed")
        await _act(done)
    return done


async def _act(message_ids: list[int]) -> None:
    """What the classes of these messages do (after the commit that stored them)."""
    # Imported here: the effects reach the messages service, which imports this module.
    from outboundql.services import reply_effects
    await reply_effects.apply_all(message_ids)


async def _follow_threads(row_ids: set[int]) -> None:
    """Each thread's class: that of its latest classified inbound message."""
    latest: dict[int, ReplyClass] = {}
    for row_id, label in await models.Message.filter(
            campaign_account_id__in=sorted(row_ids), direction=Direction.INBOUND, status=MessageStatus.SENT,
            reply_class__isnull=False).order_by("campaign_account_id", "sent_at", "id").values_list(
            "campaign_account_id", "reply_class"):
        latest[row_id] = ReplyClass(label)
    for row_id in sorted(row_ids):
        await models.CampaignAccount.filter(id=row_id).update(reply_class=latest.get(row_id))


# --- corrections ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CorrectReplyClass:
    """Set the class of an inbound message as a person reads it."""

    message_id: int
    label: ReplyClass


@dataclass(frozen=True, slots=True)
class ReplyClassCorrected:
    message: models.Message


async def correct_reply_class(access: Access, cmd: CorrectReplyClass) -> ReplyClassCorrected:
    message = await access.scope(models.Message.filter(id=cmd.message_id), "project_id").select_related(
        "campaign_account").first()
    if message is None:
        raise NotFound("Message", field="message_id")
    access.require(message.project_id, Role.MEMBER, what="Message")
    check = Collector()
    if message.direction is not Direction.INBOUND or message.status is not MessageStatus.SENT:
        check.add("message_id", "Only a received (inbound, sent) message has a reply class.")
    check.raise_if_any()
    before = {"label": message.reply_class.value if message.reply_class else None, "classifier": message.classifier,
              "confidence": message.reply_class_confidence, "corrected": message.reply_class_corrected}
    async with in_transaction():
        await models.Message.filter(id=message.id).update(
            reply_class=cmd.label, reply_class_confidence=1.0, reply_class_corrected=True,
            classified_at=runtime.now())
        await message.refresh_from_db()
        await _follow_threads({message.campaign_account_id})
        await audit.record(project_id=message.project_id, actor=access.user, action="message.correct_reply_class",
                           row=message, before=before, after={"label": cmd.label.value})
    await events.publish_campaign_event(message.campaign_account.campaign_id, "accounts_changed")
    await _act([message.id])
    return ReplyClassCorrected(message)
