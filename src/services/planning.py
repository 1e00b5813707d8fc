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

import dataclasses
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tortoise.connection import connections
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
from outboundql.services import runtime, sql, suppressions
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


def address_of(channel: Channel, person: ContactView | AccountView) -> str | None:
    """Where ``channel`` reaches this contact or account; for channels without an address field (Instagram…),
    a contact is reachable by name and an account is not."""
    name = ADDRESS_FIELD.get(channel)
    if name is None:
        return person.name if isinstance(person, ContactView) else None
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
    """Move the campaign's eligible unplanned rows to ``planning`` (one UPDATE, inside the caller's transaction
    holding the campaign's lock); how many moved."""
    moved: int = await eligible_rows(campaign.id, cadence).update(execution_status=ExecutionStatus.PLANNING)
    return moved


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
    due_times: dict[tuple[str, datetime], datetime] = dataclasses.field(default_factory=dict)
    """Due times already computed, by zone and earliest time (a batch plans many rows at the same time)."""
    drafts: dict[tuple[int, str, bool], drafting.Draft] = dataclasses.field(default_factory=dict)
    """Wordings drafted with marks for the names, by step, language and whether the greeting has a name."""

    @classmethod
    async def of(cls, campaign: models.Campaign) -> CampaignPlan:
        product = await models.Product.get(id=campaign.product_id)
        goal = runtime.goals().get(campaign.goal_key)
        persona = await models.Persona.filter(product_id=product.id, goal_key=campaign.goal_key).first()
        sender = await models.User.filter(id=campaign.created_by_id).first() if campaign.created_by_id else None
        return cls(campaign, Cadence.from_stored(campaign.cadence), product,
                   goal.label if goal else campaign.goal_key, goal.message_intent if goal else "", persona, sender)


@dataclass(slots=True)
class AccountView:
    """What planning and executing read of an account (loaded as plain values: thousands at a time)."""

    id: int
    name: str
    status: AccountStatus
    language: str | None
    industry: str | None
    description: str
    country: str | None
    time_zone: str | None
    email: str | None
    phone: str | None


@dataclass(slots=True)
class ContactView:
    """What planning and executing read of a contact."""

    id: int
    account_id: int
    name: str
    title: str | None
    email: str | None
    phone: str | None
    linkedin_url: str | None
    is_decision_maker: bool
    do_not_contact: bool
    time_zone: str | None


ACCOUNT_FIELDS = tuple(f.name for f in dataclasses.fields(AccountView))
CONTACT_FIELDS = tuple(f.name for f in dataclasses.fields(ContactView))


@dataclass(slots=True)
class People:
    """An account and its contacts, in the order they are tried."""

    account: AccountView
    contacts: list[ContactView]
    suppressed: list[tuple[int | None, str, str]] = dataclasses.field(default_factory=list)
    """The addresses left out because the project suppresses them: (contact id, None for the account; address; how
    a reason shows it, e.g. ``ana@acme.example (every address at acme.example)``)."""
    suppressed_domain: str | None = None
    """The account's domain, when the project suppresses it: nobody there is contacted."""

    def ordered(self, preferred_id: int | None) -> list[ContactView]:
        return sorted(self.contacts, key=lambda c: (c.id != preferred_id, not c.is_decision_maker, c.id))

    def contact(self, contact_id: int | None) -> ContactView | None:
        return next((c for c in self.contacts if c.id == contact_id), None)


