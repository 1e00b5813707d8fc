"""Inbound contacts: a call or message a provider reports to a campaign's inbound endpoint
(``POST /channels/inbound/<token>``, `outboundql.channels.inbound_route`), logged on the sender's thread, or, for
a person not yet in the campaign, adding them when the campaign's ``add_inbound_contacts`` is on.

The token names the campaign (`outboundql.channels.links`, purpose ``INBOUND``); the request is signed exactly as a
result callback is (`result_callbacks.check_signature`): Standard Webhooks, with the ``signingSecret`` of the
project's channel configured for the body's message ``channel``. The body::

    {"channel": "PHONE_CALL", "from": {"name": "…", "phone": "+34…", "email": "…", "company": "…", "website": "…"},
     "text": "…", "occurredAt": "2026-03-02T10:00:00Z"}

(other keys are ignored; ``from`` needs a phone or an e-mail address; ``occurredAt`` defaults to now). Then:

* the sender is a contact of the project (E.164 phone first, then e-mail address) whose account has a row in the
  campaign: the inbound is logged on that row (``added`` false);
* else, while the campaign's ``add_inbound_contacts`` is off, nothing is written (409);
* else, while the campaign is archived or its execution stopped, nothing is written (409): a campaign that will
  reach nobody again takes nobody new;
* else, an address on the project's suppression list (the phone, the e-mail address or its domain) writes nothing
  and answers why (``added`` false), as an import skips it;
* else the account and contact are matched or created (the contact the sender is, else `accounts.create_account`'s
  dedupe: the website's domain, else the e-mail address's unless it is a free-mail one, then name + city, then
  phone; the contact at it by phone, then e-mail), and the account is added through the goal's guardrails
  (`campaign_accounts.add_accounts`). A contact marked do not contact, or an account the guardrails refuse, is not
  added (``blocked_reason`` says why; the account and contact are kept, nothing is logged); an admitted one has
  the inbound logged on its new row (``added`` true), or on the row it already had.

Every inbound is logged by `messages.log_message` (by the engine on the project's behalf): it moves the thread as
a pasted reply does and is classified like any other. The request's ``webhook-id`` is the message's idempotency
key, so a provider's retry is logged once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from outboundql import models
from outboundql.channels import links
from outboundql.enums import Channel, Direction, ExecutionState, MessageStatus
from outboundql.errors import Conflict, InvalidInput, NotFound
from outboundql.services import accounts, campaign_accounts, messages, normalize, runtime, suppressions
from outboundql.services.access import Access
from outboundql.services.contacts import NewContact
from outboundql.services.result_callbacks import MAX_BODY, CallbackRefused, Problem, check_signature

NOT_FOUND = "This inbound link is not valid."
SOURCE = "inbound"
#: Mailbox providers anyone can sign up to: their domain says nothing of the sender's organisation.
FREE_MAIL_DOMAINS = frozenset({
    "gmail.com", "googlemail.com", "yahoo.com", "yahoo.es", "yahoo.fr", "yahoo.co.uk", "ymail.com", "hotmail.com",
    "hotmail.es", "hotmail.fr", "outlook.com", "outlook.es", "live.com", "msn.com", "icloud.com", "me.com",
    "mac.com", "aol.com", "gmx.com", "gmx.de", "gmx.net", "web.de", "proton.me", "protonmail.com", "pm.me",
    "yandex.com", "yandex.ru", "mail.ru", "qq.com", "163.com", "zoho.com", "fastmail.com", "hey.com", "mail.com",
})
_NAME_LIMITS = {"name": 200, "company": 300}


@dataclass(frozen=True, slots=True)
class Sender:
    """Who called or wrote: ``phone`` in E.164 and ``email`` lowercase (normalised); at least one of the two."""

    name: str | None = None
    phone: str | None = None
    email: str | None = None
    company: str | None = None
    website: str | None = None

    @property
    def display_name(self) -> str:
        return self.name or self.email or self.phone or "Unknown"


@dataclass(frozen=True, slots=True)
class ReportInbound:
    """An inbound call or message reported to ``campaign_id``'s endpoint."""

    campaign_id: int
    channel: Channel
    sender: Sender
    text: str
    occurred_at: datetime | None = None
    """Default: now."""
    idempotency_key: str | None = None
    subject: str | None = None
    """An e-mail's subject."""


@dataclass(frozen=True, slots=True)
class InboundReceived:
    """What an inbound did: the row it was logged on (``added`` when this inbound put the account in the campaign),
    or why the sender was not added (``blocked_reason``), with the account and contact matched or created."""

    added: bool
    campaign_account: models.CampaignAccount | None = None
    message: models.Message | None = None
    account: models.Account | None = None
    contact: models.Contact | None = None
    blocked_reason: str | None = None


