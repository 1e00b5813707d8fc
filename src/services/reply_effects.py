"""What a classified reply does to its campaign account: the class drives the work.

`apply` runs for one classified inbound message (after its classification, or a person's correction, commits):

- ``not_interested``: the row's plan stops (attempts not sent yet cancelled, an active row completed) and its goal
  outcome becomes LOST when the campaign says so (``Campaign.lose_on_not_interested``, true by default); otherwise
  the outcome stays OPEN and the plan is stopped all the same (a reply stops it anyway).
- ``unsubscribe``: the sender's address goes on the project's suppression list and every plan to it stops, as when
  the person clicks the unsubscribe link (`outboundql.services.unsubscribes.stop_address`).
- ``out_of_office``: the row pauses until the day the reply says the person is back (midnight of ``returns_on`` in
  the recipient's zone), else for ``OUTBOUNDQL_OUT_OF_OFFICE_DAYS`` from the reply (``CampaignAccount.paused_until``),
  then resumes. Every reply stops the plan as it is logged (`outboundql.services.execution.stop_on_reply`); an
  automatic absence is no answer, so when every reply of the thread is out of office, what that stopped comes back:
  the attempts it cancelled (scheduled again, or awaiting approval when a reviewed step was not approved yet) and the
  row's status. The row's pending attempts are postponed to the window's first opening on or after the return (in
  their recipient's zone, as planning places attempts), and attempts planned meanwhile are not due before it either
  (`outboundql.services.planning.next_attempt` reads the pause).
- ``referral``: the person named is proposed as a contact of the account (through the contacts service: an existing
  one with the same phone, then e-mail, or with the same name when the referral has no address, is not duplicated),
  audited ``contact.referred``; the row's contact and plan stay as they are.
- ``bounce``: the row is marked bounced (as a hard bounce at execution is; a row that only this kind of notice
  answered counted as responded when it was logged, and counts as bounced instead) and the address goes on the
  suppression list (source ``bounce``).
- ``interested`` and ``other``: nothing (the reply stopped the plan when it was logged).

The address of the sender is the e-mail (an e-mail reply; the phone for calls, SMS and WhatsApp) of the message's
contact, else of the row's contact, else of the contact the row's latest attempt went to.

Only the thread's latest reply acts: a reply classified (or corrected) after a newer one of its row was logged does
nothing, whatever it says, so an old reply classified late never pauses or loses a row whose newer reply says
otherwise. Each effect is one transaction under the campaign's lock, audited on the row
(``campaign_account.reply_effect``: the message, the class and what it did), announced after commit (the
campaign's ``accounts_changed`` and ``execution_changed`` events). That audit event also makes `apply` idempotent:
the same class of the same message acts once. A correction applies the corrected class's effect; undoing what an
earlier class of the message did (a LOST outcome, a suppression, a pause) is not done: a person does that.
A failing effect is logged; the classification stands.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from typing import Any

from tortoise.transactions import in_transaction

from outboundql import models
from outboundql.cadence import timezones
from outboundql.classifiers import ReplyClass
from outboundql.enums import (
    ACTIVE_EXECUTION,
    AttemptStatus,
    Direction,
    ExecutionState,
    ExecutionStatus,
    GoalOutcome,
    MessageStatus,
    OutreachStatus,
    SuppressionKind,
    SuppressionSource,
)
from outboundql.errors import Collector
from outboundql.services import (
    attempts,
    audit,
    campaign_stats,
    contacts,
    events,
    execution,
    planning,
    runtime,
    suppressions,
)
from outboundql.services.access import Access
from outboundql.services.campaign_accounts import outreach_deltas
from outboundql.services.locks import locked_campaign
from outboundql.services.unsubscribes import Stopped, stop_address

log = logging.getLogger(__name__)

ACTION = "campaign_account.reply_effect"
NOT_INTERESTED = "The reply was not interested: the plan stopped."
UNSUBSCRIBED = "Asked to be removed in a reply."
BOUNCED = "A reply was a delivery failure notice."
#: Classes that do something.
ACTING = frozenset({ReplyClass.NOT_INTERESTED, ReplyClass.UNSUBSCRIBE, ReplyClass.OUT_OF_OFFICE,
                    ReplyClass.REFERRAL, ReplyClass.BOUNCE})


async def apply_all(message_ids: Sequence[int]) -> list[int]:
    """`apply` for each classified message of ``message_ids`` (after the commit that classified them); a failure is
    logged and the next one goes on. The ids of the messages whose class did something."""
    acted: list[int] = []
    for message in await models.Message.filter(id__in=list(message_ids), reply_class__isnull=False).order_by("id"):
        try:
            if await apply(message, runtime.now()):
                acted.append(message.id)
        except Exception:  # an effect that fails never undoes the classification
            log.exception("The effect of reply %s (%s) failed; its class is kept.", message.id, message.reply_class)
    return acted


async def apply(message: models.Message, now: datetime) -> dict[str, Any] | None:
    """Do what ``message``'s class says to its campaign account (see the module docstring); what it did (as
    audited), or None when nothing was to be done: a class that does nothing, a reply that is not the thread's
    latest, or one whose class acted already."""
    label = message.reply_class
    if (label not in ACTING or message.direction is not Direction.INBOUND or message.status is not MessageStatus.SENT
            or not await _latest(message)):
        return None
    row = await models.CampaignAccount.get(id=message.campaign_account_id)
    stopped = Stopped()
    async with in_transaction():
        if label is ReplyClass.UNSUBSCRIBE:  # it takes the campaigns' locks, this one's among them, in id order
            address = await _address(message, row)
            if address:
                stopped = await stop_address(message.project_id, address, UNSUBSCRIBED, message,
                                             also_locked=[row.campaign_id])
            campaign = await locked_campaign(row.campaign_id)
        else:
            campaign = await locked_campaign(row.campaign_id)
        row = await models.CampaignAccount.get(id=row.id)
        if await _acted(row, message):
            return None
        if label is ReplyClass.UNSUBSCRIBE:
            did: dict[str, Any] = {"address": address or None, "suppressed": bool(stopped.added),
                                   "cancelled": stopped.cancelled}
        else:
            did = await EFFECTS[label](campaign, row, message, now)
        did = {"message_id": message.id, "label": label.value, **did}
        await audit.record(project_id=message.project_id, actor=None, action=ACTION, row=row, after=did)
    await stopped.announce()
    await execution.changed(campaign.id, [row.id])
    await events.publish_campaign_event(campaign.id, "accounts_changed")
    return did


async def _latest(message: models.Message) -> bool:
    """Whether ``message`` is its thread's latest reply (by when it was sent, then logged)."""
    replies = await models.Message.filter(campaign_account_id=message.campaign_account_id,
                                          direction=Direction.INBOUND, status=MessageStatus.SENT
                                          ).values_list("id", "sent_at")
    first = datetime.min.replace(tzinfo=UTC)
    return bool(max(replies, key=lambda r: (r[1] or first, r[0]))[0] == message.id)


