"""The built-in ``email`` channel against a real SMTP server (aiosmtpd on 127.0.0.1): the mail as it arrives
(sender, recipient, Reply-To, Message-ID on the sender's domain, the thread of a sequence, RFC 8058 one-click
unsubscribe), STARTTLS and implicit TLS with a self-signed certificate and a login, and what each failure means to
the engine: temporary (4xx, nothing listening) retried, a refused recipient bounced, a wrong configuration neither
and said how to fix; and the daily caps: an attempt over one is deferred, nothing sent."""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pytest

from outboundql.channels import Configured, Deferred, Delivered, Delivery, DeliveryFailed
from outboundql.channels.email import EmailChannel, caps
from outboundql.channels.testing import MemoryQuota
from tests.smtp_sink import Sink, free_port, smtp_server, temp_certificate

UNSUBSCRIBE = "https://outbound.example/unsubscribe/u1c.abcdefghijklmnopqrstuv"


def delivery(**overrides: Any) -> Delivery:
    values: dict[str, Any] = dict(
        attempt_id=12, delivery_key="attempt-12", project_id=1, campaign_id=3, channel="email",
        address="maria.lopez@globex.example", contact_name="María López", account_name="Globex",
        subject="Quick question about Globex", body="Hi María,\n\nA short note.\n\nAna", step=1, attempt_number=1,
        unsubscribe_url=UNSUBSCRIBE)
    values.update(overrides)
    return Delivery(**values)


def config(port: int, secrets: Mapping[str, str] | None = None, **settings: Any) -> Configured:
    values: dict[str, Any] = {"host": "127.0.0.1", "port": port, "security": "none", "fromAddress": "ana@acme.example",
                              "fromName": "Ana Ruiz", "replyTo": "replies@acme.example"}
    values.update(settings)
    return Configured(project_id=1, kind="email", settings=values, secrets=secrets or {})


class Quota:
    """Answers ``full`` (a time) or takes; remembers what was asked."""

    def __init__(self, full: datetime | None = None) -> None:
        self.full = full
        self.asked: list[dict[str, int]] = []

    async def take(self, limits: Mapping[str, int]) -> datetime | None:
        self.asked.append(dict(limits))
        return self.full

    async def give_back(self, limits: Mapping[str, int]) -> None:
        raise AssertionError("nothing failed: no slot is given back")


def header(mail: Any, name: str) -> str:
    return " ".join(str(mail[name]).split())  # long headers arrive folded


async def test_the_first_mail_arrives_with_its_headers() -> None:
    async with smtp_server() as sink:
        result = await EmailChannel().deliver(delivery(), config(sink.port))
    assert isinstance(result, Delivered)
    [mail] = sink.mails
    assert sink.envelopes == [("ana@acme.example", ["maria.lopez@globex.example"])]
    assert header(mail, "From") == "Ana Ruiz <ana@acme.example>"
    assert header(mail, "To") == "María López <maria.lopez@globex.example>"
    assert header(mail, "Reply-To") == "replies@acme.example"
    assert header(mail, "Subject") == "Quick question about Globex"
    assert re.fullmatch(r"<[^<>@\s]+@acme\.example>", header(mail, "Message-ID"))
    assert result.provider_id == header(mail, "Message-ID")
    assert mail["In-Reply-To"] is None and mail["References"] is None
    assert header(mail, "List-Unsubscribe") == f"<{UNSUBSCRIBE}>"
    assert header(mail, "List-Unsubscribe-Post") == "List-Unsubscribe=One-Click"
    assert mail["Date"] is not None
    assert mail.get_content().replace("\r\n", "\n").strip() == "Hi María,\n\nA short note.\n\nAna"


async def test_follow_ups_answer_the_thread() -> None:
    channel = EmailChannel()
    async with smtp_server() as sink:
        first = await channel.deliver(delivery(), config(sink.port))
        assert isinstance(first, Delivered) and first.provider_id
        second = await channel.deliver(delivery(step=2, attempt_id=13, subject="Quick question about Globex",
                                                thread=(first.provider_id,)), config(sink.port))
        assert isinstance(second, Delivered) and second.provider_id
        third = await channel.deliver(delivery(step=3, attempt_id=14, subject="Re: Quick question about Globex",
                                               thread=(first.provider_id, second.provider_id)), config(sink.port))
    assert isinstance(third, Delivered)
    _, two, three = sink.mails
    assert header(two, "In-Reply-To") == first.provider_id
    assert header(two, "References") == first.provider_id
    assert header(three, "In-Reply-To") == second.provider_id
    assert header(three, "References") == f"{first.provider_id} {second.provider_id}"
    assert header(two, "Subject") == header(three, "Subject") == "Re: Quick question about Globex"
    assert len({header(m, "Message-ID") for m in sink.mails}) == 3


