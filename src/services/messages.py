"""The conversation log: logging messages on a campaign account's thread, and what a message moves.

A **sent outbound** moves the row's outreach status to ``sent`` (forward only), counts the account
as outreached once, and promotes the account ``new`` → ``initiated``. A **sent inbound** moves it to
``responded``, counts it as responded once, and promotes ``new``/``initiated`` → ``engaged``.
Drafts move nothing. Promotion never touches relationship or protection statuses and never goes
back; each move is kept in the status history with source ``conversation``.

A sent outbound to a ``do_not_contact`` account or contact is refused and nothing is written.
An idempotency key (unique per project) makes a retried request answer the first result.

Logging with a ``draft_id`` (a DRAFT of the same campaign account) sends that draft: the draft becomes the
logged message (its fields replaced by the request's, its mode kept unless one is given) and moves
everything a sent message moves, in the same transaction. :func:`discard_draft` deletes a draft.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import RawSQL
from tortoise.transactions import in_transaction

from outboundql import models
from outboundql.enums import (
    AccountStatus,
    CallOutcome,
    Channel,
    Direction,
    MessageMode,
    MessageStatus,
    OutreachStatus,
    Role,
    SignalStatus,
    StatusSource,
)
from outboundql.errors import Collector, Conflict, InvalidInput, NotFound
from outboundql.services import (
    audit,
    campaign_stats,
    events,
    execution,
    fields,
    normalize,
    reply_classes,
    runtime,
    signal_proposals,
    suppressions,
    webhook_deliveries,
)
from outboundql.services import signals as signals_service
from outboundql.services.access import Access
from outboundql.services.campaign_accounts import OUTREACH_RANK, get_row, outreach_deltas
from outboundql.services.locks import locked_campaign

MAX_KEY_LENGTH = 100
CALL_ONLY_OUTCOMES = frozenset({CallOutcome.CONNECTED, CallOutcome.VOICEMAIL, CallOutcome.NO_ANSWER,
                                CallOutcome.BUSY, CallOutcome.FAILED})
#: Auto-promotion: account statuses each direction may move from, and where to.
PROMOTION = {
    Direction.OUTBOUND: (frozenset({AccountStatus.NEW}), AccountStatus.INITIATED),
    Direction.INBOUND: (frozenset({AccountStatus.NEW, AccountStatus.INITIATED}), AccountStatus.ENGAGED),
}
#: Where a sent message moves the row's outreach status (when that is forward).
OUTREACH_TARGET = {Direction.OUTBOUND: OutreachStatus.SENT, Direction.INBOUND: OutreachStatus.RESPONDED}

_CLEANERS = {
    "subject": fields.text(500, label="Subject"),
    "text": fields.long_text(label="Text"),
    "translated_text": fields.long_text(label="Translation"),
    "original_language": normalize.normalize_language,
    "translated_language": normalize.normalize_language,
}


@dataclass(frozen=True, slots=True)
class LogMessage:
    """Log a message or call on a campaign account's thread (see the module docstring)."""

    campaign_account_id: int
    direction: Direction = Direction.OUTBOUND
    channel: Channel = Channel.EMAIL
    status: MessageStatus = MessageStatus.SENT
    mode: MessageMode | None = None
    """Default: PASTE_INBOUND for inbound, LOG_SENT for a sent outbound, TYPE_AND_TRANSLATE for a draft."""
    subject: str | None = None
    text: str = ""
    original_language: str | None = None
    translated_text: str | None = None
    translated_language: str | None = None
    outcome: CallOutcome | None = None
    signals: tuple[signals_service.SignalIn, ...] = ()
    """Confirmed signals of the conversation (kinds of the campaign's goal)."""
    sent_at: datetime | None = None
    """Default: now (a sent message); never for a draft."""
    contact_id: int | None = None
    """Default (None): the campaign account's contact."""
    idempotency_key: str | None = None
    draft_id: int | None = None
    """Send this DRAFT of the same campaign account: it becomes the logged message."""
    override_suppression: bool = False
    """Log a sent outbound to a suppressed address all the same (see `refuse_suppressed`)."""


@dataclass(frozen=True, slots=True)
class Logged:
    """A logged message, and whether it is the answer of an earlier request with the same key."""

    message: models.Message
    campaign_account: models.CampaignAccount
    """The thread's row, with its outreach status after the message."""
    replayed: bool = False
    promoted: bool = False
    """The account's status moved (auto-promotion)."""


