"""Planning outreach: which rows of a live campaign get a plan, and each row's next attempt.

A row becomes ``planning`` when its campaign's outreach has started and the row is eligible (reviewed APPROVED,
or any row not REJECTED when the cadence admits all); `plan_pending` turns planning rows into their first
attempt. `next_attempt` is the one place an attempt is made, for a first attempt, a retry, the next contact or
the next step: it picks the contact reachable on the step's channel (the row's chosen contact first, then the
account's decision makers, then the others; nobody marked do-not-contact), the time (the next allowed one in the
window, in the recipient's time zone when the cadence says so) and what it says (the step's templates, else the
offline drafter).
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tortoise.models import Model
from tortoise.transactions import in_transaction

from outboundql import drafting, models
from outboundql.cadence import timezones, windows
from outboundql.cadence.settings import Cadence, Step
from outboundql.enums import (
    AccountStatus,
    AttemptStatus,
    Channel,
    Eligibility,
    ExecutionMode,
    ExecutionState,
    ExecutionStatus,
    ReviewStatus,
)
from outboundql.services import runtime, sql
from outboundql.services.locks import locked_campaign

#: Rows planned in one transaction (a tick plans more in further batches).
PLAN_BATCH = 500

#: Where each message channel reaches a person: the contact's (or the account's) field.
ADDRESS_FIELD: dict[Channel, str] = {
    Channel.EMAIL: "email",
    Channel.PHONE_CALL: "phone",
    Channel.SMS: "phone",
    Channel.WHATSAPP: "phone",
    Channel.LINKEDIN: "linkedin_url",
}


def address_of(channel: Channel, person: models.Contact | models.Account) -> str | None:
    """Where ``channel`` reaches this contact or account; for channels without an address field (Instagram…),
    a contact is reachable by name and an account is not."""
    name = ADDRESS_FIELD.get(channel)
    if name is None:
        return person.name if isinstance(person, models.Contact) else None
    value = getattr(person, name, None)
    return value or None


def eligible_rows(campaign_id: int, cadence: Cadence) -> Any:
    """Rows of the campaign not planned yet that the cadence admits."""
    rows = models.CampaignAccount.filter(campaign_id=campaign_id, execution_status=ExecutionStatus.NOT_PLANNED)
    if cadence.eligibility is Eligibility.APPROVED_ONLY:
        return rows.filter(review_status=ReviewStatus.APPROVED)
    return rows.exclude(review_status=ReviewStatus.REJECTED)


def plans_new_rows(campaign: models.Campaign, cadence: Cadence, now: datetime) -> bool:
    """Whether rows that become eligible are planned without anyone asking: a live ON_ADD campaign, or a live
    SCHEDULED one once its start time came (a MANUAL campaign plans at each startOutreach); never past the
    cadence's end time."""
    if campaign.execution_state is not ExecutionState.LIVE or ended(cadence, now):
        return False
    if cadence.execution_mode is ExecutionMode.ON_ADD:
        return campaign.outreach_started_at is not None
    if cadence.execution_mode is ExecutionMode.SCHEDULED:
        return cadence.start_at is not None and cadence.start_at <= now
    return False


def ended(cadence: Cadence, now: datetime) -> bool:
    """The cadence's end time passed: nothing new is planned or executed."""
    return cadence.end_at is not None and now >= cadence.end_at


async def mark_eligible(campaign: models.Campaign, cadence: Cadence) -> int:
    """Move the campaign's eligible unplanned rows to ``planning``; how many moved."""
    ids: list[int] = await sql.column(eligible_rows(campaign.id, cadence).values_list("id", flat=True))
    if not ids:
        return 0
    return await models.CampaignAccount.filter(id__in=list(ids), execution_status=ExecutionStatus.NOT_PLANNED
                                               ).update(execution_status=ExecutionStatus.PLANNING)


@dataclass(slots=True)
class CampaignPlan:
    """What planning a campaign's attempts needs once: its cadence, and what the drafter is told about it."""

    campaign: models.Campaign
    cadence: Cadence
    product: models.Product
    goal_label: str
    message_intent: str
    persona: models.Persona | None
    sender: models.User | None

    @classmethod
    async def of(cls, campaign: models.Campaign) -> CampaignPlan:
        product = await models.Product.get(id=campaign.product_id)
        goal = runtime.goals().get(campaign.goal_key)
        persona = await models.Persona.filter(product_id=product.id, goal_key=campaign.goal_key).first()
        sender = await models.User.filter(id=campaign.created_by_id).first() if campaign.created_by_id else None
        return cls(campaign, Cadence.from_stored(campaign.cadence), product,
                   goal.label if goal else campaign.goal_key, goal.message_intent if goal else "", persona, sender)