async def test_starttls_with_a_login() -> None:
    certificate = temp_certificate()
    async with smtp_server(starttls=certificate, users={"ana": "s3cret"}) as sink:
        channel = EmailChannel(tls_context=certificate.client_context())
        sent = await channel.deliver(delivery(), config(sink.port, {"password": "s3cret"}, security="starttls",
                                                        username="ana"))
        wrong = await channel.deliver(delivery(), config(sink.port, {"password": "nope"}, security="starttls",
                                                         username="ana"))
        untrusted = await EmailChannel().deliver(delivery(), config(sink.port, {"password": "s3cret"},
                                                                    security="starttls", username="ana"))
        plain = await channel.deliver(delivery(), config(sink.port, {"password": "s3cret"}, security="none",
                                                         username="ana"))
    assert isinstance(sent, Delivered)
    assert sink.logins == ["ana"] and len(sink.mails) == 1
    assert isinstance(wrong, DeliveryFailed) and not wrong.retryable and not wrong.bounced
    assert "username and password" in wrong.error
    assert isinstance(untrusted, DeliveryFailed) and not untrusted.retryable and not untrusted.bounced
    assert "certificate" in untrusted.error
    assert isinstance(plain, DeliveryFailed) and not plain.retryable and not plain.bounced  # the server wants TLS


async def test_implicit_tls_with_a_login() -> None:
    certificate = temp_certificate()
    async with smtp_server(tls=certificate, users={"ana": "s3cret"}) as sink:
        channel = EmailChannel(tls_context=certificate.client_context())
        sent = await channel.deliver(delivery(), config(sink.port, {"password": "s3cret"}, security="tls",
                                                        username="ana"))
    assert isinstance(sent, Delivered)
    assert sink.logins == ["ana"] and len(sink.mails) == 1


async def test_a_login_without_its_password_is_refused_before_connecting() -> None:
    result = await EmailChannel().deliver(delivery(), config(free_port(), username="ana"))
    assert isinstance(result, DeliveryFailed) and not result.retryable and "password" in result.error


@pytest.mark.parametrize(("answer", "retryable", "bounced"), [
    ("451 4.7.1 Greylisted, try again later", True, False),
    ("550 5.1.1 No such user here", False, True),
])
async def test_a_refused_recipient(answer: str, retryable: bool, bounced: bool) -> None:
    sink = Sink(refuse_rcpt={"maria.lopez@globex.example": answer})
    async with smtp_server(sink):
        result = await EmailChannel().deliver(delivery(), config(sink.port))
    assert isinstance(result, DeliveryFailed)
    assert (result.retryable, result.bounced) == (retryable, bounced)
    assert answer.split()[0] in result.error and sink.mails == []


@pytest.mark.parametrize(("answer", "retryable", "bounced"), [
    ("452 4.3.1 Insufficient system storage", True, False),
    ("554 5.7.1 Message rejected as spam", False, True),
])
async def test_a_refused_message(answer: str, retryable: bool, bounced: bool) -> None:
    sink = Sink(refuse_data=answer)
    async with smtp_server(sink):
        result = await EmailChannel().deliver(delivery(), config(sink.port))
    assert isinstance(result, DeliveryFailed)
    assert (result.retryable, result.bounced) == (retryable, bounced)


async def test_nothing_listening_is_temporary() -> None:
    result = await EmailChannel(timeout=5).deliver(delivery(), config(free_port()))
    assert isinstance(result, DeliveryFailed) and result.retryable and not result.bounced
    assert "127.0.0.1" in result.error


async def test_a_missing_configuration_says_what_to_set() -> None:
    result = await EmailChannel().deliver(delivery(), Configured(project_id=1, kind="email", settings={}))
    assert isinstance(result, DeliveryFailed) and not result.retryable and "fromAddress" in result.error