async def people_of(account_ids: Iterable[int]) -> dict[int, People]:
    """The accounts and their contacts, as plain values (raw SELECTs: thousands of rows per batch). Suppressed
    addresses are left out (an e-mail or phone the project suppresses reads as none), so nobody is reached there."""
    conn = connections.get("default")  # the transaction's, inside one
    found: dict[int, People] = {}
    projects: dict[int, list[int]] = defaultdict(list)
    for part in sql.chunks(list(set(account_ids))):
        for values in await conn.execute_query_dict(
                f"SELECT project_id, domain AS account_domain, {', '.join(ACCOUNT_FIELDS)} FROM account "
                f"WHERE id IN ({sql.int_list(part)})"):
            values["status"] = AccountStatus(values["status"])
            projects[values.pop("project_id")].append(values["id"])
            domain = values.pop("account_domain")
            found[values["id"]] = People(AccountView(**values), [], suppressed_domain=domain)
        for values in await conn.execute_query_dict(
                f"SELECT {', '.join(CONTACT_FIELDS)} FROM contact WHERE account_id IN ({sql.int_list(part)}) "
                "ORDER BY id"):
            values["is_decision_maker"] = bool(values["is_decision_maker"])  # SQLite answers 0 or 1
            values["do_not_contact"] = bool(values["do_not_contact"])
            found[values["account_id"]].contacts.append(ContactView(**values))
    for project_id, ids in projects.items():
        await _leave_out_suppressed(project_id, [found[i] for i in ids])
    return found


async def _leave_out_suppressed(project_id: int, batch: list[People]) -> None:
    """Blank the suppressed e-mails and phones of ``batch``, noting each in ``People.suppressed``, and keep the
    account's domain in ``People.suppressed_domain`` only when it is suppressed (one lookup for the whole batch)."""
    views: list[tuple[People, AccountView | ContactView]] = []
    for people in batch:
        views += [(people, people.account), *((people, c) for c in people.contacts)]
    hits = await suppressions.suppressed(project_id, emails=[v.email for _, v in views],
                                         phones=[v.phone for _, v in views],
                                         domains=[p.suppressed_domain for p in batch])
    for people in batch:
        if people.suppressed_domain not in hits.domains:
            people.suppressed_domain = None
    if not hits:
        return
    for people, view in views:
        who = view.id if isinstance(view, ContactView) else None
        if view.email and hits.email(view.email):
            address = view.email.strip().lower()
            domain = suppressions.domain_of(address)
            shown = address if address in hits.emails else f"{address} (every address at {domain})"
            people.suppressed.append((who, view.email, shown))
            view.email = None
        if view.phone and hits.phone(view.phone):
            people.suppressed.append((who, view.phone, view.phone))
            view.phone = None


@dataclass(frozen=True, slots=True)
class RowView:
    """What planning reads of a campaign row."""

    id: int
    account_id: int
    contact_id: int | None
    plan_round: int
    paused_until: datetime | None = None
    """An out-of-office reply's return: nothing is due before it."""

    @classmethod
    def of(cls, row: models.CampaignAccount) -> RowView:
        return cls(row.id, row.account_id, row.contact_id, row.plan_round, row.paused_until)


ROW_FIELDS = tuple(f.name for f in dataclasses.fields(RowView))

@dataclass(frozen=True, slots=True)
class Target:
    """Who is reached on a step: a contact, or the account itself (``contact`` None), at ``address``."""

    contact: ContactView | None
    address: str


def targets(channel: Channel, people: People, preferred_id: int | None) -> list[Target]:
    """Everyone ``channel`` can reach at the account, in the order they are tried; nobody do-not-contact."""
    found = [Target(c, address) for c in people.ordered(preferred_id)
             if not c.do_not_contact and (address := address_of(channel, c))]
    if not found and (address := address_of(channel, people.account)):
        found.append(Target(None, address))
    return found


class Unreachable(Exception):
    """Nobody at the account can be reached on the step's channel (or the account is do-not-contact).

    ``suppressed``: the suppression list is why (the account's domain, or every address the channel could use), and
    the first such address (with its contact id) is where the attempt would have gone."""

    def __init__(self, message: str, suppressed: tuple[int | None, str] | None = None) -> None:
        super().__init__(message)
        self.suppressed = suppressed


