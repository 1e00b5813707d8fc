"""The SMTP receiver of campaign import addresses, project reply addresses and campaign inbound addresses
(``outboundql mail-in``), on the process's own event loop.

RCPT is accepted only for an existing import address, or a reply or inbound address (550 for any other, the same
answer whatever the reason). For an import address, DATA hands the mail to `services.import_mail.receive_mail` and
answers 250 when an import started, else 550 (sender not allowed), 552 (attachment too large) or 554 (no CSV
attachment, or a file refused); every refusal is kept as a failed import job of the campaign. For a reply address,
DATA hands it to `services.reply_mail.receive_reply`: 250 when it was logged on the thread it answers, else 550 (it
answers no conversation of the project) or 554 (it could not be logged). For a campaign's inbound address, DATA
hands it to `services.inbound_mail.receive_inbound`: 250 when it was taken (logged, or the sender not added: the
answer does not tell which), else 550 (the campaign takes no mail from the sender) or 554 (no sender address or no
text). At most ``OUTBOUNDQL_MAIL_IN_MAX_SESSIONS`` sessions are held at once: a connection over it is answered 421
and closed. Without Redis the jobs run here too, as in the embedded server.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from outboundql.goals.registry import GoalRegistry
from outboundql.services import import_mail, inbound_mail, reply_mail, runtime
from outboundql.services.import_mail import Refusal

log = logging.getLogger(__name__)

_CODES = {
    Refusal.SENDER: "550 5.7.1",
    Refusal.NOT_ALLOWED: "550 5.7.1",
    Refusal.UNKNOWN_ADDRESS: "550 5.1.1",
    Refusal.TOO_LARGE: "552 5.3.4",
    Refusal.NO_FILE: "554 5.6.0",
    Refusal.FILE: "554 5.6.0",
}
_TRY_LATER = "451 4.3.0 The mail could not be handled now; try again later."
_TOO_MANY_SESSIONS = b"421 4.7.0 Too many connections; try again later.\r\n"
_MAX_REPLY = 400  # characters of a reply's text (a reply line is at most 512 octets)


_REPLY_CODES = {
    reply_mail.Refusal.UNKNOWN_ADDRESS: "550 5.1.1",
    reply_mail.Refusal.NO_THREAD: "550 5.1.1",
    reply_mail.Refusal.INVALID: "554 5.6.0",
}
_INBOUND_CODES = {
    inbound_mail.Refusal.UNKNOWN_ADDRESS: "550 5.1.1",
    inbound_mail.Refusal.NOT_TAKEN: "550 5.7.1",
    inbound_mail.Refusal.INVALID: "554 5.6.0",
}


class ImportMailHandler:
    """aiosmtpd handler: recipients must be import, reply or inbound addresses; each accepted mail becomes an import
    job, a reply logged on its thread or an inbound message of a campaign."""

    def __init__(self, goals: GoalRegistry) -> None:
        self.goals = goals

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        if reply_mail.project_for_address(address) is not None or inbound_mail.campaign_for_address(
                address) is not None:
            envelope.rcpt_tos.append(address)
            return "250 2.1.5 OK"
        try:
            campaign = await import_mail.campaign_for_address(address)
        except Exception:
            log.exception("Looking up the import address %r failed.", address)
            return _TRY_LATER
        if campaign is None:
            return "550 5.1.1 No such mailbox here."
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        started: list[int] = []
        refused: list[str] = []
        logged: list[int] = []
        taken = 0
        for recipient in envelope.rcpt_tos:
            if inbound_mail.campaign_for_address(recipient) is not None:
                try:
                    inbound = await inbound_mail.receive_inbound(inbound_mail.InboundMail(
                        recipient=recipient, content=content, envelope_sender=envelope.mail_from or None))
                except Exception:
                    log.exception("The inbound mail to %r could not be logged.", recipient)
                    refused.append(_TRY_LATER)
                    continue
                if inbound.refusal is None:
                    taken += 1
                else:
                    refused.append(f"{_INBOUND_CODES[inbound.refusal]} {_reply_text(inbound.text)}")
                continue
            if reply_mail.project_for_address(recipient) is not None:
                try:
                    reply = await reply_mail.receive_reply(reply_mail.ReplyReceived(
                        recipient=recipient, content=content, envelope_sender=envelope.mail_from or None))
                except Exception:
                    log.exception("The reply to %r could not be logged.", recipient)
                    refused.append(_TRY_LATER)
                    continue
                if reply.message is not None:
                    logged.append(reply.message.id)
                else:
                    refused.append(f"{_REPLY_CODES[reply.refusal or reply_mail.Refusal.INVALID]} "
                                   f"{_reply_text(reply.text)}")
                continue
            mail = import_mail.MailReceived(recipient=recipient, content=content,
                                            envelope_sender=envelope.mail_from or None)
            try:
                outcome = await import_mail.receive_mail(self.goals, mail)
            except Exception:
                log.exception("The mail to %r could not be imported.", recipient)
                refused.append(_TRY_LATER)
                continue
            if outcome.refusal is None and outcome.job is not None:
                started.append(outcome.job.id)
            else:
                refused.append(f"{_CODES[outcome.refusal or Refusal.FILE]} {_reply_text(outcome.message)}")
        if started or logged or taken:
            done = [f"Import job {', '.join(map(str, started))} started."] if started else []
            done += [f"Reply logged as message {', '.join(map(str, logged))}."] if logged else []
            done += ["Received."] if taken else []
            return f"250 2.0.0 {' '.join(done)}"
        return refused[0] if refused else "554 5.5.1 No valid recipients."


def _reply_text(text: str) -> str:
    """One line of printable ASCII (curly quotes and accents would not survive every client)."""
    plain = text.translate({0x201C: '"', 0x201D: '"', 0x2018: "'", 0x2019: "'"})
    plain = "".join(char if " " <= char <= "~" else "?" for char in " ".join(plain.split()))
    return plain[:_MAX_REPLY]


class CappedSMTP(SMTP):
    """An SMTP session that is refused (421, then closed) while ``sessions`` already holds ``max_sessions``."""

    def __init__(self, handler: ImportMailHandler, sessions: set[CappedSMTP], max_sessions: int,
                 **options: Any) -> None:
        super().__init__(handler, **options)
        self._sessions = sessions
        self._max_sessions = max_sessions
        self._refused = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if self not in self._sessions and len(self._sessions) >= self._max_sessions:
            self._refused = True
            assert isinstance(transport, asyncio.WriteTransport)
            transport.write(_TOO_MANY_SESSIONS)
            transport.close()
            return
        self._sessions.add(self)
        super().connection_made(transport)

    def connection_lost(self, error: Exception | None) -> None:
        self._sessions.discard(self)
        if not self._refused:  # a refused session never started
            super().connection_lost(error)


async def start_receiver(goals: GoalRegistry, host: str, port: int) -> asyncio.Server:
    """Listen for SMTP on ``host``:``port`` on the running loop (port 0: any free port, see the server's
    sockets). Mails larger than twice the upload limit are refused by the protocol itself (552); sessions over
    ``mail_in_max_sessions`` get 421."""
    settings = runtime.settings()
    handler = ImportMailHandler(goals)
    limit = 2 * settings.max_upload_bytes + 1_000_000  # base64 makes an attachment a third larger
    sessions: set[CappedSMTP] = set()

    def protocol() -> SMTP:
        # decode_data=False: the envelope's content is its original_content, one copy of the mail.
        return CappedSMTP(handler, sessions, settings.mail_in_max_sessions, data_size_limit=limit,
                          decode_data=False, hostname=settings.mail_in_domain, ident="outboundql mail-in")

    return await asyncio.get_running_loop().create_server(protocol, host=host, port=port)


@contextlib.asynccontextmanager
async def embedded_jobs() -> AsyncIterator[None]:
    """Without Redis, run this process's jobs (the imports it starts) on its own loop, as the embedded server
    does; with Redis the workers run them."""
    import dramatiq

    from outboundql import workers
    from outboundql.services import imports

    if not workers.is_embedded():
        yield
        return
    worker = dramatiq.Worker(workers.current_broker(), worker_threads=runtime.settings().embedded_worker_threads)
    worker.start()  # on this loop: async actors run here, sharing the ORM
    try:
        await imports.resume_stalled()
        yield
    finally:
        await asyncio.to_thread(worker.stop)


async def serve(goals: GoalRegistry, host: str, port: int) -> None:
    """Receive mail until SIGINT or SIGTERM, then stop listening and let the jobs under way stop."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with embedded_jobs():
        server = await start_receiver(goals, host, port)
        addresses = ", ".join(_address(sock.getsockname()) for sock in server.sockets)
        log.info("Receiving import mail for @%s on %s.", runtime.settings().mail_in_domain, addresses)
        async with server:
            await stop.wait()
        log.info("Stopped receiving import mail.")


def _address(name: Any) -> str:
    return f"{name[0]}:{name[1]}" if isinstance(name, tuple) else str(name)