async def test_an_address_that_is_not_one_bounces_without_sending() -> None:
    async with smtp_server() as sink:
        result = await EmailChannel().deliver(delivery(address="maria lopez@globex.example"), config(sink.port))
    assert isinstance(result, DeliveryFailed) and result.bounced and sink.mails == []


async def test_header_injection_is_flattened() -> None:
    async with smtp_server() as sink:
        result = await EmailChannel().deliver(delivery(subject="Hello\r\nBcc: victim@evil.example",
                                                       contact_name="María\nBcc: x@evil.example"), config(sink.port))
    assert isinstance(result, Delivered)
    [mail] = sink.mails
    assert mail["Bcc"] is None and sink.envelopes[0][1] == ["maria.lopez@globex.example"]
    assert header(mail, "Subject") == "Hello Bcc: victim@evil.example"


def long_header_lines(raw: bytes) -> list[bytes]:
    """Header lines over 78 characters that could have been folded (more than one word)."""
    lines = raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
    return [line for line in lines if len(line) > 78 and b" " in line.strip()]


async def test_names_subjects_and_bodies_outside_ascii_arrive_as_written() -> None:
    name = "Zoë Ångström-Núñez, PhD 🚚"
    subject = "¿Cómo gestiona Globex sus almacenes en Zaragoza, Sevilla y Valencia? Una pregunta rápida 📦"
    body = ("Hola Zoë,\n\n" + "Vuestros almacenes de Zaragoza, Sevilla y Valencia — ¿los lleváis con software "
            "propio o con un ERP? " * 3 + "\n.una línea que empieza por punto\nFrom here on  \n\nAna")
    async with smtp_server() as sink:
        result = await EmailChannel().deliver(delivery(contact_name=name, subject=subject, body=body),
                                              config(sink.port, fromName='Ruiz, Ana "Sales"'))
    assert isinstance(result, Delivered)
    [mail], [raw] = sink.mails, sink.raw
    assert raw.isascii() and long_header_lines(raw) == []
    [to], [sender] = mail["To"].addresses, mail["From"].addresses
    assert (to.display_name, to.addr_spec) == (name, "maria.lopez@globex.example")
    assert (sender.display_name, sender.addr_spec) == ('Ruiz, Ana "Sales"', "ana@acme.example")
    assert header(mail, "Subject") == subject
    assert mail["Content-Transfer-Encoding"] == "quoted-printable"
    assert mail.get_content().replace("\r\n", "\n") == body + "\n"
    assert not mail.defects and not any(mail[h].defects for h in ("From", "To", "Subject"))


async def test_an_ascii_mail_goes_as_it_is_and_a_long_thread_is_folded() -> None:
    thread = tuple(f"<{i:02d}.{'x' * 30}@acme.example>" for i in range(12))
    async with smtp_server() as sink:
        result = await EmailChannel().deliver(delivery(contact_name="Maria Lopez", body="Hi Maria,\n\nA note.",
                                                       thread=thread), config(sink.port))
    assert isinstance(result, Delivered)
    [mail], [raw] = sink.mails, sink.raw
    assert long_header_lines(raw) == []
    assert header(mail, "References") == " ".join(thread) and header(mail, "In-Reply-To") == thread[-1]
    assert header(mail, "To") == "Maria Lopez <maria.lopez@globex.example>"
    assert mail["Content-Transfer-Encoding"] == "7bit"
    assert raw.endswith(b"\r\n\r\nHi Maria,\r\n\r\nA note.\r\n")


async def test_an_address_outside_ascii_needs_a_server_that_offers_smtputf8() -> None:
    async with smtp_server(smtputf8=True) as sink:
        sent = await EmailChannel().deliver(delivery(address="josé@correo.example"), config(sink.port))
    assert isinstance(sent, Delivered)
    assert sink.envelopes == [("ana@acme.example", ["josé@correo.example"])]
    mail = email.message_from_string(sink.raw[0].decode(), policy=email.policy.default)  # headers in UTF-8
    assert mail["To"].addresses[0].addr_spec == "josé@correo.example"
    async with smtp_server() as sink:
        refused = await EmailChannel().deliver(delivery(address="josé@correo.example"), config(sink.port))
    assert isinstance(refused, DeliveryFailed) and not refused.retryable and "SMTPUTF8" in refused.error
    assert sink.mails == []