async def _acted(row: models.CampaignAccount, message: models.Message) -> bool:
    """Whether this class of this message acted on the row already."""
    for after in await models.AuditEvent.filter(action=ACTION, object_type="CampaignAccount", object_id=row.id
                                                ).values_list("after", flat=True):
        if isinstance(after, dict) and after.get("message_id") == message.id and \
                after.get("label") == (message.reply_class.value if message.reply_class else None):
            return True
    return False


async def _address(message: models.Message, row: models.CampaignAccount) -> str:
    """The sender's address: the message's contact's (its e-mail for an e-mail, its phone for calls and texts), else
    the row's contact's, else that of the contact the row's latest attempt went to; "" when none has one."""
    field = "phone" if planning.ADDRESS_FIELD.get(message.channel) == "phone" else "email"
    attempted = await models.OutreachAttempt.filter(campaign_account_id=row.id, contact_id__isnull=False).order_by(
        "-id").values_list("contact_id", flat=True)
    for contact_id in dict.fromkeys([message.contact_id, row.contact_id, *attempted[:1]]):
        if contact_id is None:
            continue
        contact = await models.Contact.get_or_none(id=contact_id)
        if contact is not None and (value := (getattr(contact, field) or "").strip()):
            return value
    return ""


# --- the effects (inside the transaction, the campaign locked) -----------------------------------------------


