"""Inbound contacts by e-mail: a campaign's inbound address (``outboundql mail-in``) receives mails from people,
each taken as an inbound message reported to the campaign (`inbound_contacts.report_inbound`).

The address is ``inbound+<campaign id>-<signature>@<mail-in domain>`` (`signed_addresses`): a web form, a
mailbox rule or a published contact address can forward to it. The mail's From (its display name and address)
is the sender, its subject and text the message, its ``Date`` when it was written (now when missing or in the
future), and its ``Message-ID`` makes the message's key, so the same mail received twice is logged once. Then,
as for a provider's report:

* the sender is a contact of the project with a row in the campaign: the mail is logged on that row;
* else, with the campaign's ``add_inbound_contacts`` on, the account and contact are matched or created (normal
  dedupe) and added through the goal's guardrails, the mail logged on the new row.

The From header is taken as it comes: the receiver sits behind the organisation's mail server, which
authenticates it (SPF, DKIM, DMARC) before relaying the mail. What the receiver answers never tells a sender
more than whether the mail was taken: a suppressed or refused sender's mail is accepted and noted in the log
without writing anything, as the provider's endpoint answers 200 with the reason.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesParser

from outboundql import models
from outboundql.enums import Channel
from outboundql.services import inbound_contacts, normalize, reply_mail
from outboundql.services.import_mail import from_address, plain
from outboundql.services.result_callbacks import CallbackRefused
from outboundql.services.signed_addresses import AddressKind

log = logging.getLogger(__name__)

INBOUND = AddressKind("inbound+", b"outboundql.inbound-address.v1\x00")


def inbound_address(campaign_id: int) -> str:
    """The address campaign ``campaign_id`` receives inbound mail at."""
    return INBOUND.address(campaign_id)


def campaign_for_address(address: str) -> int | None:
    """The campaign whose inbound address ``address`` is (case ignored); None for any other address."""
    return INBOUND.number_of(address)


class Refusal(enum.StrEnum):
    UNKNOWN_ADDRESS = "unknown_address"
    NOT_TAKEN = "not_taken"
    """The campaign takes no mail from this sender: inbound contacts off, archived or stopped."""
    INVALID = "invalid"


@dataclass(frozen=True, slots=True)
class InboundMail:
    recipient: str
    content: bytes
    envelope_sender: str | None = None


@dataclass(frozen=True, slots=True)
class InboundOutcome:
    """The message logged, or nothing logged: ``refusal`` (the mail is refused) or ``blocked_reason`` (the mail
    is taken, the sender not added)."""

    message: models.Message | None
    refusal: Refusal | None = None
    text: str = ""
    blocked_reason: str | None = None


async def receive_inbound(mail: InboundMail) -> InboundOutcome:
    """Take ``mail`` as an inbound message of its recipient's campaign (see the module docstring)."""
    campaign_id = campaign_for_address(mail.recipient)
    if campaign_id is None or not await models.Campaign.filter(id=campaign_id).exists():
        return InboundOutcome(None, Refusal.UNKNOWN_ADDRESS, "No such address.")
    parsed = BytesParser(policy=policy.default).parsebytes(mail.content)
    assert isinstance(parsed, EmailMessage)
    try:
        email = normalize.normalize_email(plain(from_address(parsed) or mail.envelope_sender or "")[:254])
    except ValueError:
        email = None
    if email is None:
        return InboundOutcome(None, Refusal.INVALID, "The mail has no sender address to know who wrote it.")
    text = reply_mail.text_of(parsed)
    if not text:
        return InboundOutcome(None, Refusal.INVALID, "The mail has no text.")
    own_id = reply_mail.message_ids(str(parsed.get("Message-ID", "")))
    report = inbound_contacts.ReportInbound(
        campaign_id=campaign_id, channel=Channel.EMAIL,
        sender=inbound_contacts.Sender(name=_display_name(parsed), email=email), text=text,
        occurred_at=reply_mail.written_at(parsed), subject=plain(str(parsed.get("Subject", "")))[:500] or None,
        idempotency_key=f"inbound-mail:{campaign_id}:{own_id[0]}" if own_id else None)
    try:
        received = await inbound_contacts.report_inbound(report)
    except CallbackRefused as exc:
        if exc.status == 409:
            return InboundOutcome(None, Refusal.NOT_TAKEN, "This address takes no mail from you.")
        if exc.status == 404:
            return InboundOutcome(None, Refusal.UNKNOWN_ADDRESS, "No such address.")
        return InboundOutcome(None, Refusal.INVALID, exc.message)
    if received.message is None:
        log.info("Inbound mail to campaign %s from a sender not added: %s", campaign_id, received.blocked_reason)
    return InboundOutcome(received.message, blocked_reason=received.blocked_reason)


def _display_name(mail: EmailMessage) -> str | None:
    """The From header's display name, if it has one."""
    try:
        header = mail["From"]
        addresses = getattr(header, "addresses", ()) if header is not None else ()
        if addresses and isinstance(addresses[0], Address):
            return plain(str(addresses[0].display_name))[:200] or None
    except (TypeError, ValueError, IndexError):  # a malformed header: no name
        pass
    return None