@dataclass(frozen=True, slots=True)
class DiscardDraft:
    message_id: int


@dataclass(frozen=True, slots=True)
class DraftDiscarded:
    message: models.Message
    """The deleted draft, its ``id`` kept."""
    campaign_account: models.CampaignAccount
    """The thread's row, without the draft."""


def clean_key(key: str | None) -> str | None:
    if key is None or not key.strip():
        return None
    key = fields.cleaned("idempotency_key", lambda value: fields.storable(value, "The idempotency key"), key).strip()
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidInput(f"The idempotency key must be at most {MAX_KEY_LENGTH} characters.",
                           field="idempotency_key")
    return key


async def replay(access: Access, project_id: int, key: str | None, ca_id: int, *, action: str,
                 request: dict[str, Any]) -> models.Message | None:
    """The message an earlier request with ``key`` created, or None. The earlier message must answer the
    same request: the same campaign account, operation (``action``: ``message.log`` or ``message.draft``)
    and ``request`` fields (direction, status, channel, mode, text…); a key reused for anything else is a
    CONFLICT, so a different message is never lost behind a replay."""
    if key is None:
        return None
    earlier = await models.Message.filter(project_id=project_id, idempotency_key=key).first()
    if earlier is None:
        return None
    if earlier.campaign_account_id != ca_id:
        raise Conflict("This idempotency key was already used for a message on another campaign account; "
                       "use a new key for a new message.", field="idempotency_key")
    same = all(getattr(earlier, name) == value for name, value in request.items() if name != "signals")
    if "signals" in request:
        same = same and await signals_service.written_with(earlier.id) == request["signals"]
    same = same and await models.AuditEvent.filter(
        object_type="Message", object_id=earlier.id, action=action).exists()
    if not same:
        raise Conflict("This idempotency key was already used for a different message; use a new key for a new "
                       "message (nothing was written).", field="idempotency_key")
    return earlier


#: What a retry must repeat for its key to answer the earlier message; a different value is a CONFLICT. The sent
#: time is compared only when the request gives one (its default, "now", moves on between retries); the contact is
#: the resolved one (given, else the campaign account's).
REPLAY_FIELDS = ("direction", "status", "channel", "mode", "original_text", "subject", "outcome", "contact_id",
                 "sent_at", "signals", "translated_text", "translated_language", "original_language")


def replay_request(cleaned: dict[str, Any], contact_id: int | None, *, sent_at_given: bool) -> dict[str, Any]:
    request = {name: cleaned.get(name) for name in REPLAY_FIELDS}
    request["contact_id"] = contact_id
    if not sent_at_given:
        del request["sent_at"]
    return request


def clean_message(cmd: LogMessage, check: Collector, now: datetime) -> dict[str, Any]:
    """Validate the message's own fields, as the columns of a message; defaults filled in (mode, sent time)."""
    direction = Direction(cmd.direction or Direction.OUTBOUND)
    status = MessageStatus(cmd.status or MessageStatus.SENT)
    channel = Channel(cmd.channel or Channel.EMAIL)
    cleaned = fields.clean({name: getattr(cmd, name) for name in _CLEANERS}, _CLEANERS, check)
    cleaned["original_text"] = cleaned.pop("text", None)
    mode = cmd.mode
    if mode is None:
        mode = MessageMode.PASTE_INBOUND if direction is Direction.INBOUND else (
            MessageMode.LOG_SENT if status is MessageStatus.SENT else MessageMode.TYPE_AND_TRANSLATE)
    mode = MessageMode(mode)
    if direction is Direction.INBOUND and status is MessageStatus.DRAFT:
        check.add("status", "An inbound message is always sent (it was received); drafts are outbound.")
    if direction is Direction.INBOUND and mode is not MessageMode.PASTE_INBOUND:
        check.add("mode", "An inbound message is logged with mode PASTE_INBOUND.")
    if direction is Direction.OUTBOUND and mode is MessageMode.PASTE_INBOUND:
        check.add("mode", "PASTE_INBOUND is for inbound messages; set direction INBOUND.")
    if cleaned.get("translated_language") and not cleaned.get("translated_text"):
        check.add("translated_language", "A translation's language needs the translation (the translated text).")
    outcome = CallOutcome(cmd.outcome) if cmd.outcome else None
    if outcome in CALL_ONLY_OUTCOMES and channel is not Channel.PHONE_CALL:
        check.add("outcome", f"The outcome {outcome.value} is for calls; use channel PHONE_CALL "
                  "(MEETING_BOOKED fits any channel).")
    if not cleaned.get("original_text") and channel is not Channel.PHONE_CALL:
        check.add("text", "Text is required (only a call may be logged with its outcome alone).")
    elif not cleaned.get("original_text") and outcome is None:
        check.add("text", "A call needs its notes (text) or its outcome; give at least one.")
    sent_at = cmd.sent_at
    if sent_at is not None:
        if sent_at.tzinfo is None:
            sent_at = sent_at.replace(tzinfo=UTC)
        if status is MessageStatus.DRAFT:
            check.add("sent_at", "A draft has no sent time; log it with status SENT once it is sent.")
        elif sent_at > now + timedelta(hours=1):
            check.add("sent_at", "The sent time is in the future; log a message once it is sent.")
        elif sent_at < now - timedelta(days=3660):
            check.add("sent_at", "The sent time is more than ten years ago; check the date.")
    elif status is MessageStatus.SENT:
        sent_at = now
    return {
        **cleaned, "direction": direction, "status": status, "channel": channel, "mode": mode, "outcome": outcome,
        "sent_at": sent_at, "original_text": cleaned.get("original_text") or "",
    }