async def _not_interested(campaign: models.Campaign, row: models.CampaignAccount, message: models.Message,
                          now: datetime) -> dict[str, Any]:
    cancelled = await execution.cancel_pending([row.id], NOT_INTERESTED, now)
    if row.execution_status in ACTIVE_EXECUTION:
        row.execution_status = ExecutionStatus.COMPLETED
    lost = campaign.lose_on_not_interested and row.goal_outcome is GoalOutcome.OPEN
    if lost:
        row.goal_outcome = GoalOutcome.LOST
    row.paused_until = None
    await row.save(update_fields=["execution_status", "goal_outcome", "paused_until", "updated_at"])
    return {"cancelled": cancelled, "goal_outcome": row.goal_outcome.value, "execution_status":
            row.execution_status.value}


async def _bounce(campaign: models.Campaign, row: models.CampaignAccount, message: models.Message,
                  now: datetime) -> dict[str, Any]:
    if row.outreach_status is OutreachStatus.RESPONDED and await _only(row, ReplyClass.BOUNCE):
        # Logging the notice counted the row as responded; a delivery failure is no response.
        await campaign_stats.bump(campaign.id, **outreach_deltas(row.outreach_status, OutreachStatus.SENT))
        row.outreach_status = OutreachStatus.SENT
    await attempts.mark_bounced(campaign, row)
    address = await _address(message, row)
    added = 0
    if address:
        kind = SuppressionKind.EMAIL if "@" in address else SuppressionKind.PHONE
        added = await suppressions.add(campaign.project_id, [suppressions.Entry(kind, address, BOUNCED)],
                                       SuppressionSource.BOUNCE.value, None)
    return {"outreach_status": row.outreach_status.value, "address": address or None, "suppressed": bool(added)}


async def _referral(campaign: models.Campaign, row: models.CampaignAccount, message: models.Message,
                    now: datetime) -> dict[str, Any]:
    person = {k: (v or "").strip() or None for k, v in (message.referral or {}).items()
              if k in ("name", "email", "phone")}
    if not any(person.values()):
        return {"contact_id": None}
    account = await models.Account.get(id=row.account_id)
    data = {"name": person.get("name") or person.get("email") or person.get("phone"),
            **{k: person[k] for k in ("email", "phone") if person.get(k)}}
    check = Collector()
    cleaned = contacts.clean_contact(data, check, country=account.country)
    for issue in check.items:  # an address the reply garbled is left out; the name alone still proposes them
        cleaned.pop(issue.field or "", None)
    if not cleaned.get("name"):
        return {"contact_id": None}
    existing = None
    if not cleaned.get("email") and not cleaned.get("phone"):  # nothing to dedupe on but the name
        existing = await models.Contact.filter(account_id=account.id, name__iexact=cleaned["name"]).first()
    if existing is not None:
        contact, created = existing, False
    else:
        upserted = await contacts.upsert_contact(Access.engine(account.project_id), account, cleaned)
        contact, created = upserted.contact, upserted.created
    await audit.record(project_id=account.project_id, actor=None, action="contact.referred", row=contact,
                       after={"message_id": message.id, "campaign_account_id": row.id, "created": created})
    return {"contact_id": contact.id, "created": created}


