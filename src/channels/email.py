"""The built-in ``email`` channel: a project's own mailbox, over SMTP (aiosmtplib).

Each attempt goes out as one plain-text mail from the configured sender to the contact, with:

- a ``Message-ID`` on the sender's domain (what the attempt and its message keep as ``provider_id``);
- on follow-ups, ``In-Reply-To`` the last mail to this contact in the campaign and ``References`` all of them,
  under ``Re: <subject>`` (the step's subject, else the first mail's), so mail clients show the sequence as one
  thread, as Outreach and lemlist send a follow-up "in the same thread";
- the RFC 8058 one-click unsubscribe headers (``List-Unsubscribe`` with the attempt's signed link,
  ``List-Unsubscribe-Post: List-Unsubscribe=One-Click``), which mailbox providers show as an unsubscribe button;
- ``Reply-To`` when configured, so replies reach the mailbox the mail-in receiver reads.

Before sending, one slot is taken of the project's two daily counters — the sender (``dailyCapPerSender``) and the
recipient's domain (``dailyCapPerRecipientDomain``) — all or none, in the database, so the caps hold across every
worker; a full counter defers the attempt (`Deferred`) to when it frees up, and a mail that surely did not go out
(refused, or the server not reached) gives its slots back. SMTP answers map to results: a 4xx,
a refused or timed-out connection or a dropped one is temporary (retried by the campaign's retry policy), a 5xx to
the recipient or the message bounces the address, and a 5xx about the configuration (authentication, the sender,
TLS) fails the attempt with what to fix.

The mail is written straight to the bytes SMTP carries (`mail_bytes`: headers folded, names and subjects
outside ASCII as encoded words, the body 7bit or quoted-printable).

The engine delivers a batch's mails through one `SmtpSession` per configuration: one kept connection (greeted,
upgraded and logged in once) for all of them, opened again when the server drops it; each mail still answers its
own result as above.
"""

from __future__ import annotations

import asyncio
import email.utils
import re
import socket
import ssl
from collections.abc import Mapping
from email.utils import make_msgid
from typing import Any

import aiosmtplib
from aiosmtplib.typing import Default

from outboundql.channels import (
    Configured,
    Deferred,
    Delivered,
    Delivery,
    DeliveryFailed,
    DeliveryResult,
    Setting,
)
from outboundql.channels.mail_bytes import Mail, address, header, mailbox, one_line, text, write
from outboundql.enums import Channel
from outboundql.services import runtime

#: Protective defaults: a new mailbox warming up sends a few dozen mails a day; 200 a day per sender and 50 a day
#: to one recipient domain keep a cold sender clear of the providers' spam thresholds.
DEFAULT_CAP_PER_SENDER = 200
DEFAULT_CAP_PER_RECIPIENT_DOMAIN = 50
#: Seconds to wait for the server (connecting, and each answer).
TIMEOUT = 30.0

SECURITY = ("starttls", "tls", "none")
_HOST = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\]|[0-9A-Fa-f:]+:[0-9A-Fa-f:.]*")

SETTINGS: tuple[Setting, ...] = (
    Setting(key="host", label="SMTP server", required=True,
            description="Host name of the SMTP server that sends for the sender (smtp.example.com)."),
    Setting(key="port", label="Port", type="integer", default=587, minimum=1, maximum=65535,
            description="587 for STARTTLS (the usual submission port), 465 for TLS, 25 without encryption."),
    Setting(key="security", label="Encryption", type="choice", choices=SECURITY, default="starttls",
            description="starttls: upgrade the connection after connecting (port 587); tls: encrypted from the "
                        "start (port 465); none: no encryption (only for a relay on a private network)."),
    Setting(key="username", label="User name",
            description="Login of the SMTP account (often the sender's address); empty: no authentication."),
    Setting(key="fromAddress", label="Sender address", type="email", required=True,
            description="The From address; Message-IDs are made on its domain."),
    Setting(key="fromName", label="Sender name", description="The name shown beside the From address."),
    Setting(key="replyTo", label="Reply-To address", type="email",
            description="Where replies go when not to the sender (e.g. the address the mail-in receiver reads)."),
    Setting(key="dailyCapPerSender", label="Daily cap per sender", type="integer",
            default=DEFAULT_CAP_PER_SENDER, minimum=1, maximum=100_000,
            description=f"Mails the sender address sends per UTC day at most (default {DEFAULT_CAP_PER_SENDER}); "
                        "an attempt over it waits for the next day, never dropped."),
    Setting(key="dailyCapPerRecipientDomain", label="Daily cap per recipient domain", type="integer",
            default=DEFAULT_CAP_PER_RECIPIENT_DOMAIN, minimum=1, maximum=100_000,
            description="Mails to one recipient domain per UTC day at most (default "
                        f"{DEFAULT_CAP_PER_RECIPIENT_DOMAIN}); an attempt over it waits for the next day."),
    Setting(key="password", label="Password", secret=True,
            description="Password (or app password) of the SMTP account; write-only."),
)