@dataclass(slots=True)
class People:
    """An account and its contacts, in the order they are tried."""

    account: models.Account
    contacts: list[models.Contact]

    def ordered(self, preferred_id: int | None) -> list[models.Contact]:
        return sorted(self.contacts, key=lambda c: (c.id != preferred_id, not c.is_decision_maker, c.id))


@functools.cache
def fields_but(model: type[Model], *skipped: str) -> tuple[str, ...]:
    """Every field of ``model`` stored in its table (foreign keys as ``<name>_id``) but ``skipped``: what ``.only()``
    loads of rows the engine reads by the thousand and never saves, without the timestamps and JSON whose parsing
    is most of the cost of loading them. (Read once the ORM is initialised: foreign keys get their ids then.)"""
    return tuple(name for name, field in model._meta.fields_map.items() if field.has_db_field and name not in skipped)


def row_fields() -> tuple[str, ...]:
    """What planning and executing load of campaign rows (read, then moved by UPDATEs)."""
    return fields_but(models.CampaignAccount, "created_at", "updated_at", "reviewed_at", "contact_snapshot")


async def people_of(account_ids: Iterable[int]) -> dict[int, People]:
    """The accounts and their contacts, without their timestamps, tags and custom fields (read, never saved)."""
    ids = list(set(account_ids))
    accounts = {a.id: a for a in await models.Account.filter(id__in=ids).only(
        *fields_but(models.Account, "created_at", "updated_at", "tags", "custom_fields"))}
    contacts: dict[int, list[models.Contact]] = defaultdict(list)
    for contact in await models.Contact.filter(account_id__in=ids).order_by("id").only(
            *fields_but(models.Contact, "created_at", "updated_at")):
        contacts[contact.account_id].append(contact)
    return {aid: People(account, contacts[aid]) for aid, account in accounts.items()}


@dataclass(frozen=True, slots=True)
class Target:
    """Who is reached on a step: a contact, or the account itself (``contact`` None), at ``address``."""

    contact: models.Contact | None
    address: str


def targets(channel: Channel, people: People, preferred_id: int | None) -> list[Target]:
    """Everyone ``channel`` can reach at the account, in the order they are tried; nobody do-not-contact."""
    found = [Target(c, address) for c in people.ordered(preferred_id)
             if not c.do_not_contact and (address := address_of(channel, c))]
    if not found and (address := address_of(channel, people.account)):
        found.append(Target(None, address))
    return found


class Unreachable(Exception):
    """Nobody at the account can be reached on the step's channel (or the account is do-not-contact)."""


TEMPLATE_FIELD = re.compile(r"\{\{\s*([a-z_]+)\.([a-z_]+)\s*\}\}")


def render(template: str, values: dict[str, dict[str, str]]) -> str:
    """Fill ``{{account.name}}``-style fields; an unknown field is left as written."""
    def field(match: re.Match[str]) -> str:
        value = values.get(match.group(1), {}).get(match.group(2))
        return match.group(0) if value is None else value
    return TEMPLATE_FIELD.sub(field, template)


async def _wording(plan: CampaignPlan, step_number: int, step: Step, people: People,
                   contact: models.Contact | None) -> tuple[str | None, str]:
    """Subject and body of a step's attempt: its templates, else the offline drafter's first message (step 1)
    or follow-up (later steps)."""
    first_name = (contact.name.split() or [""])[0] if contact else ""
    values = {"account": {"name": people.account.name},
              "contact": {"name": contact.name if contact else "", "first_name": first_name},
              "product": {"name": plan.product.name},
              "sender": {"name": plan.sender.name if plan.sender else ""}}
    channel = Channel(step.channel)
    if step.body:
        subject = render(step.subject, values) if step.subject and channel is Channel.EMAIL else None
        return subject, render(step.body, values)
    language = "en"
    for value in (people.account.language, plan.campaign.communication_language, plan.product.communication_language,
                  plan.sender.language if plan.sender else None):
        if value:
            language = value
            break
    draft = await drafting.TemplateDrafter().draft(drafting.DraftRequest(
        mode=drafting.FIRST if step_number == 1 else drafting.CONTINUE, language=language, channel=channel.value,
        goal_key=plan.campaign.goal_key, goal_label=plan.goal_label,
        message_intent=step.intent or plan.message_intent, product_name=plan.product.name,
        product_description=plan.product.description or "",
        persona_summary=plan.persona.summary if plan.persona else "",
        pain_points=tuple(plan.persona.pain_points) if plan.persona else (),
        account_name=people.account.name, account_industry=people.account.industry,
        account_description=people.account.description,
        contact_name=contact.name if contact else None, contact_title=contact.title if contact else None,
        sender_name=plan.sender.name if plan.sender else "",
    ))
    subject = (render(step.subject, values) if step.subject else draft.subject) if channel is Channel.EMAIL else None
    return subject, draft.text