async def _out_of_office(campaign: models.Campaign, row: models.CampaignAccount, message: models.Message,
                         now: datetime) -> dict[str, Any]:
    plan = await planning.CampaignPlan.of(campaign)
    people = (await planning.people_of([row.account_id]))[row.account_id]
    until = _return(message, people, runtime.settings().out_of_office_days)
    paused = until if until > now else None
    resumed = await _resume(campaign, plan, row) if await _only(row, ReplyClass.OUT_OF_OFFICE) else None
    postponed: list[int] = []
    if paused is not None:
        for attempt in await models.OutreachAttempt.filter(
                campaign_account_id=row.id, plan_round=row.plan_round,
                status__in=[AttemptStatus.SCHEDULED, AttemptStatus.AWAITING_APPROVAL]).order_by("id"):
            due = planning.due_time(plan, paused, people, people.contact(attempt.contact_id))
            if due > attempt.due_at:
                await models.OutreachAttempt.filter(id=attempt.id).update(due_at=due, updated_at=now)
                postponed.append(attempt.id)
    row.paused_until = paused
    await row.save(update_fields=["paused_until", "execution_status", "updated_at"])
    return {"paused_until": paused.isoformat() if paused else None, "resumed": resumed, "postponed": postponed}


def _return(message: models.Message, people: planning.People, default_days: int) -> datetime:
    """When the person is back: midnight of the day the reply states, in their zone; else ``default_days`` after
    the reply."""
    if message.returns_on is None:
        return (message.sent_at or runtime.now()) + timedelta(days=default_days)
    contact = people.contact(message.contact_id)
    zone = timezones.recipient_zone("UTC", True, contact.time_zone if contact else None, people.account.time_zone,
                                    people.account.country)
    return datetime.combine(message.returns_on, time(0), zone).astimezone(UTC)


async def _only(row: models.CampaignAccount, label: ReplyClass) -> bool:
    """Whether every reply of the thread is of class ``label`` (automatic ones: an absence, a bounce; a person's
    answer among them keeps the plan stopped and the row responded)."""
    labels = await models.Message.filter(campaign_account_id=row.id, direction=Direction.INBOUND,
                                         status=MessageStatus.SENT).values_list("reply_class", flat=True)
    return all(str(found) == label.value for found in labels)


async def _resume(campaign: models.Campaign, plan: planning.CampaignPlan, row: models.CampaignAccount
                  ) -> str | None:
    """Undo what the absence reply stopped (see the module docstring): the row's status resumed, if it was."""
    if (row.execution_status is not ExecutionStatus.COMPLETED or row.goal_outcome is not GoalOutcome.OPEN
            or campaign.execution_state not in (ExecutionState.LIVE, ExecutionState.PAUSED)):
        return None
    round_ = models.OutreachAttempt.filter(campaign_account_id=row.id, plan_round=row.plan_round)
    stopped = await round_.filter(status=AttemptStatus.CANCELLED, error=execution.REPLY_STOPPED).order_by("id")
    for attempt in stopped:
        step = plan.cadence.step(attempt.step)
        waits = attempt.reviewed_by_id is None and step is not None and plan.cadence.reviews(step)
        attempt.status = AttemptStatus.AWAITING_APPROVAL if waits else AttemptStatus.SCHEDULED
        await models.OutreachAttempt.filter(id=attempt.id).update(
            status=attempt.status, error=None, settled_at=None, claim_token=None, updated_at=runtime.now())
    if stopped:
        status = planning.row_status_for(stopped[-1], retry=stopped[-1].attempt_number > 1)
    elif await round_.filter(status=AttemptStatus.AWAITING_RESULT).exists():
        status = ExecutionStatus.EXECUTING
    elif not await round_.exists():
        status = ExecutionStatus.PLANNING
    else:
        return None  # the plan had ended before the reply: nothing to resume
    row.execution_status = status
    return status.value


EFFECTS = {
    ReplyClass.NOT_INTERESTED: _not_interested,
    ReplyClass.OUT_OF_OFFICE: _out_of_office,
    ReplyClass.REFERRAL: _referral,
    ReplyClass.BOUNCE: _bounce,
}