class EmailChannel:
    """Sends e-mail steps through the project's SMTP server. ``tls_context`` replaces the system's trusted
    certificates (a test's self-signed server, a company's own authority)."""

    key = "email"
    label = "E-mail (SMTP)"
    serves = frozenset({Channel.EMAIL.value})
    settings = SETTINGS

    def __init__(self, *, tls_context: ssl.SSLContext | None = None, timeout: float = TIMEOUT) -> None:
        self.tls_context = tls_context
        self.timeout = timeout

    def validate(self, settings: Mapping[str, Any], secrets: Mapping[str, str]) -> dict[str, str]:
        """Problems of a configuration beyond the declared types, by setting key (empty: none)."""
        problems: dict[str, str] = {}
        host = str(settings.get("host") or "").strip()
        if not _HOST.fullmatch(host):
            problems["host"] = (f"{host!r} is not a host name: give the SMTP server's name or address alone "
                                "(smtp.example.com), without a scheme, port or path.")
        for key in ("fromAddress", "replyTo"):
            value = str(settings.get(key) or "").strip()
            if value:
                try:
                    address(value)
                except ValueError:
                    problems[key] = f"{value!r} is not an e-mail address."
        port, security = settings.get("port"), settings.get("security")
        if (port, security) in ((465, "starttls"), (587, "tls")):
            problems["security"] = (f"Port {port} usually speaks {'tls' if port == 465 else 'starttls'}, not "
                                    f"{security}: set security to match the server.")
        return problems

    async def deliver(self, delivery: Delivery, config: Configured) -> DeliveryResult:
        """One mail over a connection of its own (the engine delivers a batch through `session`)."""
        async with self.session(config) as session:
            return await session.deliver(delivery)

    def session(self, config: Configured) -> SmtpSession:
        """The mails of one batch through ``config``, over one kept SMTP connection (`SmtpSession`)."""
        return SmtpSession(self, config)

    async def prepare(self, delivery: Delivery, config: Configured) -> Mail | DeliveryResult:
        """The mail of ``delivery`` with its slot of the daily caps taken, or the result that stops it (what is
        missing or wrong in the configuration or the address, a full cap)."""
        settings = config.settings
        host = str(settings.get("host") or "").strip()
        sender = str(settings.get("fromAddress") or "").strip()
        if not host or "@" not in sender:
            return DeliveryFailed("The e-mail channel needs its SMTP server (host) and sender address (fromAddress): "
                                  "configure them in the project's channels.", retryable=False)
        recipient = (delivery.address or "").strip()
        try:
            address(recipient)
        except ValueError:
            return DeliveryFailed(f"{recipient or 'The contact'!r} is not an e-mail address.", retryable=False,
                                  bounced=True)
        username = str(settings.get("username") or "").strip()
        password = config.secrets.get("password") or ""
        if username and not password:
            return DeliveryFailed(f"The e-mail channel logs in as {username} but has no password: set the password "
                                  "secret in the project's channels.", retryable=False)
        security = str(settings.get("security") or "starttls")
        if security not in SECURITY:
            return DeliveryFailed(f"Unknown encryption {security!r}: set security to starttls, tls or none.",
                                  retryable=False)
        first = await first_subject(delivery) if delivery.thread and not one_line(delivery.subject or "") else None
        try:
            message = build_mail(delivery, config, first_subject=first)
        except ValueError as exc:
            return DeliveryFailed(f"The mail could not be written: {exc}. Check fromAddress and replyTo.",
                                  retryable=False)
        if delivery.quota is not None:
            until = await delivery.quota.take(caps(sender, recipient, config))
            if until is not None:
                return Deferred(until, "A daily sending cap is reached (per sender or per recipient domain).")
        return message