def _suppressed_reason(channel: Channel, people: People) -> Unreachable | None:
    """Why the suppression list leaves nobody at the account to reach on ``channel``, if it does."""
    name = people.account.name
    if people.suppressed_domain:
        first = people.suppressed[0][:2] if people.suppressed else (None, people.suppressed_domain)
        return Unreachable(f"{people.suppressed_domain}, the domain of {name}, is on the project's suppression list: "
                           "nobody there is contacted.", first)
    field = ADDRESS_FIELD.get(channel)
    hit = [entry for entry in people.suppressed
           if ("@" in entry[1]) == (field == "email") and field in ("email", "phone")]
    if not hit:
        return None
    shown = ", ".join(label for _, _, label in hit[:3]) + (f" and {len(hit) - 3} more" if len(hit) > 3 else "")
    return Unreachable(f"Nobody at {name} can be reached by {channel.value}: {shown} "
                       f"{'is' if len(hit) == 1 else 'are'} on the project's suppression list.", hit[0][:2])


TEMPLATE_FIELD = re.compile(r"\{\{\s*([a-z_]+)\.([a-z_]+)\s*\}\}")


def render(template: str, values: dict[str, dict[str, str]]) -> str:
    """Fill ``{{account.name}}``-style fields; an unknown field is left as written."""
    def field(match: re.Match[str]) -> str:
        value = values.get(match.group(1), {}).get(match.group(2))
        return match.group(0) if value is None else value
    return TEMPLATE_FIELD.sub(field, template)


async def _wording(plan: CampaignPlan, step_number: int, step: Step, people: People,
                   contact: ContactView | None) -> tuple[str | None, str]:
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
    account_name, has_first = people.account.name, bool(first_name)
    if NAME_MARKS[0] in account_name or NAME_MARKS[1] in first_name:  # cannot be told from a mark: draft it alone
        alone = await _draft(plan, step_number, step, language, account_name, contact.name if contact else None)
        return (render(step.subject, values) if step.subject else alone.subject) if channel is Channel.EMAIL \
            else None, alone.text
    # The offline drafter's wording of a step depends on the names of the account and contact only, so it is drafted
    # once per campaign, step, language and greeting with marks in their place, then filled in for each row.
    key = (step_number, language, has_first)
    draft = plan.drafts.get(key)
    if draft is None:
        draft = await _draft(plan, step_number, step, language, NAME_MARKS[0],
                             NAME_MARKS[1] if has_first else None)
        plan.drafts[key] = draft
    text = draft.text.replace(NAME_MARKS[0], account_name).replace(NAME_MARKS[1], first_name)
    if channel is not Channel.EMAIL:
        return None, text
    if step.subject:
        return render(step.subject, values), text
    return (draft.subject or "").replace(NAME_MARKS[0], account_name).replace(NAME_MARKS[1], first_name) or None, text


#: Stand-ins for the account's name and the contact's first name in a step's wording drafted once.
NAME_MARKS = ("\ue000account\ue000", "\ue000first\ue000")


async def _draft(plan: CampaignPlan, step_number: int, step: Step, language: str, account_name: str,
                 contact_name: str | None) -> drafting.Draft:
    return await drafting.TemplateDrafter().draft(drafting.DraftRequest(
        mode=drafting.FIRST if step_number == 1 else drafting.CONTINUE, language=language,
        channel=Channel(step.channel).value, goal_key=plan.campaign.goal_key, goal_label=plan.goal_label,
        message_intent=step.intent or plan.message_intent, product_name=plan.product.name,
        product_description=plan.product.description or "",
        persona_summary=plan.persona.summary if plan.persona else "",
        pain_points=tuple(plan.persona.pain_points) if plan.persona else (),
        account_name=account_name, contact_name=contact_name,
        sender_name=plan.sender.name if plan.sender else "",
    ))


def due_time(plan: CampaignPlan, not_before: datetime, people: People, contact: ContactView | None) -> datetime:
    """The first allowed time from ``not_before`` in the window, read in the recipient's zone."""
    window = plan.cadence.window
    zone = timezones.recipient_zone(window.time_zone, window.recipient_local_time,
                                    contact.time_zone if contact else None, people.account.time_zone,
                                    people.account.country)
    key = (zone.key, not_before)
    due = plan.due_times.get(key)
    if due is None:
        due = plan.due_times[key] = windows.next_allowed(not_before, window, zone)
    return due