async def test_caps_are_taken_before_sending_and_a_full_one_defers() -> None:
    tomorrow = datetime(2026, 3, 3, tzinfo=UTC)
    async with smtp_server() as sink:
        taken, full = Quota(), Quota(full=tomorrow)
        sent = await EmailChannel().deliver(delivery(quota=taken), config(sink.port, dailyCapPerSender=120))
        deferred = await EmailChannel().deliver(delivery(quota=full), config(sink.port))
    assert isinstance(sent, Delivered)
    assert taken.asked == [{"sender:ana@acme.example": 120, "domain:globex.example": 50}]
    assert isinstance(deferred, Deferred) and deferred.until == tomorrow and "cap" in deferred.reason
    assert len(sink.mails) == 1


def test_the_default_caps_protect_a_new_sender() -> None:
    limits = caps("Ana@Acme.example", "maria@Globex.example", Configured(project_id=1, kind="email"))
    assert limits == {"sender:ana@acme.example": 200, "domain:globex.example": 50}


def test_configuration_checks_beyond_the_types() -> None:
    check = EmailChannel().validate
    assert check({"host": "smtp.acme.example", "port": 587, "security": "starttls",
                  "fromAddress": "ana@acme.example", "replyTo": "replies@acme.example"}, {}) == {}
    problems = check({"host": "smtp://smtp.acme.example:587", "port": 465, "security": "starttls",
                      "fromAddress": "ana at acme", "replyTo": "x@"}, {})
    assert set(problems) == {"host", "fromAddress", "replyTo", "security"}
    assert "without a scheme" in problems["host"] and "usually speaks tls" in problems["security"]


def test_the_channel_is_built_in() -> None:
    from outboundql.services import runtime

    channel = runtime.channels().get("email")
    assert channel is not None and channel.serves == frozenset({"email"})
    assert [s.key for s in channel.settings] == [
        "host", "port", "security", "username", "fromAddress", "fromName", "replyTo", "dailyCapPerSender",
        "dailyCapPerRecipientDomain", "password"]
    assert [s.key for s in channel.settings if s.secret] == ["password"]


def batch(*addresses: str) -> list[Delivery]:
    return [delivery(attempt_id=20 + i, delivery_key=f"attempt-{20 + i}", address=a) for i, a in enumerate(addresses)]


async def test_a_session_sends_a_batch_over_one_connection() -> None:
    async with smtp_server() as sink:
        async with EmailChannel().session(config(sink.port)) as session:
            results = [await session.deliver(d) for d in batch("a@x.example", "b@y.example", "c@z.example")]
        assert all(isinstance(r, Delivered) for r in results)
        assert [rcpts for _, rcpts in sink.envelopes] == [["a@x.example"], ["b@y.example"], ["c@z.example"]]
        assert sink.connections == 1 and session.connections == 1
        ids = {header(m, "Message-ID") for m in sink.mails}
        assert ids == {r.provider_id for r in results if isinstance(r, Delivered)} and len(ids) == 3
        assert all(header(m, "List-Unsubscribe-Post") == "List-Unsubscribe=One-Click" for m in sink.mails)


async def test_a_connection_dropped_mid_batch_is_opened_again_and_nothing_is_sent_twice() -> None:
    async with smtp_server(Sink(drop_at_mail={2})) as sink:  # the server hangs up at the second mail's MAIL
        async with EmailChannel().session(config(sink.port)) as session:
            results = [await session.deliver(d) for d in batch("a@x.example", "b@y.example", "c@z.example")]
        assert all(isinstance(r, Delivered) for r in results), results
        assert [rcpts for _, rcpts in sink.envelopes] == [["a@x.example"], ["b@y.example"], ["c@z.example"]]
        assert sink.connections == 2 and session.connections == 2


async def test_a_mail_the_server_may_have_taken_before_the_connection_dropped_is_never_sent_twice() -> None:
    async with smtp_server(Sink(drop_after_data={2})) as sink:  # the second mail taken, its answer lost
        async with EmailChannel().session(config(sink.port)) as session:
            a, b, c = [await session.deliver(d) for d in batch("a@x.example", "b@y.example", "c@z.example")]
        assert isinstance(a, Delivered) and isinstance(c, Delivered)
        assert isinstance(b, DeliveryFailed) and b.retryable and not b.bounced  # the retry policy decides
        assert [rcpts for _, rcpts in sink.envelopes] == [["a@x.example"], ["b@y.example"], ["c@z.example"]]
        assert sink.connections == 2


