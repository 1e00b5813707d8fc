"""Replies received by e-mail (``outboundql mail-in``): logged on the thread they answer, then classified.

Each project has a reply address, ``replies+<project id>-<signature>@<mail-in domain>`` (`reply_address`; the
signature, an HMAC of the id with the server's key, makes it unguessable, and it is lowercase, as mail servers may
lowercase a local part). Replies reach it when the project's e-mail channel names it as its reply-to address, or
when the sender's mailbox forwards replies to it (a mail rule). A mail received there is logged as an inbound
message (`messages.log_message`, by the engine on the project's behalf), so it moves the thread as a pasted reply
does and is classified like any other:

* the thread is the one of the attempt whose ``Message-ID`` the mail answers (``In-Reply-To``, then
  ``References``, newest first), else the latest thread of the project where a sent mail went to the sender's
  address (the contact with that address);
* a mail answering nothing of the project is refused (`Refusal.NO_THREAD`), never logged elsewhere;
* the same mail received twice (its ``Message-ID``) is logged once.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser

from outboundql import models
from outboundql.enums import Channel, Direction, MessageStatus
from outboundql.errors import OutboundqlError
from outboundql.services import messages, normalize, runtime
from outboundql.services.access import Access
from outboundql.services.import_mail import from_address, plain
from outboundql.services.signed_addresses import AddressKind

REPLIES = AddressKind("replies+", b"outboundql.reply-address.v1\x00")
_MESSAGE_ID = re.compile(r"<[^<>\s]+>")
#: Most characters of a reply's text kept (the rest of a long quoted history is cut).
MAX_TEXT = 20_000


def reply_address(project_id: int) -> str:
    """The address replies of project ``project_id`` are received at."""
    return REPLIES.address(project_id)


def project_for_address(address: str) -> int | None:
    """The project whose reply address ``address`` is (case ignored); None for any other address."""
    return REPLIES.number_of(address)


class Refusal(enum.StrEnum):
    UNKNOWN_ADDRESS = "unknown_address"
    NO_THREAD = "no_thread"
    INVALID = "invalid"


@dataclass(frozen=True, slots=True)
class ReplyReceived:
    recipient: str
    content: bytes
    envelope_sender: str | None = None


@dataclass(frozen=True, slots=True)
class ReplyOutcome:
    message: models.Message | None
    refusal: Refusal | None = None
    text: str = ""


async def receive_reply(mail: ReplyReceived) -> ReplyOutcome:
    """Log ``mail`` on the thread of its recipient's project it answers, or refuse it saying why."""
    project_id = project_for_address(mail.recipient)
    if project_id is None or not await models.Project.filter(id=project_id).exists():
        return ReplyOutcome(None, Refusal.UNKNOWN_ADDRESS, "No such address.")
    parsed = BytesParser(policy=policy.default).parsebytes(mail.content)
    assert isinstance(parsed, EmailMessage)
    sender = plain(from_address(parsed) or mail.envelope_sender or "")[:254]
    found = await _thread(project_id, parsed, sender)
    if found is None:
        return ReplyOutcome(None, Refusal.NO_THREAD, "This mail answers no conversation of the project.")
    row_id, contact_id = found
    own_id = message_ids(str(parsed.get("Message-ID", "")))
    try:
        logged = await messages.log_message(Access.engine(project_id), messages.LogMessage(
            campaign_account_id=row_id, direction=Direction.INBOUND, channel=Channel.EMAIL,
            status=MessageStatus.SENT, subject=plain(str(parsed.get("Subject", "")))[:500] or None,
            text=text_of(parsed), sent_at=written_at(parsed), contact_id=contact_id,
            idempotency_key=f"mail:{own_id[0]}"[:messages.MAX_KEY_LENGTH] if own_id else None))
    except OutboundqlError as exc:
        return ReplyOutcome(None, Refusal.INVALID, str(exc))
    return ReplyOutcome(logged.message)


async def _thread(project_id: int, mail: EmailMessage, sender: str) -> tuple[int, int | None] | None:
    """The thread (campaign account) and contact ``mail`` answers."""
    answered = message_ids(str(mail.get("In-Reply-To", ""))) + list(reversed(
        message_ids(str(mail.get("References", "")))))
    if answered:
        attempts = {a.provider_id: a for a in await models.OutreachAttempt.filter(
            project_id=project_id, provider_id__in=answered).order_by("id")}
        for message_id in answered:
            if (attempt := attempts.get(message_id)) is not None:
                return attempt.campaign_account_id, attempt.contact_id
    try:
        address = normalize.normalize_email(sender)
    except ValueError:
        return None
    if address is None:
        return None
    contacts = {c.id: c.account_id for c in await models.Contact.filter(project_id=project_id, email=address)}
    if not contacts:
        return None
    latest = await models.Message.filter(
        project_id=project_id, contact_id__in=list(contacts), direction=Direction.OUTBOUND,
        status=MessageStatus.SENT).order_by("-sent_at", "-id").first()
    if latest is None:
        return None
    return latest.campaign_account_id, latest.contact_id


def message_ids(header: str) -> list[str]:
    return _MESSAGE_ID.findall(header)


def written_at(mail: EmailMessage) -> datetime | None:
    """When it was written (its ``Date``), if that is a sensible past time; else None (received now)."""
    try:
        written = parsedate_to_datetime(str(mail.get("Date", "")))
    except (TypeError, ValueError, IndexError):
        return None
    if written.tzinfo is None:
        written = written.replace(tzinfo=UTC)
    now = runtime.now()
    return written if written <= now else None


def text_of(mail: EmailMessage) -> str:
    """The reply's text: its plain part, else its HTML part as text."""
    body = mail.get_body(preferencelist=("plain", "html"))
    if body is None:
        return ""
    try:
        content = str(body.get_content())
    except (LookupError, ValueError):  # an unknown charset, a broken encoding
        payload = body.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    if body.get_content_type() == "text/html":
        content = _HtmlText.of(content)
    content = "".join(c for c in content.replace("\r\n", "\n") if c.isprintable() or c in "\n\t")
    return content.strip()[:MAX_TEXT]


class _HtmlText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("br", "p", "div", "li", "tr", "blockquote"):
            self.parts.append("\n")

    @classmethod
    def of(cls, html: str) -> str:
        parser = cls()
        parser.feed(html)
        parser.close()
        return re.sub(r"\n{3,}", "\n\n", "".join(parser.parts))