async def log_message(access: Access, cmd: LogMessage, *, reached_before_do_not_contact: bool = False) -> Logged:
    """Log one message on a campaign account's thread (see the module docstring for what it moves); once
    committed, the campaign's page hears ``accounts_changed`` and, when the account was promoted, the
    project's account stream hears ``updated``. A replay writes and publishes nothing.
    ``reached_before_do_not_contact``: the message is the result of an outreach attempt whose execution checked
    do-not-contact; a flag set since then does not refuse logging what already happened."""
    row = await get_row(access, cmd.campaign_account_id, Role.MEMBER, "campaign_account_id")
    project_id = row.campaign.project_id
    key = clean_key(cmd.idempotency_key)
    check = Collector()
    draft = await _draft_of(row, cmd.draft_id)
    if draft is not None and draft.direction is Direction.OUTBOUND and cmd.mode is None:
        cmd = dataclasses.replace(cmd, mode=draft.mode)  # how it was written (AI_DRAFT…) is kept when it is sent
    cleaned = clean_message(cmd, check, runtime.now())
    cleaned["signals"] = signals_service.clean(cmd.signals, signals_service.kinds_of(row.campaign.goal_key), check)
    if draft is not None:
        if cleaned["direction"] is not Direction.OUTBOUND:
            check.add("direction", "A draft is an outbound message; log it with direction OUTBOUND.")
        elif cleaned["status"] is not MessageStatus.SENT:
            check.add("status", "Logging a draft sends it: use status SENT (or keep editing the draft).")
    contact_id = row.contact_id if cmd.contact_id is None else cmd.contact_id
    contact: models.Contact | None = None
    if contact_id is not None:
        contact = await models.Contact.filter(id=contact_id, account_id=row.account_id).first()
        if contact is None:
            check.add("contact_id", "Contact not found.", code="NOT_FOUND")  # worded like any missing row
    check.raise_if_any()
    request = replay_request(cleaned, contact_id, sent_at_given=cmd.sent_at is not None)
    if draft is not None:
        request["id"] = draft.id
    earlier = await replay(access, project_id, key, row.id, action="message.log", request=request)
    if earlier is not None:
        return await _replayed(earlier)
    if draft is not None:
        require_draft(draft)
    account = await models.Account.get(id=row.account_id)
    refuses = (cleaned["direction"] is Direction.OUTBOUND and cleaned["status"] is MessageStatus.SENT
               and not reached_before_do_not_contact)
    if refuses:
        refuse_do_not_contact(account, contact)
        if not cmd.override_suppression:
            await refuse_suppressed(project_id, cleaned["channel"], account, contact)
    try:
        async with in_transaction():
            message, row, promoted = await _write(access, row, account, contact, cleaned, key, draft,
                                                  refuses=refuses)
    except (IntegrityError, DraftGone) as exc:
        # A concurrent retry with the same key won the race: answer its message (nothing was written here).
        earlier = await replay(access, project_id, key, row.id, action="message.log", request=request)
        if earlier is None:
            if isinstance(exc, DraftGone):
                raise exc.error from None
            raise
        return await _replayed(earlier)
    await events.publish_campaign_event(row.campaign_id, "accounts_changed")
    if promoted:
        await events.publish_account_change(project_id, row.account_id, "updated")
    if message.direction is Direction.INBOUND:
        await webhook_deliveries.record_message_received(message, row)
        await reply_classes.queue([message])
    await signal_proposals.queue([message])
    return Logged(message, row, promoted=promoted)


