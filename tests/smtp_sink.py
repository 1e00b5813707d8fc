"""A real SMTP server for tests (aiosmtpd on 127.0.0.1, in its own thread): it keeps every mail it accepts, may
answer chosen recipients or every DATA with a failure code, and can speak STARTTLS or implicit TLS with a
self-signed certificate made here, and require a login."""

from __future__ import annotations

import asyncio
import datetime
import email
import email.policy
import ipaddress
import socket
import ssl
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Sink:
    """What the server received, and how it answers."""

    mails: list[EmailMessage] = field(default_factory=list)
    raw: list[bytes] = field(default_factory=list)
    """Each accepted mail's bytes as they arrived."""
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)
    refuse_rcpt: dict[str, str] = field(default_factory=dict)
    """Recipient → the answer to its RCPT (``"451 4.7.1 Try again later"``)."""
    refuse_data: str | None = None
    drop_at_mail: set[int] = field(default_factory=set)
    """MAIL commands (counted from 1 across connections) at which the server hangs up without answering, as a
    server closing a connection it kept does."""
    drop_after_data: set[int] = field(default_factory=set)
    """Mails (counted from 1 across connections) the server takes and then hangs up on before answering DATA, so
    the client cannot know they were taken."""
    accept_delay: float = 0.0
    """Seconds the server takes to accept each mail (a slow server, or jobs that must outlast a worker's poll)."""
    port: int = 0
    sessions: list[Any] = field(default_factory=list)
    """The connections a MAIL command came over, each once."""
    mail_commands: int = 0

    @property
    def connections(self) -> int:
        """Connections that sent at least one mail command."""
        return len(self.sessions)

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str,
                          mail_options: list[str]) -> str:
        self.mail_commands += 1
        if not any(s is session for s in self.sessions):
            self.sessions.append(session)
        if self.mail_commands in self.drop_at_mail:
            server.transport.close()
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        if address in self.refuse_rcpt:
            return self.refuse_rcpt[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse_data:
            return self.refuse_data
        if self.accept_delay:
            await asyncio.sleep(self.accept_delay)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.raw.append(envelope.original_content or envelope.content)
        self.mails.append(email.message_from_bytes(self.raw[-1], _class=EmailMessage, policy=email.policy.default))
        if len(self.mails) in self.drop_after_data:
            server.transport.close()
        return "250 Message accepted for delivery"


@dataclass(frozen=True)
class Certificate:
    cert_file: str
    key_file: str

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context

    def client_context(self) -> ssl.SSLContext:
        """A client context that trusts this certificate (and nothing else)."""
        return ssl.create_default_context(cafile=self.cert_file)


def self_signed(directory: Path) -> Certificate:
    """A certificate for 127.0.0.1 and localhost, signed by its own key."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = directory / "smtp-cert.pem", directory / "smtp-key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return Certificate(str(cert_file), str(key_file))


def password_check(users: dict[str, str], sink: Sink) -> Any:
    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        if isinstance(auth_data, LoginPassword):
            login, password = auth_data.login.decode(), auth_data.password.decode()
            if users.get(login) == password:
                sink.logins.append(login)
                return AuthResult(success=True)
        return AuthResult(success=False, handled=False)

    return authenticate


@asynccontextmanager
async def smtp_server(sink: Sink | None = None, *, starttls: Certificate | None = None, tls: Certificate | None = None,
                      users: dict[str, str] | None = None, smtputf8: bool = False) -> AsyncIterator[Sink]:
    """Serve on a free port of 127.0.0.1 for the block (``smtputf8``: offering SMTPUTF8); the ``Sink`` says what
    arrived."""
    sink = sink or Sink()
    sink.port = free_port()
    options: dict[str, Any] = {"enable_SMTPUTF8": smtputf8}
    if starttls is not None:
        options.update(tls_context=starttls.server_context(), require_starttls=True)
    if users is not None:
        # Over implicit TLS aiosmtpd does not know the session is encrypted: it offers AUTH only when not told to
        # wait for TLS, and then warns when AUTH is required; the login is offered (and checked) but not required.
        options.update(authenticator=password_check(users, sink), auth_required=tls is None,
                       auth_require_tls=tls is None)
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port, decode_data=False,
                            ssl_context=tls.server_context() if tls else None, **options)
    await asyncio.to_thread(controller.start)
    try:
        yield sink
    finally:
        await asyncio.to_thread(controller.stop)


def temp_certificate() -> Certificate:
    return self_signed(Path(tempfile.mkdtemp(prefix="smtp-cert-")))