@dataclass(frozen=True, slots=True)
class NewAttempt:
    """An attempt planned, not saved yet: `model` for one, `columns` for many (a raw multi-row INSERT)."""

    project_id: int
    campaign_id: int
    campaign_account_id: int
    contact_id: int | None
    channel: Channel
    step: int
    attempt_number: int
    plan_round: int
    status: AttemptStatus
    due_at: datetime
    subject: str | None
    body: str
    address: str

    def model(self) -> models.OutreachAttempt:
        return models.OutreachAttempt(**{name: getattr(self, name) for name in NEW_ATTEMPT_FIELDS})

    def columns(self, now: datetime) -> dict[str, Any]:
        return {**{name: getattr(self, name) for name in NEW_ATTEMPT_FIELDS}, "notes": "", "created_at": now,
                "updated_at": now}


NEW_ATTEMPT_FIELDS = tuple(f.name for f in dataclasses.fields(NewAttempt))


async def next_attempt(plan: CampaignPlan, row: RowView, people: People, *, step_number: int,
                       not_before: datetime, attempt_number: int = 1, contact: ContactView | None = None,
                       same_as: models.OutreachAttempt | None = None,
                       skip: Sequence[int | None] = ()) -> NewAttempt:
    """The next attempt of ``row`` on step ``step_number``: to ``contact`` (a retry: ``same_as`` gives its wording
    and address), else to the first reachable target not in ``skip`` (contact ids; None = the account). Raises
    `Unreachable` when nobody is left or the account is do-not-contact."""
    step = plan.cadence.step(step_number)
    assert step is not None
    channel = Channel(step.channel)
    if people.account.status is AccountStatus.DO_NOT_CONTACT:
        raise Unreachable(f"{people.account.name} is marked do_not_contact.")
    if people.suppressed_domain:
        raise _suppressed_reason(channel, people) or Unreachable("")
    if same_as is not None:
        target = Target(contact, same_as.address or "")
        subject, body = same_as.subject, same_as.body
    else:
        found = [t for t in targets(channel, people, row.contact_id)
                 if (t.contact.id if t.contact else None) not in skip]
        if contact is not None:
            found.sort(key=lambda t: t.contact is None or t.contact.id != contact.id)
        if not found:
            raise _suppressed_reason(channel, people) or Unreachable(
                f"Nobody at {people.account.name} can be reached by {channel.value}.")
        target = found[0]
        subject, body = await _wording(plan, step_number, step, people, target.contact)
    if row.paused_until is not None:
        not_before = max(not_before, row.paused_until)
    return NewAttempt(
        project_id=plan.campaign.project_id, campaign_id=plan.campaign.id, campaign_account_id=row.id,
        contact_id=target.contact.id if target.contact else None, channel=channel, step=step_number,
        attempt_number=attempt_number, plan_round=row.plan_round,
        status=AttemptStatus.AWAITING_APPROVAL if plan.cadence.reviews(step) else AttemptStatus.SCHEDULED,
        due_at=due_time(plan, not_before, people, target.contact), subject=subject, body=body,
        address=target.address,
    )


def row_status_for(attempt: NewAttempt | models.OutreachAttempt, *, retry: bool) -> ExecutionStatus:
    if attempt.status is AttemptStatus.AWAITING_APPROVAL:
        return ExecutionStatus.AWAITING_APPROVAL
    return ExecutionStatus.RESCHEDULED if retry else ExecutionStatus.AWAITING_EXECUTION