class _Connection(aiosmtplib.SMTP):
    """An SMTP client that knows whether the mail it sends reached DATA: a drop before it leaves the mail surely not
    taken (sent again at once over a new connection), a drop after it leaves it unknown (never sent twice)."""

    data_started = False

    async def data(self, message: str | bytes, /, *,
                   timeout: Any = Default.token) -> aiosmtplib.SMTPResponse:
        self.data_started = True
        return await super().data(message, timeout=timeout)


class SmtpSession:
    """The mails of one batch through one configuration of the channel, over one SMTP connection kept between them
    (opened at the first mail; closed with QUIT when the batch is done).

    Each mail is checked, written and counted against the caps as `EmailChannel.deliver` does, and answers its own
    result: a refused recipient or message (4xx: temporary, 5xx: bounced) fails that mail only, the server resets
    the envelope and the next mail goes over the same connection. A connection found dropped before a mail (the
    server closed an idle or used-up connection) is opened again for it; one that drops under a mail sent over it
    after earlier mails, before the mail's DATA began, is opened again and that mail sent once more (the server has
    not got it). A drop once DATA began (the server may have queued the mail and its answer was lost) and a drop
    on a fresh connection fail the mail, temporarily: the campaign's retry policy decides, and nothing is sent
    twice at once. Anything else that breaks off a send (a timeout, the engine's own) closes the connection: the
    next mail opens a new one."""

    def __init__(self, channel: EmailChannel, config: Configured) -> None:
        self.channel = channel
        self.config = config
        self.client: _Connection | None = None
        self.connections = 0
        """Connections opened (a test's and a benchmark's measure)."""
        self.unanswered_data = False
        """The last mail's DATA began and the server never answered it: it may have been taken."""

    async def __aenter__(self) -> SmtpSession:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def deliver(self, delivery: Delivery) -> DeliveryResult:
        message = await self.channel.prepare(delivery, self.config)
        if not isinstance(message, Mail):
            return message
        self.unanswered_data = False
        try:
            await self._send(message)
        except Exception as exc:  # every failure is answered as a result; the engine never sees an exception
            host, sender = (str(self.config.settings.get(key) or "").strip() for key in ("host", "fromAddress"))
            recipient = (delivery.address or "").strip()
            if delivery.quota is not None and not self.unanswered_data:  # surely not sent: its cap slots go back
                await delivery.quota.give_back(caps(sender, recipient, self.config))
            return failure(exc, host, sender, recipient)
        return Delivered(provider_id=message.message_id)

    async def close(self) -> None:
        """QUIT the kept connection, if any (a server that does not answer is simply left)."""
        client, self.client = self.client, None
        if client is not None and client.is_connected:
            try:
                await client.quit()
            except (TimeoutError, aiosmtplib.SMTPException, OSError):
                pass
            finally:
                client.close()

    async def _send(self, message: Mail) -> None:
        client = self.client
        if client is not None and client.is_connected:
            client.data_started = False
            try:
                await self._over(client, message)
                return
            except (aiosmtplib.SMTPServerDisconnected, ConnectionError):
                if client.data_started:
                    raise  # the server may have the mail: a temporary failure, never a second copy now
                # the kept connection went stale before the mail reached the server: once more over a new one
        await self._over(await self._connect(), message)

    async def _over(self, client: _Connection, message: Mail) -> None:
        """Send ``message`` over ``client``; a connection that cannot serve the next mail is dropped."""
        try:
            options = None
            if message.utf8:
                if client.is_ehlo_or_helo_needed:
                    await client.ehlo()
                if not client.supports_extension("smtputf8"):
                    raise aiosmtplib.SMTPNotSupported("an address outside ASCII needs SMTPUTF8, which the server "
                                                      "does not offer")
                options = ["SMTPUTF8"]
            await client.sendmail(message.sender, [message.recipient], message.data, mail_options=options)
        except (aiosmtplib.SMTPResponseException, aiosmtplib.SMTPRecipientsRefused):
            if not client.is_connected:  # answered, then hung up (a 421)
                self._drop()
            raise  # answered and the envelope reset: the connection goes on serving the batch
        except BaseException:  # dropped, or broken off mid-conversation (a timeout, a cancellation)
            self.unanswered_data = client.data_started
            self._drop()
            raise

    async def _connect(self) -> _Connection:
        self._drop()
        settings = self.config.settings
        security = str(settings.get("security") or "starttls")
        client = _Connection(
            hostname=str(settings.get("host") or "").strip(), port=int(settings.get("port") or 587),
            username=str(settings.get("username") or "").strip() or None,
            password=self.config.secrets.get("password") or None, use_tls=security == "tls",
            start_tls=security == "starttls", tls_context=self.channel.tls_context, timeout=self.channel.timeout,
            local_hostname=await _local_hostname())
        await client.connect()
        self.client = client
        self.connections += 1
        return client

    def _drop(self) -> None:
        client, self.client = self.client, None
        if client is not None:
            client.close()