async def _replayed(earlier: models.Message) -> Logged:
    """The answer of a retry: the earlier message and its thread's row as it is now."""
    return Logged(earlier, await models.CampaignAccount.get(id=earlier.campaign_account_id), replayed=True)


class DraftGone(Exception):
    """The draft was sent or discarded by a concurrent request (seen under the locks)."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


async def _draft_of(row: models.CampaignAccount, draft_id: int | None) -> models.Message | None:
    """The message ``draft_id`` on this campaign account's thread; a message of another thread or project is
    NOT_FOUND, worded like a missing one. Whether it is still a draft is checked by :func:`require_draft`."""
    if draft_id is None:
        return None
    message = await models.Message.filter(id=draft_id, campaign_account_id=row.id).first()
    if message is None:
        raise NotFound("Message", field="draft_id")
    return message


def require_draft(message: models.Message, field: str = "draft_id") -> None:
    if message.status is not MessageStatus.DRAFT:
        raise InvalidInput("This message is not a draft (it was already sent or received); only a draft can be "
                           "sent or discarded.", field=field)


def refuse_do_not_contact(account: models.Account, contact: models.Contact | None) -> None:
    if account.status is AccountStatus.DO_NOT_CONTACT:
        raise InvalidInput(f"{account.name} is marked do_not_contact: a sent outbound message cannot be logged, "
                           "and nothing was written. Change the account's status first if that is wrong.",
                           field="campaign_account_id")
    if contact is not None and contact.do_not_contact:
        raise InvalidInput(f"{contact.name} is marked do not contact: a sent outbound message cannot be logged, "
                           "and nothing was written. Pick another contact or clear the flag first.",
                           field="contact_id")


#: Where each message channel reaches a person (the others have no address the suppression list holds).
_ADDRESS_FIELD = {Channel.EMAIL: "email", Channel.PHONE_CALL: "phone", Channel.SMS: "phone", Channel.WHATSAPP: "phone"}


async def refuse_suppressed(project_id: int, channel: Channel, account: models.Account,
                            contact: models.Contact | None) -> None:
    """Refuse a sent outbound to an address on the project's suppression list: the contact's (else the account's)
    e-mail address or phone number for the channel, the domain of that address, or the account's domain (a
    suppressed domain keeps the whole organisation out, on every channel). INVALID, saying which entry, since when
    and why; ``overrideSuppression`` logs it all the same."""
    name = _ADDRESS_FIELD.get(Channel(channel))
    person: models.Contact | models.Account = contact if contact is not None else account
    address = getattr(person, name) if name else None
    entry = await suppressions.first_entry(
        project_id, emails=[address] if name == "email" else [], phones=[address] if name == "phone" else [],
        domains=[account.domain])
    if entry is not None:
        raise InvalidInput(f"{suppressions.describe(entry)}: a sent outbound message cannot be logged, and nothing "
                           "was written. If it went out all the same, log it with overrideSuppression.",
                           field="contact_id" if contact is not None else None)


async def _write(access: Access, row: models.CampaignAccount, account: models.Account,
                 contact: models.Contact | None, cleaned: dict[str, Any], key: str | None,
                 draft: models.Message | None = None, *, refuses: bool = True
                 ) -> tuple[models.Message, models.CampaignAccount, bool]:
    """Inside the transaction: lock the campaign, then the account, then the contact (every writer takes them
    in this order), re-check do-not-contact under the locks, write and move. A status change committed
    by another request waits for this transaction, or is seen here."""
    campaign = await locked_campaign(row.campaign_id)
    row = await models.CampaignAccount.get(id=row.id)
    account = await models.Account.filter(id=account.id).select_for_update().get()
    if contact is not None:
        contact = await models.Contact.filter(id=contact.id).select_for_update().get()
    if refuses:
        refuse_do_not_contact(account, contact)  # a status changed since the check above: roll back
    cleaned = dict(cleaned)
    given = cleaned.pop("signals", [])
    if draft is None:
        message = await models.Message.create(
            project_id=campaign.project_id, campaign_account_id=row.id, contact=contact, idempotency_key=key,
            created_by=access.user, **cleaned,
        )
    else:
        # Locked after the campaign (every writer of this thread holds it): sent or discarded meanwhile?
        locked = await models.Message.filter(id=draft.id).select_for_update().first()
        if locked is None:
            raise DraftGone(NotFound("Message", field="draft_id"))
        message = locked
        try:
            require_draft(message)
        except InvalidInput as exc:
            raise DraftGone(exc) from None
        for name, value in cleaned.items():
            setattr(message, name, value)
        message.contact = contact
        message.contact_id = contact.id if contact is not None else None
        if key is not None:
            message.idempotency_key = key
        await message.save()
    await signals_service.add(message, campaign.id, given, status=SignalStatus.CONFIRMED, source="person",
                              created_by=access.user)
    moved: dict[str, Any] = {}
    if cleaned["status"] is MessageStatus.SENT:
        direction = cleaned["direction"]
        target = OUTREACH_TARGET[direction]
        if OUTREACH_RANK[row.outreach_status] < OUTREACH_RANK[target]:
            await campaign_stats.bump(campaign.id, **outreach_deltas(row.outreach_status, target))
            moved["outreach_status"] = [row.outreach_status.value, target.value]
            row.outreach_status = target
            await row.save(update_fields=["outreach_status", "updated_at"])
        if direction is Direction.INBOUND:
            await execution.stop_on_reply(row)  # a reply stops the account's plan in this campaign
        sources, promoted = PROMOTION[direction]
        if await _promote(access, account, sources, promoted,
                          note=f"{direction.value} {cleaned['channel'].value} message in {campaign.name}"):
            moved["account_status"] = [account.status.value, promoted.value]
            account.status = promoted
    await audit.record(project_id=campaign.project_id, actor=access.user, action="message.log", row=message,
                       after={**audit.snapshot(message, ["campaign_account_id", "direction", "channel", "status",
                                                         "mode", "outcome"]), **moved})
    return message, row, "account_status" in moved


async def _promote(access: Access, account: models.Account, sources: frozenset[AccountStatus],
                   target: AccountStatus, note: str) -> bool:
    """Move the account to ``target`` only if its stored status is still one of ``sources`` (a conditional
    update, so a status set meanwhile is never overwritten); the history entry only when a row changed."""
    changed = await models.Account.filter(id=account.id, status__in=list(sources)).update(
        status=target, updated_at=runtime.now())
    if not changed:
        return False
    await models.AccountStatusChange.create(account_id=account.id, from_status=account.status, to_status=target,
                                            source=StatusSource.CONVERSATION, changed_by=access.user, note=note)
    return True


def in_thread_order(queryset: Any, *, newest_first: bool = False) -> Any:
    """Messages in the order they were said: when sent or received (a draft: when written), then id; a
    message logged late with an earlier sent time takes its place in the conversation."""
    sign = "-" if newest_first else ""
    said = RawSQL('COALESCE("message"."sent_at", "message"."created_at")')  # qualified: callers may join
    return queryset.annotate(said_at=said).order_by(f"{sign}said_at", f"{sign}id")


def said_at(message: models.Message) -> tuple[datetime, int]:
    """The sort key of :func:`in_thread_order`, for messages already loaded."""
    return message.sent_at or message.created_at, message.id


def thread_queryset(campaign_account_id: int) -> Any:
    return in_thread_order(models.Message.filter(campaign_account_id=campaign_account_id))


async def discard_draft(access: Access, cmd: DiscardDraft) -> DraftDiscarded:
    """Delete a DRAFT (anything sent or received is INVALID); audited with the draft as it was. Once
    committed, the campaign's page hears ``accounts_changed``."""
    message = await access.get(models.Message, cmd.message_id, Role.MEMBER, field="message_id")
    require_draft(message, "message_id")
    row = await models.CampaignAccount.get(id=message.campaign_account_id)
    async with in_transaction():
        await locked_campaign(row.campaign_id)  # the order every writer of the thread takes
        locked = await models.Message.filter(id=message.id).select_for_update().first()
        if locked is None:
            raise NotFound("Message", field="message_id")
        require_draft(locked, "message_id")
        await audit.record(project_id=locked.project_id, actor=access.user, action="message.discard", row=locked,
                           before=audit.snapshot(locked))
        await models.Message.filter(id=locked.id).delete()
        row = await models.CampaignAccount.get(id=row.id)  # as it is once the draft is gone
    await events.publish_campaign_event(row.campaign_id, "accounts_changed")
    return DraftDiscarded(message=locked, campaign_account=row)