async def receive_signed(token: str, headers: dict[str, str], body: bytes) -> InboundReceived:
    """Check the link, the body's channel, the signature and the body, then `report_inbound` (see the module
    docstring); `CallbackRefused` with the HTTP status otherwise. ``headers`` with lower-case names."""
    campaign_id = links.attempt_of(links.INBOUND, token)
    campaign = await models.Campaign.get_or_none(id=campaign_id) if campaign_id is not None else None
    if campaign is None:
        raise CallbackRefused(404, NOT_FOUND)
    if len(body) > MAX_BODY:
        raise CallbackRefused(413, f"The body is larger than {MAX_BODY} bytes.")
    report = _object(body)
    channel = _channel(report.get("channel"))  # signed: it picks the secret the signature is checked with
    await check_signature(campaign.project_id, channel, headers, body, "inbound messages")
    msg_id = headers.get("webhook-id", "")
    cmd = parse(report, campaign.id, channel, idempotency_key=f"inbound:{campaign.id}:{msg_id}")
    return await report_inbound(cmd)


def _object(body: bytes) -> dict[str, Any]:
    try:
        report = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        report = None
    if not isinstance(report, dict):
        raise CallbackRefused(400, "The body must be a JSON object: {\"channel\": \"PHONE_CALL\", \"from\": "
                                   "{\"name\": …, \"phone\": …, \"email\": …}, \"text\": \"…\"}.")
    return report


def _channel(value: Any) -> Channel:
    names = ", ".join(c.name for c in Channel)
    if not isinstance(value, str) or not value.strip():
        message = f"channel is required: one of {names}."
    else:
        try:
            return Channel(value.strip().lower())
        except ValueError:
            message = f"channel {value[:40]!r} is not one of {names}."
    raise CallbackRefused(400, message, [Problem(message, "channel")])


def parse(report: dict[str, Any], campaign_id: int, channel: Channel, *,
          idempotency_key: str | None = None) -> ReportInbound:
    """The reported inbound as `report_inbound` takes it; `CallbackRefused` (400) listing what is wrong."""
    problems: list[Problem] = []
    sender = _sender(report.get("from"), problems)
    text = report.get("text")
    if not isinstance(text, str) or not text.strip():
        problems.append(Problem("text is required: what the person said or wrote (a call's notes or transcript).",
                                "text"))
    occurred = _instant(report.get("occurredAt"), problems)
    if problems or sender is None:
        raise CallbackRefused(400, " ".join(p.message for p in problems), problems)
    return ReportInbound(campaign_id=campaign_id, channel=channel, sender=sender, text=cast(str, text).strip(),
                         occurred_at=occurred, idempotency_key=idempotency_key)


def _sender(value: Any, problems: list[Problem]) -> Sender | None:
    if not isinstance(value, dict):
        problems.append(Problem("from is required: an object with the person's name, phone and/or email, company "
                                "and website.", "from"))
        return None
    found: dict[str, str | None] = {}
    for key in ("name", "phone", "email", "company", "website"):
        raw = value.get(key)
        if raw is not None and not isinstance(raw, str):
            problems.append(Problem(f"from.{key} is a string.", f"from.{key}"))
            continue
        found[key] = raw.strip() or None if isinstance(raw, str) else None
    for key, limit in _NAME_LIMITS.items():
        if found.get(key) and len(cast(str, found[key])) > limit:
            problems.append(Problem(f"from.{key} is at most {limit} characters.", f"from.{key}"))
    for key, clean in (("phone", normalize.normalize_phone), ("email", normalize.normalize_email),
                       ("website", normalize.normalize_url)):
        try:
            found[key] = clean(found.get(key))
        except ValueError as exc:
            problems.append(Problem(f"from.{key}: {exc}", f"from.{key}"))
            found[key] = None
    if not found.get("phone") and not found.get("email") and not any(
            p.field in ("from.phone", "from.email") for p in problems):
        problems.append(Problem("from needs a phone (E.164, like +34612345678) or an email to know who it is.",
                                "from"))
    return Sender(**found)


def _instant(value: Any, problems: list[Problem]) -> datetime | None:
    if value is None:
        return None
    try:
        when = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        when = None
    if when is None:
        problems.append(Problem("occurredAt is an ISO 8601 instant, like 2026-03-02T10:00:00Z.", "occurredAt"))
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