EMAIL = EmailChannel()


def caps(sender: str, recipient: str, config: Configured) -> dict[str, int]:
    """The counters one mail takes a slot of, with their daily caps."""
    domain = recipient.rpartition("@")[2].lower()
    return {f"sender:{sender.lower()}": int(config.settings.get("dailyCapPerSender") or DEFAULT_CAP_PER_SENDER),
            f"domain:{domain}": int(config.settings.get("dailyCapPerRecipientDomain")
                                    or DEFAULT_CAP_PER_RECIPIENT_DOMAIN)}


def build_mail(delivery: Delivery, config: Configured, *, first_subject: str | None = None) -> Mail:
    """The mail of ``delivery`` (``first_subject``: the thread's first mail's, for a follow-up without its own).
    Raises ValueError for an address that is not one."""
    settings = config.settings
    sender, sender_utf8 = address(str(settings["fromAddress"]))
    recipient, recipient_utf8 = address(delivery.address or "")
    message_id = make_msgid(domain=sender.rpartition("@")[2].lower() or None)
    headers = [header("From", mailbox(str(settings.get("fromName") or ""), sender)),
               header("To", mailbox(delivery.contact_name or "", recipient))]
    reply_utf8 = False
    if reply_to := str(settings.get("replyTo") or "").strip():
        reply_to, reply_utf8 = address(reply_to)
        headers.append(header("Reply-To", reply_to))
    headers += [header("Subject", text(subject_of(delivery, first_subject))),
                header("Date", email.utils.format_datetime(runtime.now())),
                header("Message-ID", message_id)]
    if delivery.thread:
        headers += [header("In-Reply-To", one_line(delivery.thread[-1])),
                    header("References", " ".join(one_line(key) for key in delivery.thread))]
    if delivery.unsubscribe_url:
        headers += [header("List-Unsubscribe", f"<{one_line(delivery.unsubscribe_url)}>"),
                    "List-Unsubscribe-Post: List-Unsubscribe=One-Click"]
    return Mail(sender=sender, recipient=recipient, message_id=message_id, data=write(headers, delivery.body),
                utf8=sender_utf8 or recipient_utf8 or reply_utf8)


def subject_of(delivery: Delivery, first_subject: str | None = None) -> str:
    """The first mail's subject is the step's; a follow-up answers the thread: ``Re: `` and its step's subject,
    else the first mail's (``delivery.thread`` tells it is a follow-up)."""
    subject = one_line(delivery.subject or "")
    if not delivery.thread:
        return subject
    base = _strip_re(subject) or _strip_re(one_line(first_subject or ""))
    return f"Re: {base}" if base else "Re:"