async def test_a_connection_that_drops_at_once_fails_that_mail_only_and_temporarily() -> None:
    async with smtp_server(Sink(drop_at_mail={1})) as sink:  # a fresh connection dropped: not tried again
        async with EmailChannel().session(config(sink.port)) as session:
            results = [await session.deliver(d) for d in batch("a@x.example", "b@y.example")]
        assert isinstance(results[0], DeliveryFailed) and results[0].retryable and not results[0].bounced
        assert isinstance(results[1], Delivered)  # the next mail opened a new connection
        assert [rcpts for _, rcpts in sink.envelopes] == [["b@y.example"]] and sink.connections == 2


async def test_a_refused_mail_in_a_batch_fails_alone_and_the_connection_goes_on() -> None:
    sink = Sink(refuse_rcpt={"b@y.example": "451 4.7.1 Try again later", "c@z.example": "550 5.1.1 No such user"})
    async with smtp_server(sink):
        async with EmailChannel().session(config(sink.port)) as session:
            a, b, c, d = [await session.deliver(m) for m in batch("a@x.example", "b@y.example", "c@z.example",
                                                                  "d@w.example")]
        assert isinstance(a, Delivered) and isinstance(d, Delivered)
        assert isinstance(b, DeliveryFailed) and b.retryable and not b.bounced and "451" in b.error
        assert isinstance(c, DeliveryFailed) and c.bounced and not c.retryable and "550" in c.error
        assert [rcpts for _, rcpts in sink.envelopes] == [["a@x.example"], ["d@w.example"]]
        assert sink.connections == 1


async def test_a_session_takes_each_mails_slot_and_defers_only_what_is_over_a_cap() -> None:
    class OneSlot:
        def __init__(self) -> None:
            self.taken = 0

        async def take(self, limits: Mapping[str, int]) -> datetime | None:
            self.taken += 1
            return None if self.taken == 1 else datetime(2026, 5, 5, tzinfo=UTC)

        async def give_back(self, limits: Mapping[str, int]) -> None:
            raise AssertionError("nothing failed: no slot is given back")

    quota = OneSlot()
    async with smtp_server() as sink:
        async with EmailChannel().session(config(sink.port)) as session:
            first = await session.deliver(delivery(quota=quota))
            second = await session.deliver(delivery(attempt_id=13, address="b@y.example", quota=quota))
        assert isinstance(first, Delivered) and isinstance(second, Deferred)
        assert len(sink.mails) == 1


async def test_a_mail_that_surely_did_not_go_out_gives_its_cap_slots_back() -> None:
    slots = ["sender:ana@acme.example", "domain:x.example"]
    quota = MemoryQuota()
    async with smtp_server(Sink(refuse_rcpt={"a@x.example": "451 4.7.1 Try again later"})) as sink:
        refused = await EmailChannel().deliver(delivery(address="a@x.example", quota=quota), config(sink.port))
    assert isinstance(refused, DeliveryFailed) and quota.taken == dict.fromkeys(slots, 0)
    async with smtp_server(Sink(refuse_data="554 5.7.1 Message rejected as spam")) as sink:
        rejected = await EmailChannel().deliver(delivery(address="a@x.example", quota=quota), config(sink.port))
    assert isinstance(rejected, DeliveryFailed) and quota.taken == dict.fromkeys(slots, 0)
    unreachable = await EmailChannel().deliver(delivery(address="a@x.example", quota=quota), config(free_port()))
    assert isinstance(unreachable, DeliveryFailed) and quota.taken == dict.fromkeys(slots, 0)
    async with smtp_server(Sink(drop_after_data={1})) as sink:  # taken, its answer lost: it may have gone out
        unknown = await EmailChannel().deliver(delivery(address="a@x.example", quota=quota), config(sink.port))
        assert isinstance(unknown, DeliveryFailed) and len(sink.mails) == 1
    assert quota.taken == dict.fromkeys(slots, 1)
    async with smtp_server() as sink:
        sent = await EmailChannel().deliver(delivery(address="a@x.example", quota=quota), config(sink.port))
    assert isinstance(sent, Delivered) and quota.taken == dict.fromkeys(slots, 2)