def _barred_attempt(plan: CampaignPlan, row: RowView, why: Unreachable, now: datetime) -> dict[str, Any]:
    """The first step's attempt as it would have gone, cancelled with why: how the row shows that the suppression
    list disqualified it (as an attempt stopped at execution shows it)."""
    assert why.suppressed is not None
    contact_id, address = why.suppressed
    step = plan.cadence.steps[0]
    return {"project_id": plan.campaign.project_id, "campaign_id": plan.campaign.id, "campaign_account_id": row.id,
            "contact_id": contact_id, "channel": Channel(step.channel), "step": 1, "attempt_number": 1,
            "plan_round": row.plan_round, "status": AttemptStatus.CANCELLED, "due_at": now, "subject": None,
            "body": "", "address": address, "notes": "", "error": str(why), "settled_at": now, "created_at": now,
            "updated_at": now}


@dataclass(frozen=True, slots=True)
class Planned:
    planned: list[int]
    """Rows given their first attempt."""
    disqualified: list[int]
    """Rows nobody can be reached at."""

    def __bool__(self) -> bool:
        """Whether any row was taken (a further batch may have more)."""
        return bool(self.planned or self.disqualified)


async def mark_eligible_locked(campaign_id: int, now: datetime) -> int:
    """`mark_eligible` in a transaction of its own, the campaign locked, when it plans new rows by itself."""
    async with in_transaction():
        campaign = await locked_campaign(campaign_id)
        cadence = Cadence.from_stored(campaign.cadence)
        if not plans_new_rows(campaign, cadence, now):
            return 0
        return await mark_eligible(campaign, cadence)


async def plan_pending(campaign_id: int, now: datetime, limit: int = PLAN_BATCH) -> Planned:
    """Plan the first attempt of up to ``limit`` of the campaign's ``planning`` rows (one transaction, the campaign
    locked as by every writer of its rows); rows nobody can be reached at become ``disqualified``."""
    async with in_transaction() as conn:
        campaign = await locked_campaign(campaign_id)
        if campaign.execution_state not in (ExecutionState.LIVE, ExecutionState.PAUSED):
            return Planned([], [])
        paused = models.CampaignAccount._meta.fields_map["paused_until"]
        rows = [RowView(**{**values, "paused_until": paused.to_python_value(values["paused_until"])})
                for values in await conn.execute_query_dict(
            f"SELECT {', '.join(ROW_FIELDS)} FROM campaign_account WHERE campaign_id = {int(campaign_id)} "
            f"AND execution_status = {sql.placeholder(conn, 1)} ORDER BY id LIMIT {int(limit)}",
            [ExecutionStatus.PLANNING.value])]
        if not rows:
            return Planned([], [])
        plan = await CampaignPlan.of(campaign)
        if not plan.cadence.steps or ended(plan.cadence, now):  # rows wait for a step, or for a later endAt
            return Planned([], [])
        people = await people_of(r.account_id for r in rows)
        not_before = now + timedelta(minutes=plan.cadence.steps[0].delay_minutes)
        attempts: list[NewAttempt] = []
        barred: list[dict[str, Any]] = []  # rows the suppression list disqualifies: a cancelled attempt says why
        moved: dict[ExecutionStatus, list[int]] = defaultdict(list)
        for row in rows:
            try:
                attempt = await next_attempt(plan, row, people[row.account_id], step_number=1, not_before=not_before)
            except Unreachable as exc:
                moved[ExecutionStatus.DISQUALIFIED].append(row.id)
                if exc.suppressed is not None:
                    barred.append(_barred_attempt(plan, row, exc, now))
                continue
            attempts.append(attempt)
            moved[row_status_for(attempt, retry=False)].append(row.id)
        await sql.insert_rows(conn, models.OutreachAttempt, [a.columns(now) for a in attempts])
        await sql.insert_rows(conn, models.OutreachAttempt, barred)
        for status, ids in moved.items():
            await sql.update_ids(conn, "campaign_account", ids, execution_status=status.value, updated_at=now)
    return Planned([a.campaign_account_id for a in attempts], moved.get(ExecutionStatus.DISQUALIFIED, []))