async def first_subject(delivery: Delivery) -> str | None:
    """The subject of the thread's first mail, as the engine recorded it on its attempt (a follow-up step without
    a subject of its own answers under it)."""
    from outboundql import models  # the engine's record; a third-party channel would keep its own

    found = await models.OutreachAttempt.filter(
        project_id=delivery.project_id, campaign_id=delivery.campaign_id, provider_id=delivery.thread[0]
    ).order_by("id").only("id", "subject").first()
    return found.subject if found is not None else None


def _strip_re(subject: str) -> str:
    while subject[:3].lower() in {"re:", "aw:", "sv:"}:
        subject = subject[3:].lstrip()
    return subject


def failure(exc: BaseException, host: str, sender: str, recipient: str) -> DeliveryFailed:
    """What an SMTP failure means to the engine: temporary (retried), the recipient refused (bounced), or the
    configuration wrong (not retried; the message says what to fix)."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        refused = exc.recipients[0] if exc.recipients else None
        code, text = (refused.code, refused.message) if refused else (550, str(exc))
        return _refused(code, f"The server refused {recipient}: {code} {text}")
    if isinstance(exc, aiosmtplib.SMTPRecipientRefused | aiosmtplib.SMTPDataError):
        return _refused(exc.code, f"The server refused the mail to {recipient}: {exc.code} {exc.message}")
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return _configuration(exc.code, f"{host} refused the login: {exc.code} {exc.message}. Check the username and "
                                        "password of the e-mail channel (many providers want an app password).")
    if isinstance(exc, aiosmtplib.SMTPSenderRefused):
        return _configuration(exc.code, f"{host} refused the sender {sender}: {exc.code} {exc.message}. Check "
                                        "fromAddress: the SMTP account must be allowed to send as it.")
    if isinstance(exc, aiosmtplib.SMTPNotSupported):
        return DeliveryFailed(f"{host} does not support what the e-mail channel asks: {exc}. Check security "
                              "(starttls, tls or none) and whether the server offers login.", retryable=False)
    if isinstance(exc, aiosmtplib.SMTPResponseException):  # greeting, HELO, other answers
        return _configuration(exc.code, f"{host} answered {exc.code} {exc.message}.")
    tls_problem = _tls_problem(exc)
    if tls_problem is not None:
        return DeliveryFailed(f"The TLS connection to {host} failed: {tls_problem}. Check security and port (tls "
                              "is usually port 465, starttls 587) and that the server's certificate is valid.",
                              retryable=False)
    if isinstance(exc, aiosmtplib.SMTPServerDisconnected | aiosmtplib.SMTPConnectError | aiosmtplib.SMTPTimeoutError
                  | OSError | asyncio.TimeoutError):
        return DeliveryFailed(f"Could not reach {host}: {exc}", retryable=True)
    if isinstance(exc, aiosmtplib.SMTPException):  # e.g. no login offered (not over a plain connection)
        return DeliveryFailed(f"{host}: {exc} Check security (starttls, tls or none), the port and the username.",
                              retryable=False)
    return DeliveryFailed(f"Sending through {host} failed: {type(exc).__name__}: {exc}", retryable=True)


def _refused(code: int, text: str) -> DeliveryFailed:
    """4xx: try again later; 5xx: the address (or the mail to it) is refused for good."""
    if 400 <= code < 500:
        return DeliveryFailed(text, retryable=True)
    return DeliveryFailed(text, retryable=False, bounced=True)


def _configuration(code: int, text: str) -> DeliveryFailed:
    if 400 <= code < 500:
        return DeliveryFailed(text, retryable=True)
    return DeliveryFailed(text, retryable=False)


def _tls_problem(exc: BaseException) -> str | None:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return f"the certificate is not trusted ({seen.verify_message})"
        if isinstance(seen, ssl.SSLError):
            return str(seen.reason or seen)
        seen = seen.__cause__ or seen.__context__
    return None


_HOSTNAME: list[str] = []


async def _local_hostname() -> str:
    """The name this host greets with, looked up once (off the loop: it may ask DNS)."""
    if not _HOSTNAME:
        _HOSTNAME.append(await asyncio.to_thread(socket.getfqdn) or "localhost")
    return _HOSTNAME[0]