def due_time(plan: CampaignPlan, not_before: datetime, people: People, contact: models.Contact | None) -> datetime:
    window = plan.cadence.window
    zone = timezones.recipient_zone(window.time_zone, window.recipient_local_time,
                                    contact.time_zone if contact else None, people.account.time_zone,
                                    people.account.country)
    return windows.next_allowed(not_before, window, zone)


async def next_attempt(plan: CampaignPlan, row: models.CampaignAccount, people: People, *, step_number: int,
                       not_before: datetime, attempt_number: int = 1, contact: models.Contact | None = None,
                       same_as: models.OutreachAttempt | None = None,
                       skip: Sequence[int | None] = ()) -> models.OutreachAttempt:
    """The unsaved next attempt of ``row`` on step ``step_number``: to ``contact`` (a retry: ``same_as`` gives its
    wording and address), else to the first reachable target not in ``skip`` (contact ids; None = the account).
    Raises `Unreachable` when nobody is left or the account is do-not-contact."""
    step = plan.cadence.step(step_number)
    assert step is not None
    channel = Channel(step.channel)
    if people.account.status is AccountStatus.DO_NOT_CONTACT:
        raise Unreachable(f"{people.account.name} is marked do_not_contact.")
    if same_as is not None:
        target = Target(contact, same_as.address or "")
        subject, body = same_as.subject, same_as.body
    else:
        found = [t for t in targets(channel, people, row.contact_id)
                 if (t.contact.id if t.contact else None) not in skip]
        if contact is not None:
            found.sort(key=lambda t: t.contact is None or t.contact.id != contact.id)
        if not found:
            raise Unreachable(f"Nobody at {people.account.name} can be reached by {channel.value}.")
        target = found[0]
        subject, body = await _wording(plan, step_number, step, people, target.contact)
    status = AttemptStatus.AWAITING_APPROVAL if plan.cadence.reviews(step) else AttemptStatus.SCHEDULED
    return models.OutreachAttempt(
        project_id=plan.campaign.project_id, campaign_id=plan.campaign.id, campaign_account_id=row.id,
        contact_id=target.contact.id if target.contact else None, channel=channel, step=step_number,
        attempt_number=attempt_number, plan_round=row.plan_round, status=status,
        due_at=due_time(plan, not_before, people, target.contact),
        subject=subject, body=body, address=target.address,
    )


def row_status_for(attempt: models.OutreachAttempt, *, retry: bool) -> ExecutionStatus:
    if attempt.status is AttemptStatus.AWAITING_APPROVAL:
        return ExecutionStatus.AWAITING_APPROVAL
    return ExecutionStatus.RESCHEDULED if retry else ExecutionStatus.AWAITING_EXECUTION


@dataclass(frozen=True, slots=True)
class Planned:
    planned: list[int]
    """Rows given their first attempt."""
    disqualified: list[int]
    """Rows nobody can be reached at."""

    def __bool__(self) -> bool:
        """Whether any row was taken (a further batch may have more)."""
        return bool(self.planned or self.disqualified)


async def plan_pending(campaign_id: int, now: datetime, limit: int = PLAN_BATCH) -> Planned:
    """Plan the first attempt of up to ``limit`` of the campaign's ``planning`` rows (one transaction, the campaign
    locked as by every writer of its rows); rows nobody can be reached at become ``disqualified``."""
    async with in_transaction():
        campaign = await locked_campaign(campaign_id)
        if campaign.execution_state not in (ExecutionState.LIVE, ExecutionState.PAUSED):
            return Planned([], [])
        rows = await models.CampaignAccount.filter(campaign_id=campaign_id, execution_status=ExecutionStatus.PLANNING
                                                   ).order_by("id").limit(limit).only(*row_fields())
        if not rows:
            return Planned([], [])
        plan = await CampaignPlan.of(campaign)
        if not plan.cadence.steps:  # steps removed after going live: rows wait for a step
            return Planned([], [])
        people = await people_of(r.account_id for r in rows)
        attempts: list[models.OutreachAttempt] = []
        moved: dict[ExecutionStatus, list[int]] = defaultdict(list)
        for row in rows:
            try:
                attempt = await next_attempt(plan, row, people[row.account_id], step_number=1,
                                             not_before=now + timedelta(minutes=plan.cadence.steps[0].delay_minutes))
            except Unreachable:
                moved[ExecutionStatus.DISQUALIFIED].append(row.id)
                continue
            attempts.append(attempt)
            moved[row_status_for(attempt, retry=False)].append(row.id)
        await models.OutreachAttempt.bulk_create(attempts, batch_size=500)
        for status, ids in moved.items():
            await models.CampaignAccount.filter(id__in=ids).update(execution_status=status, updated_at=now)
    disqualified = moved.get(ExecutionStatus.DISQUALIFIED, [])
    return Planned([r.id for r in rows if r.id not in set(disqualified)], disqualified)