async def report_inbound(cmd: ReportInbound) -> InboundReceived:
    """Log the inbound on the sender's thread, or add the sender first (see the module docstring)."""
    campaign = await models.Campaign.get_or_none(id=cmd.campaign_id)
    if campaign is None:
        raise CallbackRefused(404, NOT_FOUND)
    access = Access.engine(campaign.project_id)
    known = await _contacts_of(campaign.project_id, cmd.sender)
    rows = {r.account_id: r for r in await models.CampaignAccount.filter(
        campaign_id=campaign.id, account_id__in=[c.account_id for c in known])}
    for contact in known:
        if (row := rows.get(contact.account_id)) is not None:
            return await _logged(access, cmd, row, contact, added=False)
    if not campaign.add_inbound_contacts:
        raise CallbackRefused(409, f"Inbound contacts are off for the campaign {campaign.name!r}: a person not in it "
                                   "is not added (nothing was written). Turn on addInboundContacts (updateCampaign) "
                                   "to add them.")
    if campaign.archived_at is not None or campaign.execution_state is ExecutionState.STOPPED:
        state = "archived" if campaign.archived_at is not None else "stopped"
        raise CallbackRefused(409, f"The campaign {campaign.name!r} is {state}: it takes nobody new (nothing was "
                                   "written).")
    domain = _domain(cmd.sender)
    entry = await suppressions.first_entry(campaign.project_id, emails=[cmd.sender.email], phones=[cmd.sender.phone],
                                           domains=[domain])
    if entry is not None:
        return InboundReceived(added=False, blocked_reason=f"{suppressions.describe(entry)}: not added, and nothing "
                                                           "was written.")
    account, contact = await _account_and_contact(access, campaign.project_id, known, cmd.sender, domain)
    if contact.do_not_contact:
        return InboundReceived(added=False, account=account, contact=contact, blocked_reason=(
            f"{contact.name} is marked do not contact: not added to the campaign (the account and contact are kept, "
            "nothing was logged)."))
    try:
        outcome = await campaign_accounts.add_accounts(access, runtime.goals(), campaign_accounts.AddAccountsToCampaign(
            campaign_id=campaign.id, account_ids=[account.id]))
    except (InvalidInput, NotFound) as exc:  # the goal uninstalled, the campaign deleted meanwhile
        raise CallbackRefused(409, f"{exc} (the account and contact are kept, nothing was logged).") from None
    if outcome.blocked:
        return InboundReceived(added=False, account=account, contact=contact, blocked_reason=(
            f"{outcome.blocked[0].message} Not added to the campaign: the account and contact are kept, nothing was "
            "logged."))
    row = await models.CampaignAccount.get(campaign_id=campaign.id, account_id=account.id)
    return await _logged(access, cmd, row, contact, added=outcome.added > 0)


async def _contacts_of(project_id: int, sender: Sender) -> list[models.Contact]:
    """The project's contacts the sender is: those with their phone, then those with their e-mail address."""
    found: list[models.Contact] = []
    for key in ("phone", "email"):
        value = getattr(sender, key)
        if value:
            found += [c for c in await models.Contact.filter(project_id=project_id, **{key: value}).order_by("id")
                      if c not in found]
    return found


def _domain(sender: Sender) -> str | None:
    """The sender's organisation's domain: the website's, else the e-mail address's unless it is a free-mail one."""
    if sender.website:
        try:
            return normalize.normalize_domain(sender.website)
        except ValueError:
            return None
    domain = suppressions.domain_of(sender.email) if sender.email else None
    return domain if domain and domain not in FREE_MAIL_DOMAINS else None


async def _account_and_contact(access: Access, project_id: int, known: list[models.Contact], sender: Sender,
                               domain: str | None) -> tuple[models.Account, models.Contact]:
    """The contact the sender already is (and their account), else the account deduplicated or created with the
    sender as its contact (or folded into the same person there)."""
    if known:
        return await models.Account.get(id=known[0].account_id), known[0]
    person = NewContact(name=sender.display_name[:200], phone=sender.phone, email=sender.email)
    try:
        upserted = await accounts.create_account(access, accounts.CreateAccount(
            project_id=project_id, name=(sender.company or sender.display_name)[:300], domain=domain,
            website=sender.website, phone=sender.phone, source=SOURCE, contacts=[person]))
    except InvalidInput as exc:
        raise CallbackRefused(400, exc.message, [Problem(i.message, f"from.{i.field}" if i.field else "from")
                                                 for i in exc.issues()]) from None
    account = upserted.account
    for key in ("phone", "email"):
        value = getattr(sender, key)
        if value and (contact := await models.Contact.filter(account_id=account.id, **{key: value}).order_by(
                "id").first()) is not None:
            return account, contact
    raise NotFound("Contact")  # create_account adds or folds the sender at the account: unreachable


async def _logged(access: Access, cmd: ReportInbound, row: models.CampaignAccount, contact: models.Contact, *,
                  added: bool) -> InboundReceived:
    key = (cmd.idempotency_key or "")[:messages.MAX_KEY_LENGTH] or None
    try:
        logged = await messages.log_message(access, messages.LogMessage(
            campaign_account_id=row.id, direction=Direction.INBOUND, channel=cmd.channel, status=MessageStatus.SENT,
            subject=cmd.subject, text=cmd.text, sent_at=cmd.occurred_at, contact_id=contact.id, idempotency_key=key))
    except Conflict as exc:
        raise CallbackRefused(409, exc.message) from None
    except InvalidInput as exc:
        fields = {"sent_at": "occurredAt", "text": "text", "idempotency_key": "webhook-id"}
        raise CallbackRefused(400, exc.message, [Problem(i.message, fields.get(i.field or "", i.field))
                                                 for i in exc.issues()]) from None
    account = await models.Account.get(id=row.account_id)
    return InboundReceived(added=added and not logged.replayed, campaign_account=logged.campaign_account,
                           message=logged.message, account=account, contact=contact)
